// Package registryclient speaks the OCI Distribution API: it reads and writes
// manifests and blobs and copies images between registries, streaming every byte and
// verifying it against its digest. One Client serves a whole Terraform run: its
// connection pool, token cache and upload de-duplication are shared by every resource.
package registryclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/registryclient/auth"
	"github.com/imagesync/terraform-provider-imagesync/registryclient/internal/flight"
)

// Client talks to OCI registries. It is safe for concurrent use.
type Client struct {
	http *http.Client // one connection pool for registries and token endpoints alike
	auth *auth.Authenticator

	insecureHosts map[string]bool
	schemes       sync.Map // API host → "https" or "http", learned on first contact
	contacts      sync.Map // API host → chan closed once the first request to it was answered

	maxRetries            int
	backoffBase           time.Duration
	idleTimeout           time.Duration // a body that moves no bytes this long is dropped
	chunkSize             int64         // blobs larger than this go in chunks of this size
	transfers             chan struct{} // bounds concurrent blob transfers across the whole run
	compressors           chan struct{} // bounds layers compressed at once: one per core is enough
	gzipWriters           sync.Pool     // *pgzip.Writer, reused from layer to layer
	allowNondistributable bool
	userAgent             string

	uploads     flight.Group[string, struct{}]           // one upload of a blob per destination repository at a time
	compressing flight.Group[string, ocispec.Descriptor] // one compression of a layer per destination repository at a time
	logf        Logger
}

// Logger receives one line per registry answer: method, URL without its query, status
// and attempt. It never sees headers or bodies, so no secret reaches a log.
type Logger func(ctx context.Context, msg string, fields map[string]any)

// Option configures a Client.
type Option func(*config)

type config struct {
	credentials           auth.CredentialSource
	insecureHosts         []string
	rootCAs               *x509.CertPool
	maxRetries            int
	parallel              int
	allowNondistributable bool
	userAgent             string
	backoffBase           time.Duration
	idleTimeout           time.Duration
	responseTimeout       time.Duration
	chunkSize             int64
	logger                Logger
}

// DefaultMaxRetries is how often a failed operation (a request, or the transfer of
// one blob) is tried again when trying again may help.
const DefaultMaxRetries = 5

// DefaultParallelTransfers is how many blobs move at once.
const DefaultParallelTransfers = 8

// WithCredentials sets where credentials come from; without it every request is anonymous.
func WithCredentials(src auth.CredentialSource) Option {
	return func(c *config) { c.credentials = src }
}

// WithInsecureRegistries allows plain HTTP or unverified TLS for these host[:port]s.
func WithInsecureRegistries(hosts []string) Option {
	return func(c *config) { c.insecureHosts = append(c.insecureHosts, hosts...) }
}

// WithRootCAs replaces the system roots used to verify registries' certificates.
func WithRootCAs(pool *x509.CertPool) Option {
	return func(c *config) { c.rootCAs = pool }
}

// WithMaxRetries sets how often a failed operation (a request, or the transfer of one
// blob) is tried again when trying again may help.
func WithMaxRetries(n int) Option {
	return func(c *config) { c.maxRetries = n }
}

// WithParallelTransfers bounds how many blobs move at once across the whole Client.
func WithParallelTransfers(n int) Option {
	return func(c *config) { c.parallel = n }
}

// WithNondistributable copies foreign and non-distributable layers instead of leaving them out.
func WithNondistributable(allow bool) Option {
	return func(c *config) { c.allowNondistributable = allow }
}

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option {
	return func(c *config) { c.userAgent = ua }
}

// WithChunkSize sets the size of one PATCH of a chunked upload; blobs up to this size
// are sent in a single PUT.
func WithChunkSize(n int64) Option {
	return func(c *config) { c.chunkSize = n }
}

// WithLogger sends a line per request to l (the provider sends them to TF_LOG).
func WithLogger(l Logger) Option {
	return func(c *config) { c.logger = l }
}

