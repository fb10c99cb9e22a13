package auth

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/configfile"
	"github.com/docker/cli/cli/config/credentials"
	"github.com/docker/cli/cli/config/types"
)

// dockerConfig is one docker config.json, read on first use and kept for the run.
type dockerConfig struct {
	once sync.Once
	file *configfile.ConfigFile
	err  error
}

// fromConfig looks host up in the docker config at path ("" for the default one),
// which may run a credential helper.
func (r *Resolver) fromConfig(ctx context.Context, path, host string) (Credential, error) {
	if err := ctx.Err(); err != nil {
		return Credential{}, err
	}
	r.mu.Lock()
	c := r.configs[path]
	if c == nil {
		c = &dockerConfig{}
		r.configs[path] = c
	}
	r.mu.Unlock()
	c.once.Do(func() {
		if path == "" {
			c.file, c.err = loadDefaultConfig()
		} else {
			c.file, c.err = loadConfig(path, false)
		}
	})
	if c.err != nil {
		return Credential{}, c.err
	}
	return r.lookupConfig(ctx, c.file, host)
}

func loadDefaultConfig() (*configfile.ConfigFile, error) {
	dir := os.Getenv(config.EnvOverrideConfigDir)
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			// A bare CI container may have no home: there is no docker login to find,
			// and anonymous pulls must still work.
			return configfile.New(""), nil
		}
		dir = filepath.Join(home, ".docker")
	}
	return loadConfig(filepath.Join(dir, config.ConfigFileName), true)
}

// loadConfig reads a docker config.json; a missing file is an empty config when
// optional, as it is for the default one.
func loadConfig(path string, optional bool) (*configfile.ConfigFile, error) {
	cf := configfile.New(path)
	f, err := os.Open(path)
	if optional && errors.Is(err, fs.ErrNotExist) {
		return cf, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read docker config: %w", err)
	}
	defer f.Close()
	if err := cf.LoadFromReader(f); err != nil {
		return nil, fmt.Errorf("parse docker config %s: %w", path, err)
	}
	if cf.AuthConfigs == nil {
		// `"auths": null` leaves the map nil, and configfile fills it in lazily on
		// lookup: a data race once lookups run concurrently.
		cf.AuthConfigs = map[string]types.AuthConfig{}
	}
	return cf, nil
}

// lookupConfig finds host's credential in cf the way the docker CLI does: credHelpers,
// then credsStore, then auths, with Docker Hub under "https://index.docker.io/v1/".
func (r *Resolver) lookupConfig(ctx context.Context, cf *configfile.ConfigFile, host string) (Credential, error) {
	cred, err := r.configCredential(ctx, cf, host)
	if err != nil {
		return Credential{}, fmt.Errorf("read credentials for registry %s from docker config %s: %w", host, cf.Filename, err)
	}
	if !cred.Empty() || host != dockerHub {
		return cred, nil
	}
	// podman and skopeo write Docker Hub under "docker.io", not docker's key; accept
	// every alias so a config_file they wrote works too.
	store := credentials.NewFileStore(cf)
	for _, alias := range hubAliases {
		ac, err := store.Get(alias)
		if err != nil {
			return Credential{}, fmt.Errorf("read credentials for registry %s from docker config %s: %w", host, cf.Filename, err)
		}
		if cred := credentialOf(ac); !cred.Empty() {
			return cred, nil
		}
	}
	return Credential{}, nil
}

// configCredential is cf.GetAuthConfig(host), except that a credential helper runs
// under ctx and the resolver's helper timeout, and what it prints stays out of errors.
// With DOCKER_AUTH_CONFIG set, docker's own lookup runs: that variable answers first
// and falls back to the helper in ways docker owns.
func (r *Resolver) configCredential(ctx context.Context, cf *configfile.ConfigFile, host string) (Credential, error) {
	key := host
	if host == dockerHub {
		key = dockerHubConfigKey
	}
	helper := cf.CredentialsStore
	if h, ok := cf.CredentialHelpers[key]; ok {
		helper = h
	}
	if helper == "" || os.Getenv(configfile.DockerEnvConfigKey) != "" {
		ac, err := cf.GetAuthConfig(host)
		return credentialOf(ac), err
	}
	return helperCredential(ctx, helper, key, r.helperTimeout)
}

func credentialOf(ac types.AuthConfig) Credential {
	return Credential{Username: ac.Username, Password: ac.Password, IdentityToken: ac.IdentityToken, RegistryToken: ac.RegistryToken}
}
