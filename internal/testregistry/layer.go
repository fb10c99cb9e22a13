package testregistry

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/opencontainers/go-digest"
)

// layer is one generated filesystem layer.
type layer struct {
	blob   []byte        // the gzip-compressed tar that is pushed
	diffID digest.Digest // sha256 of the uncompressed tar, for the config
}

// buildLayer makes a tar holding one file, name, of size random bytes drawn
// from seed, and gzips it. The tar is hashed as it streams into gzip, so it
// is built and compressed once.
func buildLayer(seed [32]byte, name string, size int64) (layer, error) {
	var blob bytes.Buffer
	zw := gzip.NewWriter(&blob)
	diff := digest.SHA256.Digester()
	tw := tar.NewWriter(io.MultiWriter(zw, diff.Hash()))
	header := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Mode:     0o644,
		Size:     size,
		ModTime:  time.Unix(0, 0), // fixed, so a seed always gives the same digest
	}
	if err := tw.WriteHeader(header); err != nil {
		return layer{}, fmt.Errorf("build layer %s: %w", name, err)
	}
	if _, err := io.CopyN(tw, rand.NewChaCha8(seed), size); err != nil {
		return layer{}, fmt.Errorf("build layer %s: %w", name, err)
	}
	if err := tw.Close(); err != nil {
		return layer{}, fmt.Errorf("build layer %s: %w", name, err)
	}
	if err := zw.Close(); err != nil {
		return layer{}, fmt.Errorf("build layer %s: %w", name, err)
	}
	return layer{blob: blob.Bytes(), diffID: diff.Digest()}, nil
}
