package tfprotov6server

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
)

// applyCreate plans and applies the creation of config through the server's RPCs.
func applyCreate(t *testing.T, s *Server, config image) *tfprotov6.ApplyResourceChangeResponse {
	t.Helper()
	plan, err := s.PlanResourceChange(context.Background(), &tfprotov6.PlanResourceChangeRequest{
		TypeName: "imagesync_image", PriorState: nullImage(t), ProposedNewState: imageValue(t, config), Config: imageValue(t, config),
	})
	if err != nil || len(plan.Diagnostics) > 0 {
		t.Fatalf("plan: %v %+v", err, plan.Diagnostics)
	}
	resp, err := s.ApplyResourceChange(context.Background(), &tfprotov6.ApplyResourceChangeRequest{
		TypeName: "imagesync_image", PriorState: nullImage(t), PlannedState: plan.PlannedState, Config: imageValue(t, config), PlannedPrivate: plan.PlannedPrivate,
	})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestCreatingOntoATagSaysWhatItOverwrote(t *testing.T) {
	reg := testregistry.StartT(t, testregistry.Options{})
	src, err := reg.Push(t.Context(), "source/app", "v1", testregistry.ImageSpec{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	other, err := reg.Push(t.Context(), "mirror/app", "v1", testregistry.ImageSpec{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	same, err := reg.Push(t.Context(), "mirror/same", "v1", testregistry.ImageSpec{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("a tag holding another image is overwritten with a warning", func(t *testing.T) {
		resp := applyCreate(t, newServer("test"), configured(reg.Host+"/source/app:v1", reg.Host+"/mirror/app:v1", ""))
		if len(resp.Diagnostics) != 1 || resp.Diagnostics[0].Severity != tfprotov6.DiagnosticSeverityWarning || !strings.Contains(resp.Diagnostics[0].Detail, other.Digest) {
			t.Fatalf("diagnostics %+v, want one warning naming the overwritten %s", resp.Diagnostics, other.Digest)
		}
		if got, _ := reg.ManifestDigest(t.Context(), "mirror/app", "v1"); got != src.Digest {
			t.Errorf("mirror/app:v1 holds %s, want %s", got, src.Digest)
		}
	})
	t.Run("a tag already holding the image writes nothing and says nothing", func(t *testing.T) {
		before, _ := reg.Tags(t.Context(), "mirror/same")
		resp := applyCreate(t, newServer("test"), configured(reg.Host+"/source/app:v1", reg.Host+"/mirror/same:v1", ""))
		if len(resp.Diagnostics) != 0 {
			t.Fatalf("diagnostics %+v, want none", resp.Diagnostics)
		}
		if got, _ := reg.ManifestDigest(t.Context(), "mirror/same", "v1"); got != same.Digest {
			t.Errorf("mirror/same:v1 holds %s, want %s", got, same.Digest)
		}
		after, _ := reg.Tags(t.Context(), "mirror/same")
		if strings.Join(before, ",") != strings.Join(after, ",") {
			t.Errorf("tags went from %v to %v", before, after)
		}
	})
}
