package registryclient

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/internal/faultproxy"
	"github.com/imagesync/terraform-provider-imagesync/internal/testimage"
	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
	"github.com/imagesync/terraform-provider-imagesync/tarball"
)

// soakEnv sets how many copies TestCopiesThroughFaults makes (`make soak` sets it);
// without it the test makes a short run that fits in `make test`. seedEnv picks
// another sequence of faults.
const (
	soakEnv = "IMAGESYNC_SOAK_COPIES"
	seedEnv = "IMAGESYNC_SOAK_SEED"
)

// soakWorkload is one kind of image the soak copies.
type soakWorkload struct {
	name string
	// open returns the source of one copy and the digest the destination must then
	// hold; close releases what open opened.
	open func(ctx context.Context) (src Source, root Manifest, want digest.Digest, close func(), err error)
}

// TestCopiesThroughFaults copies registry images (multi-layer, multi-platform, a layer
// large enough for a chunked upload) and local archives (docker-save, Docker 25, OCI
// archive with platforms, OCI directory) through fault proxies that break 10% of the
// requests on both sides, the way one client serves a Terraform run: several copies
// at once. Every copy must finish, and the destination must then hold exactly the
// image, as the registry itself says when asked directly and as every blob hashes.
//
// One copy in ten goes instead to a destination whose fault never clears: a registry
// that stopped answering, or one that finds every upload damaged. Those must fail with
// an error that names the registry and the attempts, and leave no manifest behind.
func TestCopiesThroughFaults(t *testing.T) {
	copies := 40
	if n, err := strconv.Atoi(os.Getenv(soakEnv)); err == nil && n > 0 {
		copies = n
	}
	seed := uint64(1)
	if n, err := strconv.ParseUint(os.Getenv(seedEnv), 10, 64); err == nil {
		seed = n
	}
	isolateConfig(t)
	src := testregistry.StartT(t, testregistry.Options{})
	dst := testregistry.StartT(t, testregistry.Options{})
	srcProxy := faultproxy.StartT(t, src.Host, faultproxy.Options{Seed: seed, Rate: 0.1, StallFor: proxyStall, Lifetime: time.Hour})
	dstProxy := faultproxy.StartT(t, dst.Host, faultproxy.Options{Seed: seed + 1, Rate: 0.1, StallFor: proxyStall, Lifetime: time.Hour})
	silent := faultproxy.StartT(t, dst.Host, faultproxy.Options{StallFor: proxyStall, Lifetime: time.Hour})
	silent.StopAnswering()
	damaging := faultproxy.StartT(t, dst.Host, faultproxy.Options{Rate: 1, Faults: []faultproxy.Fault{faultproxy.CorruptBody}, Match: "/blobs/uploads/", Lifetime: time.Hour})
	workloads := soakWorkloads(t, src, srcProxy.Host, dst)
	client := soakClient()

	type outcome struct {
		workload string
		doomed   string // the fault that never clears, if any
		err      error
		took     time.Duration
	}
	outcomes := make([]outcome, copies)
	started := time.Now()
	var wg sync.WaitGroup
	next := make(chan int)
	for range 4 {
		wg.Go(func() {
			for i := range next {
				w := workloads[i%len(workloads)]
				o := outcome{workload: w.name}
				to := dstProxy.Host
				switch i % 20 {
				case 9:
					o.doomed, to = "stopped answering", silent.Host
				case 19:
					o.doomed, to = "damages every upload", damaging.Host
				}
				began := time.Now()
				o.err = soakCopy(t.Context(), client, w, dst, to, fmt.Sprintf("soak/c%d", i), o.doomed != "")
				o.took = time.Since(began)
				outcomes[i] = o
			}
		})
	}
	for i := range copies {
		next <- i
	}
	close(next)
	wg.Wait()

	verified := map[string]int{}
	var ok, failed, doomed int
	var slowest time.Duration
	for i, o := range outcomes {
		slowest = max(slowest, o.took)
		switch {
		case o.err != nil:
			failed++
			t.Errorf("copy %d (%s, %s): %v", i, o.workload, cmp.Or(o.doomed, "faults that clear"), o.err)
		case o.doomed != "":
			doomed++
		default:
			ok++
			verified[o.workload]++
		}
	}
	t.Logf("seed %d, max_retries %d, %d copies in %s (slowest %s): %d through faults that clear, verified at the destination; "+
		"%d into faults that never clear, failed clearly with no manifest pushed; %d wrong. Verified by workload: %v",
		seed, soakRetries, copies, time.Since(started).Round(time.Millisecond), slowest.Round(time.Millisecond), ok, doomed, failed, verified)
	t.Logf("source side: %s", srcProxy.Stats())
	t.Logf("destination side: %s", dstProxy.Stats())
}

