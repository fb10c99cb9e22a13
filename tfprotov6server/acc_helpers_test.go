package tfprotov6server_test

import (
	"os"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
)

// startAccRegistry starts a registry for an acceptance test, but only when TF_ACC asks
// for acceptance tests: without it terraform-plugin-testing skips the test anyway,
// and `go test ./...` should not start (or, on a fresh clone, fail to start) dozens of
// registries first.
func startAccRegistry(t *testing.T, opts testregistry.Options) *testregistry.Registry {
	t.Helper()
	if os.Getenv(resource.EnvTfAcc) == "" {
		t.Skipf("acceptance test: set %s=1 to run it (make acceptance)", resource.EnvTfAcc)
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
