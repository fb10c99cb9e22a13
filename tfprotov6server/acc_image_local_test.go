package tfprotov6server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/internal/testimage"
	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
)

// pushedImage reads what a push stored, independently of the provider: the manifest
// must name a config with the archive's image ID, and every blob must be there.
func pushedImage(reg *testregistry.Registry, repo, tag string, wantID string) (digest string, err error) {
	ctx := context.Background()
	body, _, err := reg.Manifest(ctx, repo, tag)
	if err != nil {
		return "", fmt.Errorf("read %s:%s: %w", repo, tag, err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(body, &m); err != nil || m.SchemaVersion != 2 || len(m.Layers) == 0 {
		return "", fmt.Errorf("%s:%s is not a valid image manifest: %s", repo, tag, body)
	}
	if m.Config.Digest.String() != wantID {
		return "", fmt.Errorf("%s:%s has config %s, want the image ID %s", repo, tag, m.Config.Digest, wantID)
	}
	for _, blob := range append([]ocispec.Descriptor{m.Config}, m.Layers...) {
		if ok, err := reg.BlobExists(ctx, repo, blob.Digest.String()); err != nil || !ok {
			return "", fmt.Errorf("%s:%s refers to %s, which is not there (%v)", repo, tag, blob.Digest, err)
		}
	}
	return reg.ManifestDigest(ctx, repo, tag)
}

func TestAccImagePushesEveryLocalLayout(t *testing.T) {
	reg := startAccRegistry(t, testregistry.Options{})
	type local struct {
		name, source string
		fixture      *testimage.Fixture
		oci          bool // pushed as stored: the digest is the layout's own, known at plan
	}
	var locals []local
	for i, layout := range testimage.Layouts {
		f := testimage.WriteT(t, testimage.Options{Layout: layout, Seed: int64(300 + i), Layers: 3})
		source := f.Path
		if layout == testimage.OCIDirectory {
			source = "oci-layout:" + f.Path
		}
		locals = append(locals, local{layout.String(), source, f, layout.IsOCI()})
	}
	gz := testimage.WriteT(t, testimage.Options{Layout: testimage.DockerSave, Seed: 399, Gzip: true})
	locals = append(locals, local{"docker-save-gz", gz.Path, gz, false})
	d25 := testimage.WriteT(t, testimage.Options{Layout: testimage.Docker25, Seed: 398})
	locals = append(locals, local{"docker-25-as-oci", "oci-archive:" + d25.Path, d25, true})

	var config strings.Builder
	var checks []resource.TestCheckFunc
	var atPlan []plancheck.PlanCheck
	for _, l := range locals {
		fmt.Fprintf(&config, "resource \"imagesync_image\" %q {\n  source = %q\n  destination = %q\n}\n", l.name, l.source, reg.Host+"/local/"+l.name+":v1")
		img := l.fixture.Images[0]
		checks = append(checks, func(s *terraform.State) error {
			got, err := pushedImage(reg, "local/"+l.name, "v1", img.ID().String())
			if err != nil {
				return fmt.Errorf("%s: %w", l.name, err)
			}
			if l.oci && got != img.Digest.String() {
				return fmt.Errorf("%s: pushed %s, but the layout's manifest is %s: an OCI layout must keep its digest", l.name, got, img.Digest)
			}
			return resource.TestCheckResourceAttr("imagesync_image."+l.name, "digest", got)(s)
		})
		if l.oci {
			atPlan = append(atPlan, plancheck.ExpectKnownValue("imagesync_image."+l.name, tfjsonpath.New("digest"), knownvalue.StringExact(img.Digest.String())))
		}
	}
	// The same docker-save file pushed into a second repository gives the same digest.
	fmt.Fprintf(&config, "resource \"imagesync_image\" \"again\" {\n  source = %q\n  destination = %q\n}\n", locals[0].source, reg.Host+"/again/app:v1")
	checks = append(checks, resource.TestCheckResourceAttrPair("imagesync_image.again", "digest", "imagesync_image."+locals[0].name, "digest"))

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config:           config.String(),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: atPlan},
			Check:            resource.ComposeAggregateTestCheckFunc(checks...),
		}, {
			Config:           config.String(),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
		}},
	})
}

