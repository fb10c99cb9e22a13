package faultproxy

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options configures a Proxy.
type Options struct {
	// Seed fixes the sequence of fault decisions: the same seed draws the same faults
	// for the same sequence of requests. With concurrent clients, which request gets
	// which decision follows the order in which they arrive.
	Seed uint64
	// Rate is the fraction of requests that get a fault, from 0 to 1.
	Rate float64
	// Faults are the kinds drawn from, each equally likely among those that can
	// happen to the request; nil means All.
	Faults []Fault
	// Match, when set, limits faults to requests whose path contains it ("/blobs/sha256:"
	// for blob reads, "/blobs/uploads/" for upload sessions).
	Match string
	// MaxFaults, when above 0, is how many faults the proxy injects before it forwards
	// everything faithfully: a fault that clears.
	MaxFaults int
	// RetryAfter is the Retry-After of a 429, in seconds; 0 means 1.
	RetryAfter int
	// StallFor is how long a stalled body or a registry that stopped answering stays
	// silent before the proxy resets the connection; 0 means 10 s.
	StallFor time.Duration
	// Lifetime is how long the proxy runs before it closes itself; 0 means 10 minutes.
	Lifetime time.Duration
}

// Proxy forwards requests to one registry and breaks some of them.
type Proxy struct {
	// Host is the proxy's "127.0.0.1:PORT": use it in image references in place of the
	// registry's own host. The Host header goes through unchanged, so the registry's
	// upload Locations point back at the proxy.
	Host string

	target  string
	opts    Options
	server  *httptest.Server
	forward *http.Transport
	closed  chan struct{}
	stop    sync.Once

	mu       sync.Mutex
	rng      *rand.Rand
	down     bool
	requests int
	drawn    int // faults decided on, for MaxFaults
	injected map[Fault]int
}

// Start puts a proxy in front of the registry at target ("127.0.0.1:PORT"), which must
// be on loopback.
func Start(target string, opts Options) (*Proxy, error) {
	if err := loopback(target); err != nil {
		return nil, err
	}
	if opts.Rate < 0 || opts.Rate > 1 {
		return nil, fmt.Errorf("faultproxy: rate %v is not between 0 and 1", opts.Rate)
	}
	if opts.Faults == nil {
		opts.Faults = All
	}
	if opts.RetryAfter == 0 {
		opts.RetryAfter = 1
	}
	if opts.StallFor == 0 {
		opts.StallFor = 10 * time.Second
	}
	if opts.Lifetime == 0 {
		opts.Lifetime = 10 * time.Minute
	}
	p := &Proxy{
		target:   target,
		opts:     opts,
		closed:   make(chan struct{}),
		rng:      rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		injected: map[Fault]int{},
		// Never through $HTTP_PROXY, never transparently gunzipped: the client must see
		// the registry's bytes, broken only where the proxy means to break them.
		forward: &http.Transport{Proxy: nil, DisableCompression: true, MaxIdleConnsPerHost: 32},
	}
	p.server = httptest.NewServer(p)
	p.Host = p.server.Listener.Addr().String()
	time.AfterFunc(opts.Lifetime, p.Close)
	return p, nil
}

// StartT starts a proxy for t and closes it when t ends.
func StartT(t testing.TB, target string, opts Options) *Proxy {
	t.Helper()
	p, err := Start(target, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// loopback refuses a target that is not on this machine's loopback interface.
func loopback(target string) error {
	host, _, err := net.SplitHostPort(target)
	if err != nil {
		return fmt.Errorf("faultproxy: target %q: %w", target, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("faultproxy: target %q is not on loopback", target)
	}
	return nil
}

// Close stops the proxy, resetting every connection it holds. It is safe to call more
// than once.
func (p *Proxy) Close() {
	p.stop.Do(func() {
		close(p.closed)
		p.server.CloseClientConnections()
		p.server.Close()
		p.forward.CloseIdleConnections()
	})
}

// StopAnswering makes the registry behind the proxy go silent: from now on every
// request is held without an answer until the client gives up or StallFor passes.
func (p *Proxy) StopAnswering() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
}

// Stats is what the proxy did so far.
type Stats struct {
	Requests int
	Injected map[Fault]int // faults that actually happened, by kind
}

// Faults is the total of Injected.
func (s Stats) Faults() int {
	n := 0
	for _, c := range s.Injected {
		n += c
	}
	return n
}

func (s Stats) String() string {
	var parts []string
	for _, f := range All {
		if n := s.Injected[f]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", f, n))
		}
	}
	return fmt.Sprintf("%d requests, %d faults (%s)", s.Requests, s.Faults(), strings.Join(parts, ", "))
}

// Stats returns what the proxy did so far.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := Stats{Requests: p.requests, Injected: map[Fault]int{}}
	for f, n := range p.injected {
		s.Injected[f] = n
	}
	return s
}

// decision is the fault drawn for one request, with where in the body it strikes.
type decision struct {
	fault Fault
	at    float64 // fraction of the body after which a body fault strikes
}

// decide draws the fate of r.
func (p *Proxy) decide(r *http.Request) (decision, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	if p.down {
		return decision{}, true
	}
	if p.rng.Float64() >= p.opts.Rate || !strings.Contains(r.URL.Path, p.opts.Match) {
		return decision{}, false
	}
	if p.opts.MaxFaults > 0 && p.drawn >= p.opts.MaxFaults {
		return decision{}, false
	}
	var possible []Fault
	for _, f := range p.opts.Faults {
		if f.applies(r) {
			possible = append(possible, f)
		}
	}
	if len(possible) == 0 {
		return decision{}, false
	}
	p.drawn++
	return decision{fault: possible[p.rng.IntN(len(possible))], at: p.rng.Float64()}, false
}

// count records a fault that happened.
func (p *Proxy) count(f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.injected[f]++
}

// hold keeps a connection silent until the client leaves, StallFor passes or the proxy
// closes.
func (p *Proxy) hold(r *http.Request) {
	t := time.NewTimer(p.opts.StallFor)
	defer t.Stop()
	select {
	case <-r.Context().Done():
	case <-t.C:
	case <-p.closed:
	}
}

var errStopped = errors.New("faultproxy: upload cut by the proxy")
