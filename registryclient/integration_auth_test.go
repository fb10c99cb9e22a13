package registryclient_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
	"github.com/imagesync/terraform-provider-imagesync/registryclient"
	"github.com/imagesync/terraform-provider-imagesync/registryclient/auth"
)

func TestCopyBetweenBasicAuthRegistries(t *testing.T) {
	isolateDockerConfig(t)
	src := testregistry.StartT(t, testregistry.Options{Auth: testregistry.AuthBasic, Username: "alice", Password: "src-pass-7f3a"})
	dst := testregistry.StartT(t, testregistry.Options{Auth: testregistry.AuthBasic, Username: "bob", Password: "dst-pass-91c2"})
	pushed := pushImage(t, src, "team/app", "v1", testregistry.ImageSpec{Seed: 1})
	srcEntry := auth.Entry{Address: src.Host, Username: src.Username, Password: src.Password}
	dstEntry := auth.Entry{Address: dst.Host, Username: dst.Username, Password: dst.Password}

	t.Run("registry_auth entries for both registries copy the image digest for digest", func(t *testing.T) {
		client := registryclient.New(registryclient.WithCredentials(auth.NewResolver([]auth.Entry{srcEntry, dstEntry})))
		res := copyImage(t, client, src.Host+"/team/app:v1", dst.Host+"/mirror/app:v1")
		if res.Digest.String() != pushed.Digest {
			t.Errorf("Copy reports digest %s, want the source's %s", res.Digest, pushed.Digest)
		}
		assertStored(t, dst, "mirror/app", "v1", pushed.Digest)
	})

	tests := []struct {
		name      string
		entries   []auth.Entry
		rejecting *testregistry.Registry
		wrong     string
	}{
		{
			name:      "a wrong source password fails as unauthorized naming the source and hiding the password",
			entries:   []auth.Entry{{Address: src.Host, Username: src.Username, Password: "wrong-src-0b9d"}, dstEntry},
			rejecting: src,
			wrong:     "wrong-src-0b9d",
		},
		{
			name:      "a wrong destination password fails as unauthorized naming the destination and hiding the password",
			entries:   []auth.Entry{srcEntry, {Address: dst.Host, Username: dst.Username, Password: "wrong-dst-5e21"}},
			rejecting: dst,
			wrong:     "wrong-dst-5e21",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := registryclient.New(registryclient.WithCredentials(auth.NewResolver(tt.entries)))
			_, err := client.Copy(t.Context(), parseRef(t, src.Host+"/team/app:v1"), parseRef(t, dst.Host+"/rejected/app:v1"), registryclient.CopyOptions{})
			if !errors.Is(err, registryclient.ErrUnauthorized) {
				t.Fatalf("Copy error = %v, want ErrUnauthorized", err)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.rejecting.Host) {
				t.Errorf("error %q does not name the registry %s that refused", msg, tt.rejecting.Host)
			}
			for _, secret := range []string{tt.wrong, src.Password, dst.Password} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q reveals a password", err)
				}
			}
			if _, err := dst.ManifestDigest(t.Context(), "rejected/app", "v1"); !errors.Is(err, testregistry.ErrNotFound) {
				t.Errorf("after a failed copy the destination tag: %v, want not found", err)
			}
		})
	}
}

