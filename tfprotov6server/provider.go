package tfprotov6server

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/imagesync/terraform-provider-imagesync/registryclient"
	"github.com/imagesync/terraform-provider-imagesync/registryclient/auth"
)

func providerSchema() *tfprotov6.Schema {
	str := func(name, desc string, sensitive bool) *tfprotov6.SchemaAttribute {
		return &tfprotov6.SchemaAttribute{Name: name, Type: tftypes.String, Optional: true, Sensitive: sensitive, Description: desc}
	}
	return &tfprotov6.Schema{Block: &tfprotov6.SchemaBlock{
		Description: "Copies container images between OCI registries and looks them up. Every setting is optional: without a provider block, each registry is reached over verified HTTPS with the credentials of the Docker config, or anonymously.",
		Attributes: []*tfprotov6.SchemaAttribute{
			{Name: "insecure_registries", Type: tftypes.List{ElementType: tftypes.String}, Optional: true,
				Description: "Registries, as `host[:port]`, that may be reached over plain HTTP or over TLS without certificate verification, for example `[\"10.0.0.5:5000\"]`. Loopback registries (`localhost`, `127.0.0.0/8`, `[::1]`) may use plain HTTP without being listed, as with Docker. Default: none."},
			str("ca_cert_file", "Path of a PEM file of CA certificates to trust for every registry, in addition to the system roots, for example `/etc/ssl/certs/internal-ca.pem`. Default: the system roots alone.", false),
			str("ca_cert_pem", "PEM-encoded CA certificates (`-----BEGIN CERTIFICATE-----` ...) to trust for every registry, in addition to the system roots and `ca_cert_file`, for example `file(\"internal-ca.pem\")`. Default: none.", false),
			{Name: "max_parallel_transfers", Type: tftypes.Number, Optional: true,
				Description: fmt.Sprintf("How many blobs move at once across all resources of a run, from 1 to 64, for example `2` on a slow link. Default: %d.", registryclient.DefaultParallelTransfers)},
			{Name: "max_retries", Type: tftypes.Number, Optional: true,
				Description: fmt.Sprintf("How often a failed operation (a request, or one blob's whole transfer) is tried again when that may help: a dropped or stalled connection, a 408, 429 (honouring `Retry-After`) or 5xx answer, or content damaged on its way; with exponential backoff, from 0 to 20, for example `10` for a flaky network. Default: %d.", registryclient.DefaultMaxRetries)},
			{Name: "allow_nondistributable_artifacts", Type: tftypes.Bool, Optional: true,
				Description: "Copy foreign and non-distributable layers (such as Windows base layers) too: `true` for a private mirror of Windows images that must work without reaching Microsoft's servers. Default: `false`: they are left out, as their licence usually forbids redistribution, and the copied manifest still points at where they live."},
		},
		BlockTypes: []*tfprotov6.SchemaNestedBlock{{
			TypeName: "registry_auth",
			Nesting:  tfprotov6.SchemaNestedBlockNestingModeList,
			Block: &tfprotov6.SchemaBlock{
				Description: "Credentials for one registry; repeat the block for each registry. Registries without a block use the Docker config (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`) and its credential helpers, else anonymous access.",
				Attributes: []*tfprotov6.SchemaAttribute{
					{Name: "address", Type: tftypes.String, Required: true, Description: "The registry's `host[:port]`, without scheme or path, for example `ghcr.io` or `127.0.0.1:5000`. Docker Hub is `docker.io`."},
					str("username", "User name for basic or token authentication, for example `ci-bot`. Set it together with `password`.", false),
					str("password", "Password or access token of `username`, for example `var.registry_password`.", true),
					str("config_file", "Path of a Docker `config.json` to take this registry's credentials from (its `auths`, `credHelpers` or `credsStore`), for example `/run/secrets/docker/config.json`. Not together with `username`.", false),
					{Name: "auth_disabled", Type: tftypes.Bool, Optional: true, Description: "Talk to this registry anonymously even if a Docker config has credentials for it, for example `true` for a public mirror. Default: `false`."},
				},
			},
		}},
	}}
}

// providerConfig is the provider block, read and checked.
type providerConfig struct {
	entries               []auth.Entry
	insecure              []string
	roots                 *x509.CertPool
	maxParallel           int
	maxRetries            int
	allowNondistributable bool
	// unknown is set when part of the block is known only after apply (a password
	// from a resource being created): refresh waits, apply gets the real values.
	unknown bool
}