// soakClient is the client under test: short waits and timeouts, so that a soak of
// hundreds of copies with thousands of faults takes minutes, and max_retries 10.
//
// The budget is chosen, not tuned to pass: at 10% faults on both sides an attempt to
// move one blob sends three or four requests that can fail, so about one attempt in
// three fails, and six failures in a row (the default budget of 5 retries spent) come
// once in a few thousand blobs: the 1000-copy soak with the default saw it once, and
// that copy failed cleanly. Eleven in a row come once in a few hundred thousand.
func soakClient() *Client {
	return New(WithMaxRetries(soakRetries), withBackoffBase(5*time.Millisecond), withTimeouts(250*time.Millisecond, 2*time.Second), WithChunkSize(1<<20))
}

// soakRetries is the max_retries of the soak's client.
const soakRetries = 10

// soakCopy copies one image of w into repo:v1 at dstHost and checks what the
// destination registry then holds, read directly: the image, or, when the copy was
// doomed, nothing, and an error that says where and how often it was tried.
func soakCopy(ctx context.Context, c *Client, w soakWorkload, dst *testregistry.Registry, dstHost, repo string, doomed bool) error {
	src, root, want, done, err := w.open(ctx)
	if err != nil {
		return fmt.Errorf("open the source: %w", err)
	}
	defer done()
	ref, err := ParseReference(dstHost + "/" + repo + ":v1")
	if err != nil {
		return err
	}
	res, err := c.CopyFrom(ctx, src, root, ref, CopyOptions{Compress: true})
	if doomed {
		if err == nil {
			return errors.New("the copy succeeded through a fault that never clears")
		}
		if msg := err.Error(); !strings.Contains(msg, dstHost) || !strings.Contains(msg, "gave up after") {
			return fmt.Errorf("the error does not name the registry and the attempts: %w", err)
		}
		if d, err := dst.ManifestDigest(ctx, repo, "v1"); err == nil {
			return fmt.Errorf("the destination holds %s although the copy failed", d)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if res.Digest != want {
		return fmt.Errorf("the copy reports %s, want %s", res.Digest, want)
	}
	return checkStored(ctx, dst, repo, "v1", want)
}

// checkStored reads repo:tag back from reg, bypassing the client and the proxies: the
// tag must name want, and every manifest and blob it reaches must hash to its digest.
func checkStored(ctx context.Context, reg *testregistry.Registry, repo, tag string, want digest.Digest) error {
	got, err := reg.ManifestDigest(ctx, repo, tag)
	if err != nil {
		return fmt.Errorf("read back %s:%s: %w", repo, tag, err)
	}
	if got != want.String() {
		return fmt.Errorf("%s:%s is %s, want %s", repo, tag, got, want)
	}
	return checkManifest(ctx, reg, repo, want)
}

func checkManifest(ctx context.Context, reg *testregistry.Registry, repo string, d digest.Digest) error {
	body, _, err := reg.Manifest(ctx, repo, d.String())
	if err != nil {
		return err
	}
	if digest.FromBytes(body) != d {
		return fmt.Errorf("manifest %s@%s hashes to %s", repo, d, digest.FromBytes(body))
	}
	var p parsed
	if err := json.Unmarshal(body, &p); err != nil {
		return err
	}
	for _, child := range p.Manifests {
		if err := checkManifest(ctx, reg, repo, child.Digest); err != nil {
			return err
		}
	}
	if len(p.Manifests) > 0 {
		return nil
	}
	for _, b := range append([]ocispec.Descriptor{p.Config}, p.Layers...) {
		if err := checkBlob(ctx, reg, repo, b); err != nil {
			return err
		}
	}
	return nil
}

func checkBlob(ctx context.Context, reg *testregistry.Registry, repo string, b ocispec.Descriptor) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+reg.Host+"/v2/"+repo+"/blobs/"+b.Digest.String(), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("blob %s@%s: %s", repo, b.Digest, resp.Status)
	}
	v := b.Digest.Verifier()
	n, err := io.Copy(v, resp.Body)
	if err != nil {
		return fmt.Errorf("blob %s@%s: %w", repo, b.Digest, err)
	}
	if n != b.Size || !v.Verified() {
		return fmt.Errorf("blob %s@%s: the registry holds %d bytes that do not hash to the digest", repo, b.Digest, n)
	}
	return nil
}

