//go:build unix

package tarball_test

import (
	"path/filepath"
	"syscall"
	"testing"

	"github.com/imagesync/terraform-provider-imagesync/tarball"
)

func TestAPipeIsRefusedWithoutBlocking(t *testing.T) {
	path := filepath.Join(t.TempDir(), "image.tar")
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	openErr(t, tarball.Location{Path: path}, tarball.ErrUnreadable, path, "write the archive to a file")
}
