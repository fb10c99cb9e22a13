package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

const testVersion = "1.2.3-test"

// buildRelease releases the module at root for tgt, dated at HEAD's commit time, into a
// fresh directory.
func buildRelease(t *testing.T, root string, tgt target) string {
	t.Helper()
	ctx := context.Background()
	modTime, err := sourceTime(ctx, "../..")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "dist")
	_, err = release(ctx, options{moduleDir: root, version: testVersion, modTime: modTime,
		targets: []target{tgt}, out: out, goCmd: "go"})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// copyCheckout copies the module's sources (not .git, bin or dist) to a new directory,
// as a second checkout of the same commit elsewhere on disk.
func copyCheckout(t *testing.T, root string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "elsewhere", "terraform-provider-imagesync")
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel == ".git" || rel == "bin" || rel == "dist" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// The check a user can make: build the release again from the same commit, in another
// directory, and compare every file with the published one.
func TestTwoBuildsOfOneCommitAreByteIdentical(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	linux := target{"linux", "amd64"}
	a, b := buildRelease(t, root, linux), buildRelease(t, copyCheckout(t, root), linux)
	want := []string{
		"terraform-provider-imagesync_1.2.3-test_SHA256SUMS",
		"terraform-provider-imagesync_1.2.3-test_linux_amd64.zip",
		"terraform-provider-imagesync_1.2.3-test_manifest.json",
	}
	if got := names(t, a); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("release files = %v, want %v", got, want)
	}
	if got := names(t, b); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("second build's files = %v, want %v", got, want)
	}
	for _, name := range want {
		x, y := read(t, filepath.Join(a, name)), read(t, filepath.Join(b, name))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two builds of one commit (%d and %d bytes)", name, len(x), len(y))
		}
	}

	t.Run("SHA256SUMS lists every other file with its hash", func(t *testing.T) {
		sums := read(t, filepath.Join(a, want[0]))
		listed := map[string]bool{}
		for _, line := range strings.Split(strings.TrimSuffix(string(sums), "\n"), "\n") {
			sum, name, ok := strings.Cut(line, "  ")
			if !ok {
				t.Fatalf("line %q is not in sha256sum's <hex>  <file> format", line)
			}
			got, err := sha256File(filepath.Join(a, name))
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(got) != sum {
				t.Errorf("%s: SHA256SUMS says %s, the file hashes to %x", name, sum, got)
			}
			listed[name] = true
		}
		for _, name := range want[1:] {
			if !listed[name] {
				t.Errorf("%s is missing from SHA256SUMS", name)
			}
		}
	})

	t.Run("the zip holds only the versioned binary, executable", func(t *testing.T) {
		zr, err := zip.OpenReader(filepath.Join(a, want[1]))
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		if len(zr.File) != 1 || zr.File[0].Name != "terraform-provider-imagesync_v1.2.3-test" {
			t.Fatalf("zip holds %v, want only terraform-provider-imagesync_v1.2.3-test", zipNames(zr))
		}
		f := zr.File[0]
		if f.Mode() != 0o755 {
			t.Errorf("binary mode = %v, want -rwxr-xr-x", f.Mode())
		}
		if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
			return
		}
		bin := filepath.Join(t.TempDir(), f.Name)
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		var body bytes.Buffer
		if _, err := body.ReadFrom(rc); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bin, body.Bytes(), 0o755); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "-version").Output()
		if err != nil {
			t.Fatalf("%s -version: %v", f.Name, err)
		}
		if string(out) != testVersion+"\n" {
			t.Errorf("-version printed %q, want %q", out, testVersion+"\n")
		}
	})

	t.Run("the manifest announces protocol 6.0", func(t *testing.T) {
		if _, err := readManifest(filepath.Join(a, want[2])); err != nil {
			t.Error(err)
		}
	})
}

