package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// project is the provider's name as the registries know it: every release file starts with it.
const project = "terraform-provider-imagesync"

// manifestFile, at the module root, tells the registries which plugin protocol the
// provider speaks; it is published as <project>_<version>_manifest.json.
const manifestFile = "terraform-registry-manifest.json"

// target is one platform to build for.
type target struct{ os, arch string }

func parseTarget(s string) (target, error) {
	goos, arch, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok || goos == "" || arch == "" || strings.Contains(arch, "/") {
		return target{}, fmt.Errorf("target %q: use os/arch, for example linux/amd64", s)
	}
	return target{goos, arch}, nil
}

func (t target) String() string { return t.os + "/" + t.arch }

// options says what one release holds.
type options struct {
	moduleDir string    // where the provider's main package is
	version   string    // x.y.z, without a v
	modTime   time.Time // written into every zip entry
	targets   []target
	out       string // absent or empty; receives the release files
	goCmd     string
}

// binaryName is the executable inside a zip: terraform-provider-NAME_vVERSION, the name
// the registries' own tooling (goreleaser's provider template) gives it.
func binaryName(version string, t target) string {
	name := project + "_v" + version
	if t.os == "windows" {
		name += ".exe"
	}
	return name
}

func zipName(version string, t target) string {
	return fmt.Sprintf("%s_%s_%s_%s.zip", project, version, t.os, t.arch)
}

// release builds every target, zips each binary, copies the registry manifest and
// writes SHA256SUMS over all of them. It returns the names of the files it wrote.
func release(ctx context.Context, opts options) ([]string, error) {
	if err := emptyDir(opts.out); err != nil {
		return nil, err
	}
	manifest, err := readManifest(filepath.Join(opts.moduleDir, manifestFile))
	if err != nil {
		return nil, err
	}
	build, err := os.MkdirTemp("", "imagesync-release-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(build)

	var files []string
	for _, t := range opts.targets {
		bin := filepath.Join(build, t.os+"_"+t.arch, binaryName(opts.version, t))
		if err := goBuild(ctx, opts, t, bin); err != nil {
			return nil, err
		}
		name := zipName(opts.version, t)
		if err := writeZip(filepath.Join(opts.out, name), opts.modTime, []zipEntry{{name: filepath.Base(bin), path: bin, mode: 0o755}}); err != nil {
			return nil, fmt.Errorf("zip %s: %w", t, err)
		}
		files = append(files, name)
	}
	name := fmt.Sprintf("%s_%s_manifest.json", project, opts.version)
	if err := os.WriteFile(filepath.Join(opts.out, name), manifest, 0o644); err != nil {
		return nil, err
	}
	files = append(files, name)
	sums := fmt.Sprintf("%s_%s_SHA256SUMS", project, opts.version)
	if err := writeSums(opts.out, sums, files); err != nil {
		return nil, err
	}
	files = append(files, sums)
	slices.Sort(files)
	return files, nil
}

// goBuild builds the provider for t. Everything that could make two builds of one
// commit differ is pinned: paths (-trimpath), VCS stamps (-buildvcs=false, and the
// version comes from -X instead), cgo, the instruction-set levels, and the user's GOFLAGS.
func goBuild(ctx context.Context, opts options, t target, bin string) error {
	cmd := exec.CommandContext(ctx, opts.goCmd, "build", "-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -X main.version="+opts.version, "-o", bin, ".")
	cmd.Dir = opts.moduleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+t.os, "GOARCH="+t.arch,
		"GOFLAGS=", "GOAMD64=v1", "GOARM64=v8.0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %w\n%s", t, err, out)
	}
	return nil
}

// readManifest checks that the registry manifest announces protocol 6.0, the only
// protocol this provider serves, and returns its bytes unchanged.
func readManifest(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the registry manifest: %w", err)
	}
	var m struct {
		Version  int `json:"version"`
		Metadata struct {
			ProtocolVersions []string `json:"protocol_versions"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if m.Version != 1 || !slices.Equal(m.Metadata.ProtocolVersions, []string{"6.0"}) {
		return nil, fmt.Errorf(`%s must read {"version": 1, "metadata": {"protocol_versions": ["6.0"]}}: the provider serves plugin protocol 6 only`, path)
	}
	return b, nil
}

// writeSums writes name in the format of sha256sum: "<hex>  <file>", sorted by file.
func writeSums(dir, name string, files []string) error {
	sorted := slices.Sorted(slices.Values(files))
	var b strings.Builder
	for _, f := range sorted {
		sum, err := sha256File(filepath.Join(dir, f))
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%x  %s\n", sum, f)
	}
	return os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644)
}

func sha256File(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("hash %s: %w", path, err)
	}
	return h.Sum(nil), nil
}

// emptyDir creates dir, or accepts it if it exists and is empty: files of an older
// release must not end up beside a new one's.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return os.MkdirAll(dir, 0o755)
	case err != nil:
		return err
	case len(entries) > 0:
		return fmt.Errorf("%s is not empty: remove it first (make release does)", dir)
	}
	return nil
}
