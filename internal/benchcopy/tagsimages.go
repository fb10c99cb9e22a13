//go:build linux

package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
)

// The tags section's repository: tagCount images that share sharedLayers base layers
// and differ in one small layer on top, as the releases of one application do.
const (
	tagsRepo        = "bench/tags"
	tagCount        = 200
	sharedLayers    = 3
	sharedLayerSize = 4 * mib
	uniqueLayerSize = 16 * kib
)

// tagImages is what pushTagImages put in the source repository, and what a mirror of it
// must upload at least: every distinct blob once and every manifest.
type tagImages struct {
	tags    []string
	digests map[string]string // tag → manifest digest
	// sharedBytes are the shared layers, once; perTagBytes the unique layer, config and
	// manifest of every tag, summed.
	sharedBytes, perTagBytes int64
}

// minimum is the bytes a mirror that moves every blob once uploads.
func (t tagImages) minimum() int64 { return t.sharedBytes + t.perTagBytes }

// pushTagImages generates the tags section's images and pushes them to reg, four tags
// at a time.
func pushTagImages(ctx context.Context, reg *testregistry.Registry) (tagImages, error) {
	imgs := tagImages{digests: map[string]string{}}
	var shared []layerBlob
	for i := range sharedLayers {
		l, err := tarLayer(uint64(1000+i), sharedLayerSize)
		if err != nil {
			return imgs, err
		}
		if _, err := reg.PushBlob(ctx, tagsRepo, l.gz); err != nil {
			return imgs, err
		}
		shared = append(shared, l)
		imgs.sharedBytes += int64(len(l.gz))
	}
	for i := range tagCount {
		imgs.tags = append(imgs.tags, fmt.Sprintf("v1.%d", i))
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs = make([]error, tagCount)
		next = make(chan int)
	)
	for range 4 {
		wg.Go(func() {
			for i := range next {
				d, n, err := pushTagImage(ctx, reg, shared, imgs.tags[i], uint64(i))
				errs[i] = err
				mu.Lock()
				imgs.digests[imgs.tags[i]] = d
				imgs.perTagBytes += n
				mu.Unlock()
			}
		})
	}
	for i := range tagCount {
		next <- i
	}
	close(next)
	wg.Wait()
	return imgs, errors.Join(errs...)
}

// pushTagImage pushes one tag: its own layer on top of the shared ones, its config and
// manifest. It returns the manifest's digest and the bytes of what is the tag's alone.
func pushTagImage(ctx context.Context, reg *testregistry.Registry, shared []layerBlob, tag string, seed uint64) (string, int64, error) {
	own, err := tarLayer(seed, uniqueLayerSize)
	if err != nil {
		return "", 0, err
	}
	if _, err := reg.PushBlob(ctx, tagsRepo, own.gz); err != nil {
		return "", 0, err
	}
	layers := append(append([]layerBlob{}, shared...), own)
	config := ocispec.Image{
		Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		Config:   ocispec.ImageConfig{Labels: map[string]string{"version": tag}},
		RootFS:   ocispec.RootFS{Type: "layers"},
	}
	manifest := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest}
	for _, l := range layers {
		config.RootFS.DiffIDs = append(config.RootFS.DiffIDs, l.diffID)
		manifest.Layers = append(manifest.Layers, ocispec.Descriptor{
			MediaType: ocispec.MediaTypeImageLayerGzip, Digest: digest.FromBytes(l.gz), Size: int64(len(l.gz)),
		})
	}
	configBody, err := json.Marshal(config)
	if err != nil {
		return "", 0, err
	}
	if _, err := reg.PushBlob(ctx, tagsRepo, configBody); err != nil {
		return "", 0, err
	}
	manifest.Config = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(configBody), Size: int64(len(configBody))}
	body, err := json.Marshal(manifest)
	if err != nil {
		return "", 0, err
	}
	d, err := reg.PushManifest(ctx, tagsRepo, tag, ocispec.MediaTypeImageManifest, body)
	return d, int64(len(own.gz) + len(configBody) + len(body)), err
}

// layerBlob is a gzipped tar layer and the digest of the tar inside.
type layerBlob struct {
	gz     []byte
	diffID digest.Digest
}

// tarLayer is a real layer: a tar of one file of size random bytes, gzipped, so that no
// tool that looks inside a layer finds anything to convert.
func tarLayer(seed uint64, size int64) (layerBlob, error) {
	content := make([]byte, size)
	var key [32]byte
	key[0], key[1] = byte(seed), byte(seed>>8)
	rand.NewChaCha8(key).Read(content)
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("data-%d", seed), Mode: 0o644, Size: size}); err != nil {
		return layerBlob{}, err
	}
	if _, err := tw.Write(content); err != nil {
		return layerBlob{}, err
	}
	if err := tw.Close(); err != nil {
		return layerBlob{}, err
	}
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	if err != nil {
		return layerBlob{}, err
	}
	if _, err := zw.Write(tarBuf.Bytes()); err != nil {
		return layerBlob{}, err
	}
	if err := zw.Close(); err != nil {
		return layerBlob{}, err
	}
	return layerBlob{gz: gz.Bytes(), diffID: digest.FromBytes(tarBuf.Bytes())}, nil
}
