package tfprotov6server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
)

// TestAccSecretsStayOutOfLogsPlanAndState copies between registries that take a
// password (basic), a password exchanged for bearer tokens, and an identity token from
// a Docker config, with TF_LOG=trace, and looks for every secret in what Terraform
// keeps or prints: the CLI's and the provider's logs, the plan JSON, the state JSON and
// the state files on disk. None may hold a password, a bearer token, the identity token
// or a base64 user:password.
func TestAccSecretsStayOutOfLogsPlanAndState(t *testing.T) {
	basic := startAccRegistry(t, testregistry.Options{Auth: testregistry.AuthBasic, Username: "basic-user", Password: "basic-pw-7e1f0c"})
	token := startAccRegistry(t, testregistry.Options{Auth: testregistry.AuthToken, Username: "token-user", Password: "token-pw-2b9d44"})
	identity := startAccRegistry(t, testregistry.Options{Auth: testregistry.AuthToken, Username: "id-user", Password: "id-pw-5a8c13", RefreshToken: "refresh-tok-93e6b1"})
	sources := map[*testregistry.Registry]testregistry.Pushed{}
	for i, reg := range []*testregistry.Registry{basic, token, identity} {
		sources[reg] = push(t, reg, "src/app", "v1", testregistry.ImageSpec{Seed: int64(950 + i)})
	}

	// The token registry's password and the identity token come from the Docker config,
	// the basic registry's password from a sensitive variable into the provider block's
	// password (a sensitive attribute): written there literally, Terraform itself would
	// repeat it in the plan's configuration.
	dockerDir := t.TempDir()
	writeDockerConfig(t, dockerDir, map[string]any{"auths": map[string]any{
		token.Host:    map[string]string{"auth": basicCredential(token)},
		identity.Host: map[string]string{"username": "<token>", "identitytoken": "refresh-tok-93e6b1"},
	}})
	t.Setenv("DOCKER_CONFIG", dockerDir)
	logPath := filepath.Join(t.TempDir(), "terraform.log")
	workDirs := t.TempDir()
	for k, v := range map[string]string{
		"TF_LOG": "trace", "TF_LOG_PATH": logPath, // the provider under test
		"TF_ACC_LOG": "trace", "TF_ACC_LOG_PATH": logPath, // the CLI, through terraform-exec
		"TF_ACC_TEMP_DIR": workDirs, "TF_ACC_PERSIST_WORKING_DIR": "1", // state files stay to be read
	} {
		t.Setenv(k, v)
	}

	hcl := fmt.Sprintf(`
variable "basic_password" {
  type      = string
  sensitive = true
}

provider "imagesync" {
  registry_auth {
    address  = %[1]q
    username = %[2]q
    password = var.basic_password
  }
}

resource "imagesync_image" "to_basic" {
  source      = "%[3]s/src/app:v1"
  destination = "%[1]s/mirror/app:v1"
}

resource "imagesync_image" "to_token" {
  source      = "%[4]s/src/app:v1"
  destination = "%[3]s/mirror/app:v1"
}

resource "imagesync_image" "to_identity" {
  source      = "%[1]s/src/app:v1"
  destination = "%[4]s/mirror/app:v1"
}

data "imagesync_image" "basic" {
  reference = "%[1]s/src/app:v1"
}

data "imagesync_tags" "token" {
  repository = "%[3]s/src/app"
}
`, basic.Host, basic.Username, token.Host, identity.Host)

	vars := config.Variables{"basic_password": config.StringVariable(basic.Password)}
	var plans, states [][]byte
	capture := resource.ConfigPlanChecks{
		PreApply:             []plancheck.PlanCheck{planJSON{&plans}},
		PostApplyPostRefresh: []plancheck.PlanCheck{planJSON{&plans}},
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{{
			Config:            hcl,
			ConfigVariables:   vars,
			ConfigPlanChecks:  capture,
			ConfigStateChecks: []statecheck.StateCheck{stateJSON{&states}},
			Check: resource.ComposeAggregateTestCheckFunc(
				expectDigestAt(basic, "mirror/app", "v1", sources[token].Digest),
				expectDigestAt(token, "mirror/app", "v1", sources[identity].Digest),
				expectDigestAt(identity, "mirror/app", "v1", sources[basic].Digest),
			),
		}, {
			// A second plan refreshes everything with the same credentials.
			Config:            hcl,
			ConfigVariables:   vars,
			ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan(), planJSON{&plans}}},
			ConfigStateChecks: []statecheck.StateCheck{stateJSON{&states}},
		}},
	})
	if t.Failed() {
		return
	}

	secrets := map[string]string{
		"the basic registry's password":                  basic.Password,
		"the basic registry's base64 user:password":      basicCredential(basic),
		"the token registry's password":                  token.Password,
		"the token registry's base64 user:password":      basicCredential(token),
		"the identity token":                             "refresh-tok-93e6b1",
		"the identity registry's base64 user:<password>": basicCredential(identity),
	}
	for _, reg := range []*testregistry.Registry{token, identity} {
		issued := reg.IssuedTokens()
		if len(issued) == 0 {
			t.Fatalf("%s issued no bearer token: the test did not authenticate there", reg.Host)
		}
		for i, tok := range issued {
			secrets[fmt.Sprintf("bearer token %d of %s", i+1, reg.Host)] = tok
		}
	}

	logs, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	// The log must hold both writers, or the search below proves nothing.
	for _, line := range []*regexp.Regexp{regexp.MustCompile(`(Terraform|OpenTofu) version: `), regexp.MustCompile(`imagesync: registry request: `)} {
		if !line.Match(logs) {
			t.Fatalf("the trace log has no line matching %q: the CLI's or the provider's log was not captured", line)
		}
	}
	stateFiles := readStateFiles(t, workDirs)
	if len(plans) < 3 || len(states) < 2 || len(stateFiles) == 0 {
		t.Fatalf("captured %d plans, %d states and %d state files; want at least 3, 2 and 1", len(plans), len(states), len(stateFiles))
	}
	places := map[string][]byte{"the trace log": logs}
	for i, p := range plans {
		places[fmt.Sprintf("plan JSON %d", i+1)] = p
	}
	for i, s := range states {
		places[fmt.Sprintf("state JSON %d", i+1)] = s
	}
	for path, s := range stateFiles {
		places["state file "+path] = s
	}
	for place, content := range places {
		for what, secret := range secrets {
			if i := strings.Index(string(content), secret); i >= 0 {
				t.Errorf("%s holds %s, after: …%s", place, what, content[max(0, i-200):i])
			}
		}
	}
}

