package tarball

import (
	"errors"
	"testing"
)

func TestParseSource(t *testing.T) {
	tests := []struct {
		name, in  string
		local     bool
		path, img string
		format    Format
	}{
		{"a registry reference is not local", "alpine:3.20", false, "", "", 0},
		{"a registry reference with a host and port is not local", "localhost:5000/app:1", false, "", "", 0},
		{"a digest reference is not local", "ghcr.io/org/app@sha256:0123", false, "", "", 0},
		{"crane_image's relative tar path is local", "path/to/local/image.tar", true, "path/to/local/image.tar", "", 0},
		{"a .tar.gz is local", "build/image.tar.gz", true, "build/image.tar.gz", "", 0},
		{"a .tgz is local", "image.tgz", true, "image.tgz", "", 0},
		{"the extension is matched whatever its case", "IMAGE.TAR", true, "IMAGE.TAR", "", 0},
		{"a RepoTag after the tar picks an image", "archive.tar:repo:tag", true, "archive.tar", "repo:tag", 0},
		{"a name with a registry port after the tar", "out/all.tar.gz:localhost:5000/app:1", true, "out/all.tar.gz", "localhost:5000/app:1", 0},
		{"an absolute path is local", "/srv/images/app", true, "/srv/images/app", "", 0},
		{"a ./ path is local", "./layout", true, "./layout", "", 0},
		{"a ../ path is local", "../layout", true, "../layout", "", 0},
		{"a ~/ path is local", "~/images/app.tar", true, "~/images/app.tar", "", 0},
		{"an absolute directory with a name is split by Open", "/srv/layout:app", true, "/srv/layout:app", "", 0},
		{"docker-archive: forces the docker format", "docker-archive:x:app:1", true, "x:app:1", "", FormatDockerArchive},
		{"docker-archive: with a tar splits after it", "docker-archive:x.tar:app:1", true, "x.tar", "app:1", FormatDockerArchive},
		{"oci-archive: names an image by ref.name", "oci-archive:file.tar:name", true, "file.tar", "name", FormatOCILayout},
		{"oci-layout: on a directory leaves the split to Open", "oci-layout:/dir:name", true, "/dir:name", "", FormatOCILayout},
		{"oci-layout: on a plain relative directory", "oci-layout:layout", true, "layout", "", FormatOCILayout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc, ok, err := ParseSource(tt.in)
			if err != nil {
				t.Fatalf("ParseSource(%q): %v", tt.in, err)
			}
			if ok != tt.local {
				t.Fatalf("ParseSource(%q) local = %v, want %v", tt.in, ok, tt.local)
			}
			if !ok {
				return
			}
			if loc.Path != tt.path || loc.Name != tt.img || loc.Format != tt.format {
				t.Errorf("ParseSource(%q) = path %q name %q format %v, want %q %q %v", tt.in, loc.Path, loc.Name, loc.Format, tt.path, tt.img, tt.format)
			}
			if loc.String() != tt.in {
				t.Errorf("String() = %q, want it as written, %q", loc.String(), tt.in)
			}
		})
	}
}

func TestParseSourceRejectsEmptyParts(t *testing.T) {
	for _, in := range []string{"oci-archive:", "docker-archive:", "app.tar:", "oci-layout:/dir:"} {
		t.Run(in, func(t *testing.T) {
			_, ok, err := ParseSource(in)
			if !ok || !errors.Is(err, ErrInvalidSource) {
				t.Fatalf("ParseSource(%q) = ok %v, err %v; want local and ErrInvalidSource", in, ok, err)
			}
		})
	}
}

func TestLocationStringForALocationBuiltInCode(t *testing.T) {
	loc := Location{Path: "/tmp/a.tar", Name: "app:1", Format: FormatDockerArchive}
	if got, want := loc.String(), "docker-archive:/tmp/a.tar:app:1"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
