package tfprotov6server

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/imagesync/terraform-provider-imagesync/registryclient"
)

// This file turns resource RPCs into calls on a resource: it decodes the request's
// values, routes by type name and encodes the answer. Nothing resource-specific lives here.

// ValidateResourceConfig checks a resource's configuration without touching a registry.
func (s *Server) ValidateResourceConfig(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	r, diags := s.lookup(req.TypeName)
	if r == nil {
		return &tfprotov6.ValidateResourceConfigResponse{Diagnostics: diags}, nil
	}
	config, err := decode(req.Config, r.schema())
	if err != nil {
		diags.bug(err)
		return &tfprotov6.ValidateResourceConfigResponse{Diagnostics: diags}, nil
	}
	return &tfprotov6.ValidateResourceConfigResponse{Diagnostics: r.validate(ctx, config)}, nil
}

// UpgradeResourceState reads stored state of any earlier schema version into the
// current schema: attributes added since are null, attributes dropped are left out.
func (s *Server) UpgradeResourceState(_ context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	resp := &tfprotov6.UpgradeResourceStateResponse{}
	r, diags := s.lookup(req.TypeName)
	if r == nil {
		resp.Diagnostics = diags
		return resp, nil
	}
	schema := r.schema()
	if req.Version > schema.Version {
		diags.error("State from a newer provider", fmt.Sprintf("This %s was written by a newer imagesync provider (schema version %d, this one knows %d). Upgrade the provider.", req.TypeName, req.Version, schema.Version))
		resp.Diagnostics = diags
		return resp, nil
	}
	if req.RawState == nil || req.RawState.JSON == nil {
		resp.UpgradedState, _ = encode(tftypes.NewValue(schema.ValueType(), nil), schema)
		return resp, nil
	}
	v, err := stateFromJSON(req.RawState.JSON, schema)
	if err != nil {
		diags.error("Unreadable state", fmt.Sprintf("The stored state of this %s cannot be read: %s", req.TypeName, err))
		resp.Diagnostics = diags
		return resp, nil
	}
	if resp.UpgradedState, err = encode(v, schema); err != nil {
		diags.bug(err)
	}
	resp.Diagnostics = diags
	return resp, nil
}

// MoveResourceState takes state from another resource type (a `moved` block between
// types): crane_image and sHesl/imagesync's imagesync become imagesync_image.
func (s *Server) MoveResourceState(_ context.Context, req *tfprotov6.MoveResourceStateRequest) (*tfprotov6.MoveResourceStateResponse, error) {
	resp := &tfprotov6.MoveResourceStateResponse{}
	r, diags := s.lookup(req.TargetTypeName)
	if r == nil {
		resp.Diagnostics = diags
		return resp, nil
	}
	var raw []byte
	if req.SourceState != nil {
		raw = req.SourceState.JSON
	}
	state, ok, diags := r.moveState(moveRequest{sourceType: req.SourceTypeName, sourceProvider: req.SourceProviderAddress, sourceVersion: req.SourceSchemaVersion, sourceState: raw})
	if !ok && !diags.hasError() {
		diags.error("Cannot move state", fmt.Sprintf("%s cannot take state from %s of provider %s: moves are supported from crane_image (terraform-provider-crane) and imagesync (sHesl/imagesync).", req.TargetTypeName, req.SourceTypeName, req.SourceProviderAddress))
	}
	resp.Diagnostics = diags
	if diags.hasError() {
		return resp, nil
	}
	dv, err := encode(state, r.schema())
	if err != nil {
		resp.Diagnostics = append(resp.Diagnostics, bugDiagnostic(err))
		return resp, nil
	}
	resp.TargetState = dv
	return resp, nil
}

