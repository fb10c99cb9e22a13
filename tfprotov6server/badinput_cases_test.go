package tfprotov6server

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tftypes"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
)

// catalogue is what the rows run against.
type catalogue struct {
	open  *testregistry.Registry // no auth: sources and every copy's destination
	basic *testregistry.Registry // htpasswd
	token *testregistry.Registry // token auth; anonymous users may pull

	scripted  string // serves a schema 1, an unknown and an oversized manifest
	refusing  string // proxies open, refusing uploads under denied/ and missing/
	forbidden string // answers 403 DENIED to everything
	down      string // nothing listens there

	ca                                   testCA
	selfSigned, wrongName, expired, good string // TLS registries in front of open
}

func startCatalogue(t *testing.T) *catalogue {
	t.Helper()
	c := &catalogue{
		open:  testregistry.StartT(t, testregistry.Options{}),
		basic: testregistry.StartT(t, testregistry.Options{Auth: testregistry.AuthBasic, Password: "basic-secret-4c1e"}),
		token: testregistry.StartT(t, testregistry.Options{Auth: testregistry.AuthToken, Password: "token-secret-77ad", AllowAnonymousPull: true}),
		down:  closedPort(t),
	}
	ctx := t.Context()
	for _, seed := range []struct {
		reg  *testregistry.Registry
		repo string
		spec testregistry.ImageSpec
	}{
		{c.open, "source/app", testregistry.ImageSpec{Seed: 901}},
		{c.open, "source/multi", testregistry.ImageSpec{Seed: 902, OCI: true, Platforms: []string{"linux/amd64", "linux/arm64/v8"}}},
		{c.open, "nested/app", testregistry.ImageSpec{Seed: 903, OCI: true, Platforms: []string{"linux/amd64"}}},
		{c.basic, "private/app", testregistry.ImageSpec{Seed: 904}},
		{c.token, "private/app", testregistry.ImageSpec{Seed: 905}},
	} {
		if _, err := seed.reg.Push(ctx, seed.repo, "v1", seed.spec); err != nil {
			t.Fatal(err)
		}
	}
	// An index whose linux/amd64 entry is itself an index: valid OCI, but no image to
	// pick for a platform.
	inner, mediaType, err := c.open.Manifest(ctx, "nested/app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	outer := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{{
		MediaType: mediaType, Digest: digestOf(inner), Size: int64(len(inner)), Platform: &ocispec.Platform{OS: "linux", Architecture: "amd64"},
	}}}
	outer.SchemaVersion = 2
	body, err := json.Marshal(outer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.open.PushManifest(ctx, "nested/app", "outer", ocispec.MediaTypeImageIndex, body); err != nil {
		t.Fatal(err)
	}

	c.scripted = scriptedRegistry(t, map[string]scriptedManifest{
		"legacy/app:v1":  schema1Manifest(),
		"strange/app:v1": {"application/vnd.example.thing.v1+json", []byte(`{"mediaType":"application/vnd.example.thing.v1+json","schemaVersion":2}`)},
		"huge/app:v1":    oversizedManifest(t),
	})
	c.refusing = refusingProxy(t, c.open.Host)
	c.forbidden = statusRegistry(t, 403, "DENIED", "requested access to the resource is denied")

	c.ca = newTestCA(t)
	day := time.Now().Add(24 * time.Hour)
	c.selfSigned = tlsRegistry(t, serverCert(t, nil, day, "127.0.0.1"), c.open.Host)
	c.wrongName = tlsRegistry(t, serverCert(t, &c.ca, day, "registry.example.com"), c.open.Host)
	c.expired = tlsRegistry(t, serverCert(t, &c.ca, time.Now().Add(-time.Hour), "127.0.0.1"), c.open.Host)
	c.good = tlsRegistry(t, serverCert(t, &c.ca, day, "127.0.0.1"), c.open.Host)
	return c
}

func wholeNumber(n int) tftypes.Value { return tftypes.NewValue(tftypes.Number, n) }

var unknownStringValue = tftypes.NewValue(tftypes.String, tftypes.UnknownValue)

func TestBadInputCatalogue(t *testing.T) {
	c := startCatalogue(t)
	var rows []badInput
	rows = append(rows, configurationRows(t)...)
	rows = append(rows, registryRows(t, c)...)
	rows = append(rows, networkRows(t, c)...)
	rows = append(rows, accessRows(t, c)...)
	rows = append(rows, localRows(t, c)...)
	if len(rows) < 40 {
		t.Errorf("the catalogue has %d rows; the issue asks for at least 40", len(rows))
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) { runBadInput(t, row) })
	}
}

