//go:build linux

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"sync/atomic"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/registryclient"
	"github.com/imagesync/terraform-provider-imagesync/tarball"
)

// pushConfig is what -mode=push does: one terraform apply's push of a local archive.
type pushConfig struct {
	archive string
	dst     string
	// compressedIn holds the compressions of an earlier push, as the provider keeps
	// them in private state; compressedOut receives this push's.
	compressedIn, compressedOut string
	cpuProfile                  string
	// uncompressed pushes the layers as they are, as compression = "none" does.
	uncompressed bool
}

// pushReport is what one push in -mode=push prints.
type pushReport struct {
	Digest      string  `json:"digest"`
	Unchanged   bool    `json:"unchanged"`
	WallSeconds float64 `json:"wall_seconds"` // around open, CopyFrom and close only
	// LayerBytesRead is how much layer content the push read from the archive: every
	// byte of it was compressed, so 0 means nothing was compressed.
	LayerBytesRead int64 `json:"layer_bytes_read"`
}

// pushOnce pushes the only image of a local archive to dst with Compress, with a new
// Client, and writes a pushReport to out.
func pushOnce(ctx context.Context, cfg pushConfig, out io.Writer) error {
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	dst, err := registryclient.ParseReference(cfg.dst)
	if err != nil {
		return err
	}
	known, err := readCompressed(cfg.compressedIn)
	if err != nil {
		return err
	}
	start := time.Now()
	loc, ok, err := tarball.ParseSource(cfg.archive)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s is not a local image path", cfg.archive)
	}
	archive, err := tarball.OpenContext(ctx, loc)
	if err != nil {
		return err
	}
	defer archive.Close()
	img, err := archive.Image("")
	if err != nil {
		return err
	}
	src := &countingSource{Source: img}
	root, err := registryclient.ReadRoot(ctx, img)
	if err != nil {
		return err
	}
	res, err := registryclient.New().CopyFrom(ctx, src, root, dst, registryclient.CopyOptions{Compress: !cfg.uncompressed, Compressed: known})
	if err != nil {
		return err
	}
	wall := time.Since(start)
	if err := writeCompressed(cfg.compressedOut, res.Compressed); err != nil {
		return err
	}
	return json.NewEncoder(out).Encode(pushReport{
		Digest:         res.Digest.String(),
		Unchanged:      res.Unchanged,
		WallSeconds:    wall.Seconds(),
		LayerBytesRead: src.layerBytes.Load(),
	})
}

// countingSource counts the layer bytes a push reads from the archive.
type countingSource struct {
	registryclient.Source
	layerBytes atomic.Int64
}

func (s *countingSource) OpenBlob(ctx context.Context, desc ocispec.Descriptor, offset int64) (io.ReadCloser, error) {
	rc, err := s.Source.OpenBlob(ctx, desc, offset)
	if err != nil || desc.MediaType == ocispec.MediaTypeImageConfig {
		return rc, err
	}
	return &countingReader{ReadCloser: rc, n: &s.layerBytes}, nil
}

type countingReader struct {
	io.ReadCloser
	n *atomic.Int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	r.n.Add(int64(n))
	return n, err
}

// readCompressed reads what writeCompressed wrote; no file means nothing is known.
func readCompressed(path string) (map[digest.Digest]ocispec.Descriptor, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var known map[digest.Digest]ocispec.Descriptor
	if err := json.Unmarshal(data, &known); err != nil {
		return nil, fmt.Errorf("read compressions from %s: %w", path, err)
	}
	return known, nil
}

func writeCompressed(path string, known map[digest.Digest]ocispec.Descriptor) error {
	if path == "" {
		return nil
	}
	data, err := json.Marshal(known)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