// ReadResource refreshes a resource from its registry.
func (s *Server) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	resp := &tfprotov6.ReadResourceResponse{}
	r, diags := s.lookup(req.TypeName)
	if r == nil {
		resp.Diagnostics = diags
		return resp, nil
	}
	schema := r.schema()
	current, err := decode(req.CurrentState, schema)
	if err != nil {
		diags.bug(err)
		resp.Diagnostics = diags
		return resp, nil
	}
	if !s.configKnown() {
		// Credentials that come from a resource being created are known only at apply;
		// keep the state as it is rather than refresh without them.
		resp.NewState, resp.Private = req.CurrentState, req.Private
		return resp, nil
	}
	ctx, cancel := s.withStop(ctx)
	defer cancel()
	res := r.read(ctx, s.registryClient(), readRequest{current: current, private: req.Private})
	resp.Private = res.private
	resp.Diagnostics = res.diags
	if resp.NewState, err = encode(res.state, schema); err != nil {
		resp.Diagnostics = append(resp.Diagnostics, bugDiagnostic(err))
	}
	return resp, nil
}

// PlanResourceChange decides what apply will do.
func (s *Server) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	resp := &tfprotov6.PlanResourceChangeResponse{}
	r, diags := s.lookup(req.TypeName)
	if r == nil {
		resp.Diagnostics = diags
		return resp, nil
	}
	schema := r.schema()
	v, err := decodeEach(schema, req.PriorState, req.ProposedNewState, req.Config)
	if err != nil {
		diags.bug(err)
		resp.Diagnostics = diags
		return resp, nil
	}
	var client *registryclient.Client
	if s.configKnown() {
		client = s.registryClient() // with credentials known only after apply, resolving waits
	}
	ctx, cancel := s.withStop(ctx)
	defer cancel()
	res := r.plan(ctx, client, planRequest{prior: v[0], proposed: v[1], config: v[2], private: req.PriorPrivate})
	resp.RequiresReplace = res.requiresReplace
	resp.PlannedPrivate = res.private
	resp.Diagnostics = res.diags
	if resp.PlannedState, err = encode(res.planned, schema); err != nil {
		resp.Diagnostics = append(resp.Diagnostics, bugDiagnostic(err))
	}
	return resp, nil
}

// ApplyResourceChange carries out a plan.
func (s *Server) ApplyResourceChange(ctx context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	resp := &tfprotov6.ApplyResourceChangeResponse{}
	r, diags := s.lookup(req.TypeName)
	if r == nil {
		resp.Diagnostics = diags
		return resp, nil
	}
	schema := r.schema()
	v, err := decodeEach(schema, req.PriorState, req.PlannedState, req.Config)
	if err != nil {
		diags.bug(err)
		resp.Diagnostics = diags
		return resp, nil
	}
	ctx, cancel := s.withStop(ctx)
	defer cancel()
	res := r.apply(ctx, s.registryClient(), applyRequest{prior: v[0], planned: v[1], config: v[2], private: req.PlannedPrivate})
	resp.Private = res.private
	resp.Diagnostics = res.diags
	if resp.NewState, err = encode(res.state, schema); err != nil {
		resp.Diagnostics = append(resp.Diagnostics, bugDiagnostic(err))
	}
	return resp, nil
}

// ImportResourceState turns an import ID into a first state; ReadResource follows.
func (s *Server) ImportResourceState(ctx context.Context, req *tfprotov6.ImportResourceStateRequest) (*tfprotov6.ImportResourceStateResponse, error) {
	resp := &tfprotov6.ImportResourceStateResponse{}
	r, diags := s.lookup(req.TypeName)
	if r == nil {
		resp.Diagnostics = diags
		return resp, nil
	}
	state, diags := r.importState(ctx, req.ID)
	resp.Diagnostics = diags
	if diags.hasError() {
		return resp, nil
	}
	dv, err := encode(state, r.schema())
	if err != nil {
		resp.Diagnostics = append(resp.Diagnostics, bugDiagnostic(err))
		return resp, nil
	}
	resp.ImportedResources = []*tfprotov6.ImportedResource{{TypeName: req.TypeName, State: dv}}
	return resp, nil
}

// decodeEach decodes several values of one schema, such as prior, planned and config.
func decodeEach(schema *tfprotov6.Schema, dvs ...*tfprotov6.DynamicValue) ([]tftypes.Value, error) {
	values := make([]tftypes.Value, len(dvs))
	for i, dv := range dvs {
		v, err := decode(dv, schema)
		if err != nil {
			return nil, err
		}
		values[i] = v
	}
	return values, nil
}

func bugDiagnostic(err error) *tfprotov6.Diagnostic {
	var d diagnostics
	d.bug(err)
	return d[0]
}
