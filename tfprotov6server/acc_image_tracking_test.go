package tfprotov6server_test

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
)

// The promises of the two systems imagesync_image replaces: source tracking with the
// digest in the plan, triggers, safe deletion, drift policy.

func plannedDigest(d string) plancheck.PlanCheck {
	return plancheck.ExpectKnownValue(imageAddr, tfjsonpath.New("digest"), knownvalue.StringExact(d))
}

func expectAction(a plancheck.ResourceActionType, more ...plancheck.PlanCheck) resource.ConfigPlanChecks {
	return resource.ConfigPlanChecks{PreApply: append([]plancheck.PlanCheck{plancheck.ExpectResourceAction(imageAddr, a)}, more...)}
}

func expectGone(reg *testregistry.Registry, repo, tag string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if d, err := digestAt(reg, repo, tag); err == nil {
			return fmt.Errorf("%s:%s is still there (%s)", repo, tag, d)
		}
		return nil
	}
}

func TestAccImageTagMovedUpstreamIsAnUpdateWithTheNewDigestInThePlan(t *testing.T) {
	reg := startAccRegistry(t, testregistry.Options{})
	v1 := push(t, reg, "source/nginx", "latest", testregistry.ImageSpec{Seed: 101})
	config := imageConfig(reg.Host+"/source/nginx:latest", reg.Host+"/mirror/nginx:stable", "")
	var v2 testregistry.Pushed
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			// The digest is known at plan on create.
			Config:            config,
			ConfigPlanChecks:  expectAction(plancheck.ResourceActionCreate, plannedDigest(v1.Digest)),
			ConfigStateChecks: expectState(reg, "mirror/nginx", v1.Digest),
		}, {
			PreConfig:        func() { v2 = push(t, reg, "source/nginx", "latest", testregistry.ImageSpec{Seed: 102}) },
			Config:           config,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(imageAddr, plancheck.ResourceActionUpdate), planDigestIs(&v2)}},
			Check:            func(s *terraform.State) error { return expectDigestAt(reg, "mirror/nginx", "stable", v2.Digest)(s) },
		}, {
			Config:           config,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
		}},
	})
}

// planDigestIs checks the planned digest against an image pushed by a PreConfig.
func planDigestIs(p *testregistry.Pushed) plancheck.PlanCheck {
	return lazyCheck(func() plancheck.PlanCheck { return plannedDigest(p.Digest) })
}

type lazyCheck func() plancheck.PlanCheck

func (l lazyCheck) CheckPlan(ctx context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	l().CheckPlan(ctx, req, resp)
}

func TestAccImageSourceUnreachableAtPlanKeepsTheImage(t *testing.T) {
	src := startAccRegistry(t, testregistry.Options{})
	dst := startAccRegistry(t, testregistry.Options{})
	v1 := push(t, src, "app", "v1", testregistry.ImageSpec{Seed: 103})
	config := imageConfig(src.Host+"/app:v1", dst.Host+"/mirror/app:v1", "")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config: config,
		}, {
			PreConfig:         func() { src.Close() },
			Config:            config,
			ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			ConfigStateChecks: expectState(dst, "mirror/app", v1.Digest),
		}},
	})
}

func TestAccImageSourceDigestTriggersAnUpdate(t *testing.T) {
	reg := startAccRegistry(t, testregistry.Options{})
	v1 := push(t, reg, "source/app", "v1", testregistry.ImageSpec{Seed: 104})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config: imageConfig(reg.Host+"/source/app:v1", reg.Host+"/mirror/app:v1", `source_digest = "one"`),
		}, {
			Config:            imageConfig(reg.Host+"/source/app:v1", reg.Host+"/mirror/app:v1", `source_digest = "two"`),
			ConfigPlanChecks:  expectAction(plancheck.ResourceActionUpdate, plannedDigest(v1.Digest)),
			ConfigStateChecks: expectState(reg, "mirror/app", v1.Digest),
		}},
	})
}

func TestAccImageDeleteOnDestroyRemovesOnlyItsTag(t *testing.T) {
	reg := startAccRegistry(t, testregistry.Options{})
	v1 := push(t, reg, "source/app", "v1", testregistry.ImageSpec{Seed: 105})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config: imageConfig(reg.Host+"/source/app:v1", reg.Host+"/mirror/app:v1", `delete_on_destroy = true`),
			// Another tag on the same image, which must survive the destroy.
			Check: func(*terraform.State) error {
				body, mediaType, err := reg.Manifest(context.Background(), "mirror/app", "v1")
				if err != nil {
					return err
				}
				_, err = reg.PushManifest(context.Background(), "mirror/app", "keep", mediaType, body)
				return err
			},
		}},
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(
			expectGone(reg, "mirror/app", "v1"),
			expectDigestAt(reg, "mirror/app", "keep", v1.Digest),
			expectDigestAt(reg, "source/app", "v1", v1.Digest),
		),
	})
}

