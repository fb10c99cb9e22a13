package tfprotov6server

import (
	"context"
	"fmt"
	"reflect"
	"runtime/debug"
	"strings"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// guarded is what New hands to tf6server: every RPC of the server it wraps, with a
// panic turned into an error diagnostic. Without it a panic in any handler kills the
// plugin process and Terraform reports only "the plugin crashed", losing every other
// resource's work in flight. Terraform puts the resource's address beside a resource
// RPC's diagnostic; the diagnostic adds what the provider was doing.
//
// It forwards each method explicitly rather than embedding the server, so that an RPC
// added to tfprotov6.ProviderServer does not compile until it is guarded too.
type guarded struct{ inner tfprotov6.ProviderServer }

func guard(s tfprotov6.ProviderServer) tfprotov6.ProviderServer { return guarded{s} }

// call runs one RPC and recovers from a panic in it. doing names what the RPC was
// doing and to which type, for the diagnostic: "applying a change to imagesync_image".
func call[Req, Resp any](ctx context.Context, rpc func(context.Context, *Req) (*Resp, error), req *Req, doing string) (resp *Resp, err error) {
	defer func() {
		if v := recover(); v != nil {
			tflog.Error(ctx, "imagesync provider panic", map[string]any{"doing": doing, "panic": fmt.Sprint(v), "stack": string(debug.Stack())})
			resp, err = failed[Resp](panicDiagnostic(doing, v)), nil
		}
	}()
	return rpc(ctx, req)
}

// panicDiagnostic keeps the first line of the panic value; the whole value and the
// stack go to the log, where a bug report can take them from.
func panicDiagnostic(doing string, v any) *tfprotov6.Diagnostic {
	what, _, _ := strings.Cut(fmt.Sprint(v), "\n")
	return &tfprotov6.Diagnostic{
		Severity: tfprotov6.DiagnosticSeverityError,
		Summary:  "imagesync provider bug",
		Detail: fmt.Sprintf("The imagesync provider panicked while %s: %s\n\n"+
			"This is a bug in the provider, not in your configuration. Please report this to the provider's maintainers "+
			"with the stack trace it wrote to the log (run again with TF_LOG=ERROR to see it).", doing, what),
	}
}

// failed is an RPC's answer that carries only d. Every response has a Diagnostics
// field except the two that report errors as text.
func failed[Resp any](d *tfprotov6.Diagnostic) *Resp {
	resp := new(Resp)
	switch r := any(resp).(type) {
	case *tfprotov6.CallFunctionResponse:
		r.Error = &tfprotov6.FunctionError{Text: d.Detail}
	case *tfprotov6.StopProviderResponse:
		r.Error = d.Detail
	default:
		reflect.ValueOf(resp).Elem().FieldByName("Diagnostics").Set(reflect.ValueOf([]*tfprotov6.Diagnostic{d}))
	}
	return resp
}

func (g guarded) GetMetadata(ctx context.Context, req *tfprotov6.GetMetadataRequest) (*tfprotov6.GetMetadataResponse, error) {
	return call(ctx, g.inner.GetMetadata, req, "listing its types")
}

func (g guarded) GetProviderSchema(ctx context.Context, req *tfprotov6.GetProviderSchemaRequest) (*tfprotov6.GetProviderSchemaResponse, error) {
	return call(ctx, g.inner.GetProviderSchema, req, "building its schemas")
}

func (g guarded) GetResourceIdentitySchemas(ctx context.Context, req *tfprotov6.GetResourceIdentitySchemasRequest) (*tfprotov6.GetResourceIdentitySchemasResponse, error) {
	return call(ctx, g.inner.GetResourceIdentitySchemas, req, "building its identity schemas")
}

func (g guarded) ValidateProviderConfig(ctx context.Context, req *tfprotov6.ValidateProviderConfigRequest) (*tfprotov6.ValidateProviderConfigResponse, error) {
	return call(ctx, g.inner.ValidateProviderConfig, req, "validating the provider block")
}

func (g guarded) ConfigureProvider(ctx context.Context, req *tfprotov6.ConfigureProviderRequest) (*tfprotov6.ConfigureProviderResponse, error) {
	return call(ctx, g.inner.ConfigureProvider, req, "configuring the provider")
}

func (g guarded) StopProvider(ctx context.Context, req *tfprotov6.StopProviderRequest) (*tfprotov6.StopProviderResponse, error) {
	return call(ctx, g.inner.StopProvider, req, "stopping")
}

func (g guarded) ValidateResourceConfig(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	return call(ctx, g.inner.ValidateResourceConfig, req, "validating "+req.TypeName)
}

func (g guarded) UpgradeResourceState(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	return call(ctx, g.inner.UpgradeResourceState, req, "reading the stored state of "+req.TypeName)
}

func (g guarded) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	return call(ctx, g.inner.ReadResource, req, "refreshing "+req.TypeName)
}

