package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The registries hand Terraform and OpenTofu the zip and SHA256SUMS as they are; a
// packed filesystem mirror takes the same zips, so installing from one shows that the
// file and binary names are what the CLIs look for and that the binary they unpack
// serves the provider.
func TestTerraformAndOpenTofuInstallTheReleaseZip(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	clis := map[string]string{"registry.terraform.io": "terraform", "registry.opentofu.org": filepath.Join(root, "bin", "tofu")}
	dist := buildRelease(t, root, target{runtime.GOOS, runtime.GOARCH})
	zip := filepath.Join(dist, zipName(testVersion, target{runtime.GOOS, runtime.GOARCH}))
	for host, cli := range clis {
		t.Run(filepath.Base(cli), func(t *testing.T) {
			path, err := exec.LookPath(cli)
			if err != nil {
				t.Skipf("%s is not installed (make tools builds OpenTofu)", cli)
			}
			work := t.TempDir()
			mirror := filepath.Join(work, "mirror", host, "imagesync", "imagesync")
			if err := os.MkdirAll(mirror, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(mirror, filepath.Base(zip)), read(t, zip), 0o644); err != nil {
				t.Fatal(err)
			}
			rc := filepath.Join(work, "cli.rc")
			writeFile(t, rc, `provider_installation {
  filesystem_mirror {
    path = "`+filepath.Join(work, "mirror")+`"
  }
}
`)
			config := filepath.Join(work, "config")
			writeFile(t, filepath.Join(config, "main.tf"), `terraform {
  required_providers {
    imagesync = { source = "imagesync/imagesync", version = "`+testVersion+`" }
  }
}
`)
			env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
			run := func(args ...string) string {
				cmd := exec.Command(path, args...)
				cmd.Dir, cmd.Env = config, env
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("%s %s: %v\n%s", cli, strings.Join(args, " "), err, out)
				}
				return string(out)
			}
			run("init", "-input=false", "-no-color")
			if schema := run("providers", "schema", "-json"); !strings.Contains(schema, `"imagesync_image"`) {
				t.Errorf("the installed provider did not serve its schema:\n%.500s", schema)
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