func TestAccImageDeleteOnDestroyRefusedNamesTheWayOut(t *testing.T) {
	reg := startAccRegistry(t, testregistry.Options{DeleteDisabled: true})
	push(t, reg, "source/app", "v1", testregistry.ImageSpec{Seed: 106})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config: imageConfig(reg.Host+"/source/app:v1", reg.Host+"/mirror/app:v1", `delete_on_destroy = true`),
		}, {
			Config:      imageConfig(reg.Host+"/source/app:v1", reg.Host+"/mirror/app:v1", `delete_on_destroy = true`),
			Destroy:     true,
			ExpectError: regexp.MustCompile(`delete_on_destroy = false`),
		}, {
			// The way out: keep the image, then destroy.
			Config: imageConfig(reg.Host+"/source/app:v1", reg.Host+"/mirror/app:v1", `delete_on_destroy = false`),
		}},
	})
}

func TestAccImageDriftAcceptedIsNotFought(t *testing.T) {
	reg := startAccRegistry(t, testregistry.Options{})
	push(t, reg, "source/app", "v1", testregistry.ImageSpec{Seed: 107})
	config := imageConfig(reg.Host+"/source/app:v1", reg.Host+"/mirror/app:v1", `destination_drift = "accept"`)
	var rolledBack testregistry.Pushed
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config: config,
		}, {
			// A roll-back made outside Terraform.
			PreConfig:        func() { rolledBack = push(t, reg, "mirror/app", "v1", testregistry.ImageSpec{Seed: 108}) },
			Config:           config,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			Check: func(s *terraform.State) error {
				if err := expectDigestAt(reg, "mirror/app", "v1", rolledBack.Digest)(s); err != nil {
					return err
				}
				return resource.TestCheckResourceAttr(imageAddr, "digest", rolledBack.Digest)(s)
			},
		}},
	})
}

// Terraform shows any change of a configured value as an update; what matters is that
// it is not a replace and that the digest stays.
func TestAccImageImplicitAndExplicitTagAreOnePlace(t *testing.T) {
	reg := startAccRegistry(t, testregistry.Options{})
	v1 := push(t, reg, "source/app", "v1", testregistry.ImageSpec{Seed: 109})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config: imageConfig(reg.Host+"/source/app:v1", reg.Host+"/mirror/app", `delete_on_destroy = true`),
		}, {
			Config:            imageConfig(reg.Host+"/source/app:v1", reg.Host+"/mirror/app:v1", `delete_on_destroy = true`),
			ConfigPlanChecks:  expectAction(plancheck.ResourceActionUpdate, plannedDigest(v1.Digest)),
			ConfigStateChecks: expectState(reg, "mirror/app", v1.Digest),
			Check:             expectDigestAt(reg, "mirror/app", "v1", v1.Digest),
		}},
	})
}

func TestAccImageTaglessDestinationFollowsTheSourceTagByReplacing(t *testing.T) {
	reg := startAccRegistry(t, testregistry.Options{})
	push(t, reg, "source/app", "v1", testregistry.ImageSpec{Seed: 110})
	v2 := push(t, reg, "source/app", "v2", testregistry.ImageSpec{Seed: 111})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config: imageConfig(reg.Host+"/source/app:v1", reg.Host+"/mirror/app", `delete_on_destroy = true`),
		}, {
			Config:            imageConfig(reg.Host+"/source/app:v2", reg.Host+"/mirror/app", `delete_on_destroy = true`),
			ConfigPlanChecks:  expectAction(plancheck.ResourceActionReplace, plannedDigest(v2.Digest)),
			ConfigStateChecks: expectState(reg, "mirror/app", v2.Digest),
			// The old tag follows delete_on_destroy: it is gone, not left behind.
			Check: resource.ComposeAggregateTestCheckFunc(expectGone(reg, "mirror/app", "v1"), expectDigestAt(reg, "mirror/app", "v2", v2.Digest)),
		}},
	})
}

func TestAccImageTimeoutRecordsNothingAndNamesTheTimeout(t *testing.T) {
	reg := startAccRegistry(t, testregistry.Options{})
	push(t, reg, "source/app", "v1", testregistry.ImageSpec{Seed: 112, Layers: 4, LayerSize: 4 << 20})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config:      imageConfig(reg.Host+"/source/app:v1", reg.Host+"/mirror/app:v1", `timeouts { create = "1ms" }`),
			ExpectError: regexp.MustCompile(`timeouts\.create`),
		}, {
			Config:           imageConfig(reg.Host+"/source/app:v1", reg.Host+"/mirror/app:v1", `timeouts { create = "10m" }`),
			ConfigPlanChecks: expectAction(plancheck.ResourceActionCreate),
		}},
	})
}
