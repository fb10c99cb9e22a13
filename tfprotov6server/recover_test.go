package tfprotov6server

import (
	"bytes"
	"context"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflogtest"
	acc "github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/imagesync/terraform-provider-imagesync/registryclient"
)

// panicking is a resource type that exists only in tests, added to a server's
// resources: it plans, then panics in apply, read and import as a provider bug would.
type panicking struct{}

func (panicking) schema() *tfprotov6.Schema {
	return &tfprotov6.Schema{Block: &tfprotov6.SchemaBlock{Attributes: []*tfprotov6.SchemaAttribute{
		{Name: "id", Type: tftypes.String, Computed: true},
	}}}
}

func (panicking) validate(context.Context, tftypes.Value) diagnostics { return nil }

func (p panicking) plan(_ context.Context, _ *registryclient.Client, req planRequest) planResult {
	if req.proposed.IsNull() {
		return planResult{planned: req.proposed}
	}
	typ := p.schema().ValueType()
	return planResult{planned: tftypes.NewValue(typ, map[string]tftypes.Value{"id": tftypes.NewValue(tftypes.String, tftypes.UnknownValue)})}
}

func (panicking) apply(context.Context, *registryclient.Client, applyRequest) applyResult {
	var layers map[string]int
	layers["sha256:0"]++ // a nil map: the kind of slip that reaches a release
	return applyResult{}
}

func (panicking) read(context.Context, *registryclient.Client, readRequest) readResult {
	panic("read went wrong")
}

func (panicking) moveState(moveRequest) (tftypes.Value, bool, diagnostics) {
	panic("moving state")
}

func (panicking) importState(context.Context, string) (tftypes.Value, diagnostics) {
	panic("import went wrong\nsecond line of the panic value")
}

func withPanicking() *Server {
	s := newServer("test")
	s.resources["imagesync_panic"] = panicking{}
	return s
}

func TestAPanicInAResourceIsADiagnosticNamingIt(t *testing.T) {
	ctx := context.Background()
	p := guard(withPanicking())
	schema := panicking{}.schema()
	null, err := encode(tftypes.NewValue(schema.ValueType(), nil), schema)
	if err != nil {
		t.Fatal(err)
	}
	planned, err := encode(tftypes.NewValue(schema.ValueType(), map[string]tftypes.Value{"id": tftypes.NewValue(tftypes.String, tftypes.UnknownValue)}), schema)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("apply, with the stack in the log", func(t *testing.T) {
		var log bytes.Buffer
		ctx := tflogtest.RootLogger(ctx, &log)
		resp, err := p.ApplyResourceChange(ctx, &tfprotov6.ApplyResourceChangeRequest{TypeName: "imagesync_panic", PriorState: null, PlannedState: planned, Config: null})
		expectPanicDiagnostic(t, err, resp.Diagnostics, "applying a change to imagesync_panic: assignment to entry in nil map")
		if resp.NewState != nil {
			t.Error("a panicked apply returned a new state: Terraform would record an object that was never made")
		}
		if !strings.Contains(log.String(), "panicking.apply") {
			t.Errorf("the log has no stack leading to the panic:\n%s", log.String())
		}
	})
	t.Run("refresh", func(t *testing.T) {
		resp, err := p.ReadResource(ctx, &tfprotov6.ReadResourceRequest{TypeName: "imagesync_panic", CurrentState: planned})
		expectPanicDiagnostic(t, err, resp.Diagnostics, "refreshing imagesync_panic: read went wrong")
	})
	t.Run("import names the ID and keeps the panic's first line", func(t *testing.T) {
		resp, err := p.ImportResourceState(ctx, &tfprotov6.ImportResourceStateRequest{TypeName: "imagesync_panic", ID: "r.io/app:1"})
		expectPanicDiagnostic(t, err, resp.Diagnostics, `importing "r.io/app:1" as imagesync_panic: import went wrong`)
		if strings.Contains(resp.Diagnostics[0].Detail, "second line") {
			t.Error("the diagnostic carries the whole panic value; only its first line belongs there")
		}
	})
	t.Run("the server keeps serving after a panic", func(t *testing.T) {
		resp, err := p.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: "imagesync_image", Config: imageValue(t, configured("alpine", "r.io/mirror/alpine", ""))})
		if err != nil || len(resp.Diagnostics) > 0 {
			t.Errorf("ValidateResourceConfig after a panic: %v %v", err, resp.Diagnostics)
		}
	})
}

