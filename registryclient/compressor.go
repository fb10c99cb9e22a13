package registryclient

import (
	"compress/gzip"
	"errors"
	"hash"
	"io"

	"github.com/opencontainers/go-digest"
)

// gzipLevel is part of every compressed digest this provider produces: changing it (or
// the compressor) changes the digest of every image pushed from a docker-save archive,
// so it is pinned, like the gzip header (no name, no mtime, OS "unknown").
const gzipLevel = gzip.BestSpeed

// errUploadStopped means the upload ended before the whole layer was compressed.
var errUploadStopped = errors.New("upload stopped before the layer was compressed")

// compressor reads a layer, compresses it and hashes the compressed bytes in one pass;
// its Read side is the upload body.
type compressor struct {
	*io.PipeReader
	raw  io.ReadCloser
	hash hash.Hash
	size int64
	done chan error
}

func startCompressing(raw io.ReadCloser, alg digest.Algorithm) *compressor {
	pr, pw := io.Pipe()
	z := &compressor{PipeReader: pr, raw: raw, hash: alg.Hash(), done: make(chan error, 1)}
	go func() {
		zw, _ := gzip.NewWriterLevel(io.MultiWriter(pw, z.hash, (*counter)(&z.size)), gzipLevel)
		_, err := io.Copy(zw, raw)
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
		pw.CloseWithError(err)
		z.done <- err
	}()
	return z
}

// finish waits for the compression to end (cutting it short if the upload stopped
// reading) and returns the compressed digest and size, or why reading the layer failed.
func (z *compressor) finish() (digest.Digest, int64, error) {
	z.PipeReader.CloseWithError(io.ErrClosedPipe)
	err := <-z.done
	z.raw.Close()
	if errors.Is(err, io.ErrClosedPipe) {
		return "", 0, errUploadStopped
	}
	if err != nil {
		return "", 0, err
	}
	return digest.NewDigest(digest.Canonical, z.hash), z.size, nil
}

// counter counts the bytes written to it.
type counter int64

func (c *counter) Write(p []byte) (int, error) {
	*c += counter(len(p))
	return len(p), nil
}
