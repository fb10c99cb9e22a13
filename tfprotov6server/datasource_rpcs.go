package tfprotov6server

import (
	"context"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
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
