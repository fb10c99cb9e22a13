package tfprotov6server_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
)

func TestAccDataSourceImageReferrers(t *testing.T) {
	reg := startAccRegistry(t, testregistry.Options{Auth: testregistry.AuthToken})
	img := push(t, reg, "team/app", "v1", testregistry.ImageSpec{OCI: true, Seed: 33})
	push(t, reg, "team/plain", "v1", testregistry.ImageSpec{Seed: 34})
	image := describeManifest(t, reg, "team/app", "v1")
	sig := pushArtifact(t, reg, "team/app", "", &image, "application/vnd.example.signature", "signature")
	sbom := pushArtifact(t, reg, "team/app", "", &image, "application/spdx+json", `{"spdxVersion":"SPDX-2.3"}`)
	sbomSig := pushArtifact(t, reg, "team/app", "", &sbom, "application/vnd.example.signature", "signature of the SBOM")
	cosignTag := testregistry.FallbackTag(img.Digest) + ".sig"
	cosign := pushArtifact(t, reg, "team/app", cosignTag, nil, "", "cosign")

	type want struct {
		d                 v1.Descriptor
		subject, art, tag string
	}
	wants := []want{
		{sig, img.Digest, "application/vnd.example.signature", ""},
		{sbom, img.Digest, "application/spdx+json", ""},
		{sbomSig, sbom.Digest.String(), "application/vnd.example.signature", ""},
		{cosign, img.Digest, "", cosignTag},
	}
	slices.SortFunc(wants, func(a, b want) int { return strings.Compare(a.d.Digest.String(), b.d.Digest.String()) })
	orNull := func(s string) knownvalue.Check {
		if s == "" {
			return knownvalue.Null()
		}
		return knownvalue.StringExact(s)
	}
	var checks []knownvalue.Check
	for _, w := range wants {
		checks = append(checks, knownvalue.ObjectExact(map[string]knownvalue.Check{
			"digest": knownvalue.StringExact(w.d.Digest.String()), "artifact_type": orNull(w.art),
			"subject": knownvalue.StringExact(w.subject), "tag": orNull(w.tag),
		}))
	}
	config := withCredentials(reg) + fmt.Sprintf(`
data "imagesync_image" "signed" {
  reference = "%[1]s/team/app:v1"
}

data "imagesync_image" "plain" {
  reference = "%[1]s/team/plain:v1"
}
`, reg.Host)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config: config,
			ConfigStateChecks: []statecheck.StateCheck{
				expectAttr("data.imagesync_image.signed", "referrers", knownvalue.ListExact(checks)),
				expectAttr("data.imagesync_image.plain", "referrers", knownvalue.ListExact([]knownvalue.Check{})),
			},
		}},
	})
}
