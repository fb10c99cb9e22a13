package faultproxy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// blobServer stands in for a registry: it serves one blob and stores upload bodies.
type blobServer struct {
	*httptest.Server
	blob []byte

	mu       sync.Mutex
	received [][]byte
}

func newBlobServer(t *testing.T) *blobServer {
	s := &blobServer{blob: bytes.Repeat([]byte("layer bytes "), 10000)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			sum := sha256.Sum256(s.blob)
			w.Header().Set("Docker-Content-Digest", "sha256:"+hex.EncodeToString(sum[:]))
			w.Write(s.blob)
		default:
			b, _ := io.ReadAll(r.Body)
			s.mu.Lock()
			s.received = append(s.received, b)
			s.mu.Unlock()
			w.WriteHeader(http.StatusCreated)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *blobServer) lastUpload() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.received) == 0 {
		return nil
	}
	return s.received[len(s.received)-1]
}

func TestEveryFaultBreaksWhatItSays(t *testing.T) {
	backend := newBlobServer(t)
	target := strings.TrimPrefix(backend.URL, "http://")
	client := &http.Client{Timeout: 5 * time.Second}
	blobURL := "/v2/app/blobs/sha256:abc"

	get := func(p *Proxy) (*http.Response, []byte, error) {
		resp, err := client.Get("http://" + p.Host + blobURL)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, b, err
	}
	for _, tc := range []struct {
		fault Fault
		check func(t *testing.T, p *Proxy)
	}{
		{Status503, func(t *testing.T, p *Proxy) {
			resp, body, err := get(p)
			if err != nil || resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "UNAVAILABLE") {
				t.Errorf("got %v, %v, want a 503 with a registry error body", resp, err)
			}
		}},
		{TooManyRequests, func(t *testing.T, p *Proxy) {
			resp, _, err := get(p)
			if err != nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" {
				t.Errorf("got %v, %v, want a 429 with Retry-After: 1", resp, err)
			}
		}},
		{ResetBeforeHeaders, func(t *testing.T, p *Proxy) {
			if _, _, err := get(p); err == nil {
				t.Error("the request succeeded through a reset")
			}
		}},
		{ResetMidBody, func(t *testing.T, p *Proxy) {
			resp, body, err := get(p)
			if err == nil || resp == nil || len(body) >= len(backend.blob) {
				t.Errorf("read %d of %d bytes, err %v: want headers, part of the body, then an error", len(body), len(backend.blob), err)
			}
		}},
		{TruncatedBody, func(t *testing.T, p *Proxy) {
			resp, body, err := get(p)
			if err != nil || int64(len(body)) != resp.ContentLength || len(body) >= len(backend.blob) {
				t.Errorf("read %d of %d bytes, err %v: want a short body that HTTP accepts", len(body), len(backend.blob), err)
			}
		}},
		{StalledBody, func(t *testing.T, p *Proxy) {
			resp, err := client.Get("http://" + p.Host + blobURL)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			started := time.Now()
			_, err = io.ReadAll(resp.Body)
			if waited := time.Since(started); err == nil || waited < 150*time.Millisecond {
				t.Errorf("the body ended after %s with %v, want silence for StallFor and then an error", waited, err)
			}
		}},
		{WrongDigest, func(t *testing.T, p *Proxy) {
			resp, body, err := get(p)
			sum := sha256.Sum256(body)
			if err != nil || resp.Header.Get("Docker-Content-Digest") == "sha256:"+hex.EncodeToString(sum[:]) {
				t.Errorf("Docker-Content-Digest %q still matches the body (err %v)", resp.Header.Get("Docker-Content-Digest"), err)
			}
		}},
		{CorruptBody, func(t *testing.T, p *Proxy) {
			_, body, err := get(p)
			if err != nil || len(body) != len(backend.blob) || bytes.Equal(body, backend.blob) {
				t.Errorf("got %d bytes, equal to the blob: %v, err %v; want the same length with a byte flipped", len(body), bytes.Equal(body, backend.blob), err)
			}
			sent := bytes.Repeat([]byte{7}, 5000)
			resp, err := client.Do(newUpload(t, p, sent))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := backend.lastUpload(); len(got) != len(sent) || bytes.Equal(got, sent) {
				t.Errorf("the registry received %d bytes, equal to those sent: %v; want a byte flipped on the way in", len(got), bytes.Equal(got, sent))
			}
		}},
	} {
		t.Run(tc.fault.String(), func(t *testing.T) {
			p := StartT(t, target, Options{Seed: 1, Rate: 1, Faults: []Fault{tc.fault}, StallFor: 200 * time.Millisecond})
			tc.check(t, p)
			if n := p.Stats().Injected[tc.fault]; n == 0 {
				t.Errorf("Stats counts no %s", tc.fault)
			}
		})
	}
}

