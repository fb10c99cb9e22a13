package faultproxy

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
)

// ServeHTTP forwards r to the registry, breaking it as decided.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d, down := p.decide(r)
	if down {
		io.Copy(io.Discard, r.Body)
		p.hold(r)
		reset(w)
		return
	}
	switch d.fault {
	case Status500, Status502, Status503, TooManyRequests:
		p.count(d.fault)
		io.Copy(io.Discard, r.Body)
		p.answerError(w, d.fault)
		return
	case ResetBeforeHeaders:
		p.count(d.fault)
		reset(w)
		return
	}
	if upload(r) && d.fault != 0 && d.fault != WrongDigest {
		p.breakUpload(w, r, d)
		return
	}
	resp, err := p.send(r, r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	copyHeader(w.Header(), resp)
	if d.fault == WrongDigest && resp.Header.Get("Docker-Content-Digest") != "" {
		p.count(d.fault)
		w.Header().Set("Docker-Content-Digest", randomDigest())
	}
	body := read(r) && resp.StatusCode/100 == 2 && resp.ContentLength != 0
	if !body || d.fault == 0 || d.fault == WrongDigest {
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
		return
	}
	p.breakBody(w, r, resp, d)
}

// send forwards r, with body, to the registry.
func (p *Proxy) send(r *http.Request, body io.Reader) (*http.Response, error) {
	out := r.Clone(r.Context())
	out.URL.Scheme, out.URL.Host, out.RequestURI = "http", p.target, ""
	out.Body = io.NopCloser(body)
	if r.ContentLength == 0 {
		out.Body = http.NoBody
	}
	return p.forward.RoundTrip(out)
}

// breakBody sends a blob or manifest the registry answered, broken by d.
func (p *Proxy) breakBody(w http.ResponseWriter, r *http.Request, resp *http.Response, d decision) {
	p.count(d.fault)
	n := resp.ContentLength
	if n < 0 {
		n = 4 << 10 // a body of unknown length: strike early
	}
	cut := max(int64(d.at*float64(n)), 0)
	if cut >= n {
		cut = n - 1
	}
	switch d.fault {
	case TruncatedBody:
		w.Header().Set("Content-Length", strconv.FormatInt(cut, 10))
		w.WriteHeader(resp.StatusCode)
		io.CopyN(w, resp.Body, cut)
	case ResetMidBody, StalledBody:
		w.WriteHeader(resp.StatusCode)
		io.CopyN(w, resp.Body, cut)
		http.NewResponseController(w).Flush()
		if d.fault == StalledBody {
			p.hold(r)
		}
		reset(w)
	case CorruptBody:
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, &flipper{r: resp.Body, at: cut})
	}
}

// breakUpload forwards an upload's body broken by d: with a byte flipped, cut halfway
// (the registry keeps what arrived, the client's connection is reset), or swallowed
// without an answer.
func (p *Proxy) breakUpload(w http.ResponseWriter, r *http.Request, d decision) {
	p.count(d.fault)
	switch d.fault {
	case StalledBody:
		io.Copy(io.Discard, r.Body)
		p.hold(r)
		reset(w)
	case ResetMidBody:
		n := r.ContentLength
		if n < 0 {
			n = 64 << 10
		}
		if resp, err := p.send(r, &cutter{r: r.Body, n: int64(d.at * float64(n))}); err == nil {
			resp.Body.Close()
		}
		reset(w)
	case CorruptBody:
		at := int64(0)
		if r.ContentLength > 0 {
			at = int64(d.at * float64(r.ContentLength))
		}
		resp, err := p.send(r, &flipper{r: r.Body, at: at})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		copyHeader(w.Header(), resp)
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}
}

// answerError answers as a registry in trouble does.
func (p *Proxy) answerError(w http.ResponseWriter, f Fault) {
	status, code := http.StatusServiceUnavailable, "UNAVAILABLE"
	switch f {
	case Status500:
		status, code = http.StatusInternalServerError, "UNKNOWN"
	case Status502:
		status, code = http.StatusBadGateway, "UNKNOWN"
	case TooManyRequests:
		status, code = http.StatusTooManyRequests, "TOOMANYREQUESTS"
		w.Header().Set("Retry-After", strconv.Itoa(p.opts.RetryAfter))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"errors":[{"code":%q,"message":"injected by faultproxy"}]}`, code)
}

// copyHeader copies the registry's answer headers, with the body's real length.
func copyHeader(dst http.Header, resp *http.Response) {
	for k, vs := range resp.Header {
		if k == "Transfer-Encoding" || k == "Connection" {
			continue
		}
		dst[k] = vs
	}
	if resp.ContentLength >= 0 {
		dst.Set("Content-Length", strconv.FormatInt(resp.ContentLength, 10))
	}
}

// reset drops the client's connection with a TCP RST, as a crashed peer or a
// middlebox does.
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		tcp.SetLinger(0)
	}
	conn.Close()
}

func randomDigest() string {
	b := make([]byte, 32)
	rand.Read(b)
	return "sha256:" + hex.EncodeToString(b)
}

// flipper passes a stream through with the byte at offset at inverted.
type flipper struct {
	r   io.Reader
	at  int64
	pos int64
}

func (f *flipper) Read(b []byte) (int, error) {
	n, err := f.r.Read(b)
	if f.at >= f.pos && f.at < f.pos+int64(n) {
		b[f.at-f.pos] ^= 0xff
	}
	f.pos += int64(n)
	return n, err
}

// cutter passes n bytes of a stream, then fails as a dropped connection does.
type cutter struct {
	r io.Reader
	n int64
}

func (c *cutter) Read(b []byte) (int, error) {
	if c.n <= 0 {
		return 0, errStopped
	}
	if int64(len(b)) > c.n {
		b = b[:c.n]
	}
	n, err := c.r.Read(b)
	c.n -= int64(n)
	return n, err
}
