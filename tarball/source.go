package tarball

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Location is a local image as the user named it: a path, and the image inside it.
type Location struct {
	// Path is the file or directory, as written ("~/" and relative paths are resolved
	// by Open).
	Path string
	// Name picks one image of a multi-image archive: a docker-save RepoTag, an OCI
	// org.opencontainers.image.ref.name (or io.containerd.image.name), or "@N" for the
	// N-th image (from 0). Empty means the only image.
	Name string
	// Format is the format a prefix forced, or 0 to detect it.
	Format Format

	raw string // as the user wrote it; empty for a Location built in code
}

// prefixes force a format, as skopeo's transports do.
var prefixes = []struct {
	prefix string
	format Format
}{
	{"docker-archive:", FormatDockerArchive},
	{"oci-archive:", FormatOCILayout},
	{"oci-layout:", FormatOCILayout},
}

// archiveExtensions end the path part of a value that names a tar file.
var archiveExtensions = []string{".tar", ".tar.gz", ".tgz"}

// ParseSource tells a local image from a registry reference without touching the disk.
// It returns ok=false for anything that is not a local image, which the caller reads as
// a registry reference.
//
// A value is local when it has a prefix ("docker-archive:", "oci-archive:",
// "oci-layout:"), starts with "/", "./", "../" or "~/", or its path part ends in ".tar",
// ".tar.gz" or ".tgz". A name may follow the path after a colon ("app.tar:repo:tag",
// "oci-archive:app.tar:name"). When the path has none of those extensions
// ("oci-layout:/dir:name") the split is left to Open, which picks the longest prefix
// that exists on disk.
func ParseSource(s string) (loc Location, ok bool, err error) {
	for _, p := range prefixes {
		rest, found := strings.CutPrefix(s, p.prefix)
		if !found {
			continue
		}
		loc = splitPathName(rest)
		loc.Format, loc.raw = p.format, s
		return loc, true, loc.validate()
	}
	loc = splitPathName(s)
	if !looksLikePath(s) && !hasArchiveExtension(loc.Path) {
		return Location{}, false, nil
	}
	loc.raw = s
	return loc, true, loc.validate()
}

// String returns the location as the user wrote it, for messages.
func (l Location) String() string {
	if l.raw != "" {
		return l.raw
	}
	var b strings.Builder
	if l.Format != 0 {
		b.WriteString(l.Format.String() + ":")
	}
	b.WriteString(l.Path)
	if l.Name != "" {
		b.WriteString(":" + l.Name)
	}
	return b.String()
}

func (l Location) validate() error {
	if l.Path == "" {
		return fmt.Errorf("%w %q: the path is empty; write a file or directory, such as ./image.tar", ErrInvalidSource, l.raw)
	}
	if strings.HasSuffix(l.raw, ":") {
		return fmt.Errorf("%w %q: nothing follows the last ':'; write the image name after it, or drop the ':'", ErrInvalidSource, l.raw)
	}
	return nil
}

// splitPathName splits "path[:name]" after the first archive extension that is followed
// by a colon or ends the value; without one the whole value is the path.
func splitPathName(s string) Location {
	lower := strings.ToLower(s)
	for i := 1; i <= len(s); i++ {
		if i < len(s) && s[i] != ':' {
			continue
		}
		if hasArchiveExtension(lower[:i]) {
			if i == len(s) {
				return Location{Path: s}
			}
			return Location{Path: s[:i], Name: s[i+1:]}
		}
	}
	return Location{Path: s}
}

func hasArchiveExtension(path string) bool {
	path = strings.ToLower(path)
	for _, ext := range archiveExtensions {
		if strings.HasSuffix(path, ext) && len(path) > len(ext) {
			return true
		}
	}
	return false
}

func looksLikePath(s string) bool {
	for _, p := range []string{"/", "./", "../", "~/"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return filepath.IsAbs(s)
}
