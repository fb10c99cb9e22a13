package auth

import (
	"context"
	"sync"
	"time"
)

// Entry is one provider registry_auth block.
type Entry struct {
	// Address is the registry; a scheme prefix and trailing slash are ignored.
	Address string
	// Username and Password, when set, are the credential for Address.
	Username, Password string
	// ConfigFile is a docker config.json to read Address's credential from instead of
	// the default one.
	ConfigFile string
	// Disabled means anonymous access even if a docker config has a credential.
	Disabled bool
}

// Resolver finds credentials: the first Entry matching a registry (one with only an
// Address is skipped), then the default
// Docker config ($DOCKER_CONFIG/config.json or ~/.docker/config.json) with its auths,
// credsStore and credHelpers. Each config file is read once, on first use, and each
// registry's credential is looked up once per run. It is safe for concurrent use.
type Resolver struct {
	entries []Entry

	mu      sync.Mutex
	configs map[string]*dockerConfig // by path; "" is the default config

	creds sharedCache[string, Credential]

	helperTimeout time.Duration // how long a credential helper may take to answer
}

// NewResolver returns a Resolver for the provider's registry_auth entries. The
// environment (DOCKER_CONFIG, HOME) is read on first use, not here.
func NewResolver(entries []Entry) *Resolver {
	return &Resolver{entries: append([]Entry(nil), entries...), configs: map[string]*dockerConfig{}, helperTimeout: defaultHelperTimeout}
}

// Credential returns the credential for host; an empty one means anonymous.
func (r *Resolver) Credential(ctx context.Context, host string) (Credential, error) {
	host = NormalizeHost(host)
	cred, err := r.creds.get(ctx, host, func(Credential) bool { return true }, func(ctx context.Context) (Credential, error) {
		return r.resolve(ctx, host)
	})
	if err != nil {
		return Credential{}, lookupError{err}
	}
	return cred, nil
}

func (r *Resolver) resolve(ctx context.Context, host string) (Credential, error) {
	for _, e := range r.entries {
		if NormalizeHost(e.Address) != host {
			continue
		}
		switch {
		case e.Disabled:
			return Credential{}, nil
		case e.Username != "" || e.Password != "":
			return Credential{Username: e.Username, Password: e.Password}, nil
		case e.ConfigFile != "":
			return r.fromConfig(ctx, e.ConfigFile, host)
		}
	}
	return r.fromConfig(ctx, "", host)
}
