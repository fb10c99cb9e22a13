package tfprotov6server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
	"github.com/imagesync/terraform-provider-imagesync/tfprotov6server"
)

// standIn is the provider users migrate from, reduced to what a move needs: one
// resource type with its old schema, whose plan fills the computed attributes with
// fixed values. Terraform needs it installed, since the old state names it; the RPCs a
// move does not use fall through to an imagesync server.
type standIn struct {
	tfprotov6.ProviderServer
	typeName string
	schema   *tfprotov6.Schema
	computed map[string]string // attribute → value its plan sets
}

func newStandIn(typeName string, required, optional []string, computed map[string]string) *standIn {
	s := &standIn{ProviderServer: tfprotov6server.New("test")(), typeName: typeName, computed: computed}
	block := &tfprotov6.SchemaBlock{}
	for _, n := range required {
		block.Attributes = append(block.Attributes, &tfprotov6.SchemaAttribute{Name: n, Type: tftypes.String, Required: true})
	}
	for _, n := range optional {
		block.Attributes = append(block.Attributes, &tfprotov6.SchemaAttribute{Name: n, Type: tftypes.String, Optional: true})
	}
	for n := range computed {
		block.Attributes = append(block.Attributes, &tfprotov6.SchemaAttribute{Name: n, Type: tftypes.String, Computed: true})
	}
	s.schema = &tfprotov6.Schema{Block: block}
	return s
}

func (s *standIn) GetMetadata(context.Context, *tfprotov6.GetMetadataRequest) (*tfprotov6.GetMetadataResponse, error) {
	return &tfprotov6.GetMetadataResponse{Resources: []tfprotov6.ResourceMetadata{{TypeName: s.typeName}}}, nil
}

func (s *standIn) GetProviderSchema(context.Context, *tfprotov6.GetProviderSchemaRequest) (*tfprotov6.GetProviderSchemaResponse, error) {
	return &tfprotov6.GetProviderSchemaResponse{Provider: &tfprotov6.Schema{Block: &tfprotov6.SchemaBlock{}}, ResourceSchemas: map[string]*tfprotov6.Schema{s.typeName: s.schema}}, nil
}

func (s *standIn) ValidateProviderConfig(_ context.Context, req *tfprotov6.ValidateProviderConfigRequest) (*tfprotov6.ValidateProviderConfigResponse, error) {
	return &tfprotov6.ValidateProviderConfigResponse{PreparedConfig: req.Config}, nil
}

func (s *standIn) ConfigureProvider(context.Context, *tfprotov6.ConfigureProviderRequest) (*tfprotov6.ConfigureProviderResponse, error) {
	return &tfprotov6.ConfigureProviderResponse{}, nil
}

func (s *standIn) ValidateResourceConfig(context.Context, *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	return &tfprotov6.ValidateResourceConfigResponse{}, nil
}

func (s *standIn) UpgradeResourceState(_ context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	v, err := req.RawState.UnmarshalWithOpts(s.schema.ValueType(), tfprotov6.UnmarshalOpts{ValueFromJSONOpts: tftypes.ValueFromJSONOpts{IgnoreUndefinedAttributes: true}})
	if err != nil {
		return nil, err
	}
	dv, err := tfprotov6.NewDynamicValue(s.schema.ValueType(), v)
	return &tfprotov6.UpgradeResourceStateResponse{UpgradedState: &dv}, err
}

func (s *standIn) ReadResource(_ context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	return &tfprotov6.ReadResourceResponse{NewState: req.CurrentState, Private: req.Private}, nil
}

func (s *standIn) PlanResourceChange(_ context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	v, err := req.ProposedNewState.Unmarshal(s.schema.ValueType())
	if err != nil || v.IsNull() {
		return &tfprotov6.PlanResourceChangeResponse{PlannedState: req.ProposedNewState}, err
	}
	attrs := map[string]tftypes.Value{}
	if err := v.As(&attrs); err != nil {
		return nil, err
	}
	for n, val := range s.computed {
		attrs[n] = tftypes.NewValue(tftypes.String, val)
	}
	dv, err := tfprotov6.NewDynamicValue(s.schema.ValueType(), tftypes.NewValue(s.schema.ValueType(), attrs))
	return &tfprotov6.PlanResourceChangeResponse{PlannedState: &dv}, err
}

func (s *standIn) ApplyResourceChange(_ context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	return &tfprotov6.ApplyResourceChangeResponse{NewState: req.PlannedState}, nil
}

func TestAccImageMovesFromCraneImageAndImagesync(t *testing.T) {
	reg := startAccRegistry(t, testregistry.Options{})
	src := push(t, reg, "source/app", "v1", testregistry.ImageSpec{Seed: 601})
	push(t, reg, "mirror/app", "v1", testregistry.ImageSpec{Seed: 601}) // the image the old resource copied
	source, destination := reg.Host+"/source/app:v1", reg.Host+"/mirror/app:v1"
	reference := reg.Host + "/mirror/app@" + src.Digest

	for _, tc := range []struct {
		name, local, typ string
		standIn          *standIn
		provider         string
	}{
		{"crane_image", "crane", "crane_image",
			newStandIn("crane_image", []string{"source", "destination"}, []string{"platform", "source_digest"}, map[string]string{"id": reference, "digest": src.Digest, "reference": reference}),
			""},
		{"sHesl/imagesync", "shesl", "imagesync",
			newStandIn("imagesync", []string{"source", "destination"}, nil, map[string]string{"id": destination + "@" + src.Digest}),
			"provider = shesl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			factories := map[string]func() (tfprotov6.ProviderServer, error){
				"imagesync": providers["imagesync"],
				tc.local:    func() (tfprotov6.ProviderServer, error) { return tc.standIn, nil },
			}
			old := fmt.Sprintf("resource %q \"app\" {\n  %s\n  source = %q\n  destination = %q\n}\n", tc.typ, tc.provider, source, destination)
			moved := fmt.Sprintf("moved {\n  from = %s.app\n  to = imagesync_image.app\n}\n", tc.typ) + imageConfig(source, destination, "")
			moved = replaceAddr(moved)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: factories,
				Steps: []resource.TestStep{{
					Config: old,
				}, {
					Config: moved,
					ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("imagesync_image.app", plancheck.ResourceActionNoop),
					}},
					ConfigStateChecks: expectStateAt("imagesync_image.app", reg, "mirror/app", src.Digest),
				}},
			})
		})
	}
}

// replaceAddr renames imageConfig's imagesync_image.test to imagesync_image.app.
func replaceAddr(config string) string {
	return strings.ReplaceAll(config, `resource "imagesync_image" "test"`, `resource "imagesync_image" "app"`)
}
