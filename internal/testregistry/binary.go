package testregistry

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// BinaryEnv names the environment variable that overrides where the
// registry executable lives.
const BinaryEnv = "IMAGESYNC_REGISTRY_BIN"

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