func newUpload(t *testing.T, p *Proxy, body []byte) *http.Request {
	req, err := http.NewRequest(http.MethodPut, "http://"+p.Host+"/v2/app/blobs/uploads/1?digest=sha256:x", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestAResetUploadLeavesPartOfItAtTheRegistry(t *testing.T) {
	backend := newBlobServer(t)
	p := StartT(t, strings.TrimPrefix(backend.URL, "http://"), Options{Seed: 3, Rate: 1, Faults: []Fault{ResetMidBody}})
	sent := bytes.Repeat([]byte{9}, 100000)
	if resp, err := http.DefaultClient.Do(newUpload(t, p, sent)); err == nil {
		resp.Body.Close()
		t.Fatal("the upload succeeded through a reset")
	}
	if got := backend.lastUpload(); len(got) >= len(sent) {
		t.Errorf("the registry received %d of %d bytes, want part of them", len(got), len(sent))
	}
}

func TestSeedAndRate(t *testing.T) {
	backend := newBlobServer(t)
	target := strings.TrimPrefix(backend.URL, "http://")
	faulted := func(seed uint64) []bool {
		p := StartT(t, target, Options{Seed: seed, Rate: 0.1, Faults: []Fault{Status500}})
		var out []bool
		for range 400 {
			resp, err := http.Get("http://" + p.Host + "/v2/")
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			out = append(out, resp.StatusCode == http.StatusInternalServerError)
		}
		if n := p.Stats().Faults(); n < 20 || n > 65 {
			t.Errorf("seed %d: %d faults in 400 requests at rate 0.1", seed, n)
		}
		return out
	}
	a, b, c := faulted(7), faulted(7), faulted(8)
	if !equal(a, b) {
		t.Error("the same seed drew different faults")
	}
	if equal(a, c) {
		t.Error("two seeds drew the same faults")
	}
}

func equal(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestStopAnsweringHoldsUntilTheClientGivesUp(t *testing.T) {
	backend := newBlobServer(t)
	p := StartT(t, strings.TrimPrefix(backend.URL, "http://"), Options{StallFor: time.Minute})
	p.StopAnswering()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.Host+"/v2/", nil)
	started := time.Now()
	_, err := http.DefaultClient.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the client's own deadline", err)
	}
	if waited := time.Since(started); waited > 5*time.Second {
		t.Errorf("the request took %s to give up", waited)
	}
}

func TestItStaysOnLoopbackAndStopsByItself(t *testing.T) {
	if _, err := Start("192.0.2.1:5000", Options{}); err == nil {
		t.Error("a proxy started in front of a host that is not on loopback")
	}
	backend := newBlobServer(t)
	p := StartT(t, strings.TrimPrefix(backend.URL, "http://"), Options{Lifetime: 200 * time.Millisecond})
	if !strings.HasPrefix(p.Host, "127.0.0.1:") {
		t.Errorf("listening on %s, want 127.0.0.1", p.Host)
	}
	time.Sleep(500 * time.Millisecond)
	if _, err := http.Get("http://" + p.Host + "/v2/"); err == nil {
		t.Error("the proxy still answers after its lifetime")
	}
}

func TestMatchAndMaxFaults(t *testing.T) {
	backend := newBlobServer(t)
	p := StartT(t, strings.TrimPrefix(backend.URL, "http://"), Options{Rate: 1, Faults: []Fault{Status503}, Match: "/blobs/", MaxFaults: 2})
	var statuses []int
	for _, path := range []string{"/v2/", "/v2/app/blobs/a", "/v2/app/manifests/v1", "/v2/app/blobs/b", "/v2/app/blobs/c"} {
		resp, err := http.Get("http://" + p.Host + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
	}
	want := []int{200, 503, 200, 503, 200}
	for i := range want {
		if statuses[i] != want[i] {
			t.Fatalf("statuses %v, want %v: only blob paths, and only two of them", statuses, want)
		}
	}
}