// soakWorkloads seeds the source registry and writes the local archives the soak copies.
func soakWorkloads(t *testing.T, src *testregistry.Registry, srcHost string, dst *testregistry.Registry) []soakWorkload {
	t.Helper()
	var ws []soakWorkload
	for _, w := range []struct {
		name string
		spec testregistry.ImageSpec
	}{
		{"registry, 5 layers", testregistry.ImageSpec{Seed: 101, Layers: 5, LayerSize: 96 << 10}},
		{"registry, 3 platforms", testregistry.ImageSpec{Seed: 102, OCI: true, Layers: 2, LayerSize: 64 << 10, Platforms: []string{"linux/amd64", "linux/arm64", "linux/arm/v7"}}},
		{"registry, chunked 2.5 MiB layer", testregistry.ImageSpec{Seed: 103, Layers: 1, LayerSize: 5 << 19}},
	} {
		repo := "source/" + strings.ToLower(strings.NewReplacer(",", "", " ", "-", ".", "").Replace(w.name))
		pushed, err := src.Push(t.Context(), repo, "v1", w.spec)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := ParseReference(srcHost + "/" + repo + "@" + pushed.Digest)
		if err != nil {
			t.Fatal(err)
		}
		want := digest.Digest(pushed.Digest)
		ws = append(ws, soakWorkload{name: w.name, open: func(ctx context.Context) (Source, Manifest, digest.Digest, func(), error) {
			c := soakClient()
			root, err := c.GetManifest(ctx, ref)
			return c.Repository(ref), root, want, func() {}, err
		}})
	}
	for _, o := range []testimage.Options{
		{Layout: testimage.DockerSave, Seed: 201, Layers: 3, LayerSize: 64 << 10},
		{Layout: testimage.Docker25, Seed: 202, Layers: 2, LayerSize: 64 << 10},
		{Layout: testimage.OCIArchive, Seed: 203, Layers: 2, LayerSize: 64 << 10, Platforms: []string{"linux/amd64", "linux/arm64"}},
		{Layout: testimage.OCIDirectory, Seed: 204, Layers: 3, LayerSize: 64 << 10},
	} {
		f := testimage.WriteT(t, o)
		open := func(ctx context.Context) (Source, Manifest, digest.Digest, func(), error) {
			return openLocal(ctx, f.Path)
		}
		// The digest a push must give, from one push without faults.
		src, root, _, done, err := open(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		ref, _ := ParseReference(dst.Host + "/reference/" + o.Layout.String() + ":v1")
		res, err := soakClient().CopyFrom(t.Context(), src, root, ref, CopyOptions{Compress: true})
		done()
		if err != nil {
			t.Fatalf("push %s without faults: %v", o.Layout, err)
		}
		if o.Layout.IsOCI() && res.Digest != f.Images[0].Digest {
			t.Fatalf("push %s gave %s, want the layout's own %s", o.Layout, res.Digest, f.Images[0].Digest)
		}
		want := res.Digest
		ws = append(ws, soakWorkload{name: "local " + o.Layout.String(), open: func(ctx context.Context) (Source, Manifest, digest.Digest, func(), error) {
			src, root, _, done, err := open(ctx)
			return src, root, want, done, err
		}})
	}
	return ws
}

// openLocal opens the only image of the archive at path as a copy source.
func openLocal(ctx context.Context, path string) (Source, Manifest, digest.Digest, func(), error) {
	loc, ok, err := tarball.ParseSource(path)
	if err != nil || !ok {
		return nil, Manifest{}, "", nil, fmt.Errorf("%s is not a local source: %v", path, err)
	}
	archive, err := tarball.OpenContext(ctx, loc)
	if err != nil {
		return nil, Manifest{}, "", nil, err
	}
	img, err := archive.Image("")
	if err == nil {
		var desc ocispec.Descriptor
		var body []byte
		if desc, body, err = img.Root(ctx); err == nil {
			var root Manifest
			if root, err = NewManifest(img, desc, body); err == nil {
				return img, root, "", func() { archive.Close() }, nil
			}
		}
	}
	archive.Close()
	return nil, Manifest{}, "", nil, err
}

// isolateConfig points the client at an empty docker config, so a developer's `docker
// login` can neither help nor break a test.
func isolateConfig(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv("DOCKER_AUTH_CONFIG", "")
}