func expectPanicDiagnostic(t *testing.T, err error, diags []*tfprotov6.Diagnostic, want string) {
	t.Helper()
	if err != nil {
		t.Fatalf("a panic became a gRPC error (%v), which Terraform reports without naming the resource", err)
	}
	if len(diags) != 1 || diags[0].Severity != tfprotov6.DiagnosticSeverityError {
		t.Fatalf("diagnostics = %v, want one error", diags)
	}
	d := diags[0]
	if d.Summary != "imagesync provider bug" || !strings.Contains(d.Detail, "panicked while "+want) || !strings.Contains(d.Detail, "Please report this") {
		t.Errorf("diagnostic %q: %q\nwant it to say it panicked while %s, and to ask for a report", d.Summary, d.Detail, want)
	}
}

// brokenServer panics in every RPC: its embedded ProviderServer is nil.
type brokenServer struct{ tfprotov6.ProviderServer }

// Every RPC Terraform can call is guarded, including those answered by a field other
// than Diagnostics.
func TestEveryRPCAnswersAPanicWithAnError(t *testing.T) {
	g := reflect.ValueOf(guard(brokenServer{}))
	rpcs := reflect.TypeFor[tfprotov6.ProviderServer]()
	for i := range rpcs.NumMethod() {
		name := rpcs.Method(i).Name
		t.Run(name, func(t *testing.T) {
			m := g.MethodByName(name)
			req := reflect.New(m.Type().In(1).Elem())
			out := m.Call([]reflect.Value{reflect.ValueOf(context.Background()), req})
			if err, _ := out[1].Interface().(error); err != nil {
				t.Fatalf("returned a gRPC error: %v", err)
			}
			if out[0].IsNil() {
				t.Fatal("returned no response")
			}
			resp := out[0].Elem()
			var text string
			switch r := out[0].Interface().(type) {
			case *tfprotov6.CallFunctionResponse:
				if r.Error != nil {
					text = r.Error.Text
				}
			case *tfprotov6.StopProviderResponse:
				text = r.Error
			default:
				if diags := resp.FieldByName("Diagnostics").Interface().([]*tfprotov6.Diagnostic); len(diags) == 1 {
					text = diags[0].Detail
				}
			}
			if !strings.Contains(text, "panicked while") || !strings.Contains(text, "nil pointer dereference") {
				t.Errorf("the answer does not report the panic: %q", text)
			}
		})
	}
}

// *Server's RPCs reach Terraform only through guarded: an RPC added to the server
// (such as an optional interface tf6server checks for) must be guarded as well.
func TestGuardForwardsEveryRPCOfTheServer(t *testing.T) {
	g := reflect.TypeFor[guarded]()
	ctx := reflect.TypeFor[context.Context]()
	s := reflect.TypeFor[*Server]()
	for i := range s.NumMethod() {
		m := s.Method(i)
		if m.Type.NumIn() == 3 && m.Type.In(1) == ctx && m.Type.NumOut() == 2 {
			if _, ok := g.MethodByName(m.Name); !ok {
				t.Errorf("Server.%s is not forwarded by guarded (recover.go): Terraform would not see it", m.Name)
			}
		}
	}
}

// Through the real CLI: the plugin survives, and Terraform names the resource beside
// the provider's account of what it was doing.
func TestAccPanicIsAnErrorNamingTheResource(t *testing.T) {
	acc.Test(t, acc.TestCase{
		ProtoV6ProviderFactories: map[string]func() (tfprotov6.ProviderServer, error){
			"imagesync": func() (tfprotov6.ProviderServer, error) { return guard(withPanicking()), nil },
		},
		Steps: []acc.TestStep{{
			Config:      `resource "imagesync_panic" "test" {}`,
			ExpectError: wordsRegexp(`imagesync provider bug`, `with imagesync_panic.test`, `The imagesync provider panicked while applying a change to imagesync_panic: assignment to entry in nil map`),
		}},
	})
}

// wordsRegexp matches the phrases in order, whatever line wrapping the CLI applies.
func wordsRegexp(phrases ...string) *regexp.Regexp {
	var parts []string
	for _, p := range phrases {
		var words []string
		for _, w := range strings.Fields(p) {
			words = append(words, regexp.QuoteMeta(w))
		}
		parts = append(parts, strings.Join(words, `\s+`))
	}
	return regexp.MustCompile(`(?s)` + strings.Join(parts, `.*`))
}
