package tfprotov6server

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
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
	m := emptyImage()
	m.Source, m.Destination = knownString(source), knownString(destination)
	if platform != "" {
		m.Platform = knownString(platform)
	}
	return m
}

func with(m image, f func(*image)) image { f(&m); return m }

func TestValidateNamesTheAttribute(t *testing.T) {
	for _, tc := range []struct {
		name, attr string
		config     image
	}{
		{"an uppercase source", "source", configured("ghcr.io/Org/app:1", "r.io/mirror/app", "")},
		{"a destination with a digest", "destination", configured("alpine", "r.io/mirror/app@"+testDigest, "")},
		{"a destination without a repository", "destination", configured("alpine", "r.io/", "")},
		{"a platform without an architecture", "platform", configured("alpine", "r.io/mirror/app", "linux")},
		{"a destination that is the source itself", "destination", configured("r.io/mirror/app:v1", "R.IO/mirror/app", "")},
		{"an unknown compression", "compression", with(configured("alpine", "r.io/mirror/app", ""), func(m *image) { m.Compression = knownString("zstd") })},
		{"an unknown drift policy", "destination_drift", with(configured("alpine", "r.io/mirror/app", ""), func(m *image) { m.DestinationDrift = knownString("ignore") })},
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
	reg := testregistry.StartT(t, testregistry.Options{})
	v1, err := reg.Push(t.Context(), "source/app", "v1", testregistry.ImageSpec{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	v2, err := reg.Push(t.Context(), "source/app", "v2", testregistry.ImageSpec{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	multi, err := reg.Push(t.Context(), "source/multi", "v1", testregistry.ImageSpec{Platforms: []string{"linux/amd64", "linux/arm64/v8"}, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	src := reg.Host + "/source/app:v1"
	dst := reg.Host + "/mirror/app"
	base := configured(src, dst, "")
	with := func(m image, f func(*image)) image { f(&m); return m }
	// stored is the state after a copy of m that left digest d at dst:v1.
	storedAt := func(m image, d string) image {
		ref, _ := registryclient.ParseReference(dst)
		return m.withDigest(ref, d)
	}
	pushed := func(d string) []byte { return imagePrivate{Digest: d, Source: d, SourceRoot: d}.bytes() }
	// proposed is what Terraform proposes: the configuration with the prior computed values.
	proposed := func(prior, config image) image {
		config.ID, config.Digest, config.Reference = prior.ID, prior.Digest, prior.Reference
		return config
	}
	unknown := "(unknown)"
	for _, tc := range []struct {
		name        string
		prior       *image
		config      image
		private     []byte
		wantDigest  string // "" = the prior state unchanged; unknown = known after apply
		wantReplace string
	}{
		{"create shows the source's digest", nil, base, nil, v1.Digest, ""},
		{"nothing changed plans nothing", ptr(storedAt(base, v1.Digest)), base, pushed(v1.Digest), "", ""},
		{"a source tag that moved shows the new digest", ptr(storedAt(base, v1.Digest)), with(base, func(m *image) {
			m.Source = knownString(reg.Host + "/source/app:v2")
			m.Destination = knownString(dst + ":v1")
		}), pushed(v1.Digest), v2.Digest, ""},
		{"a platform of an index shows that child's digest", nil, with(base, func(m *image) {
			m.Source = knownString(reg.Host + "/source/multi:v1")
			m.Platform = knownString("linux/arm64")
		}), nil, multi.Children["linux/arm64/v8"], ""},
		{"writing the implicit tag explicitly changes nothing", ptr(storedAt(base, v1.Digest)), with(base, func(m *image) { m.Destination = knownString(dst + ":v1") }), pushed(v1.Digest), "", ""},
		{"a new destination replaces", ptr(storedAt(base, v1.Digest)), with(base, func(m *image) { m.Destination = knownString(reg.Host + "/other/app") }), pushed(v1.Digest), v1.Digest, "destination"},
		{"a tagless destination whose source tag changes replaces", ptr(storedAt(base, v1.Digest)), with(base, func(m *image) { m.Source = knownString(reg.Host + "/source/app:v2") }), pushed(v1.Digest), v2.Digest, "source"},
		{"a source_digest change updates", ptr(storedAt(base, v1.Digest)), with(base, func(m *image) { m.SourceDigest = knownString("abc") }), pushed(v1.Digest), v1.Digest, ""},
		{"a destination overwritten behind Terraform's back is restored", ptr(storedAt(base, v2.Digest)), base, pushed(v1.Digest), v1.Digest, ""},
		{"a destination overwritten with destination_drift = accept is kept", ptr(storedAt(with(base, func(m *image) { m.DestinationDrift = knownString("accept") }), v2.Digest)), with(base, func(m *image) { m.DestinationDrift = knownString("accept") }), pushed(v1.Digest), "", ""},
		{"an image imported by the tag the configuration gives it copies nothing", ptr(imported(dst+":v1", v1.Digest)), base, nil, v1.Digest, ""},
		{"an image imported under another tag is replaced", ptr(imported(dst+":v0", v1.Digest)), base, nil, v1.Digest, "destination"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := &tfprotov6.PlanResourceChangeRequest{TypeName: "imagesync_image", Config: imageValue(t, tc.config), PriorPrivate: tc.private}
			want := tc.config
			if tc.prior == nil {
				req.PriorState = nullImage(t)
				req.ProposedNewState = imageValue(t, tc.config)
			} else {
				req.PriorState = imageValue(t, *tc.prior)
				req.ProposedNewState = imageValue(t, proposed(*tc.prior, tc.config))
				want = proposed(*tc.prior, tc.config)
			}
			switch tc.wantDigest {
			case "":
			case unknown:
				want = want.withUnknownDigest()
			default:
				tgt, _ := parseTarget(tc.config)
				want = want.withDigest(tgt.at(), tc.wantDigest)
			}
			resp, err := newServer("test").PlanResourceChange(context.Background(), req)
			if err != nil || len(resp.Diagnostics) > 0 {
				t.Fatalf("plan: %v %+v", err, resp.Diagnostics)
			}
			v, _ := decode(resp.PlannedState, imageResource{}.schema())
			if !v.Equal(want.value()) {
				planned, _ := readImage(v)
				t.Errorf("planned\n  %+v\nwant\n  %+v", planned, want)
			}
			replace := ""
			if len(resp.RequiresReplace) > 0 {
				replace = resp.RequiresReplace[0].String()
			}
			if !strings.Contains(replace, tc.wantReplace) || (tc.wantReplace == "") != (replace == "") {
				t.Errorf("requires replace = %q, want %q", replace, tc.wantReplace)
			}
		})
	}
	t.Run("destroy plans a null state", func(t *testing.T) {
		resp, _ := newServer("test").PlanResourceChange(context.Background(), &tfprotov6.PlanResourceChangeRequest{
			TypeName: "imagesync_image", PriorState: imageValue(t, storedAt(base, v1.Digest)), ProposedNewState: nullImage(t), Config: nullImage(t),
		})
		v, _ := decode(resp.PlannedState, imageResource{}.schema())
		if !v.IsNull() {
			t.Errorf("planned %v, want null", v)
		}
	})
	t.Run("a source that cannot be reached warns and keeps the resource", func(t *testing.T) {
		gone := configured("127.0.0.1:1/source/app:v1", dst+":v1", "")
		prior := storedAt(gone, v1.Digest)
		resp, _ := newServer("test").PlanResourceChange(context.Background(), &tfprotov6.PlanResourceChangeRequest{
			TypeName: "imagesync_image", PriorState: imageValue(t, prior), ProposedNewState: imageValue(t, prior), Config: imageValue(t, gone), PriorPrivate: pushed(v1.Digest),
		})
		if len(resp.Diagnostics) != 1 || resp.Diagnostics[0].Severity != tfprotov6.DiagnosticSeverityWarning || !strings.Contains(resp.Diagnostics[0].Detail, "127.0.0.1:1/source/app:v1") {
			t.Fatalf("diagnostics %+v, want one warning naming the source", resp.Diagnostics)
		}
		v, _ := decode(resp.PlannedState, imageResource{}.schema())
		if !v.Equal(prior.value()) {
			t.Errorf("planned %v, want the prior state", v)
		}
	})
	t.Run("a source that cannot be reached at create is an error", func(t *testing.T) {
		gone := configured("127.0.0.1:1/source/app:v1", dst+":v1", "")
		resp, _ := newServer("test").PlanResourceChange(context.Background(), &tfprotov6.PlanResourceChangeRequest{
			TypeName: "imagesync_image", PriorState: nullImage(t), ProposedNewState: imageValue(t, gone), Config: imageValue(t, gone),
		})
		if len(resp.Diagnostics) != 1 || resp.Diagnostics[0].Severity != tfprotov6.DiagnosticSeverityError || !resp.Diagnostics[0].Attribute.Equal(tftypes.NewAttributePath().WithAttributeName("source")) {
			t.Fatalf("diagnostics %+v, want one error on source", resp.Diagnostics)
		}
	})
}

func ptr[T any](v T) *T { return &v }

// stored is the state after a successful copy of m.
func stored(m image) image {
	ref, _ := registryclient.ParseReference(m.Destination.Value)
	return m.withDigest(ref, testDigest)
}

func TestOneDestinationHasOneSpelling(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"R.IO/mirror/app", "r.io/mirror/app"},
		{"index.docker.io/library/alpine", "docker.io/library/alpine"},
		{"registry-1.docker.io/org/app", "org/app"},
		{"r.io/mirror/app:3.20", "r.io/mirror/app"},
	} {
		t.Run(tc.a+" is "+tc.b, func(t *testing.T) {
			ta, _ := parseTarget(configured("alpine:3.20", tc.a, ""))
			tb, _ := parseTarget(configured("alpine:3.20", tc.b, ""))
			if ta.at() != tb.at() {
				t.Errorf("%v and %v are different places", ta.at(), tb.at())
			}
		})
	}
}

// imported is the state after `terraform import` by destination and a refresh.
func imported(destination, d string) image {
	m := emptyImage()
	m.Destination = knownString(destination)
	ref, _ := registryclient.ParseReference(destination)
	return m.withDigest(ref, d)
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
			&registryclient.Error{Method: "POST", URL: dst.Registry + "/v2/mirror/app/blobs/uploads/", Registry: dst.Registry, Repository: dst.Repository, Status: 404, Errors: []registryclient.ErrorDetail{{Code: "NAME_UNKNOWN"}}}},
		{"a source tag that does not exist", "source", "Check that ghcr.io/org/app:1.0 exists",
			&registryclient.Error{Method: "GET", URL: "ghcr.io/v2/org/app/manifests/1.0", Registry: src.Registry, Repository: src.Repository, Status: 404, Errors: []registryclient.ErrorDetail{{Code: "MANIFEST_UNKNOWN"}}}},
		{"no push permission at the destination", "destination", "check push permission",
			&registryclient.Error{Method: "POST", URL: dst.Registry + "/v2/mirror/app/blobs/uploads/", Registry: dst.Registry, Repository: dst.Repository, Status: 403, Errors: []registryclient.ErrorDetail{{Code: "DENIED"}}}},
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
