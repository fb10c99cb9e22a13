package testregistry

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestAnonymousRegistry(t *testing.T) {
	r := StartT(t, Options{})
	ctx := t.Context()

	t.Run("a single-platform Docker image reads back with the digest Push returned", func(t *testing.T) {
		pushed, err := r.Push(ctx, "team/single", "v1", ImageSpec{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.ManifestDigest(ctx, "team/single", "v1")
		if err != nil {
			t.Fatal(err)
		}
		if got != pushed.Digest {
			t.Errorf("ManifestDigest = %s, Push said %s", got, pushed.Digest)
		}
		_, mediaType, err := r.Manifest(ctx, "team/single", "v1")
		if err != nil {
			t.Fatal(err)
		}
		if mediaType != MediaTypeDockerManifest || pushed.MediaType != MediaTypeDockerManifest {
			t.Errorf("media type served %q, pushed %q; want %q", mediaType, pushed.MediaType, MediaTypeDockerManifest)
		}
		if len(pushed.Blobs) != 3 || len(pushed.Children) != 0 {
			t.Errorf("pushed %d blobs and %d children, want 3 (2 layers + config) and 0", len(pushed.Blobs), len(pushed.Children))
		}
		for _, blob := range pushed.Blobs {
			if ok, err := r.BlobExists(ctx, "team/single", blob); err != nil || !ok {
				t.Errorf("BlobExists(%s) = %v, %v; want true", blob, ok, err)
			}
		}
	})

	t.Run("a three-platform OCI index reads back with every child", func(t *testing.T) {
		platforms := []string{"linux/amd64", "linux/arm64/v8", "linux/arm/v7"}
		pushed, err := r.Push(ctx, "multi", "latest", ImageSpec{OCI: true, Platforms: platforms, Layers: 1, Seed: 2})
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.ManifestDigest(ctx, "multi", "latest")
		if err != nil {
			t.Fatal(err)
		}
		if got != pushed.Digest {
			t.Errorf("ManifestDigest = %s, Push said %s", got, pushed.Digest)
		}
		body, mediaType, err := r.Manifest(ctx, "multi", pushed.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if mediaType != v1.MediaTypeImageIndex {
			t.Errorf("media type = %q, want %q", mediaType, v1.MediaTypeImageIndex)
		}
		var index v1.Index
		if err := json.Unmarshal(body, &index); err != nil {
			t.Fatal(err)
		}
		if len(index.Manifests) != len(platforms) {
			t.Fatalf("index has %d children, want %d", len(index.Manifests), len(platforms))
		}
		for i, child := range index.Manifests {
			p := child.Platform
			spelled := strings.TrimSuffix(p.OS+"/"+p.Architecture+"/"+p.Variant, "/")
			if spelled != platforms[i] || pushed.Children[spelled] != child.Digest.String() {
				t.Errorf("child %d is %s %s; Push said %s %s", i, spelled, child.Digest, platforms[i], pushed.Children[platforms[i]])
			}
			if got, err := r.ManifestDigest(ctx, "multi", child.Digest.String()); err != nil || got != child.Digest.String() {
				t.Errorf("ManifestDigest(child %s) = %s, %v", child.Digest, got, err)
			}
		}
		if len(pushed.Blobs) != 6 {
			t.Errorf("pushed %d blobs, want 6 (3 platforms × (1 layer + config))", len(pushed.Blobs))
		}
	})

	t.Run("tags list what was pushed", func(t *testing.T) {
		if _, err := r.Push(ctx, "tagged", "b", ImageSpec{Seed: 3, LayerSize: 1024}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Push(ctx, "tagged", "a", ImageSpec{Seed: 4, LayerSize: 1024}); err != nil {
			t.Fatal(err)
		}
		tags, err := r.Tags(ctx, "tagged")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(tags, []string{"a", "b"}) {
			t.Errorf("Tags = %v, want [a b]", tags)
		}
	})

	t.Run("a deleted manifest is not found", func(t *testing.T) {
		pushed, err := r.Push(ctx, "doomed", "v1", ImageSpec{Seed: 5, LayerSize: 1024})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.DeleteManifest(ctx, "doomed", pushed.Digest); err != nil {
			t.Fatal(err)
		}
		for _, ref := range []string{"v1", pushed.Digest} {
			if _, err := r.ManifestDigest(ctx, "doomed", ref); !errors.Is(err, ErrNotFound) {
				t.Errorf("ManifestDigest(%s) after delete: err = %v, want ErrNotFound", ref, err)
			}
		}
	})

	t.Run("an unknown blob does not exist", func(t *testing.T) {
		ok, err := r.BlobExists(ctx, "team/single", digest.FromString("nothing").String())
		if err != nil || ok {
			t.Errorf("BlobExists = %v, %v; want false, nil", ok, err)
		}
	})
}

func TestCloseRemovesStorage(t *testing.T) {
	RequireBinary(t)
	r, err := Start(t.Context(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := r.dir
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := r.ManifestDigest(t.Context(), "any", "thing"); err == nil {
		t.Error("registry still answers after Close")
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("storage %s left behind: stat err = %v", dir, err)
	}
}

func TestStartWithoutBinary(t *testing.T) {
	t.Setenv(BinaryEnv, "/nonexistent/registry")
	_, err := Start(t.Context(), Options{})
	if !errors.Is(err, ErrBinaryNotFound) || !strings.Contains(err.Error(), "/nonexistent/registry: run `make tools`") {
		t.Errorf("err = %v, want one naming the path and `make tools`", err)
	}
}

// recordingTB stands in for a test to see whether RequireBinary skips or fails it.
type recordingTB struct {
	testing.TB
	skipped, failed string
}

func (r *recordingTB) Skip(args ...any)                 { r.skipped = fmt.Sprint(args...) }
func (r *recordingTB) Skipf(format string, args ...any) { r.skipped = fmt.Sprintf(format, args...) }
func (r *recordingTB) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
}

func TestRequireBinary(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "registry")

	t.Run("a missing binary skips the test with a line naming it", func(t *testing.T) {
		t.Setenv(BinaryEnv, missing)
		t.Setenv(RequireToolsEnv, "")
		r := &recordingTB{TB: t}
		RequireBinary(r)
		if r.failed != "" || !strings.Contains(r.skipped, missing+" missing") {
			t.Errorf("skipped %q, failed %q: want a skip naming %s", r.skipped, r.failed, missing)
		}
	})

	t.Run("with IMAGESYNC_REQUIRE_TOOLS=1 a missing binary fails the test", func(t *testing.T) {
		t.Setenv(BinaryEnv, missing)
		t.Setenv(RequireToolsEnv, "1")
		r := &recordingTB{TB: t}
		RequireBinary(r)
		if r.skipped != "" || !strings.Contains(r.failed, "make tools") {
			t.Errorf("skipped %q, failed %q: want a failure saying to run make tools", r.skipped, r.failed)
		}
	})

	t.Run("a binary that is there lets the test run", func(t *testing.T) {
		if err := os.WriteFile(missing, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Setenv(BinaryEnv, missing)
		r := &recordingTB{TB: t}
		RequireBinary(r)
		if r.skipped != "" || r.failed != "" {
			t.Errorf("skipped %q, failed %q: want neither", r.skipped, r.failed)
		}
	})
}
