package tfprotov6server

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/imagesync/terraform-provider-imagesync/registryclient"
)

// mirror is a destination repository on the open registry, one per row.
func (c *catalogue) mirror(name string) string { return c.open.Host + "/mirror/" + name }

// noRetries is a provider block that gives up at the first failure: the failures below
// never clear, and the fault suite covers retrying.
func noRetries(t *testing.T, attrs ...map[string]tftypes.Value) *tfprotov6.DynamicValue {
	t.Helper()
	all := map[string]tftypes.Value{"max_retries": wholeNumber(0)}
	for _, a := range attrs {
		for k, v := range a {
			all[k] = v
		}
	}
	return providerValue(t, all)
}

// registryRows are registries holding something that cannot be copied as asked.
func registryRows(t *testing.T, c *catalogue) []badInput {
	open := c.open.Host
	lookup := func(reference, platform string) step {
		attrs := map[string]tftypes.Value{"reference": str(reference)}
		if platform != "" {
			attrs["platform"] = str(platform)
		}
		return readData("imagesync_image", attrs)
	}
	const (
		plan       = "PlanResourceChange"
		apply      = "ApplyResourceChange"
		read       = "ReadDataSource"
		convert    = "pull and push the image with a current Docker"
		choose     = "Choose one of the platforms"
		onlyImages = "OCI and Docker schema 2"
	)
	legacy, strange, huge := c.scripted+"/legacy/app:v1", c.scripted+"/strange/app:v1", c.scripted+"/huge/app:v1"
	return []badInput{
		{name: "a platform the source index lacks is reported on platform, listing those it has",
			run: createImage(configured(open+"/source/multi:v1", c.mirror("s390x"), "linux/s390x")), rpc: plan, attr: "platform", names: "linux/arm64/v8", next: choose},
		{name: "a platform the looked-up index lacks is reported on the data source's platform",
			run: lookup(open+"/source/multi:v1", "linux/s390x"), rpc: read, attr: "platform", names: "linux/amd64", next: choose},
		{name: "a source tag that does not exist is reported on source",
			run: createImage(configured(open+"/source/app:v9", c.mirror("v9"), "")), rpc: plan, attr: "source", names: open + "/source/app:v9", next: "Check that " + open + "/source/app:v9 exists"},
		{name: "a source repository that does not exist is reported on source",
			run: createImage(configured(open+"/nothing/here:v1", c.mirror("nothing"), "")), rpc: plan, attr: "source", names: open + "/nothing/here:v1", next: "exists"},
		{name: "a tags data source repository that does not exist is reported on repository",
			run: readData("imagesync_tags", map[string]tftypes.Value{"repository": str(open + "/nothing/here")}), rpc: read, attr: "repository", names: open + "/nothing/here", next: "exists"},
		{name: "an index nested in an index, where platform must pick an image, is reported on source",
			run: createImage(configured(open+"/nested/app:outer", c.mirror("nested"), "linux/amd64")), rpc: plan, attr: "source", names: "itself an index", next: "remove platform"},
		{name: "an index nested in an index is reported on the data source's reference",
			run: lookup(open+"/nested/app:outer", "linux/amd64"), rpc: read, attr: "reference", names: "itself an index", next: "remove platform"},
		{name: "a schema 1 manifest is refused at apply, saying how to convert it",
			provider: noRetries(t), run: createImage(configured(legacy, c.mirror("legacy"), "")), rpc: apply, names: legacy, next: convert},
		{name: "a schema 1 manifest is refused by the data source, saying how to convert it",
			run: lookup(legacy, ""), rpc: read, attr: "reference", names: legacy, next: convert},
		{name: "a manifest of an unknown media type is refused at apply",
			provider: noRetries(t), run: createImage(configured(strange, c.mirror("strange"), "")), rpc: apply, names: c.scripted, next: onlyImages},
		{name: "a manifest of an unknown media type is refused by the data source",
			run: lookup(strange, ""), rpc: read, attr: "reference", names: "application/vnd.example.thing.v1+json", next: onlyImages},
		{name: "a manifest over 4 MiB is refused at apply without reading it whole",
			provider: noRetries(t), run: createImage(configured(huge, c.mirror("huge"), "")), rpc: apply, names: c.scripted, next: "publisher"},
		{name: "a manifest over 4 MiB is refused by the data source",
			run: lookup(huge, ""), rpc: read, attr: "reference", names: "larger than 4194304 bytes", next: "publisher"},
	}
}

