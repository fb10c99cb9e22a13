package testregistry

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// tokenService is the registry's auth.token.service: the aud of its tokens.
	tokenService = "testregistry"
	// tokenIssuer is the registry's auth.token.issuer: the iss of its tokens.
	tokenIssuer = "testregistry-token-server"
	// bindAttempts is how often Start picks a new port when another process
	// takes the one it chose before the registry binds it.
	bindAttempts = 3
)

// Registry is a running throwaway registry with its own storage.
type Registry struct {
	// Host is "127.0.0.1:PORT", what a user writes in an image reference.
	Host string
	// Username and Password are the account clients authenticate with;
	// empty with AuthNone.
	Username, Password string

	auth      AuthMode
	signer    *signer      // token mode only
	tokens    *tokenServer // token mode only
	proc      *process
	dir       string
	client    *http.Client
	closeOnce sync.Once
	closeErr  error
}

// Start runs a registry (and, in token mode, its token server) and returns
// once it answers GET /v2/. Close it when done.
func Start(ctx context.Context, opts Options) (*Registry, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("start registry: %w", err)
	}
	bin, err := binaryPath()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "testregistry-")
	if err != nil {
		return nil, fmt.Errorf("start registry: %w", err)
	}
	r := &Registry{
		Username: opts.Username,
		Password: opts.Password,
		auth:     opts.Auth,
		dir:      dir,
		client:   newClient(),
	}
	if err := r.start(ctx, bin, opts); err != nil {
		return nil, errors.Join(err, r.Close())
	}
	return r, nil
}

// StartT starts a registry for t, closes it in t.Cleanup and fails t if it
// cannot start. Without the registry binary it skips t, or fails it when
// RequireToolsEnv is set.
func StartT(t testing.TB, opts Options) *Registry {
	t.Helper()
	RequireBinary(t)
	r, err := Start(t.Context(), opts)
	if err != nil {
		t.Fatalf("start test registry: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("close test registry %s: %v", r.Host, err)
		}
	})
	return r
}

// TokenRequests is how many requests the token server has answered, GET
// and POST, refused ones included; the harness's own tokens do not count.
// It is 0 outside token mode.
func (r *Registry) TokenRequests() int {
	if r.tokens == nil {
		return 0
	}
	return int(r.tokens.requests.Load())
}

// IssuedTokens returns every bearer token the token server has answered
// with, in order, so a test can check that none leaked into logs or state.
// It is empty outside token mode.
func (r *Registry) IssuedTokens() []string {
	if r.tokens == nil {
		return nil
	}
	r.tokens.mu.Lock()
	defer r.tokens.mu.Unlock()
	return append([]string(nil), r.tokens.issued...)
}

// Close stops the registry and its token server and removes its storage.
// It is safe to call more than once.
func (r *Registry) Close() error {
	r.closeOnce.Do(func() {
		var errs []error
		if r.proc != nil {
			r.proc.stop()
		}
		if r.tokens != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			errs = append(errs, r.tokens.close(ctx))
			cancel()
		}
		r.client.CloseIdleConnections()
		if err := os.RemoveAll(r.dir); err != nil {
			errs = append(errs, fmt.Errorf("remove registry storage: %w", err))
		}
		r.closeErr = errors.Join(errs...)
	})
	return r.closeErr
}

// start sets up authentication and launches the process.
func (r *Registry) start(ctx context.Context, bin string, opts Options) error {
	cfg := serverConfig{
		storage:  filepath.Join(r.dir, "storage"),
		noDelete: opts.DeleteDisabled,
		instance: rand.Text(),
	}
	switch opts.Auth {
	case AuthBasic:
		path, err := writeHtpasswd(r.dir, opts.Username, opts.Password)
		if err != nil {
			return err
		}
		cfg.htpasswd = path
	case AuthToken:
		s, err := newSigner(tokenIssuer, tokenService)
		if err != nil {
			return err
		}
		r.signer = s
		cfg.token = s
		cfg.rootCerts = filepath.Join(r.dir, "token-root.pem")
		if err := os.WriteFile(cfg.rootCerts, s.certPEM(), 0o600); err != nil {
			return fmt.Errorf("write token root certificate: %w", err)
		}
		r.tokens, err = startTokenServer(ctx, s, opts)
		if err != nil {
			return err
		}
		cfg.realm = r.tokens.realm
	}
	return r.launch(ctx, bin, cfg)
}

// launch starts the process on a free port, trying another port when the
// one picked was taken in the meantime.
func (r *Registry) launch(ctx context.Context, bin string, cfg serverConfig) error {
	configPath := filepath.Join(r.dir, "config.yml")
	logPath := filepath.Join(r.dir, "registry.log")
	for attempt := 1; ; attempt++ {
		addr, err := freeAddr(ctx)
		if err != nil {
			return err
		}
		cfg.addr = addr
		if err := cfg.write(configPath); err != nil {
			return err
		}
		proc, err := startProcess(ctx, bin, configPath, logPath)
		if err != nil {
			return err
		}
		err = proc.waitReady(ctx, r.client, addr, cfg.instance)
		if err == nil {
			r.proc = proc
			r.Host = addr
			return nil
		}
		proc.stop()
		tail := proc.logTail()
		if errors.Is(err, errExited) && strings.Contains(tail, "address already in use") && attempt < bindAttempts {
			continue
		}
		return fmt.Errorf("start registry on %s: %w; registry log:\n%s", addr, err, tail)
	}
}

// freeAddr asks the kernel for a free loopback port; the registry binds
// it a moment later, which launch retries if someone else won the race.
func freeAddr(ctx context.Context) (string, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	return addr, nil
}
