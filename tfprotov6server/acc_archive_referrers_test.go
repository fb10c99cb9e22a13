package tfprotov6server_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
)

// The air-gap trip with signatures: registry A → imagesync_archive (copy_referrers) →
// imagesync_image from the archive (copy_referrers) into registry B, which lists the
// same referrers, digest for digest, and holds cosign's tag on the same manifest.
func TestAccArchiveAirGapTripWithReferrers(t *testing.T) {
	a := startAccRegistry(t, testregistry.Options{})
	b := startAccRegistry(t, testregistry.Options{})
	img := push(t, a, "team/app", "1.0", testregistry.ImageSpec{OCI: true, Platforms: []string{"linux/amd64", "linux/arm64"}, Seed: 511})
	index := describeManifest(t, a, "team/app", "1.0")
	child := describeManifest(t, a, "team/app", img.Children["linux/amd64"])
	sig := pushArtifact(t, a, "team/app", "", &index, "application/vnd.example.signature", "signature of the index")
	sbom := pushArtifact(t, a, "team/app", "", &index, "application/spdx+json", `{"spdxVersion":"SPDX-2.3"}`)
	sbomSig := pushArtifact(t, a, "team/app", "", &sbom, "application/vnd.example.signature", "signature of the SBOM")
	childSig := pushArtifact(t, a, "team/app", "", &child, "application/vnd.example.signature", "signature of linux/amd64")
	cosignTag := testregistry.FallbackTag(img.Digest) + ".sig"
	cosign := pushArtifact(t, a, "team/app", cosignTag, nil, "", "cosign signature")
	referrers := []string{sig.Digest.String(), sbom.Digest.String(), sbomSig.Digest.String(), childSig.Digest.String(), cosign.Digest.String()}
	slices.Sort(referrers)
	subjects := []string{img.Digest, sbom.Digest.String(), child.Digest.String()}
	tags := map[string]string{cosignTag: cosign.Digest.String()}

	bundle := filepath.Join(t.TempDir(), "bundle.tar")
	config := fmt.Sprintf(`
resource "imagesync_archive" "bundle" {
  path           = %[1]q
  images         = { app = "%[2]s/team/app:1.0" }
  copy_referrers = true
}
resource "imagesync_image" "test" {
  source         = "oci-archive:${imagesync_archive.bundle.path}:app"
  destination    = "%[3]s/mirror/app:1.0"
  source_digest  = imagesync_archive.bundle.sha256
  copy_referrers = true
}
`, bundle, a.Host, b.Host)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config: config,
			Check: resource.ComposeAggregateTestCheckFunc(
				expectDigestAt(b, "mirror/app", "1.0", img.Digest),
				expectSameReferrers(a, "team/app", b, "mirror/app", subjects, tags),
				expectReferrersInState(func() []string { return referrers }),
			),
		}, {
			Config:           config,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
		}, {
			// A signature added upstream: the archive is written again with it, and the
			// image pushed from the archive (its source_digest changes) carries it over.
			PreConfig: func() {
				late := pushArtifact(t, a, "team/app", "", &index, "application/vnd.example.signature", "a later signature")
				referrers = append(referrers, late.Digest.String())
				slices.Sort(referrers)
			},
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction("imagesync_archive.bundle", plancheck.ResourceActionUpdate),
				plancheck.ExpectResourceAction(imageAddr, plancheck.ResourceActionUpdate),
			}},
			Check: resource.ComposeAggregateTestCheckFunc(
				expectSameReferrers(a, "team/app", b, "mirror/app", subjects, tags),
				expectReferrersInState(func() []string { return referrers }),
			),
		}, {
			Config:           config,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
		}},
	})
}