func TestAccImageLocalPlatformAndNamesAndNewFile(t *testing.T) {
	reg := startAccRegistry(t, testregistry.Options{})
	multi := testimage.WriteT(t, testimage.Options{Layout: testimage.OCIArchive, Seed: 400, Platforms: []string{"linux/amd64", "linux/arm64/v8"}})
	named := testimage.WriteT(t, testimage.Options{Layout: testimage.DockerSave, Seed: 401, Images: 2, Names: [][]string{{"example/one:1.0"}, {"example/two:2.0"}}})
	arm := multi.Images[0].Platforms[1]
	two := named.Images[1]
	config := func(extra string) string {
		return fmt.Sprintf(`
resource "imagesync_image" "arm" {
  source      = %q
  destination = %q
  platform    = "linux/arm64"
}
resource "imagesync_image" "two" {
  source        = %q
  destination   = %q
  source_digest = filemd5(%q)
  %s
}
`, "oci-archive:"+multi.Path, reg.Host+"/local/arm:v1", named.Path+":example/two:2.0", reg.Host+"/local/two:v1", named.Path, extra)
	}
	var replaced *testimage.Fixture
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config: config(""),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectKnownValue("imagesync_image.arm", tfjsonpath.New("digest"), knownvalue.StringExact(arm.Manifest.String())),
			}},
			Check: resource.ComposeAggregateTestCheckFunc(
				func(*terraform.State) error {
					_, err := pushedImage(reg, "local/arm", "v1", arm.ID.String())
					return err
				},
				func(*terraform.State) error {
					_, err := pushedImage(reg, "local/two", "v1", two.ID().String())
					return err
				},
			),
		}, {
			// The file now holds other images: the plan updates the one that changed.
			PreConfig: func() {
				replaced = testimage.WriteT(t, testimage.Options{Layout: testimage.DockerSave, Seed: 402, Images: 2, Names: [][]string{{"example/one:1.0"}, {"example/two:2.0"}}})
				copyFile(t, replaced.Path, named.Path)
			},
			Config: config(""),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction("imagesync_image.two", plancheck.ResourceActionUpdate),
				plancheck.ExpectResourceAction("imagesync_image.arm", plancheck.ResourceActionNoop),
			}},
			Check: func(*terraform.State) error {
				_, err := pushedImage(reg, "local/two", "v1", replaced.Images[1].ID().String())
				return err
			},
		}, {
			// compression = "none" pushes the layers as they are: the digest is known at plan.
			Config:           config(`compression = "none"`),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("imagesync_image.two", plancheck.ResourceActionUpdate), plancheck.ExpectKnownValue("imagesync_image.two", tfjsonpath.New("digest"), knownvalue.NotNull())}},
			Check: func(*terraform.State) error {
				_, err := pushedImage(reg, "local/two", "v1", replaced.Images[1].ID().String())
				return err
			},
		}},
	})
}

// What the pinned crane itself writes with `crane pull`, pushed through the CLI.
func TestAccImagePushesWhatTheRealCraneWrites(t *testing.T) {
	reg := startAccRegistry(t, testregistry.Options{})
	crane := craneBinary(t)
	pushed := push(t, reg, "upstream/app", "v1", testregistry.ImageSpec{Seed: 701, Layers: 3})
	body, _, err := reg.Manifest(context.Background(), "upstream/app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	var config strings.Builder
	var checks []resource.TestCheckFunc
	for _, format := range []string{"legacy", "tarball", "oci"} {
		out := filepath.Join(t.TempDir(), "crane-"+format)
		source := out + ".tar"
		if format == "oci" {
			source = "oci-layout:" + out
		} else {
			out = source
		}
		cmd := exec.CommandContext(t.Context(), crane, "pull", "--insecure", "--format="+format, reg.Host+"/upstream/app:v1", out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("crane pull --format=%s: %v\n%s", format, err, b)
		}
		fmt.Fprintf(&config, "resource \"imagesync_image\" %q {\n  source = %q\n  destination = %q\n}\n", format, source, reg.Host+"/from-crane/"+format+":v1")
		checks = append(checks, func(*terraform.State) error {
			got, err := pushedImage(reg, "from-crane/"+format, "v1", m.Config.Digest.String())
			if err == nil && format == "oci" && got != pushed.Digest {
				err = fmt.Errorf("crane's OCI layout pushed as %s, want the original %s", got, pushed.Digest)
			}
			return err
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

// craneBinary is the pinned crane `make tools` builds into bin/.
func craneBinary(t *testing.T) string {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("..", "bin", "crane"))
	if err == nil {
		_, err = os.Stat(path)
	}
	if err != nil {
		if os.Getenv(testregistry.RequireToolsEnv) != "" {
			t.Fatalf("bin/crane missing: run make tools: %v", err)
		}
		t.Skip("bin/crane missing: run make tools")
	}
	return path
}