// ValidateProviderConfig checks the provider block.
func (s *Server) ValidateProviderConfig(_ context.Context, req *tfprotov6.ValidateProviderConfigRequest) (*tfprotov6.ValidateProviderConfigResponse, error) {
	_, diags := readProviderConfig(req.Config)
	return &tfprotov6.ValidateProviderConfigResponse{PreparedConfig: req.Config, Diagnostics: diags}, nil
}

// ConfigureProvider builds the registry client every resource of this run shares.
func (s *Server) ConfigureProvider(_ context.Context, req *tfprotov6.ConfigureProviderRequest) (*tfprotov6.ConfigureProviderResponse, error) {
	cfg, diags := readProviderConfig(req.Config)
	if diags.hasError() {
		return &tfprotov6.ConfigureProviderResponse{Diagnostics: diags}, nil
	}
	opts := []registryclient.Option{
		registryclient.WithCredentials(auth.NewResolver(cfg.entries)),
		registryclient.WithInsecureRegistries(cfg.insecure),
		registryclient.WithNondistributable(cfg.allowNondistributable),
		registryclient.WithUserAgent("terraform-provider-imagesync/" + s.version),
		registryclient.WithLogger(func(ctx context.Context, msg string, fields map[string]any) { tflog.Debug(ctx, msg, fields) }),
	}
	if cfg.roots != nil {
		opts = append(opts, registryclient.WithRootCAs(cfg.roots))
	}
	if cfg.maxParallel > 0 {
		opts = append(opts, registryclient.WithParallelTransfers(cfg.maxParallel))
	}
	if cfg.maxRetries >= 0 {
		opts = append(opts, registryclient.WithMaxRetries(cfg.maxRetries))
	}
	client := registryclient.New(opts...)
	s.mu.Lock()
	s.client, s.configUnknown = client, cfg.unknown
	s.mu.Unlock()
	return &tfprotov6.ConfigureProviderResponse{Diagnostics: diags}, nil
}

// readProviderConfig reads the provider block. Values not known yet are skipped and
// noted in providerConfig.unknown.
func readProviderConfig(dv *tfprotov6.DynamicValue) (providerConfig, diagnostics) {
	cfg := providerConfig{maxRetries: -1}
	var diags diagnostics
	v, err := decode(dv, providerSchema())
	if err != nil {
		diags.bug(err)
		return cfg, diags
	}
	attrs, err := attributes(v)
	if err != nil {
		diags.bug(err)
		return cfg, diags
	}
	unknown := func(string) { cfg.unknown = true }

	insecure, isUnknown, err := asStrings(attrs["insecure_registries"])
	switch {
	case err != nil:
		diags.bug(err)
	case isUnknown:
		unknown("insecure_registries")
	}
	for i, h := range insecure {
		if h == "" || strings.Contains(h, "/") {
			diags.pathError(tftypes.NewAttributePath().WithAttributeName("insecure_registries").WithElementKeyInt(i), "Invalid registry address", fmt.Sprintf("%q is not a host[:port]: write the registry's host and optional port, without a scheme or path, for example 10.0.0.5:5000.", h))
		}
	}
	cfg.insecure = insecure

	readCAs(&cfg, attrs, &diags, unknown)

	if n, err := asInt(attrs["max_parallel_transfers"]); err != nil || (n.known() && (n.Value < 1 || n.Value > 64)) {
		diags.attrError("max_parallel_transfers", "Invalid max_parallel_transfers", "max_parallel_transfers must be a whole number from 1 to 64.")
	} else if n.known() {
		cfg.maxParallel = int(n.Value)
	}
	if n, err := asInt(attrs["max_retries"]); err != nil || (n.known() && (n.Value < 0 || n.Value > 20)) {
		diags.attrError("max_retries", "Invalid max_retries", "max_retries must be a whole number from 0 to 20.")
	} else if n.known() {
		cfg.maxRetries = int(n.Value)
	}
	switch b, err := asBool(attrs["allow_nondistributable_artifacts"]); {
	case err != nil:
		diags.bug(err)
	case b.Unknown:
		unknown("allow_nondistributable_artifacts")
	default:
		cfg.allowNondistributable = b.Value
	}

	cfg.entries = readRegistryAuth(attrs["registry_auth"], &diags, unknown)
	return cfg, diags
}

