package tfprotov6server_test

import (
	"os"
	"testing"
)

// TestMain keeps the developer's own Docker credentials out of the tests: registries
// without a registry_auth block would otherwise be tried with them.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "imagesync-docker-config-")
	if err != nil {
		panic(err)
	}
	os.Setenv("DOCKER_CONFIG", dir)
	os.Unsetenv("DOCKER_AUTH_CONFIG")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
