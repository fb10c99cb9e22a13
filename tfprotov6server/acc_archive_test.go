package tfprotov6server_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
)

// The air-gap trip: registry A → imagesync_archive → imagesync_image from the archive
// into registry B, which holds the same digests.
func TestAccArchiveAirGapTrip(t *testing.T) {
	a := startAccRegistry(t, testregistry.Options{})
	b := startAccRegistry(t, testregistry.Options{})
	multi := push(t, a, "team/multi", "1.0", testregistry.ImageSpec{OCI: true, Platforms: []string{"linux/amd64", "linux/arm64/v8"}, Seed: 501})
	single := push(t, a, "team/single", "2.0", testregistry.ImageSpec{Seed: 502})
	dir := t.TempDir()
	bundle := filepath.Join(dir, "bundle.tar")
	twin := filepath.Join(dir, "twin")
	config := func(extra string) string {
		return fmt.Sprintf(`
resource "imagesync_archive" "bundle" {
  path   = %[1]q
  images = { multi = "%[3]s/team/multi:1.0", single = "%[3]s/team/single:2.0" }
}
# The same images as a directory: the same bytes as the tar, so the same sha256.
resource "imagesync_archive" "twin" {
  path   = %[2]q
  images = { multi = "%[3]s/team/multi:1.0", single = "%[3]s/team/single:2.0" }
}
resource "imagesync_image" "multi" {
  source      = "oci-archive:${imagesync_archive.bundle.path}:multi"
  destination = "%[4]s/mirror/multi:1.0"
  source_digest = imagesync_archive.bundle.sha256
}
resource "imagesync_image" "single" {
  source      = "oci-archive:${imagesync_archive.bundle.path}:single"
  destination = "%[4]s/mirror/single:2.0"
  source_digest = imagesync_archive.bundle.sha256
}
%[5]s
`, bundle, twin, a.Host, b.Host, extra)
	}
	var moved testregistry.Pushed
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config: config(""),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectKnownValue("imagesync_archive.bundle", tfjsonpath.New("digests").AtMapKey("multi"), knownvalue.StringExact(multi.Digest)),
			}},
			Check: resource.ComposeAggregateTestCheckFunc(
				expectDigestAt(b, "mirror/multi", "1.0", multi.Digest),
				expectDigestAt(b, "mirror/single", "2.0", single.Digest),
				func(s *terraform.State) error {
					for platform, child := range multi.Children {
						if err := expectDigestAt(b, "mirror/multi", child, child)(s); err != nil {
							return fmt.Errorf("%s: %w", platform, err)
						}
					}
					return nil
				},
				resource.TestCheckResourceAttrPair("imagesync_archive.bundle", "sha256", "imagesync_archive.twin", "sha256"),
			),
		}, {
			// Nothing changed: no plan.
			Config:           config(""),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
		}, {
			// The archive was deleted behind Terraform's back: it is written again, the
			// same bytes, so the images pushed from it do not change.
			PreConfig: func() { os.Remove(bundle) },
			Config:    config(""),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction("imagesync_archive.bundle", plancheck.ResourceActionCreate),
			}},
			Check: resource.TestCheckResourceAttrPair("imagesync_archive.bundle", "sha256", "imagesync_archive.twin", "sha256"),
		}, {
			// Upstream moved a tag: the plan shows the new digest, and the trip carries it.
			PreConfig: func() { moved = push(t, a, "team/single", "2.0", testregistry.ImageSpec{Seed: 503}) },
			Config:    config(""),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction("imagesync_archive.bundle", plancheck.ResourceActionUpdate),
			}},
			Check: func(s *terraform.State) error { return expectDigestAt(b, "mirror/single", "2.0", moved.Digest)(s) },
		}},
	})
}
