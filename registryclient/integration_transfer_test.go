package registryclient_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
	"github.com/imagesync/terraform-provider-imagesync/registryclient"
)

func TestSameRegistryCopyMountsEveryBlob(t *testing.T) {
	isolateDockerConfig(t)
	reg := testregistry.StartT(t, testregistry.Options{})
	proxy := startRecordingProxy(t, reg.Host)
	pushed := pushImage(t, reg, "src/app", "v1", testregistry.ImageSpec{Seed: 11, Layers: 3})
	client := registryclient.New()

	copyImage(t, client, proxy.Host+"/src/app:v1", proxy.Host+"/dst/app:v1")
	requests := proxy.take()

	assertStored(t, reg, "dst/app", "v1", pushed.Digest)
	var mounted []string
	for _, r := range requests {
		if !r.isUpload() {
			continue
		}
		if r.ContentLength > 0 {
			t.Errorf("%s carried %d bytes of blob; a same-registry copy should move none", r, r.ContentLength)
		}
		if r.Method == http.MethodPost && r.Query.Get("mount") != "" {
			if from := r.Query.Get("from"); from != "src/app" {
				t.Errorf("%s mounts from %q, want src/app", r, from)
			}
			mounted = append(mounted, r.Query.Get("mount"))
		}
	}
	slices.Sort(mounted)
	want := slices.Sorted(slices.Values(pushed.Blobs))
	if !slices.Equal(mounted, want) {
		t.Errorf("mounted blobs %v, want every blob of the image %v; requests:\n%s", mounted, want, describe(requests))
	}
}

func TestRefreshCostsOneHead(t *testing.T) {
	isolateDockerConfig(t)
	reg := testregistry.StartT(t, testregistry.Options{})
	proxy := startRecordingProxy(t, reg.Host)
	pushed := pushImage(t, reg, "src/app", "v1", testregistry.ImageSpec{Seed: 12})
	client := registryclient.New()
	copyImage(t, client, proxy.Host+"/src/app:v1", proxy.Host+"/dst/app:v1")
	dst := parseRef(t, proxy.Host+"/dst/app:v1")

	tests := []struct {
		name   string
		client *registryclient.Client
	}{
		{name: "refreshing in the run that copied costs one HEAD", client: client},
		{name: "refreshing in a new run costs one HEAD", client: registryclient.New()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proxy.take()
			desc, err := tt.client.HeadManifest(t.Context(), dst)
			if err != nil {
				t.Fatalf("HeadManifest(%s): %v", dst, err)
			}
			if desc.Digest.String() != pushed.Digest {
				t.Errorf("HeadManifest digest = %s, want %s", desc.Digest, pushed.Digest)
			}
			requests := proxy.take()
			if len(requests) != 1 || requests[0].Method != http.MethodHead {
				t.Errorf("HeadManifest made %d requests, want one HEAD:\n%s", len(requests), describe(requests))
			}
		})
	}
}

func TestCopySkipsImagesAndBlobsAlreadyAtTheDestination(t *testing.T) {
	isolateDockerConfig(t)
	src := testregistry.StartT(t, testregistry.Options{})
	dst := testregistry.StartT(t, testregistry.Options{})
	proxy := startRecordingProxy(t, dst.Host)
	client := registryclient.New()

	t.Run("copying the same image again reports unchanged and writes nothing", func(t *testing.T) {
		pushed := pushImage(t, src, "team/app", "v1", testregistry.ImageSpec{Seed: 13})
		copyImage(t, client, src.Host+"/team/app:v1", proxy.Host+"/again/app:v1")
		proxy.take()

		res := copyImage(t, client, src.Host+"/team/app:v1", proxy.Host+"/again/app:v1")
		if !res.Unchanged {
			t.Errorf("second Copy: Unchanged = false, want true")
		}
		if res.Digest.String() != pushed.Digest {
			t.Errorf("second Copy digest = %s, want %s", res.Digest, pushed.Digest)
		}
		requests := proxy.take()
		if writes := slices.DeleteFunc(slices.Clone(requests), func(r recordedRequest) bool { return !r.isWrite() }); len(writes) > 0 {
			t.Errorf("second Copy wrote to the destination:\n%s", describe(writes))
		}
	})

	t.Run("copying an image that shares layers with one already there uploads only the new blobs", func(t *testing.T) {
		// Layer i of a spec depends only on Seed, platform and i, so the three-layer
		// image shares its first two layers with the two-layer one.
		base := pushImage(t, src, "team/base", "v1", testregistry.ImageSpec{Seed: 14, Layers: 2})
		grown := pushImage(t, src, "team/grown", "v1", testregistry.ImageSpec{Seed: 14, Layers: 3})
		shared := base.Blobs[:2]
		fresh := grown.Blobs[2:] // the third layer and the config
		copyImage(t, client, src.Host+"/team/base:v1", proxy.Host+"/shared/app:base")
		proxy.take()

		copyImage(t, client, src.Host+"/team/grown:v1", proxy.Host+"/shared/app:grown")
		requests := proxy.take()

		assertStored(t, dst, "shared/app", "grown", grown.Digest)
		uploaded := uploadedDigests(requests)
		if !slices.Equal(slices.Sorted(slices.Values(uploaded)), slices.Sorted(slices.Values(fresh))) {
			t.Errorf("uploaded %v, want only the blobs the destination lacked %v; requests:\n%s", uploaded, fresh, describe(requests))
		}
		for _, blob := range shared {
			if !slices.ContainsFunc(requests, func(r recordedRequest) bool {
				return r.Method == http.MethodHead && strings.HasSuffix(r.Path, "/blobs/"+blob)
			}) {
				t.Errorf("shared blob %s was never checked with a HEAD; requests:\n%s", blob, describe(requests))
			}
		}
	})
}

