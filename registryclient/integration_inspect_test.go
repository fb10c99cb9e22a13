package registryclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
	"github.com/imagesync/terraform-provider-imagesync/registryclient"
)

// configDigest reads a manifest's config digest through the test registry's own client.
func configDigest(t *testing.T, reg *testregistry.Registry, repo, ref string) string {
	t.Helper()
	body, _, err := reg.Manifest(context.Background(), repo, ref)
	if err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	return m.Config.Digest.String()
}

func TestInspect(t *testing.T) {
	isolateDockerConfig(t)
	reg := testregistry.StartT(t, testregistry.Options{})
	proxy := startRecordingProxy(t, reg.Host)
	index := pushImage(t, reg, "src/multi", "v1", testregistry.ImageSpec{Platforms: []string{"linux/amd64", "linux/arm64/v8", "linux/arm/v7"}, Seed: 21})
	single := pushImage(t, reg, "src/single", "v1", testregistry.ImageSpec{OCI: true, Seed: 22})
	client := registryclient.New()

	manifestReads := func(requests []recordedRequest) (gets, heads int) {
		for _, r := range requests {
			switch {
			case r.Method == http.MethodGet && strings.Contains(r.Path, "/manifests/"):
				gets++
			case r.Method == http.MethodHead:
				heads++
			}
		}
		return gets, heads
	}

	t.Run("an index lists every child with its platform, at the cost of one GET", func(t *testing.T) {
		proxy.take()
		in, err := client.Inspect(context.Background(), parseRef(t, proxy.Host+"/src/multi:v1"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if in.Manifest.Digest.String() != index.Digest || in.Manifest.MediaType != index.MediaType {
			t.Errorf("manifest %s %s, want %s %s", in.Manifest.Digest, in.Manifest.MediaType, index.Digest, index.MediaType)
		}
		got := map[string]string{}
		for _, c := range in.Children {
			p, ok := registryclient.PlatformOf(c)
			if !ok {
				t.Errorf("child %s has no platform", c.Digest)
			}
			got[p.String()] = c.Digest.String()
		}
		if fmt.Sprint(got) != fmt.Sprint(index.Children) {
			t.Errorf("children %v, want %v", got, index.Children)
		}
		if in.Config.Digest != "" {
			t.Errorf("an index has no config, got %s", in.Config.Digest)
		}
		requests := proxy.take()
		if gets, heads := manifestReads(requests); gets != 1 || heads != 0 {
			t.Errorf("%d manifest GETs and %d HEADs, want 1 GET; requests:\n%s", gets, heads, describe(requests))
		}
	})

	t.Run("a platform picks its child and reads the child's config digest", func(t *testing.T) {
		proxy.take()
		in, err := client.Inspect(context.Background(), parseRef(t, proxy.Host+"/src/multi:v1"), &registryclient.Platform{OS: "linux", Architecture: "arm64"})
		if err != nil {
			t.Fatal(err)
		}
		child := index.Children["linux/arm64/v8"]
		if in.Manifest.Digest.String() != child {
			t.Errorf("digest %s, want the arm64 child %s", in.Manifest.Digest, child)
		}
		if want := configDigest(t, reg, "src/multi", child); in.Config.Digest.String() != want {
			t.Errorf("config digest %s, want %s", in.Config.Digest, want)
		}
		if len(in.Children) != 3 {
			t.Errorf("%d children, want the index's 3", len(in.Children))
		}
		if gets, _ := manifestReads(proxy.take()); gets != 2 {
			t.Errorf("%d manifest GETs, want 2 (index and child)", gets)
		}
	})

	t.Run("a single manifest has a config and no children", func(t *testing.T) {
		in, err := client.Inspect(context.Background(), parseRef(t, proxy.Host+"/src/single:v1"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if in.Manifest.Digest.String() != single.Digest || len(in.Children) != 0 {
			t.Errorf("digest %s with %d children, want %s and none", in.Manifest.Digest, len(in.Children), single.Digest)
		}
		if want := configDigest(t, reg, "src/single", "v1"); in.Config.Digest.String() != want {
			t.Errorf("config digest %s, want %s", in.Config.Digest, want)
		}
	})

	t.Run("a platform the index does not offer is ErrPlatformNotFound naming what it offers", func(t *testing.T) {
		_, err := client.Inspect(context.Background(), parseRef(t, reg.Host+"/src/multi:v1"), &registryclient.Platform{OS: "linux", Architecture: "s390x"})
		if !errors.Is(err, registryclient.ErrPlatformNotFound) || !strings.Contains(fmt.Sprint(err), "linux/arm/v7") {
			t.Errorf("err = %v, want ErrPlatformNotFound listing linux/arm/v7", err)
		}
	})
}

func TestListTagsOfARealRegistry(t *testing.T) {
	isolateDockerConfig(t)
	reg := testregistry.StartT(t, testregistry.Options{})
	pushImage(t, reg, "app", "seed", testregistry.ImageSpec{OCI: true, Seed: 23})
	body, mediaType, err := reg.Manifest(context.Background(), "app", "seed")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"seed"}
	for i := range 130 {
		tag := fmt.Sprintf("1.%d.%d", i/10, i%10)
		if _, err := reg.PushManifest(context.Background(), "app", tag, mediaType, body); err != nil {
			t.Fatal(err)
		}
		want = append(want, tag)
	}
	slices.Sort(want)
	// Pages of 1000 would need thousands of tags to split: a proxy asks the registry
	// for pages of 40 instead, so the registry's own Link headers lead through 4 pages.
	var pages atomic.Int32
	forward := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: reg.Host})
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/tags/list") {
			pages.Add(1)
			q := r.URL.Query()
			q.Set("n", "40")
			r.URL.RawQuery = q.Encode()
		}
		forward.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	host := proxy.Listener.Addr().String()

	got, err := registryclient.New().ListTags(context.Background(), parseRef(t, host+"/app"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("listed %d tags %v, want %d", len(got), got, len(want))
	}
	if n := pages.Load(); n != 4 {
		t.Errorf("%d pages fetched, want 4 of 40 tags", n)
	}

	_, err = registryclient.New().ListTags(context.Background(), parseRef(t, reg.Host+"/missing"))
	if !errors.Is(err, registryclient.ErrNotFound) || !strings.Contains(fmt.Sprint(err), "NAME_UNKNOWN") {
		t.Errorf("listing a missing repository: err = %v, want ErrNotFound with the registry's NAME_UNKNOWN", err)
	}
}