func TestZipDependsOnlyOnNamesContentsAndModes(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, mtime time.Time, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("same content"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		return p
	}
	old := write("old", time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), 0o600)
	recent := write("recent", time.Now(), 0o777)
	fixed := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	a, b := filepath.Join(dir, "a.zip"), filepath.Join(dir, "b.zip")
	if err := writeZip(a, fixed, []zipEntry{{"x", old, 0o755}, {"y", recent, 0o644}}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TZ", "Pacific/Kiritimati")
	if err := writeZip(b, fixed, []zipEntry{{"y", old, 0o644}, {"x", recent, 0o755}}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(read(t, a), read(t, b)) {
		t.Error("two zips of the same entries differ by the files' own times, modes, order or the time zone")
	}
}

func TestBinaryAndZipNames(t *testing.T) {
	for _, tc := range []struct {
		target   target
		bin, zip string
	}{
		{target{"linux", "amd64"}, "terraform-provider-imagesync_v0.1.0", "terraform-provider-imagesync_0.1.0_linux_amd64.zip"},
		{target{"darwin", "arm64"}, "terraform-provider-imagesync_v0.1.0", "terraform-provider-imagesync_0.1.0_darwin_arm64.zip"},
		{target{"windows", "amd64"}, "terraform-provider-imagesync_v0.1.0.exe", "terraform-provider-imagesync_0.1.0_windows_amd64.zip"},
	} {
		t.Run(tc.target.String()+" is "+tc.zip, func(t *testing.T) {
			if got := binaryName("0.1.0", tc.target); got != tc.bin {
				t.Errorf("binary = %s, want %s", got, tc.bin)
			}
			if got := zipName("0.1.0", tc.target); got != tc.zip {
				t.Errorf("zip = %s, want %s", got, tc.zip)
			}
		})
	}
}

func TestVersionFromGitDescribe(t *testing.T) {
	for _, tc := range []struct{ describe, want string }{
		{"v0.1.0-0-g0123456789ab", "0.1.0"},
		{"v0.1.0-0-g0123456789ab-dirty", "0.1.1-dev.0.g0123456789ab.dirty"},
		{"v0.1.0-4-g0123456789ab", "0.1.1-dev.4.g0123456789ab"},
		{"v1.3.0-rc.1-0-g0123456789ab", "1.3.0-rc.1"},
		{"v1.3.0-rc.1-2-g0123456789ab", "1.3.0-rc.1.dev.2.g0123456789ab"},
		{"v1.3.0+meta-2-g0123456789ab", "1.3.1-dev.2.g0123456789ab"},
		{"0123456789ab", "0.0.0-dev.g0123456789ab"},
		{"0123456789ab-dirty", "0.0.0-dev.g0123456789ab.dirty"},
	} {
		t.Run(tc.describe+" is "+tc.want, func(t *testing.T) {
			got, err := versionFromDescribe(tc.describe)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %s", got)
			}
			if _, err := checkVersion(got); err != nil {
				t.Errorf("derived version is not semver: %v", err)
			}
		})
	}
	for _, bad := range []string{"vnext-0-g0123456789ab", "release-1", ""} {
		if v, err := versionFromDescribe(bad); err == nil {
			t.Errorf("%q gave version %q, want an error", bad, v)
		}
	}
}

func TestCheckVersion(t *testing.T) {
	for in, want := range map[string]string{"1.2.3": "1.2.3", "v1.2.3": "1.2.3", "0.1.0-rc.1": "0.1.0-rc.1", "1.0.0+build.5": "1.0.0+build.5"} {
		if got, err := checkVersion(in); err != nil || got != want {
			t.Errorf("checkVersion(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "1.2", "1.2.3.4", "01.2.3", "1.2.3-", "latest", "1.2.3 "} {
		if _, err := checkVersion(bad); err == nil {
			t.Errorf("checkVersion(%q) accepted it", bad)
		}
	}
}

func TestReleaseRefusesADirectoryWithOldFiles(t *testing.T) {
	out := t.TempDir()
	if err := os.WriteFile(filepath.Join(out, "terraform-provider-imagesync_0.0.1_linux_amd64.zip"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := release(context.Background(), options{moduleDir: "../..", version: "0.1.0", out: out, goCmd: "go"})
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("err = %v, want a refusal to mix releases", err)
	}
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func zipNames(zr *zip.ReadCloser) []string {
	var out []string
	for _, f := range zr.File {
		out = append(out, f.Name)
	}
	return out
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
