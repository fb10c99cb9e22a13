package tfprotov6server

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// The bad input catalogue: every way a configuration, a registry, the network, the
// credentials or a local file can be wrong, driven through the server's RPCs in the
// order Terraform calls them. Each row must end in one diagnostic that names the
// attribute (or, where no attribute is to blame, the registry or file) and says what
// to do next; never a panic, never a gRPC error, never a hang.

// badInput is one row of the catalogue.
type badInput struct {
	name string // a sentence
	// provider is the provider block; nil is an empty one.
	provider *tfprotov6.DynamicValue
	// env prepares the environment of the row (Docker config, PATH); may be nil.
	env func(t *testing.T)
	// run drives the RPCs after the provider is configured.
	run step

	rpc      string                       // the RPC that must report it
	severity tfprotov6.DiagnosticSeverity // error unless set
	attr     string                       // "registry_auth[0].address"; "argument 1" for a function; "" for none
	names    string                       // what the detail must name: the registry, image or file
	next     string                       // a phrase of the next step
	hidden   string                       // text that must not appear (a secret, a helper's output)
	within   time.Duration                // how long the row may take; 0 is rowTimeout
}

// rowTimeout bounds a row: every failure in the catalogue is a fast one.
const rowTimeout = 30 * time.Second

// answer is what the RPCs of a row said: the diagnostics of the RPC that failed (or of
// the last one), and which RPC that was.
type answer struct {
	rpc      string
	diags    []*tfprotov6.Diagnostic
	argument *int64 // of a function error
}

// step runs RPCs against a configured server.
type step func(t *testing.T, ctx context.Context, s *Server) answer

// runBadInput configures a server as Terraform would and runs the row, failing it on a
// panic, a gRPC error or a hang.
func runBadInput(t *testing.T, row badInput) {
	t.Helper()
	if row.env != nil {
		row.env(t)
	}
	within := row.within
	if within == 0 {
		within = rowTimeout
	}
	done := make(chan answer, 1)
	started := time.Now()
	go func() {
		a := answer{rpc: "(none: the row stopped)"}
		// Deferred, so that a t.Fatal inside the row (which ends this goroutine) still
		// answers rather than looking like a hang.
		defer func() {
			if p := recover(); p != nil {
				t.Errorf("panic: %v\n%s", p, debug.Stack())
			}
			done <- a
		}()
		a = configureAndRun(t, row)
	}()
	var a answer
	select {
	case a = <-done:
	case <-time.After(within):
		t.Fatalf("no answer within %s: a bad input must end, not hang", within)
	}
	if t.Failed() {
		return
	}
	checkAnswer(t, row, a)
	if elapsed := time.Since(started); testing.Verbose() {
		t.Logf("%s answered in %s: %s", a.rpc, elapsed.Round(time.Millisecond), render(a.diags))
	}
}

func configureAndRun(t *testing.T, row badInput) answer {
	ctx := t.Context()
	s := newServer("test")
	config := row.provider
	if config == nil {
		config = providerValue(t, nil)
	}
	v, err := s.ValidateProviderConfig(ctx, &tfprotov6.ValidateProviderConfigRequest{Config: config})
	noGRPCError(t, "ValidateProviderConfig", err)
	if hasError(v.Diagnostics) {
		return answer{rpc: "ValidateProviderConfig", diags: v.Diagnostics}
	}
	c, err := s.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: config})
	noGRPCError(t, "ConfigureProvider", err)
	if hasError(c.Diagnostics) {
		return answer{rpc: "ConfigureProvider", diags: c.Diagnostics}
	}
	return row.run(t, ctx, s)
}

// checkAnswer asserts the row's one diagnostic: severity, where, what and what next.
func checkAnswer(t *testing.T, row badInput, a answer) {
	t.Helper()
	if a.rpc != row.rpc {
		t.Errorf("reported by %s, want %s: %s", a.rpc, row.rpc, render(a.diags))
	}
	severity := row.severity
	if severity == tfprotov6.DiagnosticSeverityInvalid {
		severity = tfprotov6.DiagnosticSeverityError
	}
	var found []*tfprotov6.Diagnostic
	for _, d := range a.diags {
		if d.Severity == severity {
			found = append(found, d)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one %s, got: %s", severity, render(a.diags))
	}
	d := found[0]
	switch arg, isArg := strings.CutPrefix(row.attr, "argument "); {
	case isArg:
		if a.argument == nil || fmt.Sprint(*a.argument) != arg {
			t.Errorf("function error about argument %v, want %s", a.argument, arg)
		}
	case row.attr == "":
		if d.Attribute != nil {
			t.Errorf("diagnostic on %s, want one about no attribute", d.Attribute)
		}
	case d.Attribute == nil || !d.Attribute.Equal(attributePath(row.attr)):
		t.Errorf("diagnostic on %v, want %s", d.Attribute, row.attr)
	}
	if !strings.Contains(d.Detail, row.names) {
		t.Errorf("detail does not name %q:\n%s", row.names, d.Detail)
	}
	if row.next == "" || !strings.Contains(d.Detail, row.next) {
		t.Errorf("detail does not say the next step %q:\n%s", row.next, d.Detail)
	}
	if row.hidden != "" && strings.Contains(d.Summary+d.Detail, row.hidden) {
		t.Errorf("diagnostic shows %q:\n%s", row.hidden, d.Detail)
	}
}

func noGRPCError(t *testing.T, rpc string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s returned a gRPC error: %v", rpc, err)
	}
}

func hasError(diags []*tfprotov6.Diagnostic) bool { return diagnostics(diags).hasError() }

