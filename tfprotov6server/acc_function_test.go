package tfprotov6server_test

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

// Provider functions need Terraform 1.8 or OpenTofu 1.7; both report versions that
// SkipBelow compares the same way.
var functionVersions = []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_8_0)}

const someDigest = "sha256:4bcff63911fcb4448bd4fdacec207030997caf25e9bea4045fa6c8c44de311d1"

func TestAccFunctionParseReference(t *testing.T) {
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		TerraformVersionChecks:   functionVersions,
		Steps: []resource.TestStep{{
			Config: `
output "short" {
  value = provider::imagesync::parse_reference("alpine:3.20")
}
output "full" {
  value = provider::imagesync::parse_reference("ghcr.io/org/app:1.2@` + someDigest + `")
}
`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownOutputValue("short", knownvalue.ObjectExact(map[string]knownvalue.Check{
					"registry":   knownvalue.StringExact("docker.io"),
					"repository": knownvalue.StringExact("library/alpine"),
					"tag":        knownvalue.StringExact("3.20"),
					"digest":     knownvalue.Null(),
				})),
				statecheck.ExpectKnownOutputValue("full", knownvalue.ObjectExact(map[string]knownvalue.Check{
					"registry":   knownvalue.StringExact("ghcr.io"),
					"repository": knownvalue.StringExact("org/app"),
					"tag":        knownvalue.StringExact("1.2"),
					"digest":     knownvalue.StringExact(someDigest),
				})),
			},
		}, {
			Config:      `output "bad" { value = provider::imagesync::parse_reference("ghcr.io/Org/app:1.2") }`,
			ExpectError: regexp.MustCompile(`(?s)repository\s+component\s+"Org"\s+is\s+invalid`),
		}},
	})
}

func TestAccFunctionPin(t *testing.T) {
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		TerraformVersionChecks:   functionVersions,
		Steps: []resource.TestStep{{
			Config: `
output "pinned" {
  value = provider::imagesync::pin("nginx:1.27", "` + someDigest + `")
}
`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownOutputValue("pinned", knownvalue.StringExact("docker.io/library/nginx@"+someDigest)),
			},
		}, {
			Config:      `output "bad" { value = provider::imagesync::pin("nginx:1.27", "sha256:1234") }`,
			ExpectError: regexp.MustCompile(`(?s)digest\s+"sha256:1234"\s+is\s+not\s+a\s+manifest\s+digest`),
		}},
	})
}