func TestCopyWithTokenAuth(t *testing.T) {
	isolateDockerConfig(t)

	t.Run("a three-platform index copies between token registries with every child", func(t *testing.T) {
		src := testregistry.StartT(t, testregistry.Options{Auth: testregistry.AuthToken})
		dst := testregistry.StartT(t, testregistry.Options{Auth: testregistry.AuthToken, Username: "pusher", Password: "push-pass-44"})
		pushed := pushImage(t, src, "team/multi", "v2", testregistry.ImageSpec{
			OCI:       true,
			Platforms: []string{"linux/amd64", "linux/arm64/v8", "linux/arm/v7"},
			Layers:    1,
		})
		client := registryclient.New(registryclient.WithCredentials(auth.NewResolver([]auth.Entry{
			{Address: src.Host, Username: src.Username, Password: src.Password},
			{Address: dst.Host, Username: dst.Username, Password: dst.Password},
		})))
		copyImage(t, client, src.Host+"/team/multi:v2", dst.Host+"/mirror/multi:v2")
		assertStored(t, dst, "mirror/multi", "v2", pushed.Digest)
		for _, child := range pushed.Children {
			assertStored(t, dst, "mirror/multi", child, child)
		}
		for _, blob := range pushed.Blobs {
			ok, err := dst.BlobExists(t.Context(), "mirror/multi", blob)
			if err != nil || !ok {
				t.Errorf("destination blob %s: exists=%v, err=%v", blob, ok, err)
			}
		}
	})

	t.Run("a token server answering access_token instead of token works", func(t *testing.T) {
		reg := testregistry.StartT(t, testregistry.Options{Auth: testregistry.AuthToken, TokenField: "access_token"})
		pushed := pushImage(t, reg, "team/app", "v1", testregistry.ImageSpec{Seed: 3})
		client := registryclient.New(registryclient.WithCredentials(auth.NewResolver([]auth.Entry{
			{Address: reg.Host, Username: reg.Username, Password: reg.Password},
		})))
		copyImage(t, client, reg.Host+"/team/app:v1", reg.Host+"/other/app:v1")
		assertStored(t, reg, "other/app", "v1", pushed.Digest)
	})

	t.Run("an image copies without credentials from a token registry that allows anonymous pulls", func(t *testing.T) {
		src := testregistry.StartT(t, testregistry.Options{Auth: testregistry.AuthToken, AllowAnonymousPull: true})
		dst := testregistry.StartT(t, testregistry.Options{})
		pushed := pushImage(t, src, "public/app", "v1", testregistry.ImageSpec{Seed: 4})
		client := registryclient.New()
		copyImage(t, client, src.Host+"/public/app:v1", dst.Host+"/mirror/app:v1")
		assertStored(t, dst, "mirror/app", "v1", pushed.Digest)
	})
}

// TestTokenRequestsPerRun checks the promise that a run asks each token endpoint once
// per registry and scope set, and that a new run (a new Client) asks again.
func TestTokenRequestsPerRun(t *testing.T) {
	isolateDockerConfig(t)
	src := testregistry.StartT(t, testregistry.Options{Auth: testregistry.AuthToken})
	dst := testregistry.StartT(t, testregistry.Options{Auth: testregistry.AuthToken})
	pushImage(t, src, "team/app", "v1", testregistry.ImageSpec{Seed: 5, Layers: 4})
	entries := []auth.Entry{
		{Address: src.Host, Username: src.Username, Password: src.Password},
		{Address: dst.Host, Username: dst.Username, Password: dst.Password},
	}
	dstRef := parseRef(t, dst.Host+"/mirror/app:v1")

	// The source is read with one scope set, repository:team/app:pull. A copy reads
	// and writes the destination with one scope set too, repository:mirror/app:pull,push.
	const wantSrc, wantDst = 1, 1

	first := registryclient.New(registryclient.WithCredentials(auth.NewResolver(entries)))
	t.Run("copying an image with five blobs asks each token endpoint once per scope set", func(t *testing.T) {
		copyImage(t, first, src.Host+"/team/app:v1", dstRef.String())
		if got := src.TokenRequests(); got != wantSrc {
			t.Errorf("source token requests = %d, want %d", got, wantSrc)
		}
		if got := dst.TokenRequests(); got != wantDst {
			t.Errorf("destination token requests = %d, want %d", got, wantDst)
		}
	})

	t.Run("five refreshes of the destination in the same run share one pull token", func(t *testing.T) {
		for range 5 {
			if _, err := first.HeadManifest(t.Context(), dstRef); err != nil {
				t.Fatalf("HeadManifest(%s): %v", dstRef, err)
			}
		}
		if got := src.TokenRequests(); got != wantSrc {
			t.Errorf("source token requests = %d, want still %d", got, wantSrc)
		}
		if got := dst.TokenRequests(); got != wantDst+1 {
			t.Errorf("destination token requests = %d, want %d: one pull token for all five", got, wantDst+1)
		}
	})

	t.Run("a new run asks for its own token", func(t *testing.T) {
		second := registryclient.New(registryclient.WithCredentials(auth.NewResolver(entries)))
		if _, err := second.HeadManifest(t.Context(), dstRef); err != nil {
			t.Fatalf("HeadManifest(%s): %v", dstRef, err)
		}
		if got := dst.TokenRequests(); got != wantDst+2 {
			t.Errorf("destination token requests = %d, want %d: one more for the new run's pull scope", got, wantDst+2)
		}
	})
}

