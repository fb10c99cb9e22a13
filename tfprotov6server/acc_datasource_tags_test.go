package tfprotov6server_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
)

// tagAll pushes one generated image under every tag.
func tagAll(t *testing.T, reg *testregistry.Registry, repo string, tags ...string) {
	t.Helper()
	first := push(t, reg, repo, tags[0], testregistry.ImageSpec{Seed: 41})
	body, mediaType, err := reg.Manifest(context.Background(), repo, first.Digest)
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range tags[1:] {
		if _, err := reg.PushManifest(context.Background(), repo, tag, mediaType, body); err != nil {
			t.Fatal(err)
		}
	}
}

func stringList(values ...string) knownvalue.Check {
	checks := make([]knownvalue.Check, len(values))
	for i, v := range values {
		checks[i] = knownvalue.StringExact(v)
	}
	return knownvalue.ListExact(checks)
}

// registryCheck is a state check that looks at a registry rather than at the state.
type registryCheck func() error

func (c registryCheck) CheckState(_ context.Context, _ statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	resp.Error = c()
}

// Mirroring every 1.x release from 1.2 on is one data source and one repeated resource.
func TestAccDataSourceTagsMirrorsASemverRange(t *testing.T) {
	reg := startAccRegistry(t, testregistry.Options{Auth: testregistry.AuthToken})
	tagAll(t, reg, "upstream/app", "1.0.0", "1.2.0", "1.2.5", "v1.3.0", "1.10.0", "2.0.0", "2.0.0-rc.1", "1.27", "latest", "1.3.0-rc.1")
	config := withCredentials(reg) + fmt.Sprintf(`
data "imagesync_tags" "all" {
  repository = "%[1]s/upstream/app"
}

data "imagesync_tags" "v1" {
  repository = "%[1]s/upstream/app"
  semver     = ">= 1.2, < 2"
}

# The example uses for_each = toset(...tags); terraform-plugin-testing's state shim
# cannot read for_each instances, so the test counts over the same list.
resource "imagesync_image" "v1" {
  count       = length(data.imagesync_tags.v1.tags)
  source      = "%[1]s/upstream/app:${data.imagesync_tags.v1.tags[count.index]}"
  destination = "%[1]s/mirror/app"
}
`, reg.Host)
	mirrored := []string{"1.2.0", "1.2.5", "v1.3.0", "1.10.0"}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config: config,
			ConfigStateChecks: []statecheck.StateCheck{
				expectAttr("data.imagesync_tags.all", "tags", stringList("1.0.0", "1.2.0", "1.2.5", "1.3.0-rc.1", "v1.3.0", "1.10.0", "2.0.0-rc.1", "2.0.0", "1.27", "latest")),
				expectAttr("data.imagesync_tags.all", "latest_semver", knownvalue.StringExact("2.0.0")),
				expectAttr("data.imagesync_tags.v1", "tags", stringList(mirrored...)),
				expectAttr("data.imagesync_tags.v1", "latest_semver", knownvalue.StringExact("1.10.0")),
				// An independent look at the registry.
				registryCheck(func() error {
					got, err := reg.Tags(context.Background(), "mirror/app")
					if err != nil {
						return err
					}
					slices.Sort(got)
					want := slices.Sorted(slices.Values(mirrored))
					if !slices.Equal(got, want) {
						return fmt.Errorf("mirror/app has tags %v, want %v", got, want)
					}
					return nil
				}),
			},
		}},
	})
}

func TestAccDataSourceTagsFilterAndErrors(t *testing.T) {
	reg := startAccRegistry(t, testregistry.Options{})
	tagAll(t, reg, "upstream/nginx", "1.27.3", "1.27.3-alpine", "1.27.4-alpine", "alpine", "latest")
	tags := func(attrs string) string {
		return fmt.Sprintf("data \"imagesync_tags\" \"test\" {\n  repository = \"%s/upstream/nginx\"\n  %s\n}\n", reg.Host, attrs)
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config: tags(`filter = "-alpine$"`),
			ConfigStateChecks: []statecheck.StateCheck{
				expectAttr("data.imagesync_tags.test", "tags", stringList("1.27.3-alpine", "1.27.4-alpine")),
				// Variants are pre-releases in semver's terms: with no release among the
				// tags, the highest of them is the latest.
				expectAttr("data.imagesync_tags.test", "latest_semver", knownvalue.StringExact("1.27.4-alpine")),
			},
		}, {
			Config:      tags(`filter = "(unclosed"`),
			ExpectError: regexp.MustCompile(`(?s)Invalid filter.*missing\s+closing\s+\)`),
		}, {
			Config:      tags(`semver = ">= one"`),
			ExpectError: regexp.MustCompile(`(?s)Invalid semver constraint.*"one"\s+is\s+not\s+a\s+version`),
		}, {
			Config:      fmt.Sprintf("data \"imagesync_tags\" \"test\" {\n  repository = \"%s/upstream/nginx:1.27\"\n}\n", reg.Host),
			ExpectError: regexp.MustCompile(`(?s)Tag or digest in repository`),
		}, {
			Config:      fmt.Sprintf("data \"imagesync_tags\" \"test\" {\n  repository = \"%s/upstream/missing\"\n}\n", reg.Host),
			ExpectError: regexp.MustCompile(`(?s)Cannot list tags.*NAME_UNKNOWN`),
		}},
	})
}
