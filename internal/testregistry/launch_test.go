package testregistry

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeBinary writes a shell script standing in for the registry and points
// BinaryEnv at it.
func fakeBinary(t *testing.T, script string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "registry")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(BinaryEnv, path)
}

func TestLaunch(t *testing.T) {
	RequireBinary(t)
	registryBin, err := binaryPath()
	if err != nil {
		t.Fatal(err)
	}

	t.Run("a registry that dies at start is reported with its log", func(t *testing.T) {
		fakeBinary(t, "echo 'configuration error: boom' >&2\nexit 1\n")
		_, err := Start(t.Context(), Options{})
		if err == nil || !strings.Contains(err.Error(), "configuration error: boom") {
			t.Errorf("err = %v, want one quoting the registry log", err)
		}
	})

	t.Run("a port taken before the registry binds it is retried on another", func(t *testing.T) {
		marker := filepath.Join(t.TempDir(), "lost-race")
		fakeBinary(t, "if [ ! -e '"+marker+"' ]; then\n"+
			"  touch '"+marker+"'\n"+
			"  echo 'listen tcp 127.0.0.1:1: bind: address already in use' >&2\n"+
			"  exit 1\n"+
			"fi\n"+
			"exec '"+registryBin+"' \"$@\"\n")
		r, err := Start(t.Context(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(marker); err != nil {
			t.Errorf("the first attempt never ran: %v", err)
		}
	})
}
