//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/imagesync/terraform-provider-imagesync/internal/testimage"
	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
)

// TestWarmPushMovesNothing checks what the push section measures for imagesync: the cold
// push compresses and uploads every layer, and the warm push, given the compressions of
// the cold one as the provider's private state gives them, reads, compresses and
// uploads nothing, which the counting proxy sees.
func TestWarmPushMovesNothing(t *testing.T) {
	ctx := t.Context()
	reg := testregistry.StartT(t, testregistry.Options{})
	proxy, err := startRemote(ctx, reg.Host, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	f := testimage.WriteT(t, testimage.Options{Layout: testimage.DockerSave, Seed: 7, Layers: 3, LayerSize: 256 << 10})
	cfg := pushConfig{
		archive:       f.Path,
		dst:           proxy.Host + "/bench/warm:v1",
		compressedOut: filepath.Join(t.TempDir(), "compressed.json"),
	}

	// push returns the push's report and the request body bytes the proxy saw.
	push := func(name string) (pushReport, int64) {
		t.Helper()
		uploaded := proxy.uploaded.Load()
		var out bytes.Buffer
		if err := pushOnce(ctx, cfg, &out); err != nil {
			t.Fatalf("%s push: %v", name, err)
		}
		var rep pushReport
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("%s push report %q: %v", name, out.String(), err)
		}
		if got, err := reg.ManifestDigest(ctx, "bench/warm", "v1"); err != nil || got != rep.Digest {
			t.Fatalf("%s push reported %s, the tag holds %s (%v)", name, rep.Digest, got, err)
		}
		return rep, proxy.uploaded.Load() - uploaded
	}

	first, firstUploaded := push("cold")
	if first.LayerBytesRead < 3*256<<10 || first.Unchanged {
		t.Errorf("cold push read %d layer bytes (unchanged %v), want at least the layers' 3 x 256 KiB of content", first.LayerBytesRead, first.Unchanged)
	}
	known, err := readCompressed(cfg.compressedOut)
	if err != nil || len(known) != 3 {
		t.Fatalf("cold push remembered %d compressions (%v), want 3", len(known), err)
	}
	var compressed int64
	for _, desc := range known {
		compressed += desc.Size
	}
	if firstUploaded < compressed {
		t.Errorf("cold push uploaded %d bytes, less than its compressed layers' %d", firstUploaded, compressed)
	}

	cfg.compressedIn = cfg.compressedOut
	second, secondUploaded := push("warm")
	if second.LayerBytesRead != 0 || secondUploaded != 0 || !second.Unchanged || second.Digest != first.Digest {
		t.Errorf("warm push read %d layer bytes, uploaded %d bytes, unchanged %v, digest %s; want nothing moved and %s kept",
			second.LayerBytesRead, secondUploaded, second.Unchanged, second.Digest, first.Digest)
	}
}
