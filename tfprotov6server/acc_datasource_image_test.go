package tfprotov6server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
)

// withCredentials is a provider block with one registry_auth block for reg.
func withCredentials(reg *testregistry.Registry) string {
	return fmt.Sprintf(`
provider "imagesync" {
  registry_auth {
    address  = %q
    username = %q
    password = %q
  }
}
`, reg.Host, reg.Username, reg.Password)
}

// configDigestAt reads a manifest's config digest through the test registry's own client.
func configDigestAt(t *testing.T, reg *testregistry.Registry, repo, ref string) string {
	t.Helper()
	body, _, err := reg.Manifest(context.Background(), repo, ref)
	if err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	return m.Config.Digest.String()
}

func expectAttr(addr, attr string, v knownvalue.Check) statecheck.StateCheck {
	return statecheck.ExpectKnownValue(addr, tfjsonpath.New(attr), v)
}

func TestAccDataSourceImage(t *testing.T) {
	reg := startAccRegistry(t, testregistry.Options{Auth: testregistry.AuthToken})
	index := push(t, reg, "team/app", "v1", testregistry.ImageSpec{OCI: true, Platforms: []string{"linux/amd64", "linux/arm64/v8"}, Seed: 31})
	single := push(t, reg, "team/tool", "v1", testregistry.ImageSpec{Seed: 32})
	arm64 := index.Children["linux/arm64/v8"]
	config := withCredentials(reg) + fmt.Sprintf(`
data "imagesync_image" "index" {
  reference = "%[1]s/team/app:v1"
}

data "imagesync_image" "arm64" {
  reference = "%[1]s/team/app:v1"
  platform  = "linux/arm64"
}

data "imagesync_image" "single" {
  reference = "%[1]s/team/tool:v1"
}
`, reg.Host)
	platforms := knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("linux/amd64"), knownvalue.StringExact("linux/arm64/v8")})
	platformDigests := knownvalue.MapExact(map[string]knownvalue.Check{
		"linux/amd64":    knownvalue.StringExact(index.Children["linux/amd64"]),
		"linux/arm64/v8": knownvalue.StringExact(arm64),
	})

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config: config,
			ConfigStateChecks: []statecheck.StateCheck{
				expectAttr("data.imagesync_image.index", "digest", knownvalue.StringExact(index.Digest)),
				expectAttr("data.imagesync_image.index", "pinned", knownvalue.StringExact(reg.Host+"/team/app@"+index.Digest)),
				expectAttr("data.imagesync_image.index", "media_type", knownvalue.StringExact(ocispec.MediaTypeImageIndex)),
				expectAttr("data.imagesync_image.index", "platforms", platforms),
				expectAttr("data.imagesync_image.index", "platform_digests", platformDigests),
				expectAttr("data.imagesync_image.index", "config_digest", knownvalue.Null()),

				expectAttr("data.imagesync_image.arm64", "digest", knownvalue.StringExact(arm64)),
				expectAttr("data.imagesync_image.arm64", "pinned", knownvalue.StringExact(reg.Host+"/team/app@"+arm64)),
				expectAttr("data.imagesync_image.arm64", "media_type", knownvalue.StringExact(ocispec.MediaTypeImageManifest)),
				expectAttr("data.imagesync_image.arm64", "config_digest", knownvalue.StringExact(configDigestAt(t, reg, "team/app", arm64))),
				expectAttr("data.imagesync_image.arm64", "platforms", platforms),

				expectAttr("data.imagesync_image.single", "digest", knownvalue.StringExact(single.Digest)),
				expectAttr("data.imagesync_image.single", "media_type", knownvalue.StringExact(single.MediaType)),
				expectAttr("data.imagesync_image.single", "platforms", knownvalue.ListExact(nil)),
				expectAttr("data.imagesync_image.single", "platform_digests", knownvalue.MapExact(map[string]knownvalue.Check{})),
				expectAttr("data.imagesync_image.single", "config_digest", knownvalue.StringExact(configDigestAt(t, reg, "team/tool", "v1"))),
			},
		}},
	})
}

// A mirror whose source is the data source's pinned reference follows the upstream
// tag: when the tag moves, the next plan copies the new image.
func TestAccDataSourceImageKeepsAMirrorOfAMovingTagFresh(t *testing.T) {
	reg := startAccRegistry(t, testregistry.Options{})
	first := push(t, reg, "upstream/nginx", "latest", testregistry.ImageSpec{Seed: 33})
	config := fmt.Sprintf(`
data "imagesync_image" "upstream" {
  reference = "%[1]s/upstream/nginx:latest"
}

resource "imagesync_image" "test" {
  source      = data.imagesync_image.upstream.pinned
  destination = "%[1]s/mirror/nginx:stable"
}
`, reg.Host)
	var second testregistry.Pushed

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config:            config,
			ConfigStateChecks: expectState(reg, "mirror/nginx", first.Digest),
			Check:             expectDigestAt(reg, "mirror/nginx", "stable", first.Digest),
		}, {
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
		}, {
			PreConfig: func() { second = push(t, reg, "upstream/nginx", "latest", testregistry.ImageSpec{Seed: 34}) },
			Config:    config,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(imageAddr, plancheck.ResourceActionUpdate)},
			},
			Check: func(s *terraform.State) error {
				return expectDigestAt(reg, "mirror/nginx", "stable", second.Digest)(s)
			},
		}},
	})
}

func TestAccDataSourceImageErrors(t *testing.T) {
	reg := startAccRegistry(t, testregistry.Options{Auth: testregistry.AuthBasic})
	push(t, reg, "team/app", "v1", testregistry.ImageSpec{Platforms: []string{"linux/amd64"}, Seed: 35})
	lookup := func(reference, extra string) string {
		return withCredentials(reg) + fmt.Sprintf("data \"imagesync_image\" \"test\" {\n  reference = %q\n  %s\n}\n", reference, extra)
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config:      lookup(reg.Host+"/team/App:v1", ""),
			ExpectError: regexp.MustCompile(`(?s)Invalid reference.*repository\s+component\s+"App"`),
		}, {
			Config:      lookup(reg.Host+"/team/app:v2", ""),
			ExpectError: regexp.MustCompile(`(?s)Cannot read image.*MANIFEST_UNKNOWN.*Check\s+that\s+` + regexp.QuoteMeta(reg.Host+"/team/app:v2") + `\s+exists`),
		}, {
			Config:      lookup(reg.Host+"/team/app:v1", `platform = "linux/s390x"`),
			ExpectError: regexp.MustCompile(`(?s)Cannot read image.*has\s+no\s+linux/s390x\s+image;\s+it\s+offers\s+linux/amd64`),
		}, {
			Config: fmt.Sprintf(`
provider "imagesync" {
  registry_auth {
    address  = %q
    username = %q
    password = "wrong"
  }
}
data "imagesync_image" "test" {
  reference = "%s/team/app:v1"
}
`, reg.Host, reg.Username, reg.Host),
			ExpectError: regexp.MustCompile(`(?s)Cannot read image.*(401|nauthorized).*registry_auth`),
		}},
	})
}
