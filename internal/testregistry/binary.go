package testregistry

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BinaryEnv names the environment variable that overrides where the
// registry executable lives.
const BinaryEnv = "IMAGESYNC_REGISTRY_BIN"

// RequireToolsEnv names the environment variable that turns a missing registry
// binary from a skipped test into a failed one. `make test` sets it to 1, so a run
// that skipped the registry tests can never pass as complete.
const RequireToolsEnv = "IMAGESYNC_REQUIRE_TOOLS"

// RequireBinary skips t when the registry binary is missing, with one line saying
// how to build it, so that `go test ./...` on a fresh clone passes what it can
// instead of failing every test that needs a registry. With RequireToolsEnv=1 it
// fails t instead.
func RequireBinary(t testing.TB) {
	t.Helper()
	_, err := binaryPath()
	switch {
	case err == nil:
	case os.Getenv(RequireToolsEnv) == "1":
		t.Fatalf("%v (%s=1: a missing tool is a failure)", err, RequireToolsEnv)
	case os.Getenv(BinaryEnv) != "":
		t.Skipf("%s missing: build it or unset %s", os.Getenv(BinaryEnv), BinaryEnv)
	default:
		t.Skip("bin/registry missing: run `make tools` first")
	}
}

// binaryPath finds the registry executable: $IMAGESYNC_REGISTRY_BIN, else
// bin/registry under the module root, which `make tools` builds.
func binaryPath() (string, error) {
	path := os.Getenv(BinaryEnv)
	if path == "" {
		root, err := moduleRoot()
		if err != nil {
			return "", err
		}
		path = filepath.Join(root, "bin", "registry")
	}
	info, err := os.Stat(path)
	if err != nil || info.IsDir() {
		return "", fmt.Errorf("%w at %s: run `make tools`", ErrBinaryNotFound, path)
	}
	return path, nil
}

// moduleRoot walks up from the working directory to the one holding go.mod;
// `go test` runs each package in its own directory, so this finds the
// repository from any of them.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	for {
		_, err := os.Stat(filepath.Join(dir, "go.mod"))
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("find module root: %w", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find module root: no go.mod above the working directory")
		}
		dir = parent
	}
}
