package tfprotov6server

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

func providerValue(t *testing.T, attrs map[string]tftypes.Value, auths ...map[string]tftypes.Value) *tfprotov6.DynamicValue {
	t.Helper()
	schema := providerSchema()
	typ := schema.ValueType().(tftypes.Object)
	all := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		all[name] = tftypes.NewValue(at, nil)
	}
	for k, v := range attrs {
		all[k] = v
	}
	blockType := typ.AttributeTypes["registry_auth"].(tftypes.List).ElementType.(tftypes.Object)
	var blocks []tftypes.Value
	for _, a := range auths {
		full := map[string]tftypes.Value{}
		for name, at := range blockType.AttributeTypes {
			full[name] = tftypes.NewValue(at, nil)
		}
		for k, v := range a {
			full[k] = v
		}
		blocks = append(blocks, tftypes.NewValue(blockType, full))
	}
	all["registry_auth"] = tftypes.NewValue(typ.AttributeTypes["registry_auth"], blocks)
	dv, err := encode(tftypes.NewValue(typ, all), schema)
	if err != nil {
		t.Fatal(err)
	}
	return dv
}

func str(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }

func TestProviderConfigDiagnostics(t *testing.T) {
	for _, tc := range []struct {
		name   string
		attrs  map[string]tftypes.Value
		auths  []map[string]tftypes.Value
		attr   string
		detail string
	}{
		{"max_parallel_transfers out of range", map[string]tftypes.Value{"max_parallel_transfers": tftypes.NewValue(tftypes.Number, 0)}, nil, "max_parallel_transfers", "1 to 64"},
		{"max_retries out of range", map[string]tftypes.Value{"max_retries": tftypes.NewValue(tftypes.Number, 99)}, nil, "max_retries", "0 to 20"},
		{"an insecure registry with a scheme", map[string]tftypes.Value{"insecure_registries": tftypes.NewValue(tftypes.List{ElementType: tftypes.String}, []tftypes.Value{str("r.io"), str("http://r.io")})}, nil, "insecure_registries[1]", "without a scheme"},
		{"an unreadable ca_cert_file", map[string]tftypes.Value{"ca_cert_file": str("/nonexistent/ca.pem")}, nil, "ca_cert_file", "readable PEM"},
		{"ca_cert_pem without a certificate", map[string]tftypes.Value{"ca_cert_pem": str("hello")}, nil, "ca_cert_pem", "no PEM certificate"},
		{"a password without a username", nil, []map[string]tftypes.Value{{"address": str("r.io"), "password": str("p")}}, "registry_auth[0].username", "set both"},
		{"two blocks for one registry", nil, []map[string]tftypes.Value{{"address": str("r.io")}, {"address": str("R.io")}}, "registry_auth[1].address", "keep one"},
		{"two blocks for Docker Hub under two of its names", nil, []map[string]tftypes.Value{{"address": str("docker.io")}, {"address": str("index.docker.io")}}, "registry_auth[1].address", "keep one"},
		{"auth_disabled with credentials", nil, []map[string]tftypes.Value{{"address": str("r.io"), "username": str("u"), "auth_disabled": tftypes.NewValue(tftypes.Bool, true)}}, "registry_auth[0].auth_disabled", "remove one"},
	} {
		t.Run(tc.name+" is reported on "+tc.attr, func(t *testing.T) {
			resp, err := newServer("test").ValidateProviderConfig(context.Background(), &tfprotov6.ValidateProviderConfigRequest{Config: providerValue(t, tc.attrs, tc.auths...)})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Diagnostics) != 1 {
				t.Fatalf("diagnostics %+v, want one", resp.Diagnostics)
			}
			d := resp.Diagnostics[0]
			if !d.Attribute.Equal(attributePath(tc.attr)) || !strings.Contains(d.Detail, tc.detail) {
				t.Errorf("diagnostic on %v: %q, want one on %s saying %q", d.Attribute, d.Detail, tc.attr, tc.detail)
			}
		})
	}
	t.Run("blocks whose values come from variables are checked once they are known", func(t *testing.T) {
		unknown := tftypes.NewValue(tftypes.String, tftypes.UnknownValue)
		resp, _ := newServer("test").ValidateProviderConfig(context.Background(), &tfprotov6.ValidateProviderConfigRequest{Config: providerValue(t, nil,
			map[string]tftypes.Value{"address": unknown, "username": str("u"), "password": str("p")},
			map[string]tftypes.Value{"address": unknown, "username": str("u"), "password": str("p")},
			map[string]tftypes.Value{"address": str("r.io"), "username": unknown, "password": str("p")})})
		if len(resp.Diagnostics) != 0 {
			t.Errorf("diagnostics %+v, want none while values are unknown", resp.Diagnostics)
		}
	})
	t.Run("a full valid configuration configures", func(t *testing.T) {
		resp, err := newServer("test").ConfigureProvider(context.Background(), &tfprotov6.ConfigureProviderRequest{Config: providerValue(t,
			map[string]tftypes.Value{"max_parallel_transfers": tftypes.NewValue(tftypes.Number, 8), "max_retries": tftypes.NewValue(tftypes.Number, 0)},
			map[string]tftypes.Value{"address": str("r.io"), "username": str("u"), "password": str("p")})})
		if err != nil || len(resp.Diagnostics) != 0 {
			t.Errorf("configure: %v %+v", err, resp.Diagnostics)
		}
	})
	t.Run("an unknown password defers refresh instead of failing the plan", func(t *testing.T) {
		cfg := providerValue(t, nil, map[string]tftypes.Value{"address": str("r.io"), "username": str("u"), "password": tftypes.NewValue(tftypes.String, tftypes.UnknownValue)})
		s := newServer("test")
		c, _ := s.ConfigureProvider(context.Background(), &tfprotov6.ConfigureProviderRequest{Config: cfg})
		if len(c.Diagnostics) != 0 {
			t.Fatalf("configure: %+v", c.Diagnostics)
		}
		// The registry r.io is unreachable: a refresh that tried it would fail.
		state := imageValue(t, stored(configured("r.io/src/app:v1", "r.io/mirror/app", "")))
		r, _ := s.ReadResource(context.Background(), &tfprotov6.ReadResourceRequest{TypeName: "imagesync_image", CurrentState: state, Private: []byte("p")})
		if len(r.Diagnostics) != 0 || string(r.NewState.MsgPack) != string(state.MsgPack) || string(r.Private) != "p" {
			t.Errorf("read with unknown provider config: %+v, state changed: %v", r.Diagnostics, string(r.NewState.MsgPack) != string(state.MsgPack))
		}
	})
}

// attributePath reads "registry_auth[1].address" as the path Terraform would show.
func attributePath(s string) *tftypes.AttributePath {
	p := tftypes.NewAttributePath()
	for _, step := range strings.Split(s, ".") {
		name, index, indexed := strings.Cut(step, "[")
		p = p.WithAttributeName(name)
		if indexed {
			i, _ := strconv.Atoi(strings.TrimSuffix(index, "]"))
			p = p.WithElementKeyInt(i)
		}
	}
	return p
}
