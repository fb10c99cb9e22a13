package tfprotov6server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
)

// Fifty resources at -parallelism=20, sharing layers and registries: every copy lands
// whole (checked by an independent read), and the next plan is empty.
func TestAccFiftyResourcesSharingLayersAtParallelism20(t *testing.T) {
	a := startAccRegistry(t, testregistry.Options{Auth: testregistry.AuthToken})
	b := startAccRegistry(t, testregistry.Options{})
	// Five images; each is mirrored ten times, into one registry and the other, so
	// uploads and mounts of the same blobs race each other.
	var images []testregistry.Pushed
	for i := range 5 {
		images = append(images, push(t, a, fmt.Sprintf("team/app%d", i), "v1", testregistry.ImageSpec{Seed: 800 + int64(i%2), Layers: 3, LayerSize: 256 << 10}))
	}
	t.Setenv("TF_CLI_ARGS_plan", "-parallelism=20")
	t.Setenv("TF_CLI_ARGS_apply", "-parallelism=20")
	var config strings.Builder
	fmt.Fprintf(&config, "provider \"imagesync\" {\n  registry_auth {\n    address = %q\n    username = %q\n    password = %q\n  }\n}\n", a.Host, a.Username, a.Password)
	var checks []resource.TestCheckFunc
	for i := range 50 {
		img := images[i%5]
		reg, repo := a, fmt.Sprintf("mirror%d/app", i)
		if i%2 == 1 {
			reg = b
		}
		fmt.Fprintf(&config, "resource \"imagesync_image\" \"r%d\" {\n  source = %q\n  destination = %q\n}\n", i, a.Host+"/"+img.Repository+":v1", reg.Host+"/"+repo+":v1")
		checks = append(checks, func(s *terraform.State) error {
			if err := expectDigestAt(reg, repo, "v1", img.Digest)(s); err != nil {
				return fmt.Errorf("r%d: %w", i, err)
			}
			return nil
		})
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config: config.String(),
			Check:  resource.ComposeAggregateTestCheckFunc(checks...),
		}, {
			Config:           config.String(),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
		}},
	})
}
