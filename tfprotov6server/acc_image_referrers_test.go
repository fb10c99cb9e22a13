package tfprotov6server_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
)

// pushArtifact pushes a signature-like artifact to repo: referring to subject when it
// is set, under tag when that is set, as signing tools do.
func pushArtifact(t *testing.T, reg *testregistry.Registry, repo, tag string, subject *v1.Descriptor, artifactType, payload string) v1.Descriptor {
	t.Helper()
	a := testregistry.Artifact{ArtifactType: artifactType, PayloadMediaType: artifactType, Payload: []byte(payload), Subject: subject}
	if artifactType == "" { // cosign's tag scheme: an image config and a simple-signing payload
		a.ConfigMediaType, a.Config = v1.MediaTypeImageConfig, []byte(`{"architecture":"","os":"","rootfs":{"type":"layers","diff_ids":[]}}`)
		a.PayloadMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	}
	d, err := reg.PushArtifact(context.Background(), repo, tag, a)
	if err != nil {
		t.Fatalf("push artifact to %s: %v", repo, err)
	}
	return d
}

func describeManifest(t *testing.T, reg *testregistry.Registry, repo, ref string) v1.Descriptor {
	t.Helper()
	d, err := reg.Descriptor(context.Background(), repo, ref)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// expectSameReferrers reads both registries with the test registry's own client: the
// destination lists, for each subject, the referrers the source lists, digest for
// digest, and cosign's tag holds the same manifest.
func expectSameReferrers(src *testregistry.Registry, srcRepo string, dst *testregistry.Registry, dstRepo string, subjects []string, tags map[string]string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		ctx := context.Background()
		for _, subject := range subjects {
			want, err := src.Referrers(ctx, srcRepo, subject)
			if err != nil {
				return err
			}
			got, err := dst.Referrers(ctx, dstRepo, subject)
			if err != nil {
				return err
			}
			if fmt.Sprint(descriptorDigests(got)) != fmt.Sprint(descriptorDigests(want)) || len(want) == 0 {
				return fmt.Errorf("referrers of %s: the destination lists %v, the source %v", subject, descriptorDigests(got), descriptorDigests(want))
			}
		}
		for tag, want := range tags {
			if err := expectDigestAt(dst, dstRepo, tag, want)(nil); err != nil {
				return err
			}
		}
		return nil
	}
}

func descriptorDigests(ds []v1.Descriptor) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Digest.String())
	}
	return out
}

// expectReferrersInState checks the referrers attribute against want(), read when the
// check runs; nil wants it null.
func expectReferrersInState(want func() []string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[imageAddr]
		if !ok {
			return fmt.Errorf("%s is not in state", imageAddr)
		}
		attrs := rs.Primary.Attributes
		w := want()
		if w == nil {
			if n, ok := attrs["referrers.#"]; ok && n != "0" {
				return fmt.Errorf("referrers = %s elements, want null", n)
			}
			return nil
		}
		var got []string
		n, _ := strconv.Atoi(attrs["referrers.#"])
		for i := range n {
			got = append(got, attrs["referrers."+strconv.Itoa(i)])
		}
		if !slices.Equal(got, w) {
			return fmt.Errorf("referrers in state = %v, want %v", got, w)
		}
		return nil
	}
}

func TestAccImageCopyReferrers(t *testing.T) {
	src := startAccRegistry(t, testregistry.Options{})
	dst := startAccRegistry(t, testregistry.Options{})
	img := push(t, src, "app", "v1", testregistry.ImageSpec{OCI: true, Platforms: []string{"linux/amd64", "linux/arm64"}, Seed: 301})
	index := describeManifest(t, src, "app", "v1")
	child := describeManifest(t, src, "app", img.Children["linux/arm64"])
	sig := pushArtifact(t, src, "app", "", &index, "application/vnd.example.signature", "signature of the index")
	sbom := pushArtifact(t, src, "app", "", &index, "application/spdx+json", `{"spdxVersion":"SPDX-2.3"}`)
	sbomSig := pushArtifact(t, src, "app", "", &sbom, "application/vnd.example.signature", "signature of the SBOM")
	childSig := pushArtifact(t, src, "app", "", &child, "application/vnd.example.signature", "signature of linux/arm64")
	cosignTag := testregistry.FallbackTag(img.Digest) + ".sig"
	cosign := pushArtifact(t, src, "app", cosignTag, nil, "", `{"critical":{"image":{"docker-manifest-digest":"`+img.Digest+`"}}}`)

	referrers := []string{sig.Digest.String(), sbom.Digest.String(), sbomSig.Digest.String(), childSig.Digest.String(), cosign.Digest.String()}
	slices.Sort(referrers)
	subjects := []string{img.Digest, sbom.Digest.String(), child.Digest.String()}
	tags := map[string]string{cosignTag: cosign.Digest.String()}
	config := imageConfig(src.Host+"/app:v1", dst.Host+"/mirror/app", `copy_referrers = true`)

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config:           config,
			ConfigPlanChecks: expectAction(plancheck.ResourceActionCreate, plannedDigest(img.Digest)),
			Check: resource.ComposeAggregateTestCheckFunc(
				expectDigestAt(dst, "mirror/app", "v1", img.Digest),
				expectSameReferrers(src, "app", dst, "mirror/app", subjects, tags),
				expectReferrersInState(func() []string { return referrers }),
			),
		}, {
			Config:           config,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
		}, {
			// A signature added at the source since the last apply is an update.
			PreConfig: func() {
				late := pushArtifact(t, src, "app", "", &index, "application/vnd.example.signature", "a later signature")
				referrers = append(referrers, late.Digest.String())
				slices.Sort(referrers)
			},
			Config:           config,
			ConfigPlanChecks: expectAction(plancheck.ResourceActionUpdate, plannedDigest(img.Digest), plancheck.ExpectUnknownValue(imageAddr, tfjsonpath.New("referrers"))),
			Check: resource.ComposeAggregateTestCheckFunc(
				expectSameReferrers(src, "app", dst, "mirror/app", subjects, tags),
				expectReferrersInState(func() []string { return referrers }),
			),
		}, {
			Config:           config,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
		}, {
			// Without copy_referrers the state forgets them; nothing is copied or removed.
			Config:           imageConfig(src.Host+"/app:v1", dst.Host+"/mirror/app", ""),
			ConfigPlanChecks: expectAction(plancheck.ResourceActionUpdate),
			Check: resource.ComposeAggregateTestCheckFunc(
				expectReferrersInState(func() []string { return nil }),
				expectSameReferrers(src, "app", dst, "mirror/app", subjects, tags),
			),
		}, {
			Config:           imageConfig(src.Host+"/app:v1", dst.Host+"/mirror/app", ""),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
		}},
	})
}
