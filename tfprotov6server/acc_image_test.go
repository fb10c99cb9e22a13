package tfprotov6server_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
	"github.com/imagesync/terraform-provider-imagesync/tfprotov6server"
)

// The acceptance tests drive the real Terraform or OpenTofu CLI (TF_ACC=1, see the
// Makefile's acceptance target) against real registries on loopback.

var providers = map[string]func() (tfprotov6.ProviderServer, error){
	"imagesync": func() (tfprotov6.ProviderServer, error) { return tfprotov6server.New("test")(), nil },
}

const imageAddr = "imagesync_image.test"

func imageConfig(source, destination, extra string) string {
	return fmt.Sprintf(`
resource "imagesync_image" "test" {
  source      = %q
  destination = %q
  %s
}
`, source, destination, extra)
}

func push(t *testing.T, reg *testregistry.Registry, repo, tag string, spec testregistry.ImageSpec) testregistry.Pushed {
	t.Helper()
	p, err := reg.Push(context.Background(), repo, tag, spec)
	if err != nil {
		t.Fatalf("seed %s:%s: %v", repo, tag, err)
	}
	return p
}

// digestAt is an independent read of the destination, through the test registry's own
// client rather than the provider's.
func digestAt(reg *testregistry.Registry, repo, ref string) (string, error) {
	return reg.ManifestDigest(context.Background(), repo, ref)
}

func expectDigestAt(reg *testregistry.Registry, repo, ref, want string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		got, err := digestAt(reg, repo, ref)
		if err != nil {
			return fmt.Errorf("read %s:%s at the destination: %w", repo, ref, err)
		}
		if got != want {
			return fmt.Errorf("%s:%s at the destination is %s, want %s", repo, ref, got, want)
		}
		return nil
	}
}

func expectState(reg *testregistry.Registry, repo, digest string) []statecheck.StateCheck {
	return expectStateAt(imageAddr, reg, repo, digest)
}

func expectStateAt(addr string, reg *testregistry.Registry, repo, digest string) []statecheck.StateCheck {
	ref := reg.Host + "/" + repo + "@" + digest
	return []statecheck.StateCheck{
		statecheck.ExpectKnownValue(addr, tfjsonpath.New("digest"), knownvalue.StringExact(digest)),
		statecheck.ExpectKnownValue(addr, tfjsonpath.New("reference"), knownvalue.StringExact(ref)),
		statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(ref)),
	}
}

func TestAccImageCopiesSingleArchImageWithItsDigest(t *testing.T) {
	reg := startAccRegistry(t, testregistry.Options{})
	src := push(t, reg, "source/app", "v1", testregistry.ImageSpec{Seed: 1})

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config:            imageConfig(reg.Host+"/source/app:v1", reg.Host+"/mirror/app:v1", ""),
			ConfigStateChecks: expectState(reg, "mirror/app", src.Digest),
			Check:             expectDigestAt(reg, "mirror/app", "v1", src.Digest),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(imageAddr, plancheck.ResourceActionCreate)},
			},
		}, {
			// Same configuration again: the plan is empty, nothing is copied.
			Config: imageConfig(reg.Host+"/source/app:v1", reg.Host+"/mirror/app:v1", ""),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
		}},
	})
}

func TestAccImageCopiesWholeIndexWithEveryChild(t *testing.T) {
	platforms := []string{"linux/amd64", "linux/arm64/v8", "linux/arm/v7"}
	for _, tc := range []struct {
		name string
		oci  bool
	}{{"docker manifest list", false}, {"oci index", true}} {
		t.Run(tc.name, func(t *testing.T) {
			reg := startAccRegistry(t, testregistry.Options{})
			src := push(t, reg, "source/multi", "2.0", testregistry.ImageSpec{OCI: tc.oci, Platforms: platforms, Seed: 2})
			checks := []resource.TestCheckFunc{expectDigestAt(reg, "mirror/multi", "2.0", src.Digest)}
			for platform, child := range src.Children {
				checks = append(checks, func(s *terraform.State) error {
					if err := expectDigestAt(reg, "mirror/multi", child, child)(s); err != nil {
						return fmt.Errorf("%s child: %w", platform, err)
					}
					return nil
				})
			}
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: providers,
				Steps: []resource.TestStep{{
					// Without a tag, the destination takes the source's tag.
					Config:            imageConfig(reg.Host+"/source/multi:2.0", reg.Host+"/mirror/multi", ""),
					ConfigStateChecks: expectState(reg, "mirror/multi", src.Digest),
					Check:             resource.ComposeAggregateTestCheckFunc(checks...),
				}},
			})
		})
	}
}