// networkRows are registries that cannot be reached: down, unresolvable, or speaking
// TLS with a certificate that must not be trusted.
func networkRows(t *testing.T, c *catalogue) []badInput {
	const (
		plan    = "PlanResourceChange"
		read    = "ReadDataSource"
		reached = "can be reached from here"
	)
	down := c.down + "/source/app:v1"
	prior := configured(down, c.mirror("down"), "")
	prior = prior.withDigest(mustParse(t, c.mirror("down")), testDigest)
	pushed := imagePrivate{Digest: testDigest, Source: testDigest, SourceRoot: testDigest}.bytes()
	gone := configured(c.open.Host+"/source/app:v1", c.down+"/mirror/app:v1", "")
	gone = gone.withDigest(mustParse(t, c.down+"/mirror/app:v1"), testDigest)
	withCA := map[string]tftypes.Value{"ca_cert_pem": str(c.ca.pem)}
	tlsCopy := func(host string) step {
		return createImage(configured(host+"/source/app:v1", c.mirror("tls"), ""))
	}
	return []badInput{
		{name: "a source registry that is down fails the plan of a create, naming the registry",
			provider: noRetries(t), run: createImage(configured(down, c.mirror("down"), "")), rpc: plan, attr: "source", names: c.down, next: reached},
		{name: "a source registry that is down still fails within bounds with the default retries",
			run: createImage(configured(down, c.mirror("down"), "")), rpc: plan, attr: "source", names: c.down, next: reached, within: 30 * time.Second},
		{name: "a source registry that is down when the image exists warns and keeps it",
			provider: noRetries(t), run: planUpdate(prior, configured(down, c.mirror("down"), ""), pushed),
			rpc: plan, severity: tfprotov6.DiagnosticSeverityWarning, attr: "source", names: c.down, next: "the next plan checks again"},
		{name: "a destination registry that is down fails the refresh, naming the registry",
			provider: noRetries(t), run: refresh(gone), rpc: "ReadResource", names: c.down, next: reached},
		{name: "a registry that is down fails the data source on reference",
			provider: noRetries(t), run: readData("imagesync_image", map[string]tftypes.Value{"reference": str(down)}), rpc: read, attr: "reference", names: c.down, next: reached},
		{name: "a registry that is down fails the tags data source on repository",
			provider: noRetries(t), run: readData("imagesync_tags", map[string]tftypes.Value{"repository": str(c.down + "/source/app")}), rpc: read, attr: "repository", names: c.down, next: reached},
		{name: "a registry name that does not resolve fails the plan, naming it",
			provider: noRetries(t), run: createImage(configured("registry.invalid/app:v1", c.mirror("dns"), "")), rpc: plan, attr: "source", names: "registry.invalid", next: reached},
		{name: "a registry name that does not resolve fails the data source, naming it",
			provider: noRetries(t), run: readData("imagesync_image", map[string]tftypes.Value{"reference": str("registry.invalid/app:v1")}), rpc: read, attr: "reference", names: "registry.invalid", next: reached},
		{name: "a self-signed certificate without its CA is refused, pointing at ca_cert_file",
			provider: noRetries(t), run: tlsCopy(c.selfSigned), rpc: plan, attr: "source", names: "unknown authority", next: "ca_cert_file"},
		{name: "a certificate for another host name is refused, naming the names it holds",
			provider: noRetries(t, withCA), run: tlsCopy(c.wrongName), rpc: plan, attr: "source", names: "registry.example.com", next: "a name its certificate holds"},
		{name: "an expired certificate is refused, saying it has expired",
			provider: noRetries(t, withCA), run: tlsCopy(c.expired), rpc: plan, attr: "source", names: "expired", next: "renew"},
		{name: "a self-signed certificate is refused by the data source too",
			provider: noRetries(t), run: readData("imagesync_image", map[string]tftypes.Value{"reference": str(c.selfSigned + "/source/app:v1")}), rpc: read, attr: "reference", names: "unknown authority", next: "ca_cert_file"},
	}
}

