package tfprotov6server

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
)

// planOf plans state against config (the configuration's values with state's computed
// ones proposed) and returns the planned image and the diagnostics.
func planOf(t *testing.T, state, config image, private []byte) (image, []*tfprotov6.Diagnostic, bool) {
	t.Helper()
	proposed := config
	proposed.ID, proposed.Digest, proposed.Reference = state.ID, state.Digest, state.Reference
	resp, err := newServer("test").PlanResourceChange(context.Background(), &tfprotov6.PlanResourceChangeRequest{
		TypeName: "imagesync_image", PriorState: imageValue(t, state), ProposedNewState: imageValue(t, proposed), Config: imageValue(t, config), PriorPrivate: private,
	})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := decode(resp.PlannedState, imageResource{}.schema())
	planned, _ := readImage(v)
	return planned, resp.Diagnostics, v.Equal(state.value()) || reflect.DeepEqual(planned, proposed)
}

func TestVersion0StateUpgradesAndPlansNothing(t *testing.T) {
	reg := testregistry.StartT(t, testregistry.Options{})
	src, err := reg.Push(t.Context(), "source/app", "v1", testregistry.ImageSpec{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Push(t.Context(), "mirror/app", "v1", testregistry.ImageSpec{Seed: 1}); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile("testdata/image-v0.tfstate")
	if err != nil {
		t.Fatal(err)
	}
	ref := reg.Host + "/mirror/app@" + src.Digest
	file = []byte(strings.NewReplacer("DESTINATION", reg.Host+"/mirror/app:v1", "SOURCE", reg.Host+"/source/app:v1", "REFERENCE", ref, "DIGEST", src.Digest).Replace(string(file)))
	var state struct {
		Resources []struct {
			Instances []struct {
				SchemaVersion int64           `json:"schema_version"`
				Attributes    json.RawMessage `json:"attributes"`
			} `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(file, &state); err != nil {
		t.Fatal(err)
	}
	instance := state.Resources[0].Instances[0]
	resp, err := newServer("test").UpgradeResourceState(context.Background(), &tfprotov6.UpgradeResourceStateRequest{
		TypeName: "imagesync_image", Version: instance.SchemaVersion, RawState: &tfprotov6.RawState{JSON: instance.Attributes},
	})
	if err != nil || len(resp.Diagnostics) > 0 {
		t.Fatalf("upgrade: %v %+v", err, resp.Diagnostics)
	}
	v, _ := decode(resp.UpgradedState, imageResource{}.schema())
	upgraded, _ := readImage(v)
	if upgraded.Digest.Value != src.Digest || upgraded.Reference.Value != ref || !upgraded.DeleteOnDestroy.Null || !upgraded.Timeouts.Null || !upgraded.SourceDigest.Null {
		t.Fatalf("upgraded state %+v", upgraded)
	}
	config := configured(reg.Host+"/source/app:v1", reg.Host+"/mirror/app:v1", "")
	if _, diags, same := planOf(t, upgraded, config, nil); !same || len(diags) > 0 {
		t.Errorf("the plan after the upgrade is not empty: %+v", diags)
	}
}

func TestMovesFromCraneImageAndImagesync(t *testing.T) {
	reg := testregistry.StartT(t, testregistry.Options{})
	src, err := reg.Push(t.Context(), "source/app", "v1", testregistry.ImageSpec{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Push(t.Context(), "mirror/app", "v1", testregistry.ImageSpec{Seed: 2}); err != nil {
		t.Fatal(err)
	}
	source, destination := reg.Host+"/source/app:v1", reg.Host+"/mirror/app:v1"
	reference := reg.Host + "/mirror/app@" + src.Digest
	crane := `{"id":"` + reference + `","source":"` + source + `","destination":"` + destination + `","digest":"` + src.Digest + `","reference":"` + reference + `","source_digest":"` + src.Digest + `"}`
	imagesync := `{"id":"` + destination + `@` + src.Digest + `","source":"` + source + `","destination":"` + destination + `"}`
	for _, tc := range []struct {
		name, typ, provider, state string
		wantSourceDigest           string
	}{
		{"crane_image as Terraform names it", "crane_image", "registry.terraform.io/ko-build/crane", crane, src.Digest},
		{"crane_image as OpenTofu names it", "crane_image", "crane", crane, src.Digest},
		{"imagesync of sHesl/imagesync", "imagesync", "registry.terraform.io/shesl/imagesync", imagesync, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := newServer("test").MoveResourceState(context.Background(), &tfprotov6.MoveResourceStateRequest{
				SourceTypeName: tc.typ, SourceProviderAddress: tc.provider, TargetTypeName: "imagesync_image",
				SourceState: &tfprotov6.RawState{JSON: []byte(tc.state)},
			})
			if err != nil || len(resp.Diagnostics) > 0 {
				t.Fatalf("move: %v %+v", err, resp.Diagnostics)
			}
			v, _ := decode(resp.TargetState, imageResource{}.schema())
			moved, _ := readImage(v)
			if moved.Digest.Value != src.Digest || moved.Reference.Value != reference || moved.Source.Value != source || moved.Destination.Value != destination {
				t.Fatalf("moved state %+v", moved)
			}
			config := configured(source, destination, "")
			if tc.wantSourceDigest != "" {
				config.SourceDigest = knownString(tc.wantSourceDigest)
			}
			if _, diags, same := planOf(t, moved, config, nil); !same || len(diags) > 0 {
				t.Errorf("the plan after the move is not empty: %+v", diags)
			}
		})
	}
	t.Run("another provider's resource is refused with a diagnostic", func(t *testing.T) {
		resp, _ := newServer("test").MoveResourceState(context.Background(), &tfprotov6.MoveResourceStateRequest{
			SourceTypeName: "docker_image", SourceProviderAddress: "registry.terraform.io/kreuzwerker/docker", TargetTypeName: "imagesync_image",
			SourceState: &tfprotov6.RawState{JSON: []byte(`{}`)},
		})
		if len(resp.Diagnostics) != 1 || !strings.Contains(resp.Diagnostics[0].Detail, "crane_image") {
			t.Errorf("diagnostics %+v", resp.Diagnostics)
		}
	})
}