// basicCredential is what an Authorization: Basic header and a Docker config's "auth"
// carry for the registry's account.
func basicCredential(reg *testregistry.Registry) string {
	return base64.StdEncoding.EncodeToString([]byte(reg.Username + ":" + reg.Password))
}

func writeDockerConfig(t *testing.T, dir string, config any) {
	t.Helper()
	b, err := json.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// readStateFiles reads every state file (and backup) Terraform left under dir.
func readStateFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.Contains(d.Name(), ".tfstate") {
			return err
		}
		b, err := os.ReadFile(path)
		files[strings.TrimPrefix(path, dir)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// planJSON keeps the plan as Terraform's JSON: planned values, resource changes, prior
// state and configuration, but not the input variables. Terraform writes every
// variable's value there, sensitive or not, from the user's own input; no provider can
// keep a password given as a variable out of it.
type planJSON struct{ into *[][]byte }

func (c planJSON) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	plan := *req.Plan
	plan.Variables = nil
	b, err := json.Marshal(plan)
	if err != nil {
		resp.Error = err
		return
	}
	*c.into = append(*c.into, b)
}

// stateJSON keeps the state as `terraform show -json` gives it.
type stateJSON struct{ into *[][]byte }

func (c stateJSON) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	b, err := json.Marshal(req.State)
	if err != nil {
		resp.Error = err
		return
	}
	*c.into = append(*c.into, b)
}
