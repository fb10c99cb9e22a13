//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/tarball"
)

// TestArchiveIsDeterministic checks the push benchmark's archive: the same files give
// the same bytes whatever their times, a layer stops at its budget, and the result reads
// as a docker-save archive whose layers are what its config says.
func TestArchiveIsDeterministic(t *testing.T) {
	root := t.TempDir()
	for i := range 6 {
		dir := filepath.Join(root, "tree", fmt.Sprintf("d%d", i%2))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, fmt.Sprintf("f%d", i))
		if err := os.WriteFile(file, bytes.Repeat([]byte{byte('a' + i)}, 10*int(kib)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	layers := []archiveLayer{
		{Root: filepath.Join(root, "tree"), Budget: 25 * kib}, // two of the six files
		{Root: filepath.Join(root, "tree", "d1"), Budget: mib},
	}
	first := filepath.Join(root, "first.tar")
	if err := writeArchive(t.Context(), first, layers); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(root, "tree", "d0", "f0"), later, later); err != nil {
		t.Fatal(err)
	}
	second := filepath.Join(root, "second.tar")
	if err := writeArchive(t.Context(), second, layers); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(first)
	b, _ := os.ReadFile(second)
	if !bytes.Equal(a, b) {
		t.Fatal("two builds from the same files differ")
	}

	loc, _, err := tarball.ParseSource(first)
	if err != nil {
		t.Fatal(err)
	}
	archive, err := tarball.Open(loc)
	if err != nil {
		t.Fatal(err)
	}
	defer archive.Close()
	if names := archive.Names(); len(names) != 1 {
		t.Errorf("the archive names %v, want one image", names)
	}
	img, err := archive.Image("")
	if err != nil {
		t.Fatal(err)
	}
	_, body, err := img.Root(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Layers) != 2 {
		t.Fatalf("the manifest has %d layers, want 2", len(m.Layers))
	}
	// Two files of 10 KiB with their headers, and the three directory entries.
	if size := m.Layers[0].Size; size < 20*kib || size > 25*kib+8*kib {
		t.Errorf("the first layer has %d bytes, want its two files that fit 25 KiB", size)
	}
	for _, l := range m.Layers {
		if l.MediaType != ocispec.MediaTypeImageLayer {
			t.Errorf("layer %s is %s, want an uncompressed tar as docker save writes", l.Digest, l.MediaType)
		}
		rc, err := img.OpenBlob(t.Context(), l, 0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := l.Digest.Algorithm().FromReader(rc)
		rc.Close()
		if err != nil || got != l.Digest {
			t.Errorf("layer %s hashes to %s (%v)", l.Digest, got, err)
		}
	}
}
