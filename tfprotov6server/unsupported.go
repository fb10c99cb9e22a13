package tfprotov6server

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// The RPCs of features imagesync does not offer yet, kept together so that a new
// terraform-plugin-go version touches one file. Each answers with a diagnostic (or an
// empty answer where Terraform calls it unconditionally), never a gRPC error.

func unsupported(what string) []*tfprotov6.Diagnostic {
	var d diagnostics
	d.error("Not supported", fmt.Sprintf("The imagesync provider does not support %s.", what))
	return d
}

// GetResourceIdentitySchemas answers that no resource has an identity schema.
func (s *Server) GetResourceIdentitySchemas(context.Context, *tfprotov6.GetResourceIdentitySchemasRequest) (*tfprotov6.GetResourceIdentitySchemasResponse, error) {
	return &tfprotov6.GetResourceIdentitySchemasResponse{IdentitySchemas: map[string]*tfprotov6.ResourceIdentitySchema{}}, nil
}

// UpgradeResourceIdentity is never called while no resource has an identity.
func (s *Server) UpgradeResourceIdentity(context.Context, *tfprotov6.UpgradeResourceIdentityRequest) (*tfprotov6.UpgradeResourceIdentityResponse, error) {
	return &tfprotov6.UpgradeResourceIdentityResponse{Diagnostics: unsupported("resource identities")}, nil
}

// GenerateResourceConfig refuses config generation.
func (s *Server) GenerateResourceConfig(context.Context, *tfprotov6.GenerateResourceConfigRequest) (*tfprotov6.GenerateResourceConfigResponse, error) {
	return &tfprotov6.GenerateResourceConfigResponse{Diagnostics: unsupported("generating configuration")}, nil
}

// ValidateEphemeralResourceConfig: there are no ephemeral resources.
func (s *Server) ValidateEphemeralResourceConfig(_ context.Context, req *tfprotov6.ValidateEphemeralResourceConfigRequest) (*tfprotov6.ValidateEphemeralResourceConfigResponse, error) {
	return &tfprotov6.ValidateEphemeralResourceConfigResponse{Diagnostics: unsupported("the ephemeral resource " + req.TypeName)}, nil
}

// OpenEphemeralResource: there are no ephemeral resources.
func (s *Server) OpenEphemeralResource(_ context.Context, req *tfprotov6.OpenEphemeralResourceRequest) (*tfprotov6.OpenEphemeralResourceResponse, error) {
	return &tfprotov6.OpenEphemeralResourceResponse{Diagnostics: unsupported("the ephemeral resource " + req.TypeName)}, nil
}

// RenewEphemeralResource: there are no ephemeral resources.
func (s *Server) RenewEphemeralResource(_ context.Context, req *tfprotov6.RenewEphemeralResourceRequest) (*tfprotov6.RenewEphemeralResourceResponse, error) {
	return &tfprotov6.RenewEphemeralResourceResponse{Diagnostics: unsupported("the ephemeral resource " + req.TypeName)}, nil
}

// CloseEphemeralResource: there are no ephemeral resources.
func (s *Server) CloseEphemeralResource(_ context.Context, req *tfprotov6.CloseEphemeralResourceRequest) (*tfprotov6.CloseEphemeralResourceResponse, error) {
	return &tfprotov6.CloseEphemeralResourceResponse{Diagnostics: unsupported("the ephemeral resource " + req.TypeName)}, nil
}
