//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
)

// TestTagsMirrorMovesSharedLayersOnce checks what the tags section measures for
// imagesync: mirroring every tag with one Client fills every destination tag with the
// source's manifest and uploads exactly every distinct blob once plus every manifest,
// which the counting proxy sees.
func TestTagsMirrorMovesSharedLayersOnce(t *testing.T) {
	ctx := t.Context()
	src := testregistry.StartT(t, testregistry.Options{})
	dst := testregistry.StartT(t, testregistry.Options{})
	imgs, err := pushTagImages(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs.tags) != tagCount || imgs.sharedBytes < sharedLayers*sharedLayerSize {
		t.Fatalf("generated %d tags sharing %d bytes, want %d sharing at least %d", len(imgs.tags), imgs.sharedBytes, tagCount, sharedLayers*sharedLayerSize)
	}
	proxy, err := startRemote(ctx, dst.Host, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	var out bytes.Buffer
	if err := copyTags(ctx, src.Host+"/"+tagsRepo, proxy.Host+"/"+mirrorRepo, imgs.tags, &out); err != nil {
		t.Fatal(err)
	}
	var rep tagsReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep.Copied != tagCount {
		t.Fatalf("report %q (%v), want %d tags copied", out.String(), err, tagCount)
	}
	for _, tag := range imgs.tags {
		if got, err := dst.ManifestDigest(ctx, mirrorRepo, tag); err != nil || got != imgs.digests[tag] {
			t.Fatalf("%s:%s holds %s (%v), the source %s", mirrorRepo, tag, got, err, imgs.digests[tag])
		}
	}
	if got := proxy.uploaded.Load(); got != imgs.minimum() {
		t.Errorf("uploaded %d bytes, want every blob once and every manifest: %d", got, imgs.minimum())
	}
}
