//go:build linux

package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
	"github.com/imagesync/terraform-provider-imagesync/registryclient"
)

// BenchmarkCopy is the quick, in-process view of a copy between two loopback registries
// (go test -bench Copy ./internal/benchcopy/); `make bench` runs the full comparison with
// crane in separate processes.
func BenchmarkCopy(b *testing.B) {
	src := testregistry.StartT(b, testregistry.Options{})
	dst := testregistry.StartT(b, testregistry.Options{})
	workloads := []workload{
		{Name: "16x8MiB", ID: "layers-16x8mib", Layers: 16, LayerSize: 8 * mib},
		{Name: "index-3x4x4MiB", ID: "index-3x4x4mib", Platforms: 3, Layers: 4, LayerSize: 4 * mib},
		{Name: "1x64MiB", ID: "layer-64mib", Layers: 1, LayerSize: 64 * mib},
	}
	copies := 0 // every copy goes to a new repository, or it would find the image there
	for _, w := range workloads {
		for _, parallel := range []int{1, registryclient.DefaultParallelTransfers} {
			b.Run(fmt.Sprintf("%s/parallel=%d", w.Name, parallel), func(b *testing.B) {
				want, err := pushWorkload(b.Context(), src, w)
				if err != nil {
					b.Fatal(err)
				}
				srcRef, err := registryclient.ParseReference(src.Host + "/" + w.ID + ":v1")
				if err != nil {
					b.Fatal(err)
				}
				c := registryclient.New(registryclient.WithParallelTransfers(parallel))
				b.SetBytes(w.Bytes())
				for b.Loop() {
					copies++
					dstRef, err := registryclient.ParseReference(fmt.Sprintf("%s/bench/%s-%d:v1", dst.Host, w.ID, copies))
					if err != nil {
						b.Fatal(err)
					}
					res, err := c.Copy(b.Context(), srcRef, dstRef, registryclient.CopyOptions{})
					if err != nil {
						b.Fatal(err)
					}
					if res.Unchanged || res.Digest.String() != want {
						b.Fatalf("copy to %s: digest %s (unchanged %v), want a new copy of %s", dstRef, res.Digest, res.Unchanged, want)
					}
				}
			})
		}
	}
}

// TestCopyThroughRemote checks the simulated remote registries of the parallelism sweep:
// a copy through them must arrive intact (the registry's upload Locations point back at
// the proxy) and pay the round trips they promise.
func TestCopyThroughRemote(t *testing.T) {
	ctx := t.Context()
	src := testregistry.StartT(t, testregistry.Options{})
	dst := testregistry.StartT(t, testregistry.Options{})
	w := workload{Name: "2x64KiB", ID: "small", Layers: 2, LayerSize: 64 * kib}
	want, err := pushWorkload(ctx, src, w)
	if err != nil {
		t.Fatal(err)
	}
	const rtt = 30 * time.Millisecond
	srcRemote, err := startRemote(ctx, src.Host, rtt, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer srcRemote.Close()
	dstRemote, err := startRemote(ctx, dst.Host, rtt, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer dstRemote.Close()

	srcRef, err := registryclient.ParseReference(srcRemote.Host + "/small:v1")
	if err != nil {
		t.Fatal(err)
	}
	dstRef, err := registryclient.ParseReference(dstRemote.Host + "/copied/small:v1")
	if err != nil {
		t.Fatal(err)
	}
	c := registryclient.New(registryclient.WithParallelTransfers(1))
	start := time.Now()
	if _, err := c.Copy(ctx, srcRef, dstRef, registryclient.CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	got, err := dst.ManifestDigest(ctx, "copied/small", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("the destination holds %s, the source %s", got, want)
	}
	// At least: read the manifest, look for it at the destination, and for each of the
	// three blobs one request to each registry, each after a round trip.
	if minimum := 8 * rtt; took < minimum {
		t.Errorf("the copy took %v through the simulated remotes, less than %v of round trips", took, minimum)
	}
}
