package tfprotov6server

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

const (
	digestA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	digestB = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

// callFunction calls name through the server's CallFunction with string arguments.
func callFunction(t *testing.T, name string, args ...string) (tftypes.Value, *tfprotov6.FunctionError) {
	t.Helper()
	s := newServer("test")
	def := s.functions[name].definition()
	req := &tfprotov6.CallFunctionRequest{Name: name}
	for _, a := range args {
		dv, err := tfprotov6.NewDynamicValue(tftypes.String, tftypes.NewValue(tftypes.String, a))
		if err != nil {
			t.Fatal(err)
		}
		req.Arguments = append(req.Arguments, &dv)
	}
	resp, err := s.CallFunction(context.Background(), req)
	if err != nil {
		t.Fatalf("CallFunction returned a gRPC error: %v", err)
	}
	if resp.Error != nil {
		return tftypes.Value{}, resp.Error
	}
	v, err := resp.Result.Unmarshal(def.Return.Type)
	if err != nil {
		t.Fatal(err)
	}
	return v, nil
}

func TestParseReferenceFunction(t *testing.T) {
	for _, tc := range []struct {
		ref                               string
		registry, repository, tag, digest string // "" for null tag and digest
	}{
		{"alpine:3.20", "docker.io", "library/alpine", "3.20", ""},
		{"alpine", "docker.io", "library/alpine", "", ""},
		{"bitnami/redis:7", "docker.io", "bitnami/redis", "7", ""},
		{"index.docker.io/nginx", "docker.io", "library/nginx", "", ""},
		{"registry-1.docker.io/library/nginx:1.27", "docker.io", "library/nginx", "1.27", ""},
		{"ghcr.io/org/app:1.2@" + digestA, "ghcr.io", "org/app", "1.2", digestA},
		{"localhost:5000/team/app", "localhost:5000", "team/app", "", ""},
		{"127.0.0.1:5000/a/b/c@" + digestA, "127.0.0.1:5000", "a/b/c", "", digestA},
		{"localhost/app:v1", "localhost", "app", "v1", ""},
	} {
		t.Run(tc.ref+" is split into its parts", func(t *testing.T) {
			v, ferr := callFunction(t, "parse_reference", tc.ref)
			if ferr != nil {
				t.Fatalf("function error: %s", ferr.Text)
			}
			var parts map[string]tftypes.Value
			if err := v.As(&parts); err != nil {
				t.Fatal(err)
			}
			for name, want := range map[string]string{"registry": tc.registry, "repository": tc.repository, "tag": tc.tag, "digest": tc.digest} {
				var got *string
				if err := parts[name].As(&got); err != nil {
					t.Fatal(err)
				}
				switch {
				case want == "" && got != nil:
					t.Errorf("%s = %q, want null", name, *got)
				case want != "" && (got == nil || *got != want):
					t.Errorf("%s = %v, want %q", name, got, want)
				}
			}
		})
	}

	for _, tc := range []struct{ ref, mentions string }{
		{"", "empty"},
		{"Alpine:3.20", `"Alpine"`},
		{"alpine:", `tag ""`},
		{"alpine:3.20 ", "spaces"},
		{"ghcr.io/org/app@sha256:abc", "digest"},
		{"ghcr.io/", "repository name is missing"},
		{"ghcr.io/org//app", `component ""`},
	} {
		t.Run(tc.ref+" is refused, naming what is wrong", func(t *testing.T) {
			_, ferr := callFunction(t, "parse_reference", tc.ref)
			if ferr == nil {
				t.Fatal("no function error")
			}
			if ferr.FunctionArgument == nil || *ferr.FunctionArgument != 0 {
				t.Errorf("error is not about argument 0: %+v", ferr)
			}
			if !strings.Contains(ferr.Text, tc.mentions) {
				t.Errorf("error %q does not mention %s", ferr.Text, tc.mentions)
			}
		})
	}
}

func TestPinFunction(t *testing.T) {
	for _, tc := range []struct{ ref, digest, want string }{
		{"alpine:3.20", digestA, "docker.io/library/alpine@" + digestA},
		{"ghcr.io/org/app:1.2", digestA, "ghcr.io/org/app@" + digestA},
		{"ghcr.io/org/app:1.2@" + digestA, digestA, "ghcr.io/org/app@" + digestA},
		{"127.0.0.1:5000/app", digestB, "127.0.0.1:5000/app@" + digestB},
	} {
		t.Run(tc.ref+" drops its tag", func(t *testing.T) {
			v, ferr := callFunction(t, "pin", tc.ref, tc.digest)
			if ferr != nil {
				t.Fatalf("function error: %s", ferr.Text)
			}
			var got string
			if err := v.As(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("pin(%q, %q) = %q, want %q", tc.ref, tc.digest, got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name, ref, digest string
		argument          int64
		mentions          string
	}{
		{"a short digest", "ghcr.io/org/app", "sha256:abc", 1, "64 lowercase hex digits"},
		{"a digest without its algorithm", "ghcr.io/org/app", strings.TrimPrefix(digestA, "sha256:"), 1, "algorithm:hex"},
		{"a reference pinned to another digest", "ghcr.io/org/app@" + digestA, digestB, 1, "already pinned"},
		{"a malformed reference", "GHCR.io/Org/App", digestA, 0, "invalid image reference"},
	} {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			_, ferr := callFunction(t, "pin", tc.ref, tc.digest)
			if ferr == nil {
				t.Fatal("no function error")
			}
			if ferr.FunctionArgument == nil || *ferr.FunctionArgument != tc.argument {
				t.Errorf("error is not about argument %d: %+v", tc.argument, ferr)
			}
			if !strings.Contains(ferr.Text, tc.mentions) {
				t.Errorf("error %q does not mention %q", ferr.Text, tc.mentions)
			}
		})
	}
}

func TestUnknownFunctionIsAFunctionError(t *testing.T) {
	resp, err := newServer("test").CallFunction(context.Background(), &tfprotov6.CallFunctionRequest{Name: "nope"})
	if err != nil || resp.Error == nil || !strings.Contains(resp.Error.Text, `"nope"`) {
		t.Errorf("resp %+v, err %v: want a function error naming nope", resp, err)
	}
}
