package tfprotov6server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// Registry operators tell clients apart by their User-Agent; it carries the version
// main.go was stamped with at release.
func TestRegistriesSeeTheProviderVersionAsUserAgent(t *testing.T) {
	var mu sync.Mutex
	var agents []string
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		agents = append(agents, r.UserAgent())
		mu.Unlock()
		http.NotFound(w, r)
	}))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")

	s := New("1.2.3")()
	ctx := context.Background()
	if resp, err := s.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: providerValue(t, map[string]tftypes.Value{})}); err != nil || len(resp.Diagnostics) > 0 {
		t.Fatalf("ConfigureProvider: %v %v", err, resp.Diagnostics)
	}
	state := imageValue(t, stored(configured(host+"/src/app:v1", host+"/mirror/app:v1", "")))
	if _, err := s.ReadResource(ctx, &tfprotov6.ReadResourceRequest{TypeName: "imagesync_image", CurrentState: state}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(agents) == 0 {
		t.Fatal("the refresh sent no request to the registry")
	}
	for _, ua := range agents {
		if ua != "terraform-provider-imagesync/1.2.3" {
			t.Errorf("User-Agent = %q, want terraform-provider-imagesync/1.2.3", ua)
		}
	}
}
