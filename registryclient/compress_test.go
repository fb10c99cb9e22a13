package registryclient_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
	"github.com/imagesync/terraform-provider-imagesync/registryclient"
)

// memorySource is a local image held in memory, as a docker-save archive presents
// itself to the copy: uncompressed layers named by their diffIDs.
type memorySource struct {
	blobs map[digest.Digest][]byte
	root  registryclient.Manifest
}

func (s *memorySource) String() string { return "memory" }

func (s *memorySource) ReadManifest(_ context.Context, desc ocispec.Descriptor) ([]byte, error) {
	return nil, fmt.Errorf("no manifest %s", desc.Digest)
}

func (s *memorySource) OpenBlob(_ context.Context, desc ocispec.Descriptor, offset int64) (io.ReadCloser, error) {
	b, ok := s.blobs[desc.Digest]
	if !ok {
		return nil, fmt.Errorf("no blob %s", desc.Digest)
	}
	return io.NopCloser(bytes.NewReader(b[offset:])), nil
}

// newMemorySource builds an image of n uncompressed tar layers of compressible text.
func newMemorySource(t *testing.T, n int) *memorySource {
	t.Helper()
	s := &memorySource{blobs: map[digest.Digest][]byte{}}
	config := ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}, RootFS: ocispec.RootFS{Type: "layers"}}
	manifest := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest}
	manifest.SchemaVersion = 2
	for i := range n {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		content := []byte(strings.Repeat(fmt.Sprintf("layer %d line of text that compresses well\n", i), 20000))
		if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("file-%d.txt", i), Mode: 0o644, Size: int64(len(content))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(content)
		tw.Close()
		d := digest.FromBytes(buf.Bytes())
		s.blobs[d] = buf.Bytes()
		config.RootFS.DiffIDs = append(config.RootFS.DiffIDs, d)
		manifest.Layers = append(manifest.Layers, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: d, Size: int64(buf.Len())})
	}
	cfg, _ := json.Marshal(config)
	s.blobs[digest.FromBytes(cfg)] = cfg
	manifest.Config = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(cfg), Size: int64(len(cfg))}
	body, _ := json.Marshal(manifest)
	s.root = registryclient.Manifest{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(body), Body: body}
	return s
}

// storedBlob reads a blob back with a plain GET, independently of the client.
func storedBlob(t *testing.T, reg *testregistry.Registry, repo string, d digest.Digest) []byte {
	t.Helper()
	resp, err := http.Get("http://" + reg.Host + "/v2/" + repo + "/blobs/" + d.String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET blob %s in %s: %s", d, repo, resp.Status)
	}
	b, _ := io.ReadAll(resp.Body)
	return b
}