// TestTokenRequestsForSameRegistryCopy pins down what a copy between two repositories of
// one token registry costs. Each scope set the client asks for is a token request of
// its own: repository:team/app:pull to read the source; repository:mirror/app:pull,push
// to read and write the destination; and the mount's repository:mirror/app:pull,push
// plus repository:team/app:pull. A second copy of the same image in the run asks for
// nothing.
func TestTokenRequestsForSameRegistryCopy(t *testing.T) {
	isolateDockerConfig(t)
	reg := testregistry.StartT(t, testregistry.Options{Auth: testregistry.AuthToken})
	pushed := pushImage(t, reg, "team/app", "v1", testregistry.ImageSpec{Seed: 9, Layers: 4})
	client := registryclient.New(registryclient.WithCredentials(auth.NewResolver([]auth.Entry{
		{Address: reg.Host, Username: reg.Username, Password: reg.Password},
	})))
	const want = 3

	for _, name := range []string{
		"the first copy asks once for each of three scope sets",
		"copying the same image again in the run asks for no new token",
	} {
		t.Run(name, func(t *testing.T) {
			copyImage(t, client, reg.Host+"/team/app:v1", reg.Host+"/mirror/app:v1")
			assertStored(t, reg, "mirror/app", "v1", pushed.Digest)
			if got := reg.TokenRequests(); got != want {
				t.Errorf("token requests = %d, want %d", got, want)
			}
		})
	}
}

func TestCredentialsFromDockerConfig(t *testing.T) {
	src := testregistry.StartT(t, testregistry.Options{Auth: testregistry.AuthBasic, Username: "carol", Password: "carol-pass-3"})
	dst := testregistry.StartT(t, testregistry.Options{Auth: testregistry.AuthBasic, Username: "dave", Password: "dave-pass-8"})
	pushed := pushImage(t, src, "team/app", "v1", testregistry.ImageSpec{Seed: 6})
	helperDir := installCredentialHelper(t, map[string][2]string{
		src.Host: {src.Username, src.Password},
		dst.Host: {dst.Username, dst.Password},
	})

	tests := []struct {
		name   string
		config dockerConfig
	}{
		{
			name: "auths entries with a base64 auth log in to both registries",
			config: dockerConfig{Auths: map[string]dockerAuth{
				src.Host: basicAuth(src.Username, src.Password),
				dst.Host: basicAuth(dst.Username, dst.Password),
			}},
		},
		{
			name: "credHelpers run docker-credential-<name> get for each registry",
			config: dockerConfig{CredHelpers: map[string]string{
				src.Host: credentialHelperName,
				dst.Host: credentialHelperName,
			}},
		},
		{
			name:   "credsStore runs docker-credential-<name> get for every registry",
			config: dockerConfig{CredsStore: credentialHelperName},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := isolateDockerConfig(t)
			t.Setenv("PATH", helperDir+string(os.PathListSeparator)+os.Getenv("PATH"))
			writeDockerConfig(t, dir, tt.config)
			client := registryclient.New(registryclient.WithCredentials(auth.NewResolver(nil)))
			repo := fmt.Sprintf("case%d/app", i)
			copyImage(t, client, src.Host+"/team/app:v1", dst.Host+"/"+repo+":v1")
			assertStored(t, dst, repo, "v1", pushed.Digest)
		})
	}
}

// credentialHelperName is the helper installCredentialHelper writes, as a docker
// config names it: the executable is docker-credential-imagesynctest.
const credentialHelperName = "imagesynctest"

