package tfprotov6server

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/imagesync/terraform-provider-imagesync/registryclient"
)

const testDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func imageValue(t *testing.T, m image) *tfprotov6.DynamicValue {
	t.Helper()
	dv, err := encode(m.value(), imageResource{}.schema())
	if err != nil {
		t.Fatal(err)
	}
	return dv
}

func nullImage(t *testing.T) *tfprotov6.DynamicValue {
	t.Helper()
	schema := imageResource{}.schema()
	dv, err := encode(tftypes.NewValue(schema.ValueType(), nil), schema)
	if err != nil {
		t.Fatal(err)
	}
	return dv
}

func configured(source, destination, platform string) image {
	m := image{Source: knownString(source), Destination: knownString(destination), Platform: nullString,
		ID: nullString, Digest: nullString, Reference: nullString}
	if platform != "" {
		m.Platform = knownString(platform)
	}
	return m
}

// stored is the state after a successful copy of m.
func stored(m image) image {
	m.Digest = knownString(testDigest)
	m.Reference = knownString("r.io/mirror/app@" + testDigest)
	m.ID = m.Reference
	return m
}

func TestValidateNamesTheAttribute(t *testing.T) {
	for _, tc := range []struct {
		name, attr string
		config     image
	}{
		{"an uppercase source", "source", configured("ghcr.io/Org/app:1", "r.io/mirror/app", "")},
		{"a destination with a digest", "destination", configured("alpine", "r.io/mirror/app@"+testDigest, "")},
		{"a destination without a repository", "destination", configured("alpine", "r.io/", "")},
		{"a platform without an architecture", "platform", configured("alpine", "r.io/mirror/app", "linux")},
	} {
		t.Run(tc.name+" is reported on "+tc.attr, func(t *testing.T) {
			s := newServer("test")
			resp, err := s.ValidateResourceConfig(context.Background(), &tfprotov6.ValidateResourceConfigRequest{TypeName: "imagesync_image", Config: imageValue(t, tc.config)})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Diagnostics) != 1 {
				t.Fatalf("diagnostics %+v, want one", resp.Diagnostics)
			}
			d := resp.Diagnostics[0]
			if d.Severity != tfprotov6.DiagnosticSeverityError || !d.Attribute.Equal(tftypes.NewAttributePath().WithAttributeName(tc.attr)) {
				t.Errorf("diagnostic %q on %v, want an error on %s", d.Summary, d.Attribute, tc.attr)
			}
		})
	}
	t.Run("unknown values wait for apply", func(t *testing.T) {
		m := configured("alpine", "r.io/mirror/app", "")
		m.Source = unknownString
		resp, _ := newServer("test").ValidateResourceConfig(context.Background(), &tfprotov6.ValidateResourceConfigRequest{TypeName: "imagesync_image", Config: imageValue(t, m)})
		if len(resp.Diagnostics) != 0 {
			t.Errorf("diagnostics %+v, want none", resp.Diagnostics)
		}
	})
}

func TestPlanCases(t *testing.T) {
	base := configured("alpine:3.20", "r.io/mirror/app", "")
	withSource := func(m image, s string) image { m.Source = knownString(s); return m }
	withDestination := func(m image, s string) image { m.Destination = knownString(s); return m }
	withPlatform := func(m image, s string) image { m.Platform = knownString(s); return m }
	// proposed is what Terraform proposes: config with the prior computed values.
	proposed := func(prior, config image) image {
		config.ID, config.Digest, config.Reference = prior.ID, prior.Digest, prior.Reference
		return config
	}
	pushedHere := imagePrivate{Digest: testDigest}.bytes()
	overwritten := imagePrivate{Digest: "sha256:" + strings.Repeat("f", 64)}.bytes()

	for _, tc := range []struct {
		name        string
		prior       *image
		config      image
		private     []byte
		wantUnknown bool
		wantReplace bool
	}{
		{"create copies and learns the digest at apply", nil, base, nil, true, false},
		{"nothing changed plans nothing", ptr(stored(base)), base, pushedHere, false, false},
		{"a new source tag is an in-place update", ptr(stored(base)), withSource(base, "alpine:3.21"), pushedHere, true, false},
		{"a new platform is an in-place update", ptr(stored(base)), withPlatform(base, "linux/arm64"), pushedHere, true, false},
		{"a new spelling of the same platform changes nothing", ptr(stored(withPlatform(base, "linux/arm64"))), withPlatform(base, "linux/arm64/v8"), pushedHere, false, false},
		{"a new spelling of the same source changes nothing", ptr(stored(base)), withSource(base, "docker.io/library/alpine:3.20"), pushedHere, false, false},
		{"a new destination replaces", ptr(stored(base)), withDestination(base, "r.io/other/app"), pushedHere, true, true},
		{"an unknown destination replaces", ptr(stored(base)), image{Source: base.Source, Destination: unknownString, Platform: nullString}, pushedHere, true, true},
		{"a destination overwritten behind Terraform's back is copied again", ptr(stored(base)), base, overwritten, true, false},
		{"an image imported by the tag the configuration would give it is updated in place", ptr(imported("r.io/mirror/app:3.20")), base, nil, true, false},
		{"an image imported under another tag is replaced", ptr(imported("r.io/mirror/app:3.19")), base, nil, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := &tfprotov6.PlanResourceChangeRequest{TypeName: "imagesync_image", Config: imageValue(t, tc.config), PriorPrivate: tc.private}
			if tc.prior == nil {
				req.PriorState = nullImage(t)
				req.ProposedNewState = imageValue(t, tc.config)
			} else {
				req.PriorState = imageValue(t, *tc.prior)
				req.ProposedNewState = imageValue(t, proposed(*tc.prior, tc.config))
			}
			resp, err := newServer("test").PlanResourceChange(context.Background(), req)
			if err != nil || len(resp.Diagnostics) > 0 {
				t.Fatalf("plan: %v %+v", err, resp.Diagnostics)
			}
			v, _ := decode(resp.PlannedState, imageResource{}.schema())
			planned, _ := readImage(v)
			if planned.Digest.Unknown != tc.wantUnknown || planned.Reference.Unknown != tc.wantUnknown || planned.ID.Unknown != tc.wantUnknown {
				t.Errorf("digest unknown = %v, want %v", planned.Digest.Unknown, tc.wantUnknown)
			}
			if planned.Source != tc.config.Source || planned.Destination != tc.config.Destination || planned.Platform != tc.config.Platform {
				t.Errorf("planned configuration %+v differs from the configuration %+v", planned, tc.config)
			}
			if replace := len(resp.RequiresReplace) > 0; replace != tc.wantReplace {
				t.Errorf("requires replace = %v, want %v", resp.RequiresReplace, tc.wantReplace)
			}
			if string(resp.PlannedPrivate) != string(tc.private) {
				t.Errorf("private state %q not carried to apply", resp.PlannedPrivate)
			}
		})
	}
	t.Run("destroy plans a null state", func(t *testing.T) {
		resp, _ := newServer("test").PlanResourceChange(context.Background(), &tfprotov6.PlanResourceChangeRequest{
			TypeName: "imagesync_image", PriorState: imageValue(t, stored(base)), ProposedNewState: nullImage(t), Config: nullImage(t),
		})
		v, _ := decode(resp.PlannedState, imageResource{}.schema())
		if !v.IsNull() {
			t.Errorf("planned %v, want null", v)
		}
	})
}

