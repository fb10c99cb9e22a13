package tfprotov6server_test

import (
	"os"
	"testing"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
)

// accRegistry starts a registry for an acceptance test, after checking TF_ACC so that
// `go test` without it skips at once instead of starting registries for nothing.
func accRegistry(t *testing.T, opts testregistry.Options) *testregistry.Registry {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance tests run with TF_ACC=1 (make acceptance)")
	}
	return testregistry.StartT(t, opts)
}

// copyFile replaces dst with src's bytes.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
