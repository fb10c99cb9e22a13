package tfprotov6server

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
	"github.com/imagesync/terraform-provider-imagesync/registryclient"
)

// countingProxy forwards to a registry and remembers each request as "METHOD /path".
type countingProxy struct {
	host string
	mu   sync.Mutex
	seen []string
}

func startCountingProxy(t *testing.T, target string) *countingProxy {
	t.Helper()
	p := &countingProxy{}
	forward := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: target})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.seen = append(p.seen, r.Method+" "+r.URL.Path)
		p.mu.Unlock()
		forward.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.host = srv.Listener.Addr().String()
	return p
}

func (p *countingProxy) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	seen := p.seen
	p.seen = nil
	return seen
}

func TestPlanListsReferrersOnlyWithCopyReferrers(t *testing.T) {
	reg := testregistry.StartT(t, testregistry.Options{})
	src, err := reg.Push(t.Context(), "source/app", "v1", testregistry.ImageSpec{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	subject, err := reg.Descriptor(t.Context(), "source/app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	sig, err := reg.PushArtifact(t.Context(), "source/app", "", testregistry.Artifact{ArtifactType: "application/vnd.example.signature", PayloadMediaType: "application/vnd.example.signature", Payload: []byte("signed"), Subject: &subject})
	if err != nil {
		t.Fatal(err)
	}
	proxy := startCountingProxy(t, reg.Host)
	config := configured(proxy.host+"/source/app:v1", reg.Host+"/mirror/app:v1", "")
	dst, err := registryclient.ParseReference(reg.Host + "/mirror/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	state := config.withDigest(dst, src.Digest)

	t.Run("without copy_referrers a plan costs one HEAD, as before", func(t *testing.T) {
		proxy.take()
		if _, diags, same := planOf(t, state, config, nil); !same || len(diags) > 0 {
			t.Fatalf("plan not empty: %+v", diags)
		}
		if seen := proxy.take(); !slices.Equal(seen, []string{"HEAD /v2/source/app/manifests/v1"}) {
			t.Errorf("the plan sent %v, want one HEAD", seen)
		}
	})

	on := config
	on.CopyReferrers = boolValue{Value: true}
	t.Run("with copy_referrers and the referrers state records, nothing to do", func(t *testing.T) {
		copied := state
		copied.CopyReferrers, copied.Referrers = on.CopyReferrers, stringList{Values: []string{sig.Digest.String()}}
		proposed := on
		proposed.Referrers = copied.Referrers // Terraform proposes the computed values state has
		proxy.take()
		planned, diags, same := planOf(t, copied, proposed, nil)
		if !same || len(diags) > 0 || !slices.Equal(planned.Referrers.Values, copied.Referrers.Values) {
			t.Fatalf("plan %+v not empty: %+v", planned, diags)
		}
		if seen := proxy.take(); !slices.ContainsFunc(seen, func(s string) bool { return strings.Contains(s, "/referrers/") }) {
			t.Errorf("the plan sent %v: the source's referrers were not listed", seen)
		}
	})

	t.Run("a referrer the state does not record plans a copy", func(t *testing.T) {
		before := state
		before.CopyReferrers, before.Referrers = on.CopyReferrers, stringList{Values: []string{}}
		planned, diags, same := planOf(t, before, on, nil)
		if same || len(diags) > 0 || !planned.Referrers.Unknown || planned.Digest.Value != src.Digest {
			t.Errorf("planned %+v (%+v), want an update keeping the digest with referrers known after apply", planned, diags)
		}
	})

	t.Run("turning copy_referrers off forgets them without copying", func(t *testing.T) {
		copied := state
		copied.CopyReferrers, copied.Referrers = on.CopyReferrers, stringList{Values: []string{sig.Digest.String()}}
		planned, diags, _ := planOf(t, copied, config, nil)
		if len(diags) > 0 || !planned.Referrers.Null || planned.Digest.Value != src.Digest {
			t.Errorf("planned %+v (%+v), want referrers null and the digest kept", planned, diags)
		}
	})
}
