package tarball_test

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
	"github.com/imagesync/terraform-provider-imagesync/tarball"
)

// TestReadsWhatTheRealCraneWrites pulls an image from a loopback registry with the
// pinned crane in all three of its formats and reads each back: a reader that only
// understands the fixtures' idea of a format would fail here.
func TestReadsWhatTheRealCraneWrites(t *testing.T) {
	crane := craneBinary(t)
	reg := testregistry.StartT(t, testregistry.Options{})
	ctx := t.Context()
	pushed, err := reg.Push(ctx, "local/app", "v1", testregistry.ImageSpec{OCI: true, Layers: 3, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	body, _, err := reg.Manifest(ctx, "local/app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	var pushedManifest ocispec.Manifest
	if err := json.Unmarshal(body, &pushedManifest); err != nil {
		t.Fatal(err)
	}
	ref := reg.Host + "/local/app:v1"

	for _, format := range []string{"legacy", "tarball", "oci"} {
		t.Run(format, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "image.tar")
			if format == "oci" {
				out = filepath.Join(t.TempDir(), "layout")
			}
			runCrane(t, crane, "pull", "--insecure", "--format="+format, ref, out)
			a := open(t, tarball.Location{Path: out})
			img := image(t, a, "")
			desc, b, err := img.Root(ctx)
			if err != nil {
				t.Fatalf("Root: %v", err)
			}
			var m ocispec.Manifest
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if m.Config.Digest != pushedManifest.Config.Digest {
				t.Errorf("config digest is %s, want the pushed image's %s", m.Config.Digest, pushedManifest.Config.Digest)
			}
			if format == "oci" && desc.Digest.String() != pushed.Digest {
				t.Errorf("Root of crane's layout is %s, want the pushed manifest %s", desc.Digest, pushed.Digest)
			}
			for _, l := range append([]ocispec.Descriptor{m.Config}, m.Layers...) {
				if got := digest.FromBytes(readBlob(t, img, l, 0)); got != l.Digest {
					t.Errorf("blob %s (%s) reads back as %s", l.Digest, l.MediaType, got)
				}
			}
			if format == "tarball" {
				for i, l := range m.Layers {
					if l.Digest != pushedManifest.Layers[i].Digest || l.MediaType != ocispec.MediaTypeImageLayerGzip {
						t.Errorf("layer %d is %s %s, want the pushed gzip'd layer %s", i, l.MediaType, l.Digest, pushedManifest.Layers[i].Digest)
					}
				}
			}
		})
	}
}

// TestReadsAMultiPlatformIndexTheRealCraneWrites pulls an index into an OCI layout.
func TestReadsAMultiPlatformIndexTheRealCraneWrites(t *testing.T) {
	crane := craneBinary(t)
	reg := testregistry.StartT(t, testregistry.Options{})
	ctx := t.Context()
	pushed, err := reg.Push(ctx, "local/multi", "v1", testregistry.ImageSpec{OCI: true, Platforms: []string{"linux/amd64", "linux/arm64"}, Seed: 12})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "layout")
	runCrane(t, crane, "pull", "--insecure", "--format=oci", reg.Host+"/local/multi:v1", out)
	a := open(t, parse(t, "oci-layout:"+out))
	img := image(t, a, "")
	desc, b, err := img.Root(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest.String() != pushed.Digest || desc.MediaType != ocispec.MediaTypeImageIndex {
		t.Fatalf("Root is %s %s, want the pushed index %s", desc.MediaType, desc.Digest, pushed.Digest)
	}
	var index ocispec.Index
	if err := json.Unmarshal(b, &index); err != nil {
		t.Fatal(err)
	}
	for _, child := range index.Manifests {
		platform := child.Platform.OS + "/" + child.Platform.Architecture
		if want := pushed.Children[platform]; child.Digest.String() != want {
			t.Errorf("%s child is %s, want %s", platform, child.Digest, want)
		}
		mb, err := img.ReadManifest(ctx, child)
		if err != nil {
			t.Fatalf("ReadManifest(%s): %v", platform, err)
		}
		var m ocispec.Manifest
		if err := json.Unmarshal(mb, &m); err != nil {
			t.Fatal(err)
		}
		if got := digest.FromBytes(readBlob(t, img, m.Config, 0)); got != m.Config.Digest {
			t.Errorf("%s config reads back as %s, want %s", platform, got, m.Config.Digest)
		}
	}
}

// craneBinary is the pinned crane in bin/, which `make tools` builds.
func craneBinary(t *testing.T) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "bin", "crane")
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("IMAGESYNC_REQUIRE_TOOLS") == "1" {
			t.Fatalf("bin/crane missing (IMAGESYNC_REQUIRE_TOOLS=1): run make tools: %v", err)
		}
		t.Skip("bin/crane missing: run make tools")
	}
	return path
}

func runCrane(t *testing.T, crane string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), crane, args...)
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("crane %v: %v\n%s", args, err, out)
	}
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