// configurationRows are mistakes in what the user wrote: the provider block, resource
// and data source arguments, function arguments, and unknown values among them.
func configurationRows(t *testing.T) []badInput {
	dst := "r.example/mirror/app"
	with := func(f func(*image)) image {
		m := configured("alpine:3.20", dst, "")
		f(&m)
		return m
	}
	src := func(s string) image { return configured(s, dst, "") }
	platform := func(p string) image { return configured("alpine:3.20", dst, p) }
	const (
		validateResource = "ValidateResourceConfig"
		validateData     = "ValidateDataResourceConfig"
		validateProvider = "ValidateProviderConfig"
		writeReference   = "Write an image reference such as"
	)
	emptyCA := writeTemp(t, "empty-ca.pem", "not a certificate\n")
	return []badInput{
		{name: "a ca_cert_file that does not exist is reported on ca_cert_file",
			provider: providerValue(t, map[string]tftypes.Value{"ca_cert_file": str("/nonexistent/ca.pem")}),
			rpc:      validateProvider, attr: "ca_cert_file", names: "/nonexistent/ca.pem", next: "Point ca_cert_file at a readable PEM file"},
		{name: "a ca_cert_file holding no certificate is reported on ca_cert_file",
			provider: providerValue(t, map[string]tftypes.Value{"ca_cert_file": str(emptyCA)}),
			rpc:      validateProvider, attr: "ca_cert_file", names: emptyCA, next: "Point ca_cert_file at"},
		{name: "a ca_cert_pem holding no certificate is reported on ca_cert_pem",
			provider: providerValue(t, map[string]tftypes.Value{"ca_cert_pem": str("hello")}),
			rpc:      validateProvider, attr: "ca_cert_pem", names: "ca_cert_pem", next: "Set ca_cert_pem to"},
		{name: "an insecure registry written as a URL is reported on its element",
			provider: providerValue(t, map[string]tftypes.Value{"insecure_registries": tftypes.NewValue(tftypes.List{ElementType: tftypes.String}, []tftypes.Value{str("http://10.0.0.5:5000")})}),
			rpc:      validateProvider, attr: "insecure_registries[0]", names: "http://10.0.0.5:5000", next: "without a scheme or path"},
		{name: "a registry_auth address with a path is reported on that block's address",
			provider: providerValue(t, nil, map[string]tftypes.Value{"address": str("ghcr.io/org")}),
			rpc:      validateProvider, attr: "registry_auth[0].address", names: "ghcr.io/org", next: "such as ghcr.io or 127.0.0.1:5000"},
		{name: "a registry_auth block with both a username and a config_file is reported on config_file",
			provider: providerValue(t, nil, map[string]tftypes.Value{"address": str("ghcr.io"), "username": str("u"), "password": str("p"), "config_file": str("/etc/docker.json")}),
			rpc:      validateProvider, attr: "registry_auth[0].config_file", names: "ghcr.io", next: "use one source of credentials"},
		{name: "max_parallel_transfers of zero is reported on max_parallel_transfers",
			provider: providerValue(t, map[string]tftypes.Value{"max_parallel_transfers": wholeNumber(0)}),
			rpc:      validateProvider, attr: "max_parallel_transfers", names: "max_parallel_transfers", next: "a whole number from 1 to 64"},

		{name: "a source with capitals in its repository is reported on source",
			run: createImage(src("ghcr.io/Org/app:1")), rpc: validateResource, attr: "source", names: `"Org"`, next: writeReference},
		{name: "a source with an empty tag is reported on source",
			run: createImage(src("alpine:")), rpc: validateResource, attr: "source", names: `tag ""`, next: writeReference},
		{name: "a source pinned to a short digest is reported on source",
			run: createImage(src("ghcr.io/org/app@sha256:abc")), rpc: validateResource, attr: "source", names: "sha256:abc", next: writeReference},
		{name: "a source with a trailing space is reported on source",
			run: createImage(src("alpine:3.20 ")), rpc: validateResource, attr: "source", names: "alpine:3.20 ", next: "remove the surrounding spaces"},
		{name: "a local source prefix without a path is reported on source",
			run: createImage(src("docker-archive:")), rpc: validateResource, attr: "source", names: "docker-archive:", next: "such as ./image.tar"},
		{name: "a destination carrying a digest is reported on destination",
			run: createImage(with(func(m *image) { m.Destination = knownString(dst + "@" + testDigest) })), rpc: validateResource, attr: "destination", names: testDigest, next: "Remove @"},
		{name: "a destination written as a URL is reported on destination",
			run: createImage(with(func(m *image) { m.Destination = knownString("https://r.example/mirror/app") })), rpc: validateResource, attr: "destination", names: "https:", next: "Write a repository such as"},
		{name: "a destination without a repository is reported on destination",
			run: createImage(with(func(m *image) { m.Destination = knownString("r.example/") })), rpc: validateResource, attr: "destination", names: "r.example/", next: "Write a repository such as"},
		{name: "a destination that is the source's own tag is reported on destination",
			run: createImage(configured("r.example/app:1", "r.example/app", "")), rpc: validateResource, attr: "destination", names: "r.example/app", next: "Point destination at another repository or tag"},
		{name: "a platform without an architecture is reported on platform",
			run: createImage(platform("linux")), rpc: validateResource, attr: "platform", names: `"linux"`, next: "use os/arch[/variant][:osversion]"},
		{name: "a platform in capitals is reported on platform",
			run: createImage(platform("Linux/AMD64")), rpc: validateResource, attr: "platform", names: "Linux/AMD64", next: "lowercase word, for example linux/arm64/v8"},
		{name: "a compression other than gzip or none is reported on compression",
			run: createImage(with(func(m *image) { m.Compression = knownString("zstd") })), rpc: validateResource, attr: "compression", names: `"zstd"`, next: `"gzip" or "none"`},
		{name: "a destination_drift that is neither restore nor accept is reported on destination_drift",
			run: createImage(with(func(m *image) { m.DestinationDrift = knownString("ignore") })), rpc: validateResource, attr: "destination_drift", names: `"ignore"`, next: `"accept"`},
		{name: "a create timeout that is not a duration is reported on timeouts.create",
			run: createImage(with(func(m *image) {
				m.Timeouts = timeouts{Create: knownString("forever"), Update: nullString, Delete: nullString}
			})), rpc: validateResource, attr: "timeouts.create", names: `"forever"`, next: `for example "30m"`},

		{name: "a malformed source is reported while the destination is still unknown",
			run: createImage(with(func(m *image) { m.Source, m.Destination = knownString("Alpine"), unknownString })), rpc: validateResource, attr: "source", names: `"Alpine"`, next: writeReference},
		{name: "a malformed platform is reported while the source is still unknown",
			run: createImage(with(func(m *image) { m.Source, m.Platform = unknownString, knownString("linux/") })), rpc: validateResource, attr: "platform", names: `"linux/"`, next: "for example linux/arm64/v8"},
		{name: "a data source reference left unknown at read is refused, not sent to an empty host",
			run: readData("imagesync_image", map[string]tftypes.Value{"reference": unknownStringValue}), rpc: "ReadDataSource", attr: "reference", names: "reference is known only after apply", next: "values known at plan"},

		{name: "a data source reference with capitals is reported on reference",
			run: readData("imagesync_image", map[string]tftypes.Value{"reference": str("ghcr.io/Org/app")}), rpc: validateData, attr: "reference", names: `"Org"`, next: writeReference},
		{name: "a tags data source repository with a tag is reported on repository",
			run: readData("imagesync_tags", map[string]tftypes.Value{"repository": str("ghcr.io/org/app:1.0")}), rpc: validateData, attr: "repository", names: "ghcr.io/org/app", next: "write the repository alone"},
		{name: "a tags filter that is not a regular expression is reported on filter",
			run: readData("imagesync_tags", map[string]tftypes.Value{"repository": str("ghcr.io/org/app"), "filter": str("(1.")}), rpc: validateData, attr: "filter", names: "missing closing )", next: "RE2 syntax"},
		{name: "a semver constraint that is not a version is reported on semver",
			run: readData("imagesync_tags", map[string]tftypes.Value{"repository": str("ghcr.io/org/app"), "semver": str(">= banana")}), rpc: validateData, attr: "semver", names: "banana", next: "such as"},
		{name: "parse_reference of a reference with capitals is refused on its argument",
			run: callStep("parse_reference", "Alpine:3.20"), rpc: "CallFunction", attr: "argument 0", names: `"Alpine"`, next: "lowercase"},
		{name: "pin with a short digest is refused on the digest argument",
			run: callStep("pin", "ghcr.io/org/app", "sha256:abc"), rpc: "CallFunction", attr: "argument 1", names: "sha256:abc", next: "64 lowercase hex digits"},
	}
}

// writeTemp writes content into a file of a temporary directory and returns its path.
func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	return writeFile(t, t.TempDir(), name, content)
}