// installCredentialHelper writes a docker credential helper that knows the username
// and password of each host, and returns the directory to put on PATH.
func installCredentialHelper(t *testing.T, logins map[string][2]string) string {
	t.Helper()
	var cases strings.Builder
	for host, login := range logins {
		fmt.Fprintf(&cases, "  %q) printf '{\"ServerURL\":\"%%s\",\"Username\":\"%s\",\"Secret\":\"%s\"}\\n' \"$server\" ;;\n", host, login[0], login[1])
	}
	// The client writes the server without a newline, so read fails at EOF after
	// filling in $server; "credentials not found" is what docker's helpers print.
	script := "#!/bin/sh\n" +
		"[ \"$1\" = get ] || exit 1\n" +
		"read -r server || true\n" +
		"case \"$server\" in\n" +
		cases.String() +
		"  *) echo 'credentials not found in native keychain'; exit 1 ;;\n" +
		"esac\n"
	dir := t.TempDir()
	path := filepath.Join(dir, "docker-credential-"+credentialHelperName)
	if err := os.WriteFile(path, []byte(script), 0o700); err != nil {
		t.Fatalf("write credential helper: %v", err)
	}
	return dir
}

func TestIdentityTokens(t *testing.T) {
	const refreshToken = "refresh-xyz"
	src := testregistry.StartT(t, testregistry.Options{})
	reg := testregistry.StartT(t, testregistry.Options{Auth: testregistry.AuthToken, RefreshToken: refreshToken})
	pushed := pushImage(t, src, "team/app", "v1", testregistry.ImageSpec{Seed: 7})
	// docker login stores an identity token under the username "<token>". Were it
	// sent as a basic login the token server would refuse it, so a successful
	// copy shows the client made the OAuth2 refresh_token POST.
	identity := dockerConfig{Auths: map[string]dockerAuth{
		reg.Host: {Username: "<token>", IdentityToken: refreshToken},
	}}

	t.Run("an identitytoken in the default docker config pushes through the OAuth2 exchange", func(t *testing.T) {
		writeDockerConfig(t, isolateDockerConfig(t), identity)
		client := registryclient.New(registryclient.WithCredentials(auth.NewResolver(nil)))
		copyImage(t, client, src.Host+"/team/app:v1", reg.Host+"/default/app:v1")
		assertStored(t, reg, "default/app", "v1", pushed.Digest)
	})

	t.Run("a registry_auth config_file with an identitytoken pushes through the OAuth2 exchange", func(t *testing.T) {
		isolateDockerConfig(t)
		path := writeDockerConfig(t, t.TempDir(), identity)
		client := registryclient.New(registryclient.WithCredentials(auth.NewResolver([]auth.Entry{
			{Address: reg.Host, ConfigFile: path},
		})))
		copyImage(t, client, src.Host+"/team/app:v1", reg.Host+"/configfile/app:v1")
		assertStored(t, reg, "configfile/app", "v1", pushed.Digest)
	})
}

func TestDisabledRegistryAuthIgnoresDockerConfig(t *testing.T) {
	src := testregistry.StartT(t, testregistry.Options{})
	dst := testregistry.StartT(t, testregistry.Options{Auth: testregistry.AuthBasic})
	pushed := pushImage(t, src, "team/app", "v1", testregistry.ImageSpec{Seed: 8})

	tests := []struct {
		name    string
		entries []auth.Entry
		wantErr error
	}{
		{
			name:    "without a registry_auth entry the docker config's login is used",
			entries: nil,
		},
		{
			name:    "an entry with disabled set talks anonymously and is refused",
			entries: []auth.Entry{{Address: dst.Host, Disabled: true}},
			wantErr: registryclient.ErrUnauthorized,
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			writeDockerConfig(t, isolateDockerConfig(t), dockerConfig{Auths: map[string]dockerAuth{
				dst.Host: basicAuth(dst.Username, dst.Password),
			}})
			client := registryclient.New(registryclient.WithCredentials(auth.NewResolver(tt.entries)))
			repo := fmt.Sprintf("case%d/app", i)
			_, err := client.Copy(t.Context(), parseRef(t, src.Host+"/team/app:v1"), parseRef(t, dst.Host+"/"+repo+":v1"), registryclient.CopyOptions{})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Copy error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil {
				assertStored(t, dst, repo, "v1", pushed.Digest)
			}
		})
	}
}