func ptr[T any](v T) *T { return &v }

// imported is the state after `terraform import` by destination and a refresh.
func imported(destination string) image {
	return stored(image{Destination: knownString(destination), Source: nullString, Platform: nullString})
}

func TestUpgradeResourceStateDropsRemovedAttributes(t *testing.T) {
	raw := `{"id":"r.io/a@` + testDigest + `","source":"alpine","destination":"r.io/a","platform":null,"digest":"` + testDigest + `","reference":"r.io/a@` + testDigest + `","retired_attribute":"x"}`
	resp, err := newServer("test").UpgradeResourceState(context.Background(), &tfprotov6.UpgradeResourceStateRequest{
		TypeName: "imagesync_image", RawState: &tfprotov6.RawState{JSON: []byte(raw)},
	})
	if err != nil || len(resp.Diagnostics) > 0 {
		t.Fatalf("upgrade: %v %+v", err, resp.Diagnostics)
	}
	v, _ := decode(resp.UpgradedState, imageResource{}.schema())
	m, _ := readImage(v)
	if m.Digest.Value != testDigest || m.Source.Value != "alpine" {
		t.Errorf("upgraded state %+v", m)
	}
}

func TestUnknownTypeIsADiagnostic(t *testing.T) {
	resp, err := newServer("test").PlanResourceChange(context.Background(), &tfprotov6.PlanResourceChangeRequest{TypeName: "imagesync_nope"})
	if err != nil || len(resp.Diagnostics) != 1 || !strings.Contains(resp.Diagnostics[0].Detail, "imagesync_nope") {
		t.Errorf("err %v, diagnostics %+v", err, resp.Diagnostics)
	}
}

func TestCopyFailureNamesTheSideThatFailed(t *testing.T) {
	src, _ := registryclient.ParseReference("ghcr.io/org/app:1.0")
	dst, _ := registryclient.ParseReference("123.dkr.ecr.eu-west-1.amazonaws.com/mirror/app")
	tgt := target{source: src, destination: dst}
	for _, tc := range []struct {
		name, attr, advice string
		err                error
	}{
		{"a destination repository that does not exist", "destination", "create it first",
			&registryclient.Error{Method: "POST", URL: dst.Registry + "/v2/mirror/app/blobs/uploads/", Status: 404, Errors: []registryclient.ErrorDetail{{Code: "NAME_UNKNOWN"}}}},
		{"a source tag that does not exist", "source", "Check that ghcr.io/org/app:1.0 exists",
			&registryclient.Error{Method: "GET", URL: "ghcr.io/v2/org/app/manifests/1.0", Status: 404, Errors: []registryclient.ErrorDetail{{Code: "MANIFEST_UNKNOWN"}}}},
		{"no push permission at the destination", "", "lack permission to push",
			&registryclient.Error{Method: "POST", URL: dst.Registry + "/v2/mirror/app/blobs/uploads/", Status: 403, Errors: []registryclient.ErrorDetail{{Code: "DENIED"}}}},
	} {
		t.Run(tc.name+" is reported on "+tc.attr, func(t *testing.T) {
			diags := copyFailed(fmt.Errorf("copy: %w", tc.err), tgt)
			d := diags[0]
			wantPath := tftypes.NewAttributePath().WithAttributeName(tc.attr)
			if tc.attr == "" {
				wantPath = nil
			}
			if (d.Attribute == nil) != (wantPath == nil) || (wantPath != nil && !d.Attribute.Equal(wantPath)) || !strings.Contains(d.Detail, tc.advice) {
				t.Errorf("diagnostic on %v: %s", d.Attribute, d.Detail)
			}
		})
	}
}
