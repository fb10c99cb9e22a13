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
