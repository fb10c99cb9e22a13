package auth

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeHelper is docker-credential-test: it knows ghcr.io (a password), example.com
// (an identity token) and Docker Hub, and logs every call to the file it returns.
const fakeHelper = `#!/bin/sh
server=$(cat)
echo "$1 $server" >> "LOG"
case "$server" in
ghcr.io) printf '{"ServerURL":"ghcr.io","Username":"helper-user","Secret":"helper-pass"}' ;;
example.com) printf '{"ServerURL":"example.com","Username":"<token>","Secret":"helper-identity"}' ;;
https://index.docker.io/v1/) printf '{"ServerURL":"https://index.docker.io/v1/","Username":"hub-helper","Secret":"hub-pass"}' ;;
*) echo "credentials not found in native keychain"; exit 1 ;;
esac
`

// dockerEnv points DOCKER_CONFIG at a fresh directory holding config (if any), puts
// docker-credential-test first on PATH, and returns the directory and the helper's log.
func dockerEnv(t *testing.T, config string) (dir, helperLog string) {
	t.Helper()
	dir = t.TempDir()
	bin := t.TempDir()
	helperLog = filepath.Join(bin, "calls.log")
	script := strings.ReplaceAll(fakeHelper, "LOG", helperLog)
	if err := os.WriteFile(filepath.Join(bin, "docker-credential-test"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("DOCKER_CONFIG", dir)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("DOCKER_AUTH_CONFIG", "")
	if config != "" {
		writeFile(t, filepath.Join(dir, "config.json"), config)
	}
	return dir, helperLog
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func basicAuth(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

func TestResolver(t *testing.T) {
	dockerConfig := `{"auths": {
		"ghcr.io": {"auth": "` + basicAuth("docker-user", "docker-pass") + `"},
		"quay.io": {"username": "quay-user", "password": "quay-pass"},
		"https://index.docker.io/v1/": {"auth": "` + basicAuth("hub-user", "hub-pass") + `"},
		"id.example": {"identitytoken": "config-identity"},
		"rt.example": {"registrytoken": "config-registry-token"}
	}}`
	tests := []struct {
		name    string
		config  string
		other   string // written to other.json, for entries with ConfigFile "OTHER"
		entries []Entry
		host    string
		want    Credential
	}{
		{
			name:    "a registry_auth entry wins over the docker config",
			config:  dockerConfig,
			entries: []Entry{{Address: "ghcr.io", Username: "tf-user", Password: "tf-pass"}},
			host:    "ghcr.io",
			want:    Credential{Username: "tf-user", Password: "tf-pass"},
		},
		{
			name:    "an entry address with a scheme and trailing slash matches the bare host",
			config:  dockerConfig,
			entries: []Entry{{Address: "https://ghcr.io/", Username: "tf-user", Password: "tf-pass"}},
			host:    "ghcr.io",
			want:    Credential{Username: "tf-user", Password: "tf-pass"},
		},
		{
			name:    "an entry's config file is used for its registry instead of the default config",
			config:  dockerConfig,
			other:   `{"auths": {"quay.io": {"auth": "` + basicAuth("other-user", "other-pass") + `"}}}`,
			entries: []Entry{{Address: "quay.io", ConfigFile: "OTHER"}},
			host:    "quay.io",
			want:    Credential{Username: "other-user", Password: "other-pass"},
		},
		{
			name:    "a disabled entry is anonymous even when the docker config has a credential",
			config:  dockerConfig,
			entries: []Entry{{Address: "ghcr.io", Disabled: true, Username: "tf-user"}},
			host:    "ghcr.io",
			want:    Credential{},
		},
		{
			name:    "an entry for another registry leaves the docker config in charge",
			config:  dockerConfig,
			entries: []Entry{{Address: "quay.io", Username: "tf-user", Password: "tf-pass"}},
			host:    "ghcr.io",
			want:    Credential{Username: "docker-user", Password: "docker-pass"},
		},
		{
			name:   "a base64 auth in docker config auths is decoded",
			config: dockerConfig,
			host:   "ghcr.io",
			want:   Credential{Username: "docker-user", Password: "docker-pass"},
		},
		{
			name:   "username and password in docker config auths are read",
			config: dockerConfig,
			host:   "quay.io",
			want:   Credential{Username: "quay-user", Password: "quay-pass"},
		},
		{
			name:   "docker.io finds the https://index.docker.io/v1/ credential",
			config: dockerConfig,
			host:   "docker.io",
			want:   Credential{Username: "hub-user", Password: "hub-pass"},
		},
		{
			name:   "index.docker.io finds the https://index.docker.io/v1/ credential",
			config: dockerConfig,
			host:   "index.docker.io",
			want:   Credential{Username: "hub-user", Password: "hub-pass"},
		},
		{
			name:   "registry-1.docker.io finds the https://index.docker.io/v1/ credential",
			config: dockerConfig,
			host:   "registry-1.docker.io",
			want:   Credential{Username: "hub-user", Password: "hub-pass"},
		},
		{
			name:    "an entry for https://index.docker.io/v1/ applies to registry-1.docker.io",
			config:  dockerConfig,
			entries: []Entry{{Address: "https://index.docker.io/v1/", Username: "tf-hub", Password: "tf-pass"}},
			host:    "registry-1.docker.io",
			want:    Credential{Username: "tf-hub", Password: "tf-pass"},
		},
		{
			name:   "a Docker Hub credential stored under docker.io, as podman writes it, is found",
			config: `{"auths": {"docker.io": {"auth": "` + basicAuth("podman-user", "podman-pass") + `"}}}`,
			host:   "registry-1.docker.io",
			want:   Credential{Username: "podman-user", Password: "podman-pass"},
		},
		{
			name:   "an identitytoken in the docker config is read",
			config: dockerConfig,
			host:   "id.example",
			want:   Credential{IdentityToken: "config-identity"},
		},
		{
			name:   "a registrytoken in the docker config is read",
			config: dockerConfig,
			host:   "rt.example",
			want:   Credential{RegistryToken: "config-registry-token"},
		},
		{
			name:   "credHelpers runs docker-credential-<name> for its registry",
			config: `{"credHelpers": {"ghcr.io": "test"}}`,
			host:   "ghcr.io",
			want:   Credential{Username: "helper-user", Password: "helper-pass"},
		},
		{
			name:   "a helper's <token> username means an identity token",
			config: `{"credHelpers": {"example.com": "test"}}`,
			host:   "example.com",
			want:   Credential{IdentityToken: "helper-identity"},
		},
		{
			name:   "credsStore runs its helper for every registry, Docker Hub under its docker key",
			config: `{"credsStore": "test"}`,
			host:   "docker.io",
			want:   Credential{Username: "hub-helper", Password: "hub-pass"},
		},
		{
			name:   "a registry the helper does not know is anonymous",
			config: `{"credsStore": "test"}`,
			host:   "unknown.example",
			want:   Credential{},
		},
		{
			name: "no docker config at all means anonymous",
			host: "ghcr.io",
			want: Credential{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, _ := dockerEnv(t, tt.config)
			entries := tt.entries
			if tt.other != "" {
				other := filepath.Join(dir, "other.json")
				writeFile(t, other, tt.other)
				for i := range entries {
					entries[i].ConfigFile = strings.ReplaceAll(entries[i].ConfigFile, "OTHER", other)
				}
			}
			got, err := NewResolver(entries).Credential(t.Context(), tt.host)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Credential(%q) = %+v, want %+v", tt.host, got, tt.want)
			}
		})
	}
}

func TestResolverReadsOnce(t *testing.T) {
	t.Run("a credential helper runs once per registry however many requests ask", func(t *testing.T) {
		_, helperLog := dockerEnv(t, `{"credsStore": "test"}`)
		r := NewResolver(nil)
		for range 5 {
			for _, host := range []string{"ghcr.io", "docker.io", "registry-1.docker.io"} {
				if _, err := r.Credential(t.Context(), host); err != nil {
					t.Fatal(err)
				}
			}
		}
		calls, err := os.ReadFile(helperLog)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(string(calls), "get "); got != 2 {
			t.Errorf("helper ran %d times, want 2 (ghcr.io and Docker Hub):\n%s", got, calls)
		}
	})
	t.Run("the docker config is read once per run, so a later edit is not seen", func(t *testing.T) {
		dir, _ := dockerEnv(t, `{"auths": {"ghcr.io": {"auth": "`+basicAuth("a", "b")+`"}}}`)
		r := NewResolver(nil)
		if _, err := r.Credential(t.Context(), "ghcr.io"); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "config.json"), `{"auths": {"quay.io": {"auth": "`+basicAuth("c", "d")+`"}}}`)
		got, err := r.Credential(t.Context(), "quay.io")
		if err != nil {
			t.Fatal(err)
		}
		if !got.Empty() {
			t.Errorf("Credential(quay.io) = %+v after editing the config, want the first read's answer (anonymous)", got)
		}
	})
}

func TestResolverErrors(t *testing.T) {
	tests := []struct {
		name    string
		config  string
		entries []Entry
		want    string
	}{
		{
			name:   "a malformed docker config is an error naming the file",
			config: `{"auths": `,
			want:   "config.json",
		},
		{
			name:    "an entry's missing config file is an error naming the file",
			entries: []Entry{{Address: "ghcr.io", ConfigFile: "/nonexistent/imagesync.json"}},
			want:    "/nonexistent/imagesync.json",
		},
		{
			name:   "a credential helper that is not installed is an error naming the registry",
			config: `{"credHelpers": {"ghcr.io": "missing"}}`,
			want:   "ghcr.io",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dockerEnv(t, tt.config)
			_, err := NewResolver(tt.entries).Credential(t.Context(), "ghcr.io")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Credential error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}
