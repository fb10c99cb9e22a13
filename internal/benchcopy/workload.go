//go:build linux

package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
)

const (
	kib = int64(1) << 10
	mib = int64(1) << 20
	gib = int64(1) << 30
)

// workload is an image shape to copy. Layers are random bytes, so no transport or
// registry can compress them away.
type workload struct {
	Name      string // as the tables show it
	ID        string // its repository name: lowercase, no spaces
	Platforms int    // 0 for a single image; else an index with this many images
	Layers    int    // per image
	LayerSize int64
}

// Bytes is the layer content a copy of w moves.
func (w workload) Bytes() int64 {
	return int64(max(w.Platforms, 1)*w.Layers) * w.LayerSize
}

// indexPlatforms are the children of an index workload, in order.
var indexPlatforms = []ocispec.Platform{
	{OS: "linux", Architecture: "amd64"},
	{OS: "linux", Architecture: "arm64", Variant: "v8"},
	{OS: "linux", Architecture: "ppc64le"},
	{OS: "linux", Architecture: "s390x"},
}

// pushWorkload generates w and pushes it to reg as <w.ID>:v1, streaming every layer, so
// the harness never holds one in memory. It returns the digest of the tagged manifest.
func pushWorkload(ctx context.Context, reg *testregistry.Registry, w workload) (string, error) {
	// A zero Transport never sends loopback traffic through $HTTP_PROXY.
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	if w.Platforms == 0 {
		desc, err := pushImage(ctx, client, reg, w, indexPlatforms[0], "v1")
		return desc.Digest.String(), err
	}
	if w.Platforms > len(indexPlatforms) {
		return "", fmt.Errorf("workload %s: at most %d platforms", w.Name, len(indexPlatforms))
	}
	index := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex}
	for _, p := range indexPlatforms[:w.Platforms] {
		desc, err := pushImage(ctx, client, reg, w, p, "")
		if err != nil {
			return "", err
		}
		index.Manifests = append(index.Manifests, desc)
	}
	body, err := json.Marshal(index)
	if err != nil {
		return "", fmt.Errorf("workload %s: encode index: %w", w.Name, err)
	}
	return reg.PushManifest(ctx, w.ID, "v1", ocispec.MediaTypeImageIndex, body)
}

// pushImage pushes one platform's image of w under tag, or by digest when tag is empty.
func pushImage(ctx context.Context, client *http.Client, reg *testregistry.Registry, w workload, p ocispec.Platform, tag string) (ocispec.Descriptor, error) {
	config := ocispec.Image{Platform: p, RootFS: ocispec.RootFS{Type: "layers"}}
	manifest := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
	}
	for i := range w.Layers {
		seed := sha256.Sum256(fmt.Appendf(nil, "benchcopy %s %s/%s/%s layer %d", w.ID, p.OS, p.Architecture, p.Variant, i))
		d, err := pushRandomBlob(ctx, client, reg.Host, w.ID, seed, w.LayerSize)
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		// An uncompressed layer's diff ID is its digest; the bytes are no real tar, but
		// copying never looks inside a layer.
		config.RootFS.DiffIDs = append(config.RootFS.DiffIDs, d)
		manifest.Layers = append(manifest.Layers, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: d, Size: w.LayerSize})
	}
	configJSON, err := json.Marshal(config)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("workload %s: encode config: %w", w.Name, err)
	}
	configDigest, err := reg.PushBlob(ctx, w.ID, configJSON)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	manifest.Config = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.Digest(configDigest), Size: int64(len(configJSON))}
	body, err := json.Marshal(manifest)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("workload %s: encode manifest: %w", w.Name, err)
	}
	desc := ocispec.Descriptor{MediaType: manifest.MediaType, Digest: digest.FromBytes(body), Size: int64(len(body)), Platform: &p}
	ref := tag
	if ref == "" {
		ref = desc.Digest.String()
	}
	if _, err := reg.PushManifest(ctx, w.ID, ref, manifest.MediaType, body); err != nil {
		return ocispec.Descriptor{}, err
	}
	return desc, nil
}

// randomContent is the blob drawn from seed: the same bytes every time it is read.
func randomContent(seed [32]byte, size int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8(seed), size)
}

// pushRandomBlob uploads size random bytes drawn from seed to repo in one monolithic
// upload. It reads the content twice, once to learn its digest and once to send it,
// rather than holding it: testregistry.PushBlob takes a []byte, which at 1 GiB would
// make the generator the biggest process on the machine.
func pushRandomBlob(ctx context.Context, client *http.Client, host, repo string, seed [32]byte, size int64) (digest.Digest, error) {
	digester := digest.SHA256.Digester()
	if _, err := io.Copy(digester.Hash(), randomContent(seed, size)); err != nil {
		return "", err
	}
	d := digester.Digest()

	start, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+host+"/v2/"+repo+"/blobs/uploads/", nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(start)
	if err != nil {
		return "", fmt.Errorf("start upload of %s to %s/%s: %w", d, host, repo, err)
	}
	if err := expectStatus(resp, http.StatusAccepted); err != nil {
		return "", fmt.Errorf("start upload of %s to %s/%s: %w", d, host, repo, err)
	}
	loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil {
		return "", fmt.Errorf("upload of %s to %s/%s: Location: %w", d, host, repo, err)
	}
	q := loc.Query()
	q.Set("digest", d.String())
	loc.RawQuery = q.Encode()

	put, err := http.NewRequestWithContext(ctx, http.MethodPut, loc.String(), randomContent(seed, size))
	if err != nil {
		return "", err
	}
	put.ContentLength = size
	put.Header.Set("Content-Type", "application/octet-stream")
	resp, err = client.Do(put)
	if err != nil {
		return "", fmt.Errorf("put blob %s to %s/%s: %w", d, host, repo, err)
	}
	if err := expectStatus(resp, http.StatusCreated); err != nil {
		return "", fmt.Errorf("put blob %s to %s/%s: %w", d, host, repo, err)
	}
	return d, nil
}

// expectStatus closes resp and says what the registry answered unless it is want.
func expectStatus(resp *http.Response, want int) error {
	defer resp.Body.Close()
	if resp.StatusCode == want {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return fmt.Errorf("registry answered %s: %s", resp.Status, strings.TrimSpace(string(msg)))
}
