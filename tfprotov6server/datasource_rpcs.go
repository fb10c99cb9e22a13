package tfprotov6server

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// This file turns data source RPCs into calls on a data source: it decodes the
// request's configuration, routes by type name and encodes the answer.

// ValidateDataResourceConfig checks a data source's configuration without touching a
// registry.
func (s *Server) ValidateDataResourceConfig(ctx context.Context, req *tfprotov6.ValidateDataResourceConfigRequest) (*tfprotov6.ValidateDataResourceConfigResponse, error) {
	d, diags := s.lookupDataSource(req.TypeName)
	if d == nil {
		return &tfprotov6.ValidateDataResourceConfigResponse{Diagnostics: diags}, nil
	}
	config, err := decode(req.Config, d.schema())
	if err != nil {
		diags.bug(err)
		return &tfprotov6.ValidateDataResourceConfigResponse{Diagnostics: diags}, nil
	}
	return &tfprotov6.ValidateDataResourceConfigResponse{Diagnostics: d.validate(ctx, config)}, nil
}

// ReadDataSource asks a registry. Terraform reads a data source during plan when its
// configuration is known, else during apply; either way the configuration is whole.
func (s *Server) ReadDataSource(ctx context.Context, req *tfprotov6.ReadDataSourceRequest) (*tfprotov6.ReadDataSourceResponse, error) {
	resp := &tfprotov6.ReadDataSourceResponse{}
	d, diags := s.lookupDataSource(req.TypeName)
	if d == nil {
		resp.Diagnostics = diags
		return resp, nil
	}
	schema := d.schema()
	config, err := decode(req.Config, schema)
	if err != nil {
		diags.bug(err)
		resp.Diagnostics = diags
		return resp, nil
	}
	if !config.IsFullyKnown() {
		resp.Diagnostics = notKnownYet(config)
		return resp, nil
	}
	ctx, cancel := s.withStop(ctx)
	defer cancel()
	state, diags := d.read(ctx, s.registryClient(), config)
	resp.Diagnostics = diags
	if diags.hasError() {
		return resp, nil
	}
	if resp.State, err = encode(state, schema); err != nil {
		resp.Diagnostics = append(resp.Diagnostics, bugDiagnostic(err))
	}
	return resp, nil
}

// notKnownYet refuses a read whose configuration holds values known only after apply.
// Terraform waits for them unless it may defer the read, and a provider that does not
// defer must not ask a registry for a half-known reference.
func notKnownYet(config tftypes.Value) diagnostics {
	var diags diagnostics
	attrs, err := attributes(config)
	if err != nil {
		diags.bug(err)
		return diags
	}
	for _, name := range sortedKeys(attrs) {
		if !attrs[name].IsFullyKnown() {
			diags.attrError(name, "Value not known yet", fmt.Sprintf("%s is known only after apply, so the registry cannot be asked yet. Set it from values known at plan, or apply the resources it comes from first (terraform apply -target).", name))
			return diags
		}
	}
	return diags
}