func TestAccImagePlatformCopiesOnlyThatChild(t *testing.T) {
	reg := startAccRegistry(t, testregistry.Options{})
	src := push(t, reg, "source/multi", "v1", testregistry.ImageSpec{OCI: true, Platforms: []string{"linux/amd64", "linux/arm64/v8", "linux/arm/v7"}, Seed: 3})
	arm64 := src.Children["linux/arm64/v8"]

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config:            imageConfig(reg.Host+"/source/multi:v1", reg.Host+"/mirror/arm64:v1", `platform = "linux/arm64"`),
			ConfigStateChecks: expectState(reg, "mirror/arm64", arm64),
			Check: resource.ComposeAggregateTestCheckFunc(
				expectDigestAt(reg, "mirror/arm64", "v1", arm64),
				func(*terraform.State) error {
					// The other platforms were not copied.
					amd64 := src.Children["linux/amd64"]
					if _, err := digestAt(reg, "mirror/arm64", amd64); !errors.Is(err, testregistry.ErrNotFound) {
						return fmt.Errorf("linux/amd64 child %s at the destination: err = %v, want not found", amd64, err)
					}
					return nil
				},
			),
		}, {
			Config:      imageConfig(reg.Host+"/source/multi:v1", reg.Host+"/mirror/s390x:v1", `platform = "linux/s390x"`),
			ExpectError: regexp.MustCompile(`(?s)has no linux/s390x image.*linux/amd64`),
		}},
	})
}

func TestAccImageDeletedBehindTerraformsBackIsCreatedAgain(t *testing.T) {
	reg := startAccRegistry(t, testregistry.Options{})
	src := push(t, reg, "source/app", "v1", testregistry.ImageSpec{Seed: 4})
	config := imageConfig(reg.Host+"/source/app:v1", reg.Host+"/mirror/app:v1", "")

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config: config,
		}, {
			PreConfig: func() {
				if err := reg.DeleteManifest(context.Background(), "mirror/app", src.Digest); err != nil {
					t.Fatalf("delete the destination: %v", err)
				}
			},
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(imageAddr, plancheck.ResourceActionCreate)},
			},
			Check: expectDigestAt(reg, "mirror/app", "v1", src.Digest),
		}},
	})
}

func TestAccImageOverwrittenDestinationIsCopiedAgain(t *testing.T) {
	reg := startAccRegistry(t, testregistry.Options{})
	src := push(t, reg, "source/app", "v1", testregistry.ImageSpec{Seed: 5})
	config := imageConfig(reg.Host+"/source/app:v1", reg.Host+"/mirror/app:v1", "")

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config: config,
		}, {
			// Someone pushes another image under the destination's tag.
			PreConfig: func() { push(t, reg, "mirror/app", "v1", testregistry.ImageSpec{Seed: 55}) },
			Config:    config,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(imageAddr, plancheck.ResourceActionUpdate)},
			},
			ConfigStateChecks: expectState(reg, "mirror/app", src.Digest),
			Check:             expectDigestAt(reg, "mirror/app", "v1", src.Digest),
		}},
	})
}

func TestAccImageSourceChangeIsAnInPlaceUpdate(t *testing.T) {
	reg := startAccRegistry(t, testregistry.Options{})
	v1 := push(t, reg, "source/app", "v1", testregistry.ImageSpec{Seed: 6})
	v2 := push(t, reg, "source/app", "v2", testregistry.ImageSpec{Seed: 7})

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config:            imageConfig(reg.Host+"/source/app:v1", reg.Host+"/mirror/app:live", ""),
			ConfigStateChecks: expectState(reg, "mirror/app", v1.Digest),
		}, {
			Config: imageConfig(reg.Host+"/source/app:v2", reg.Host+"/mirror/app:live", ""),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(imageAddr, plancheck.ResourceActionUpdate)},
			},
			ConfigStateChecks: expectState(reg, "mirror/app", v2.Digest),
			Check:             expectDigestAt(reg, "mirror/app", "live", v2.Digest),
		}, {
			// The same source spelled by digest instead of tag resolves to the same image.
			Config: imageConfig(reg.Host+"/source/app:v2@"+v2.Digest, reg.Host+"/mirror/app:live", ""),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(imageAddr, plancheck.ResourceActionUpdate)},
			},
			ConfigStateChecks: expectState(reg, "mirror/app", v2.Digest),
		}},
	})
}