func TestConcurrentCopiesUploadEachBlobOnce(t *testing.T) {
	isolateDockerConfig(t)
	src := testregistry.StartT(t, testregistry.Options{})
	dst := testregistry.StartT(t, testregistry.Options{})
	proxy := startRecordingProxy(t, dst.Host)
	pushed := pushImage(t, src, "team/app", "v1", testregistry.ImageSpec{Seed: 15, Layers: 4, LayerSize: 256 << 10})
	client := registryclient.New()
	srcRef := parseRef(t, src.Host+"/team/app:v1")
	// Eight resources of one run copy the same image into one repository at once,
	// as eight tags: every blob is wanted eight times at the same moment.
	const copies = 8
	errs := make([]error, copies)
	var wg sync.WaitGroup
	for i := range copies {
		dstRef := parseRef(t, fmt.Sprintf("%s/mirror/app:v1-%d", proxy.Host, i))
		wg.Go(func() {
			_, errs[i] = client.Copy(t.Context(), srcRef, dstRef, registryclient.CopyOptions{})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("copy %d: %v", i, err)
		}
	}
	requests := proxy.take()

	for i := range copies {
		assertStored(t, dst, "mirror/app", fmt.Sprintf("v1-%d", i), pushed.Digest)
	}
	uploads := map[string]int{}
	for _, d := range uploadedDigests(requests) {
		uploads[d]++
	}
	for _, blob := range pushed.Blobs {
		if uploads[blob] != 1 {
			t.Errorf("blob %s uploaded %d times, want once", blob, uploads[blob])
		}
	}
	var sessions int
	for _, r := range requests {
		if r.isUpload() && r.Method == http.MethodPost {
			sessions++
		}
	}
	if sessions != len(pushed.Blobs) {
		t.Errorf("opened %d upload sessions for %d blobs; requests:\n%s", sessions, len(pushed.Blobs), describe(requests))
	}
}

// uploadedDigests lists the digest of every blob upload the requests completed: the
// closing PUT names it in its query.
func uploadedDigests(requests []recordedRequest) []string {
	var digests []string
	for _, r := range requests {
		if r.isUpload() && r.Method == http.MethodPut {
			digests = append(digests, r.Query.Get("digest"))
		}
	}
	return digests
}

// TestConcurrentFirstContactWithPlainHTTPRegistry is what Terraform does at the start of
// a run against an insecure_registries host: many resources talk to it at once before
// the client has learnt that it speaks plain HTTP.
func TestConcurrentFirstContactWithPlainHTTPRegistry(t *testing.T) {
	isolateDockerConfig(t)
	reg := testregistry.StartT(t, testregistry.Options{})
	pushed := pushImage(t, reg, "team/app", "v1", testregistry.ImageSpec{Seed: 16})
	ref := parseRef(t, reg.Host+"/team/app:v1")
	// Without retries, a request that found the scheme already switched to http by
	// another one must still go again over http instead of failing.
	client := registryclient.New(registryclient.WithMaxRetries(0))

	const resources = 8
	errs := make([]error, resources)
	var wg sync.WaitGroup
	for i := range resources {
		wg.Go(func() {
			var desc ocispec.Descriptor
			desc, errs[i] = client.HeadManifest(t.Context(), ref)
			if errs[i] == nil && desc.Digest.String() != pushed.Digest {
				errs[i] = fmt.Errorf("digest %s, want %s", desc.Digest, pushed.Digest)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("resource %d: %v", i, err)
		}
	}
}

// A plan refreshes many resources at once: before the client knows a registry wants
// tokens, only one request may go out anonymous and draw a 401; the others wait for
// its answer and ask for their tokens first.
func TestManyResourcesAtOnceDrawOne401(t *testing.T) {
	isolateDockerConfig(t)
	reg := testregistry.StartT(t, testregistry.Options{Auth: testregistry.AuthToken})
	const resources = 12
	for i := range resources {
		pushImage(t, reg, fmt.Sprintf("team/app%d", i), "v1", testregistry.ImageSpec{Seed: int64(40 + i), Layers: 1})
	}
	var unauthorized atomic.Int32
	forward := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: reg.Host})
	forward.ModifyResponse = func(resp *http.Response) error {
		if resp.StatusCode == http.StatusUnauthorized {
			unauthorized.Add(1)
		}
		return nil
	}
	proxy := httptest.NewServer(forward)
	defer proxy.Close()
	host := strings.TrimPrefix(proxy.URL, "http://")
	dir := isolateDockerConfig(t)
	writeDockerConfig(t, dir, dockerConfig{Auths: map[string]dockerAuth{host: basicAuth(reg.Username, reg.Password)}})
	client := registryclient.New()

	errs := make([]error, resources)
	var wg sync.WaitGroup
	for i := range resources {
		wg.Go(func() {
			_, errs[i] = client.HeadManifest(t.Context(), parseRef(t, fmt.Sprintf("%s/team/app%d:v1", host, i)))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("resource %d: %v", i, err)
		}
	}
	if n := unauthorized.Load(); n != 1 {
		t.Errorf("%d requests drew a 401, want 1: the others should have waited for the first answer", n)
	}
}