func render(diags []*tfprotov6.Diagnostic) string {
	if len(diags) == 0 {
		return "no diagnostics"
	}
	var b strings.Builder
	for _, d := range diags {
		fmt.Fprintf(&b, "\n  %s on %v: %s: %s", d.Severity, d.Attribute, d.Summary, d.Detail)
	}
	return b.String()
}

// createImage runs what `terraform apply` does for a new imagesync_image: validate,
// plan, apply, stopping at the first RPC that reports an error. A failed apply must
// leave nothing in state.
func createImage(m image) step {
	return func(t *testing.T, ctx context.Context, s *Server) answer {
		config := imageValue(t, m)
		v, err := s.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: "imagesync_image", Config: config})
		noGRPCError(t, "ValidateResourceConfig", err)
		if hasError(v.Diagnostics) {
			return answer{rpc: "ValidateResourceConfig", diags: v.Diagnostics}
		}
		p, err := s.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
			TypeName: "imagesync_image", PriorState: nullImage(t), ProposedNewState: config, Config: config,
		})
		noGRPCError(t, "PlanResourceChange", err)
		if hasError(p.Diagnostics) {
			return answer{rpc: "PlanResourceChange", diags: p.Diagnostics}
		}
		a, err := s.ApplyResourceChange(ctx, &tfprotov6.ApplyResourceChangeRequest{
			TypeName: "imagesync_image", PriorState: nullImage(t), PlannedState: p.PlannedState, Config: config, PlannedPrivate: p.PlannedPrivate,
		})
		noGRPCError(t, "ApplyResourceChange", err)
		if hasError(a.Diagnostics) {
			if state, err := decode(a.NewState, imageResource{}.schema()); err != nil || !state.IsNull() {
				t.Errorf("a failed create recorded state: %v %v", state, err)
			}
		}
		return answer{rpc: "ApplyResourceChange", diags: append(p.Diagnostics, a.Diagnostics...)}
	}
}

// planUpdate plans config against a resource already in state as prior.
func planUpdate(prior, config image, private []byte) step {
	return func(t *testing.T, ctx context.Context, s *Server) answer {
		proposed := config
		proposed.ID, proposed.Digest, proposed.Reference = prior.ID, prior.Digest, prior.Reference
		p, err := s.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
			TypeName: "imagesync_image", PriorState: imageValue(t, prior), ProposedNewState: imageValue(t, proposed),
			Config: imageValue(t, config), PriorPrivate: private,
		})
		noGRPCError(t, "PlanResourceChange", err)
		return answer{rpc: "PlanResourceChange", diags: p.Diagnostics}
	}
}

// refresh runs ReadResource on a resource in state.
func refresh(state image) step {
	return func(t *testing.T, ctx context.Context, s *Server) answer {
		r, err := s.ReadResource(ctx, &tfprotov6.ReadResourceRequest{TypeName: "imagesync_image", CurrentState: imageValue(t, state)})
		noGRPCError(t, "ReadResource", err)
		return answer{rpc: "ReadResource", diags: r.Diagnostics}
	}
}

// readData validates and reads a data source whose configuration sets attrs; the
// others are null.
func readData(typeName string, attrs map[string]tftypes.Value) step {
	return func(t *testing.T, ctx context.Context, s *Server) answer {
		schema := s.dataSources[typeName].schema()
		typ := schema.ValueType().(tftypes.Object)
		all := map[string]tftypes.Value{}
		for name, at := range typ.AttributeTypes {
			all[name] = tftypes.NewValue(at, nil)
		}
		for k, v := range attrs {
			all[k] = v
		}
		config, err := encode(tftypes.NewValue(typ, all), schema)
		if err != nil {
			t.Fatal(err)
		}
		v, err := s.ValidateDataResourceConfig(ctx, &tfprotov6.ValidateDataResourceConfigRequest{TypeName: typeName, Config: config})
		noGRPCError(t, "ValidateDataResourceConfig", err)
		if hasError(v.Diagnostics) {
			return answer{rpc: "ValidateDataResourceConfig", diags: v.Diagnostics}
		}
		r, err := s.ReadDataSource(ctx, &tfprotov6.ReadDataSourceRequest{TypeName: typeName, Config: config})
		noGRPCError(t, "ReadDataSource", err)
		return answer{rpc: "ReadDataSource", diags: r.Diagnostics}
	}
}

// call runs a provider function with string arguments; its error becomes the answer's
// one diagnostic.
func callStep(name string, args ...string) step {
	return func(t *testing.T, ctx context.Context, s *Server) answer {
		req := &tfprotov6.CallFunctionRequest{Name: name}
		for _, a := range args {
			dv, err := tfprotov6.NewDynamicValue(tftypes.String, tftypes.NewValue(tftypes.String, a))
			if err != nil {
				t.Fatal(err)
			}
			req.Arguments = append(req.Arguments, &dv)
		}
		resp, err := s.CallFunction(ctx, req)
		noGRPCError(t, "CallFunction", err)
		if resp.Error == nil {
			return answer{rpc: "CallFunction"}
		}
		return answer{rpc: "CallFunction", argument: resp.Error.FunctionArgument, diags: []*tfprotov6.Diagnostic{{
			Severity: tfprotov6.DiagnosticSeverityError, Summary: "function error", Detail: resp.Error.Text,
		}}}
	}
}

// stopAfter runs s, calling StopProvider after d as Terraform does on Ctrl-C.
func stopAfter(d time.Duration, s step) step {
	return func(t *testing.T, ctx context.Context, srv *Server) answer {
		timer := time.AfterFunc(d, func() { _, _ = srv.StopProvider(context.Background(), &tfprotov6.StopProviderRequest{}) })
		defer timer.Stop()
		return s(t, ctx, srv)
	}
}