func TestAccImageDestinationChangeReplacesAndDestroyLeavesImages(t *testing.T) {
	reg := startAccRegistry(t, testregistry.Options{})
	src := push(t, reg, "source/app", "v1", testregistry.ImageSpec{Seed: 8})

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config: imageConfig(reg.Host+"/source/app:v1", reg.Host+"/first/app:v1", ""),
		}, {
			Config: imageConfig(reg.Host+"/source/app:v1", reg.Host+"/second/app:v1", ""),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(imageAddr, plancheck.ResourceActionReplace)},
			},
			ConfigStateChecks: expectState(reg, "second/app", src.Digest),
			Check:             expectDigestAt(reg, "second/app", "v1", src.Digest),
		}},
		// Destroy (and the replace before it) leave images in the registry.
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(
			expectDigestAt(reg, "first/app", "v1", src.Digest),
			expectDigestAt(reg, "second/app", "v1", src.Digest),
		),
	})
}

func TestAccImageBasicAuth(t *testing.T) {
	reg := startAccRegistry(t, testregistry.Options{Auth: testregistry.AuthBasic})
	src := push(t, reg, "source/app", "v1", testregistry.ImageSpec{Seed: 9})
	withAuth := func(password string) string {
		return fmt.Sprintf(`
provider "imagesync" {
  registry_auth {
    address  = %q
    username = %q
    password = %q
  }
}
`, reg.Host, reg.Username, password) + imageConfig(reg.Host+"/source/app:v1", reg.Host+"/mirror/app:v1", "")
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config:      withAuth("wrong-password"),
			ExpectError: regexp.MustCompile(`(?s)Cannot (copy image|read source).*` + regexp.QuoteMeta(reg.Host) + `.*(401|nauthorized)`),
		}, {
			Config:            withAuth(reg.Password),
			ConfigStateChecks: expectState(reg, "mirror/app", src.Digest),
			Check:             expectDigestAt(reg, "mirror/app", "v1", src.Digest),
		}},
	})
}

func TestAccImageTokenAuthBetweenRegistries(t *testing.T) {
	src := startAccRegistry(t, testregistry.Options{Auth: testregistry.AuthToken})
	dst := startAccRegistry(t, testregistry.Options{Auth: testregistry.AuthToken, Username: "pusher", Password: "push-secret"})
	pushed := push(t, src, "team/app", "v1", testregistry.ImageSpec{OCI: true, Platforms: []string{"linux/amd64", "linux/arm64"}, Seed: 10})
	config := fmt.Sprintf(`
provider "imagesync" {
  registry_auth {
    address  = %q
    username = %q
    password = %q
  }
  registry_auth {
    address  = %q
    username = %q
    password = %q
  }
}
`, src.Host, src.Username, src.Password, dst.Host, dst.Username, dst.Password) +
		imageConfig(src.Host+"/team/app:v1", dst.Host+"/mirror/app", "")

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config:            config,
			ConfigStateChecks: expectState(dst, "mirror/app", pushed.Digest),
			Check:             expectDigestAt(dst, "mirror/app", "v1", pushed.Digest),
		}},
	})
}

func TestAccImageImport(t *testing.T) {
	reg := startAccRegistry(t, testregistry.Options{})
	src := push(t, reg, "source/app", "v1", testregistry.ImageSpec{Seed: 11})
	// A mirror made by hand before Terraform managed it: the same image under mirror/app:v1.
	push(t, reg, "mirror/app", "v1", testregistry.ImageSpec{Seed: 11})
	resourceConfig := imageConfig(reg.Host+"/source/app:v1", reg.Host+"/mirror/app", "")
	importBlock := func(id string) string {
		return fmt.Sprintf("import {\n  to = %s\n  id = %q\n}\n", imageAddr, id)
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config:      importBlock(reg.Host+"/mirror/app") + resourceConfig,
			ExpectError: regexp.MustCompile(`(?s)Invalid import ID.*neither a tag nor a\s+digest`),
		}, {
			Config:      importBlock(reg.Host+"/mirror/absent:v1") + resourceConfig,
			ExpectError: regexp.MustCompile(`(?i)non-existent|does not exist|not exist`),
		}, {
			// Importing by the destination's tag adopts the image; the plan records the
			// source in place (no replacement) and apply writes nothing new.
			Config: importBlock(reg.Host+"/mirror/app:v1") + resourceConfig,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(imageAddr, plancheck.ResourceActionUpdate)},
			},
			ConfigStateChecks: expectState(reg, "mirror/app", src.Digest),
		}, {
			// The classic `terraform import` by digest finds the same state.
			ResourceName:            imageAddr,
			ImportState:             true,
			ImportStateId:           reg.Host + "/mirror/app@" + src.Digest,
			ImportStateVerify:       true,
			ImportStateVerifyIgnore: []string{"source"},
		}},
	})
}
