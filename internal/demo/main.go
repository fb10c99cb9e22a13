// Command demo shows the provider doing its job: it starts a registry on loopback,
// pushes a generated multi-platform image into source/hello:v1, writes a docker-save
// archive, and runs `terraform apply` on examples/demo, which mirrors the one and pushes
// the other. Then it moves the source tag and shows the plan picking up the new digest.
// `make demo` runs it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"

	"github.com/imagesync/terraform-provider-imagesync/internal/testimage"
	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
)

func main() {
	providerDir := flag.String("provider-dir", "bin", "directory holding terraform-provider-imagesync")
	example := flag.String("example", "examples/demo", "directory of the demo configuration")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *providerDir, *example); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, providerDir, example string) error {
	cli, err := findCLI()
	if err != nil {
		return err
	}
	providerDir, err = filepath.Abs(providerDir)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(providerDir, "terraform-provider-imagesync")); err != nil {
		return fmt.Errorf("provider binary not built: %w (run `make build`)", err)
	}

	fmt.Println("==> starting a CNCF distribution registry on loopback")
	reg, err := testregistry.Start(ctx, testregistry.Options{})
	if err != nil {
		return err
	}
	defer reg.Close()
	fmt.Printf("    registry at %s\n", reg.Host)

	pushed, err := reg.Push(ctx, "source/hello", "v1", testregistry.ImageSpec{
		OCI: true, Platforms: []string{"linux/amd64", "linux/arm64/v8"}, Seed: 2026,
	})
	if err != nil {
		return fmt.Errorf("push the source image: %w", err)
	}
	fmt.Printf("==> pushed %s/source/hello:v1 (index %s)\n", reg.Host, pushed.Digest)

	work, err := os.MkdirTemp("", "imagesync-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	archive, err := testimage.Build(testimage.Options{Layout: testimage.DockerSave, Seed: 2026, Layers: 3, LayerSize: 1 << 20, Names: [][]string{{"demo/app:1.0"}}})
	if err != nil {
		return err
	}
	archivePath := filepath.Join(work, "app.tar")
	if err := archive.Write(archivePath); err != nil {
		return err
	}
	fmt.Printf("==> wrote a docker-save archive, app.tar (image ID %s)\n", archive.Images[0].ID())
	if err := copyConfig(example, work); err != nil {
		return err
	}
	// dev_overrides point Terraform at the provider just built; the user's own CLI
	// configuration is never read or touched.
	cliConfig := filepath.Join(work, "terraform.rc")
	rc := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"imagesync/imagesync\" = %q\n  }\n  direct {}\n}\n", providerDir)
	if err := os.WriteFile(cliConfig, []byte(rc), 0o600); err != nil {
		return err
	}
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+cliConfig, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_VAR_registry="+reg.Host, "TF_VAR_archive="+archivePath)

	fmt.Printf("==> %s apply (examples/demo)\n", filepath.Base(cli))
	if err := command(ctx, work, env, cli, "apply", "-auto-approve", "-input=false", "-no-color"); err != nil {
		return err
	}
	fmt.Printf("==> %s plan: nothing left to do\n", filepath.Base(cli))
	if err := command(ctx, work, env, cli, "plan", "-detailed-exitcode", "-input=false", "-no-color"); err != nil {
		return fmt.Errorf("second plan is not empty: %w", err)
	}
	moved, err := reg.Push(ctx, "source/hello", "v1", testregistry.ImageSpec{
		OCI: true, Platforms: []string{"linux/amd64", "linux/arm64/v8"}, Seed: 2027,
	})
	if err != nil {
		return fmt.Errorf("move the source tag: %w", err)
	}
	fmt.Printf("==> upstream moved source/hello:v1 to a new image (index %s)\n", moved.Digest)
	fmt.Printf("==> %s plan: source tracking shows the new digest before anything is copied\n", filepath.Base(cli))
	if err := command(ctx, work, env, cli, "plan", "-input=false", "-no-color", "-out=moved.plan"); err != nil {
		return err
	}
	fmt.Printf("==> %s apply of that plan\n", filepath.Base(cli))
	if err := command(ctx, work, env, cli, "apply", "-input=false", "-no-color", "moved.plan"); err != nil {
		return err
	}
	fmt.Println("==> outputs: the mirrored images, pinned by digest")
	if err := command(ctx, work, env, cli, "output", "-no-color"); err != nil {
		return err
	}
	fmt.Println("==> stopping the registry")
	return nil
}

// findCLI prefers terraform on PATH and falls back to the OpenTofu that make tools built.
func findCLI() (string, error) {
	for _, name := range []string{"terraform", "tofu"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("neither terraform nor tofu is on PATH (run `make tools` for OpenTofu)")
}

func copyConfig(from, to string) error {
	files, err := filepath.Glob(filepath.Join(from, "*.tf"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no .tf files in %s", from)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(to, filepath.Base(f)), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func command(ctx context.Context, dir string, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", filepath.Base(name), args[0], err)
	}
	return nil
}