func (g guarded) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	return call(ctx, g.inner.PlanResourceChange, req, "planning a change to "+req.TypeName)
}

func (g guarded) ApplyResourceChange(ctx context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	return call(ctx, g.inner.ApplyResourceChange, req, "applying a change to "+req.TypeName)
}

func (g guarded) ImportResourceState(ctx context.Context, req *tfprotov6.ImportResourceStateRequest) (*tfprotov6.ImportResourceStateResponse, error) {
	return call(ctx, g.inner.ImportResourceState, req, fmt.Sprintf("importing %q as %s", req.ID, req.TypeName))
}

func (g guarded) MoveResourceState(ctx context.Context, req *tfprotov6.MoveResourceStateRequest) (*tfprotov6.MoveResourceStateResponse, error) {
	return call(ctx, g.inner.MoveResourceState, req, fmt.Sprintf("moving %s into %s", req.SourceTypeName, req.TargetTypeName))
}

func (g guarded) UpgradeResourceIdentity(ctx context.Context, req *tfprotov6.UpgradeResourceIdentityRequest) (*tfprotov6.UpgradeResourceIdentityResponse, error) {
	return call(ctx, g.inner.UpgradeResourceIdentity, req, "reading the stored identity of "+req.TypeName)
}

func (g guarded) GenerateResourceConfig(ctx context.Context, req *tfprotov6.GenerateResourceConfigRequest) (*tfprotov6.GenerateResourceConfigResponse, error) {
	return call(ctx, g.inner.GenerateResourceConfig, req, "generating configuration for "+req.TypeName)
}

func (g guarded) ValidateDataResourceConfig(ctx context.Context, req *tfprotov6.ValidateDataResourceConfigRequest) (*tfprotov6.ValidateDataResourceConfigResponse, error) {
	return call(ctx, g.inner.ValidateDataResourceConfig, req, "validating data source "+req.TypeName)
}

func (g guarded) ReadDataSource(ctx context.Context, req *tfprotov6.ReadDataSourceRequest) (*tfprotov6.ReadDataSourceResponse, error) {
	return call(ctx, g.inner.ReadDataSource, req, "reading data source "+req.TypeName)
}

func (g guarded) GetFunctions(ctx context.Context, req *tfprotov6.GetFunctionsRequest) (*tfprotov6.GetFunctionsResponse, error) {
	return call(ctx, g.inner.GetFunctions, req, "listing its functions")
}

func (g guarded) CallFunction(ctx context.Context, req *tfprotov6.CallFunctionRequest) (*tfprotov6.CallFunctionResponse, error) {
	return call(ctx, g.inner.CallFunction, req, "calling the function "+req.Name)
}

func (g guarded) ValidateEphemeralResourceConfig(ctx context.Context, req *tfprotov6.ValidateEphemeralResourceConfigRequest) (*tfprotov6.ValidateEphemeralResourceConfigResponse, error) {
	return call(ctx, g.inner.ValidateEphemeralResourceConfig, req, "validating ephemeral resource "+req.TypeName)
}

func (g guarded) OpenEphemeralResource(ctx context.Context, req *tfprotov6.OpenEphemeralResourceRequest) (*tfprotov6.OpenEphemeralResourceResponse, error) {
	return call(ctx, g.inner.OpenEphemeralResource, req, "opening ephemeral resource "+req.TypeName)
}

func (g guarded) RenewEphemeralResource(ctx context.Context, req *tfprotov6.RenewEphemeralResourceRequest) (*tfprotov6.RenewEphemeralResourceResponse, error) {
	return call(ctx, g.inner.RenewEphemeralResource, req, "renewing ephemeral resource "+req.TypeName)
}

func (g guarded) CloseEphemeralResource(ctx context.Context, req *tfprotov6.CloseEphemeralResourceRequest) (*tfprotov6.CloseEphemeralResourceResponse, error) {
	return call(ctx, g.inner.CloseEphemeralResource, req, "closing ephemeral resource "+req.TypeName)
}