// withBackoffBase shortens retry waits in tests.
func withBackoffBase(d time.Duration) Option {
	return func(c *config) { c.backoffBase = d }
}

// withTimeouts shortens, in tests, how long a body may stall (idle) and how long a
// registry may take to start answering (response) before the connection is dropped.
func withTimeouts(idle, response time.Duration) Option {
	return func(c *config) { c.idleTimeout, c.responseTimeout = idle, response }
}

// New returns a Client.
func New(opts ...Option) *Client {
	cfg := config{
		maxRetries: DefaultMaxRetries, parallel: DefaultParallelTransfers, userAgent: "imagesync", backoffBase: 250 * time.Millisecond,
		idleTimeout: DefaultIdleTimeout, responseTimeout: DefaultResponseTimeout, chunkSize: DefaultChunkSize,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.chunkSize <= 0 {
		cfg.chunkSize = DefaultChunkSize
	}
	if cfg.parallel < 1 {
		cfg.parallel = 1
	}
	if cfg.credentials == nil {
		cfg.credentials = auth.NewResolver(nil)
	}
	c := &Client{
		insecureHosts:         map[string]bool{},
		maxRetries:            max(cfg.maxRetries, 0),
		backoffBase:           cfg.backoffBase,
		idleTimeout:           cfg.idleTimeout,
		chunkSize:             cfg.chunkSize,
		transfers:             make(chan struct{}, cfg.parallel),
		compressors:           make(chan struct{}, max(2, runtime.GOMAXPROCS(0))),
		allowNondistributable: cfg.allowNondistributable,
		userAgent:             cfg.userAgent,
		logf:                  cfg.logger,
	}
	if c.logf == nil {
		c.logf = func(context.Context, string, map[string]any) {}
	}
	for _, h := range cfg.insecureHosts {
		c.insecureHosts[strings.ToLower(h)] = true
	}
	c.http = &http.Client{
		Transport: hostTransport{
			verified:   newTransport(&tls.Config{RootCAs: cfg.rootCAs, MinVersion: tls.VersionTLS12}, cfg.responseTimeout),
			unverified: newTransport(&tls.Config{InsecureSkipVerify: true}, cfg.responseTimeout), // only for hosts listed in insecure_registries
			skipVerify: c.skipVerify,
		},
		// Blob GETs are redirected to object storage; the registry's credentials must never
		// follow them to another host (Go only strips them for unrelated domains).
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return http.ErrUseLastResponse
			}
			if req.URL.Host != via[0].URL.Host {
				req.Header.Del("Authorization")
			}
			return nil
		},
	}
	c.auth = auth.New(c.http, cfg.credentials)
	return c
}

// hostTransport verifies TLS certificates except for hosts in insecure_registries.
type hostTransport struct {
	verified, unverified http.RoundTripper
	skipVerify           func(host string) bool
}

func (t hostTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.skipVerify(req.URL.Host) {
		return t.unverified.RoundTrip(req)
	}
	return t.verified.RoundTrip(req)
}

func newTransport(tlsConfig *tls.Config, responseTimeout time.Duration) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsConfig,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: responseTimeout,
		ExpectContinueTimeout: time.Second,
	}
}

// plainHTTPAllowed reports whether host may be spoken to over plain HTTP: listed in
// insecure_registries, or on loopback, as Docker allows.
func (c *Client) plainHTTPAllowed(host string) bool {
	if c.insecureHosts[strings.ToLower(host)] {
		return true
	}
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.Trim(name, "[]")
	if name == "localhost" {
		return true
	}
	ip := net.ParseIP(name)
	return ip != nil && ip.IsLoopback()
}

// skipVerify reports whether host's TLS certificate goes unchecked: only for hosts the
// user listed in insecure_registries; a loopback registry that speaks TLS is verified.
func (c *Client) skipVerify(host string) bool {
	return c.insecureHosts[strings.ToLower(host)]
}