func mustParse(t *testing.T, s string) registryclient.Reference {
	t.Helper()
	ref, err := registryclient.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// accessRows are registries that refuse who we are: 401, 403, 404 at the destination,
// and credentials that cannot be found.
func accessRows(t *testing.T, c *catalogue) []badInput {
	const (
		plan      = "PlanResourceChange"
		apply     = "ApplyResourceChange"
		read      = "ReadDataSource"
		authBlock = "registry_auth block"
	)
	basic, token := c.basic.Host+"/private/app:v1", c.token.Host+"/private/app:v1"
	login := func(host, user, password string) *tfprotov6.DynamicValue {
		return providerValue(t, map[string]tftypes.Value{"max_retries": wholeNumber(0)}, map[string]tftypes.Value{"address": str(host), "username": str(user), "password": str(password)})
	}
	helper := func(name, script string) func(t *testing.T) {
		return func(t *testing.T) {
			dockerConfigDir(t, fmt.Sprintf(`{"credHelpers":{%q:%q}}`, c.basic.Host, name))
			if script != "" {
				credentialHelper(t, name, script)
			}
		}
	}
	copyBasic := createImage(configured(basic, c.mirror("basic"), ""))
	notJSON := writeTemp(t, "config.json", "{\"auths\": {")
	return []badInput{
		{name: "a registry that needs a login and gets none fails with 401, saying where credentials go",
			provider: noRetries(t), run: copyBasic, rpc: plan, attr: "source", names: c.basic.Host, next: "add a registry_auth block for it or run docker login"},
		{name: "a wrong password fails with 401 without showing it",
			provider: login(c.basic.Host, c.basic.Username, "wrong-pass-5d0c"), run: copyBasic, rpc: plan, attr: "source", names: c.basic.Host, next: authBlock, hidden: "wrong-pass-5d0c"},
		{name: "a wrong password at a token registry fails with 401 without showing it",
			provider: login(c.token.Host, c.token.Username, "wrong-pass-e1f2"), run: createImage(configured(token, c.mirror("token"), "")),
			rpc: plan, attr: "source", names: c.token.Host, next: authBlock, hidden: "wrong-pass-e1f2"},
		{name: "a data source without a login fails with 401 on reference",
			provider: noRetries(t), run: readData("imagesync_image", map[string]tftypes.Value{"reference": str(basic)}), rpc: read, attr: "reference", names: c.basic.Host, next: "docker login"},
		{name: "a source the registry forbids (403) is reported on source, saying what access is needed",
			provider: noRetries(t), run: createImage(configured(c.forbidden+"/private/app:v1", c.mirror("forbidden"), "")), rpc: plan, attr: "source", names: c.forbidden, next: "pulling needs read access"},
		{name: "a data source the registry forbids (403) says to grant pull access",
			provider: noRetries(t), run: readData("imagesync_image", map[string]tftypes.Value{"reference": str(c.forbidden + "/private/app:v1")}), rpc: read, attr: "reference", names: c.forbidden, next: "grant pull access"},
		{name: "a destination where an anonymous user may only pull is reported on destination",
			provider: noRetries(t), run: createImage(configured(c.open.Host+"/source/app:v1", token, "")), rpc: apply, attr: "destination", names: c.token.Host, next: "check push permission"},
		{name: "a destination refusing uploads with 403 DENIED is reported on destination",
			provider: noRetries(t), run: createImage(configured(c.open.Host+"/source/app:v1", c.refusing+"/denied/app:v1", "")), rpc: apply, attr: "destination", names: c.refusing, next: "grant write access"},
		{name: "a destination repository that does not exist (404 NAME_UNKNOWN) is reported on destination",
			provider: noRetries(t), run: createImage(configured(c.open.Host+"/source/app:v1", c.refusing+"/missing/app:v1", "")), rpc: apply, attr: "destination", names: "missing/app", next: "create it first"},

		{name: "a credential helper that fails is reported without echoing its output",
			provider: noRetries(t), env: helper("imagesync-fails", "echo 'helper-output-9a7b'; echo 'helper-stderr-9a7b' >&2; exit 1\n"),
			run: copyBasic, rpc: plan, attr: "source", names: "docker-credential-imagesync-fails", next: authBlock, hidden: "helper-output-9a7b"},
		{name: "a credential helper that is not installed is reported by name",
			provider: noRetries(t), env: helper("imagesync-missing", ""),
			run: copyBasic, rpc: plan, attr: "source", names: "docker-credential-imagesync-missing", next: authBlock},
		{name: "a credential helper that hangs ends when Terraform stops the provider",
			provider: noRetries(t), env: helper("imagesync-hangs", "exec sleep 600\n"),
			run: stopAfter(time.Second, copyBasic), rpc: plan, attr: "source", names: "docker-credential-imagesync-hangs", next: authBlock, within: 10 * time.Second},
		{name: "a credential helper answering something that is not JSON is reported without echoing it",
			provider: noRetries(t), env: helper("imagesync-garbled", "echo 'garbled-secret-0c3d'\n"),
			run: copyBasic, rpc: plan, attr: "source", names: "docker-credential-imagesync-garbled", next: authBlock, hidden: "garbled-secret-0c3d"},
		{name: "a Docker config that is not JSON is reported with its path",
			provider: noRetries(t), env: func(t *testing.T) { dockerConfigDir(t, `{"auths": {`) },
			run: copyBasic, rpc: plan, attr: "source", names: "config.json", next: authBlock},
		{name: "a registry_auth config_file that is not JSON is reported with its path",
			provider: providerValue(t, map[string]tftypes.Value{"max_retries": wholeNumber(0)}, map[string]tftypes.Value{"address": str(c.basic.Host), "config_file": str(notJSON)}),
			run:      copyBasic, rpc: plan, attr: "source", names: notJSON, next: authBlock},
		{name: "a registry_auth config_file that does not exist is reported with its path",
			provider: providerValue(t, map[string]tftypes.Value{"max_retries": wholeNumber(0)}, map[string]tftypes.Value{"address": str(c.basic.Host), "config_file": str("/nonexistent/config.json")}),
			run:      copyBasic, rpc: plan, attr: "source", names: "/nonexistent/config.json", next: authBlock},
	}
}