func readCAs(cfg *providerConfig, attrs map[string]tftypes.Value, diags *diagnostics, unknown func(string)) {
	file, err1 := asString(attrs["ca_cert_file"])
	pem, err2 := asString(attrs["ca_cert_pem"])
	if err := errors.Join(err1, err2); err != nil {
		diags.bug(err)
		return
	}
	if file.Unknown {
		unknown("ca_cert_file")
	}
	if pem.Unknown {
		unknown("ca_cert_pem")
	}
	if !file.known() && !pem.known() {
		return
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if file.known() {
		data, err := os.ReadFile(file.Value)
		if err != nil {
			diags.attrError("ca_cert_file", "Cannot read ca_cert_file", fmt.Sprintf("%s. Point ca_cert_file at a readable PEM file of CA certificates.", err))
		} else if !pool.AppendCertsFromPEM(data) {
			diags.attrError("ca_cert_file", "No certificates in ca_cert_file", fmt.Sprintf("%s holds no PEM certificate (-----BEGIN CERTIFICATE-----). Point ca_cert_file at the PEM file of the registry's CA.", file.Value))
		}
	}
	if pem.known() && !pool.AppendCertsFromPEM([]byte(pem.Value)) {
		diags.attrError("ca_cert_pem", "No certificates in ca_cert_pem", "ca_cert_pem holds no PEM certificate (-----BEGIN CERTIFICATE-----). Set ca_cert_pem to the PEM text of the registry's CA, for example file(\"internal-ca.pem\").")
	}
	cfg.roots = pool
}

func readRegistryAuth(v tftypes.Value, diags *diagnostics, unknown func(string)) []auth.Entry {
	blocks, err := asObjects(v)
	if err != nil {
		diags.bug(err)
		return nil
	}
	var entries []auth.Entry
	seen := map[string]string{} // normalised host → the address first written for it
	for i, b := range blocks {
		at := func(attr string) *tftypes.AttributePath {
			return tftypes.NewAttributePath().WithAttributeName("registry_auth").WithElementKeyInt(i).WithAttributeName(attr)
		}
		var e auth.Entry
		partial := false // some value is known only after apply: check the block then
		for name, dst := range map[string]*string{"address": &e.Address, "username": &e.Username, "password": &e.Password, "config_file": &e.ConfigFile} {
			s, err := asString(b[name])
			switch {
			case err != nil:
				diags.bug(err)
			case s.Unknown:
				partial = true
				unknown("registry_auth." + name)
			default:
				*dst = s.Value
			}
		}
		switch d, err := asBool(b["auth_disabled"]); {
		case err != nil:
			diags.bug(err)
		case d.Unknown:
			partial = true
			unknown("registry_auth.auth_disabled")
		default:
			e.Disabled = d.Value
		}
		if partial {
			entries = append(entries, e)
			continue
		}
		host := auth.NormalizeHost(e.Address)
		switch {
		case strings.Contains(e.Address, "://") || strings.Contains(strings.TrimSuffix(e.Address, "/"), "/"):
			diags.pathError(at("address"), "Invalid registry_auth address", fmt.Sprintf("address %q must be a registry host[:port] such as ghcr.io or 127.0.0.1:5000, without a scheme or path.", e.Address))
		case seen[host] != "":
			diags.pathError(at("address"), "Duplicate registry_auth block", fmt.Sprintf("registry_auth blocks for %s and %s name the same registry (%s): keep one.", seen[host], e.Address, host))
		case e.Password != "" && e.Username == "":
			diags.pathError(at("username"), "Password without username", fmt.Sprintf("registry_auth for %s sets password but not username: set both.", e.Address))
		case e.Disabled && (e.Username != "" || e.Password != "" || e.ConfigFile != ""):
			diags.pathError(at("auth_disabled"), "Conflicting registry_auth settings", fmt.Sprintf("registry_auth for %s sets auth_disabled together with credentials: remove one of them.", e.Address))
		case e.ConfigFile != "" && e.Username != "":
			diags.pathError(at("config_file"), "Conflicting registry_auth settings", fmt.Sprintf("registry_auth for %s sets both username and config_file: use one source of credentials.", e.Address))
		}
		if seen[host] == "" {
			seen[host] = e.Address
		}
		entries = append(entries, e)
	}
	return entries
}
