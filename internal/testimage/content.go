package testimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// layerData is one generated layer in both forms a tool may store it.
type layerData struct {
	tar    []byte // the uncompressed tar stream
	diffID digest.Digest
	gz     []byte // gzip of tar, as a registry serves it
	digest digest.Digest
}

// imageData is one generated single-platform image.
type imageData struct {
	platform string
	layers   []layerData
	config   []byte
	id       digest.Digest
}

// words make file content that compresses like text does.
var words = strings.Fields(`alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo
lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu
layer image config digest manifest registry blob index platform`)

// epoch is every timestamp in a fixture, so a seed alone decides the bytes.
var epoch = time.Unix(0, 0).UTC()

func seeded(parts ...any) *rand.Rand {
	sum := sha256.Sum256(fmt.Append(nil, parts...))
	return rand.New(rand.NewChaCha8(sum))
}

// buildLayer makes a real layer tar: a directory and a few text files of about size
// bytes in all, drawn from the seed, then gzips it.
func buildLayer(size int, seedParts ...any) (layerData, error) {
	r := seeded(seedParts...)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := fmt.Sprintf("opt/testimage-%08x/", r.Uint32())
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, ModTime: epoch}); err != nil {
		return layerData{}, err
	}
	const files = 4
	for f := range files {
		var body bytes.Buffer
		for body.Len() < size/files {
			fmt.Fprintf(&body, "%s %s %d\n", words[r.IntN(len(words))], words[r.IntN(len(words))], r.IntN(1000))
		}
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: fmt.Sprintf("%sfile-%d.txt", dir, f), Mode: 0o644, Size: int64(body.Len()), ModTime: epoch}
		if err := tw.WriteHeader(hdr); err != nil {
			return layerData{}, err
		}
		if _, err := tw.Write(body.Bytes()); err != nil {
			return layerData{}, err
		}
	}
	if err := tw.Close(); err != nil {
		return layerData{}, err
	}
	gz, err := gzipBytes(buf.Bytes())
	if err != nil {
		return layerData{}, err
	}
	return layerData{tar: buf.Bytes(), diffID: digest.FromBytes(buf.Bytes()), gz: gz, digest: digest.FromBytes(gz)}, nil
}

// gzipBytes compresses b with Go's defaults: no name, zero mtime, so it is deterministic.
func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// buildImage generates image i for one platform. Layer 0 comes from the seed alone, so
// every image of a fixture shares it, as images built FROM one base do.
func buildImage(o Options, i int, platform string) (imageData, error) {
	img := imageData{platform: platform}
	plat, err := parsePlatform(platform)
	if err != nil {
		return imageData{}, err
	}
	config := ocispec.Image{
		Created:  &epoch,
		Platform: plat,
		Config: ocispec.ImageConfig{
			Env:    []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			Cmd:    []string{"/bin/sh"},
			Labels: map[string]string{"testimage.seed": fmt.Sprint(o.Seed), "testimage.image": fmt.Sprint(i)},
		},
		RootFS: ocispec.RootFS{Type: "layers"},
	}
	for l := range o.Layers {
		seedParts := []any{"testimage layer", o.Seed, i, platform, l}
		if l == 0 {
			seedParts = []any{"testimage base layer", o.Seed, platform}
		}
		layer, err := buildLayer(o.LayerSize, seedParts...)
		if err != nil {
			return imageData{}, fmt.Errorf("testimage: build layer %d of image %d: %w", l, i, err)
		}
		img.layers = append(img.layers, layer)
		config.RootFS.DiffIDs = append(config.RootFS.DiffIDs, layer.diffID)
		config.History = append(config.History, ocispec.History{Created: &epoch, CreatedBy: fmt.Sprintf("testimage layer %d", l)})
	}
	if img.config, err = json.Marshal(config); err != nil {
		return imageData{}, err
	}
	img.id = digest.FromBytes(img.config)
	return img, nil
}

func parsePlatform(s string) (ocispec.Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return ocispec.Platform{}, fmt.Errorf("testimage: platform %q: want os/arch or os/arch/variant", s)
	}
	p := ocispec.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}