func TestCompressedPushIsGzipOfTheLayersAndTheSameEveryTime(t *testing.T) {
	reg := testregistry.StartT(t, testregistry.Options{})
	client := registryclient.New()
	src := newMemorySource(t, 3)
	opts := registryclient.CopyOptions{Compress: true}

	first, err := client.CopyFrom(t.Context(), src, src.root, parseRef(t, reg.Host+"/one/app:v1"), opts)
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	second, err := client.CopyFrom(t.Context(), src, src.root, parseRef(t, reg.Host+"/two/app:v1"), opts)
	if err != nil {
		t.Fatalf("push again: %v", err)
	}
	if first.Digest != second.Digest {
		t.Errorf("the same image pushed twice got two digests: %s and %s", first.Digest, second.Digest)
	}
	assertStored(t, reg, "one/app", "v1", first.Digest.String())

	body, _, err := reg.Manifest(t.Context(), "one/app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	var config ocispec.Image
	json.Unmarshal(src.blobs[m.Config.Digest], &config)
	if len(m.Layers) != 3 || len(config.RootFS.DiffIDs) != 3 {
		t.Fatalf("pushed manifest has %d layers, want 3", len(m.Layers))
	}
	for i, l := range m.Layers {
		if l.MediaType != ocispec.MediaTypeImageLayerGzip {
			t.Errorf("layer %d has media type %s, want %s", i, l.MediaType, ocispec.MediaTypeImageLayerGzip)
		}
		zr, err := gzip.NewReader(bytes.NewReader(storedBlob(t, reg, "one/app", l.Digest)))
		if err != nil {
			t.Fatalf("layer %d is not gzip: %v", i, err)
		}
		plain, _ := io.ReadAll(zr)
		if got := digest.FromBytes(plain); got != config.RootFS.DiffIDs[i] {
			t.Errorf("layer %d decompresses to %s, want its diffID %s", i, got, config.RootFS.DiffIDs[i])
		}
		if want := first.Compressed[config.RootFS.DiffIDs[i]]; want.Digest != l.Digest || want.Size != l.Size {
			t.Errorf("layer %d: the copy reports %v, the registry holds %s (%d bytes)", i, want, l.Digest, l.Size)
		}
	}
	planned, ok := registryclient.PlanCompressed(src.root, first.Compressed)
	if !ok || planned.Digest != first.Digest {
		t.Errorf("PlanCompressed with every layer known = %s, %v; want %s, true", planned.Digest, ok, first.Digest)
	}
	if _, ok := registryclient.PlanCompressed(src.root, nil); ok {
		t.Error("PlanCompressed knew the digest without knowing the compressed layers")
	}
}

func TestCompressedPushAgainReadsNoLayer(t *testing.T) {
	reg := testregistry.StartT(t, testregistry.Options{})
	proxy := startRecordingProxy(t, reg.Host)
	client := registryclient.New()
	src := newMemorySource(t, 2)
	first, err := client.CopyFrom(t.Context(), src, src.root, parseRef(t, proxy.Host+"/app:v1"), registryclient.CopyOptions{Compress: true})
	if err != nil {
		t.Fatal(err)
	}
	proxy.take()
	counting := &countingSource{memorySource: src}
	again, err := client.CopyFrom(t.Context(), counting, src.root, parseRef(t, proxy.Host+"/app:v2"),
		registryclient.CopyOptions{Compress: true, Compressed: first.Compressed})
	if err != nil {
		t.Fatal(err)
	}
	if again.Digest != first.Digest {
		t.Errorf("second push is %s, first was %s", again.Digest, first.Digest)
	}
	for _, r := range proxy.take() {
		if r.isUpload() {
			t.Errorf("second push of a known image uploaded: %s", r)
		}
	}
	if counting.opened != 0 {
		t.Errorf("second push read %d blobs from the archive, want 0", counting.opened)
	}
	assertStored(t, reg, "app", "v2", first.Digest.String())
}

// countingSource counts the blobs a copy opens.
type countingSource struct {
	*memorySource
	opened int
}

func (s *countingSource) OpenBlob(ctx context.Context, desc ocispec.Descriptor, offset int64) (io.ReadCloser, error) {
	s.opened++
	return s.memorySource.OpenBlob(ctx, desc, offset)
}

func TestCorruptLayerPushesNoManifest(t *testing.T) {
	reg := testregistry.StartT(t, testregistry.Options{})
	client := registryclient.New(registryclient.WithMaxRetries(1))
	src := newMemorySource(t, 2)
	var m ocispec.Manifest
	json.Unmarshal(src.root.Body, &m)
	layer := src.blobs[m.Layers[1].Digest]
	layer[len(layer)/2] ^= 0xff

	_, err := client.CopyFrom(t.Context(), src, src.root, parseRef(t, reg.Host+"/app:v1"), registryclient.CopyOptions{Compress: true})
	if !errors.Is(err, registryclient.ErrDigestMismatch) {
		t.Fatalf("push of a corrupt layer: %v, want a digest mismatch", err)
	}
	if _, err := reg.ManifestDigest(t.Context(), "app", "v1"); err == nil {
		t.Error("a manifest was pushed although a layer was corrupt")
	}
}
