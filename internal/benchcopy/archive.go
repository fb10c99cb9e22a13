//go:build linux

package main

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
)

// archiveLayer is one layer of the push benchmark's archive: the regular files under
// Root, in lexical order, until Budget bytes of file content are taken.
type archiveLayer struct {
	Root   string
	Budget int64
}

// archiveLayers are real, compressible files every machine that builds this project
// has: a Go toolchain, shared libraries, shared data, C headers. The sizes follow an
// application image's: a runtime, libraries, assets, the application itself.
var archiveLayers = []archiveLayer{
	{Root: "/usr/local/go", Budget: 233 * mib},
	{Root: "/usr/lib", Budget: 561 * mib},
	{Root: "/usr/share", Budget: 119 * mib},
	{Root: "/usr/include", Budget: 18 * mib},
}

// archiveTag is the name the archive's manifest.json gives its image.
const archiveTag = "bench/push:v1"

// archiveEpoch is every entry's modification time: the same files always give the same
// layer bytes, so the archive's digests depend on the files' content alone.
var archiveEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// ensureArchive returns the docker-save archive at path, building it first when it is
// not there. It is built once (about a minute) and kept: a rebuild could pick up files
// the machine changed since, and the benchmark compares runs of one archive.
func ensureArchive(ctx context.Context, path string) (int64, error) {
	if info, err := os.Stat(path); err == nil {
		return info.Size(), nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return 0, err
	}
	start := time.Now()
	fmt.Fprintf(os.Stderr, "building the docker-save archive %s from %d directories of this machine (once)\n", path, len(archiveLayers))
	tmp := path + ".partial"
	if err := writeArchive(ctx, tmp, archiveLayers); err != nil {
		os.Remove(tmp)
		return 0, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return 0, err
	}
	info, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(os.Stderr, "built %s: %d MiB in %.1f s\n", path, info.Size()/mib, time.Since(start).Seconds())
	return info.Size(), nil
}

// writeArchive writes a docker-save archive in the classic layout (docker save before
// 25): <id>/VERSION, <id>/json and <id>/layer.tar per layer, <config hex>.json,
// manifest.json and repositories. Each layer is written to a temporary file first,
// since the archive's tar header needs its size.
func writeArchive(ctx context.Context, path string, layers []archiveLayer) error {
	dir, err := os.MkdirTemp(filepath.Dir(path), "layers-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var diffIDs []digest.Digest
	var files []string
	for i, l := range layers {
		file := filepath.Join(dir, fmt.Sprintf("layer-%d.tar", i))
		d, err := writeLayer(ctx, file, l)
		if err != nil {
			return fmt.Errorf("layer %d from %s: %w", i, l.Root, err)
		}
		diffIDs, files = append(diffIDs, d), append(files, file)
	}

	config, err := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"created":      archiveEpoch.Format(time.RFC3339),
		"config":       map[string]any{"Env": []string{"PATH=/usr/local/go/bin:/usr/bin:/bin"}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
	if err != nil {
		return err
	}
	configName := digest.FromBytes(config).Encoded() + ".json"

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	var layerNames []string
	parent := ""
	for i, d := range diffIDs {
		// docker save's layer IDs chain each diffID to its parent's ID.
		sum := sha256.Sum256([]byte(parent + "\n" + d.String()))
		id := hex.EncodeToString(sum[:])
		layerJSON, err := json.Marshal(map[string]string{"id": id, "parent": parent, "created": archiveEpoch.Format(time.RFC3339)})
		if err != nil {
			return err
		}
		if err := addDir(tw, id+"/"); err != nil {
			return err
		}
		if err := addBytes(tw, id+"/VERSION", []byte("1.0")); err != nil {
			return err
		}
		if err := addBytes(tw, id+"/json", layerJSON); err != nil {
			return err
		}
		if err := addFile(tw, id+"/layer.tar", files[i]); err != nil {
			return err
		}
		layerNames = append(layerNames, id+"/layer.tar")
		parent = id
	}
	manifest, err := json.Marshal([]map[string]any{{"Config": configName, "RepoTags": []string{archiveTag}, "Layers": layerNames}})
	if err != nil {
		return err
	}
	repoName, tag, _ := strings.Cut(archiveTag, ":")
	repositories, err := json.Marshal(map[string]map[string]string{repoName: {tag: parent}})
	if err != nil {
		return err
	}
	for _, e := range []struct {
		name string
		body []byte
	}{{configName, config}, {"manifest.json", manifest}, {"repositories", repositories}} {
		if err := addBytes(tw, e.name, e.body); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Close()
}

// writeLayer writes the files of l into a tar at path and returns its digest, the
// layer's diffID. Only directories and regular files go in, with fixed owners and times,
// so the bytes depend on the files' names, modes and content alone.
func writeLayer(ctx context.Context, path string, l archiveLayer) (digest.Digest, error) {
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(f, h))
	var taken int64
	errFull := errors.New("budget reached")
	err = filepath.WalkDir(l.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // an unreadable corner of the tree is left out
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		name := strings.TrimPrefix(p, "/")
		switch {
		case d.IsDir():
			return addDir(tw, name+"/")
		case !d.Type().IsRegular():
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if taken+info.Size() > l.Budget {
			return errFull
		}
		mode := int64(0o644)
		if info.Mode()&0o111 != 0 {
			mode = 0o755
		}
		if err := addReader(tw, name, mode, p, info.Size()); err != nil {
			return err
		}
		taken += info.Size()
		return nil
	})
	if err != nil && !errors.Is(err, errFull) {
		return "", err
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	return digest.NewDigestFromBytes(digest.SHA256, h.Sum(nil)), f.Close()
}

func header(name string, mode, size int64, typ byte) *tar.Header {
	return &tar.Header{Typeflag: typ, Name: name, Mode: mode, Size: size, ModTime: archiveEpoch, Format: tar.FormatPAX}
}

func addDir(tw *tar.Writer, name string) error {
	return tw.WriteHeader(header(name, 0o755, 0, tar.TypeDir))
}

func addBytes(tw *tar.Writer, name string, body []byte) error {
	if err := tw.WriteHeader(header(name, 0o644, int64(len(body)), tar.TypeReg)); err != nil {
		return err
	}
	_, err := tw.Write(body)
	return err
}

func addFile(tw *tar.Writer, name, path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	return addReader(tw, name, 0o644, path, info.Size())
}

// addReader copies size bytes of the file at path into the tar; a file that changed
// size since it was listed fails the build rather than giving different bytes.
func addReader(tw *tar.Writer, name string, mode int64, path string, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := tw.WriteHeader(header(name, mode, size, tar.TypeReg)); err != nil {
		return err
	}
	if n, err := io.Copy(tw, f); err != nil || n != size {
		return fmt.Errorf("copy %s: %d of %d bytes: %v", path, n, size, err)
	}
	return nil
}
