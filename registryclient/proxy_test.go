package registryclient

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync/atomic"
	"testing"
)

// TestHTTPSProxyIsHonoured runs a copy of the test binary with HTTPS_PROXY set (Go reads
// the proxy environment once per process) and checks that the registry was reached
// through the proxy's CONNECT tunnel.
func TestHTTPSProxyIsHonoured(t *testing.T) {
	if os.Getenv("IMAGESYNC_PROXY_CHILD") != "" {
		proxyChild(t)
		return
	}
	reg := newFakeRegistry(t)
	reg.seedImage("app", "v1", 100)
	tlsServer := httptest.NewTLSServer(reg.server.Config.Handler)
	defer tlsServer.Close()
	var tunnels atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect || r.Host != "example.com:443" {
			http.Error(w, "only CONNECT to example.com:443", http.StatusForbidden)
			return
		}
		tunnels.Add(1)
		upstream, err := net.Dial("tcp", tlsServer.Listener.Addr().String())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusOK)
		client, _, _ := w.(http.Hijacker).Hijack()
		go func() { io.Copy(upstream, client); upstream.Close() }()
		io.Copy(client, upstream)
		client.Close()
	}))
	defer proxy.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsServer.Certificate().Raw})

	for _, tc := range []struct {
		name, noProxy string
		wantTunnel    bool
	}{
		{"HTTPS_PROXY carries registry traffic", "", true},
		{"NO_PROXY exempts the registry", "example.com", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := tunnels.Load()
			cmd := exec.Command(os.Args[0], "-test.run=^TestHTTPSProxyIsHonoured$")
			cmd.Env = append(os.Environ(), "IMAGESYNC_PROXY_CHILD=1", "IMAGESYNC_PROXY_CA="+string(ca),
				"HTTPS_PROXY="+proxy.URL, "NO_PROXY="+tc.noProxy, "no_proxy="+tc.noProxy)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			if got := tunnels.Load() > before; got != tc.wantTunnel {
				t.Errorf("tunnelled = %v, want %v\n%s", got, tc.wantTunnel, out)
			}
		})
	}
}

// proxyChild reads example.com:443/app:v1, which only the proxy can reach. With
// NO_PROXY it checks the transport's decision without dialling: nothing here may reach
// the real example.com.
func proxyChild(t *testing.T) {
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM([]byte(os.Getenv("IMAGESYNC_PROXY_CA")))
	c := testClient(WithRootCAs(roots), WithMaxRetries(0))
	transport := c.http.Transport.(hostTransport).verified.(*http.Transport)
	dial := transport.DialContext
	transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, _, _ := net.SplitHostPort(addr); net.ParseIP(host) == nil || !net.ParseIP(host).IsLoopback() {
			return nil, fmt.Errorf("refusing to dial %s directly: only the proxy may be dialled", addr)
		}
		return dial(ctx, network, addr)
	}
	if os.Getenv("NO_PROXY") != "" {
		req, _ := http.NewRequest(http.MethodHead, "https://example.com/v2/", nil)
		proxyURL, err := transport.Proxy(req)
		if err != nil || proxyURL != nil {
			t.Fatalf("proxy for a NO_PROXY host: %v, %v", proxyURL, err)
		}
		return
	}
	ref, _ := ParseReference("example.com/app:v1")
	if _, err := c.HeadManifest(context.Background(), ref); err != nil {
		t.Fatal(err)
	}
}
