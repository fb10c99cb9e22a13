//go:build linux

package main

import (
	"context"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// remote makes a loopback registry behave like one across a network: a new connection
// costs a round trip (the TCP handshake; TLS would add one or two), every request waits
// a round trip before it is forwarded, and every body streams no faster than rate, as
// one TCP connection over a long path does. On plain loopback a copy is bound by CPU, so
// parallel transfers cannot show what they buy against a real registry. With no round
// trip and no rate it only counts the requests and bytes that pass.
type remote struct {
	// Host is the "127.0.0.1:PORT" to use in image references instead of the registry's.
	Host string
	// requests counts what clients asked, to compare how many round trips a copy costs.
	requests atomic.Int64
	// uploaded counts the request body bytes clients sent; downloaded the response
	// body bytes they read.
	uploaded, downloaded atomic.Int64
	// byKind counts requests by method and endpoint ("HEAD manifest") since resetKinds.
	mu     sync.Mutex
	byKind map[string]int
	srv    *http.Server
	done   chan struct{}
}

// startRemote puts a remote in front of the registry at target.
func startRemote(ctx context.Context, target string, rtt time.Duration, rate float64) (*remote, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rm := &remote{Host: ln.Addr().String(), done: make(chan struct{})}
	transport := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	upstream := &url.URL{Scheme: "http", Host: target}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(upstream)
			// The registry builds upload Locations from Host: they must point back here.
			pr.Out.Host = pr.In.Host
		},
		Transport:     transport,
		FlushInterval: -1,
		ModifyResponse: func(resp *http.Response) error {
			resp.Body = &countingReader{ReadCloser: throttle(resp.Body, rate), n: &rm.downloaded}
			return nil
		},
	}
	rm.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rm.requests.Add(1)
		rm.count(r.Method + " " + endpoint(r.URL.Path))
		if !sleep(r.Context(), rtt) {
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &countingReader{ReadCloser: throttle(r.Body, rate), n: &rm.uploaded}
		}
		sw := &statusWriter{ResponseWriter: w}
		proxy.ServeHTTP(sw, r)
		if sw.status == http.StatusUnauthorized {
			rm.count("answered 401")
		}
	})}
	go func() {
		defer close(rm.done)
		_ = rm.srv.Serve(&handshakeListener{Listener: ln, rtt: rtt})
	}()
	return rm, nil
}

func (rm *remote) count(kind string) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if rm.byKind == nil {
		rm.byKind = map[string]int{}
	}
	rm.byKind[kind]++
}

// resetKinds starts counting requests by kind anew.
func (rm *remote) resetKinds() {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	rm.byKind = nil
}

// kinds returns the requests counted by kind since resetKinds.
func (rm *remote) kinds() map[string]int {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	return maps.Clone(rm.byKind)
}

// statusWriter remembers the status the registry answered, to count challenges.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// Unwrap lets the proxy flush the response through http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// endpoint names the registry API a request path belongs to.
func endpoint(path string) string {
	switch {
	case path == "/v2/" || path == "/v2":
		return "ping"
	case strings.Contains(path, "/manifests/"):
		return "manifest"
	case strings.Contains(path, "/blobs/uploads"):
		return "upload"
	case strings.Contains(path, "/blobs/"):
		return "blob"
	case strings.HasSuffix(path, "/tags/list"):
		return "tags"
	}
	return "other"
}

// Close stops the proxy and drops its connections.
func (rm *remote) Close() error {
	err := rm.srv.Close()
	<-rm.done
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// sleep waits d unless ctx ends first, and reports whether it waited.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// handshakeListener delays the first read of every accepted connection by a round trip.
type handshakeListener struct {
	net.Listener
	rtt time.Duration
}

func (l *handshakeListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &handshakeConn{Conn: c, rtt: l.rtt}, nil
}

type handshakeConn struct {
	net.Conn
	rtt  time.Duration
	once sync.Once
}

func (c *handshakeConn) Read(p []byte) (int, error) {
	c.once.Do(func() { time.Sleep(c.rtt) })
	return c.Conn.Read(p)
}

// throttle limits rc to rate bytes a second from its first read; rate 0 leaves it alone.
func throttle(rc io.ReadCloser, rate float64) io.ReadCloser {
	if rate <= 0 {
		return rc
	}
	return &throttled{rc: rc, rate: rate}
}

type throttled struct {
	rc    io.ReadCloser
	rate  float64
	start time.Time
	n     int64
}

func (t *throttled) Read(p []byte) (int, error) {
	if t.start.IsZero() {
		t.start = time.Now()
	}
	// Small reads keep the stream smooth instead of a burst and a long pause.
	n, err := t.rc.Read(p[:min(len(p), 64<<10)])
	t.n += int64(n)
	due := t.start.Add(time.Duration(float64(t.n) / t.rate * float64(time.Second)))
	if d := time.Until(due); d > 0 {
		time.Sleep(d)
	}
	return n, err
}

func (t *throttled) Close() error { return t.rc.Close() }
