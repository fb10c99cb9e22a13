package tfprotov6server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
)

// TestAccInterruptedApplyConverges stops `terraform apply` in the middle of pushing a
// large image, as a user's Ctrl-C (SIGINT to the process group) and a CI runner's kill
// (SIGKILL to it) do, and then applies again. The state the interrupted run leaves
// must claim only images that are wholly at the destination, and the next apply must
// finish the job and leave nothing to plan.
//
// Unlike the other acceptance tests this one runs the provider as Terraform does in
// production, a binary built from this tree and started by the CLI, so the signal
// reaches both.
func TestAccInterruptedApplyConverges(t *testing.T) {
	reg := startAccRegistry(t, testregistry.Options{})
	cli := terraformPath(t)
	providerDir := buildProvider(t)
	// Two layers of 72 MiB: each goes in chunks (64 MiB, then 8), as large layers do.
	big := push(t, reg, "source/big", "v1", testregistry.ImageSpec{Seed: 61, Layers: 2, LayerSize: 72 << 20})
	small := push(t, reg, "source/small", "v1", testregistry.ImageSpec{Seed: 62, Layers: 1})

	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			gate := startSlowUploads(t, reg.Host)
			mirror := "mirror-" + strings.ToLower(strings.ReplaceAll(sig.String(), " ", ""))
			work := t.TempDir()
			config := fmt.Sprintf(`
resource "imagesync_image" "small" {
  source      = "%[1]s/source/small:v1"
  destination = "%[2]s/%[3]s/small:v1"
}
resource "imagesync_image" "big" {
  source      = "%[1]s/source/big:v1"
  destination = "%[2]s/%[3]s/big:v1"
}
`, reg.Host, gate.host, mirror)
			if err := os.WriteFile(filepath.Join(work, "main.tf"), []byte(config), 0o644); err != nil {
				t.Fatal(err)
			}
			env := cliEnv(t, work, providerDir)

			apply := exec.Command(cli, "apply", "-auto-approve", "-input=false", "-no-color")
			apply.Dir, apply.Env = work, env
			apply.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			var out strings.Builder
			apply.Stdout, apply.Stderr = &out, &out
			if err := apply.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- apply.Wait() }()
			select {
			case <-gate.uploading:
			case err := <-exited:
				t.Fatalf("apply ended (%v) before the large upload began:\n%s", err, out.String())
			case <-time.After(3 * time.Minute):
				syscall.Kill(-apply.Process.Pid, syscall.SIGKILL)
				t.Fatalf("the large upload never began:\n%s", out.String())
			}
			time.Sleep(500 * time.Millisecond) // well inside the upload, which the gate slows to seconds
			if err := syscall.Kill(-apply.Process.Pid, sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-exited:
				if err == nil {
					t.Fatalf("apply succeeded although it was interrupted mid-upload:\n%s", out.String())
				}
			case <-time.After(2 * time.Minute):
				syscall.Kill(-apply.Process.Pid, syscall.SIGKILL)
				t.Fatalf("apply still running 2 minutes after %s:\n%s", sig, out.String())
			}
			if sig == syscall.SIGINT && !strings.Contains(out.String(), "Interrupt received") {
				t.Errorf("the CLI never saw the interrupt:\n%s", out.String())
			}
			claimed := stateClaims(t, work)
			t.Logf("after %s the state claims %v; the CLI said:\n%s", sig, claimed, out.String())
			for address, d := range claimed {
				repo := mirror + "/" + strings.TrimPrefix(address, "imagesync_image.")
				if err := wholeImageAt(reg, repo, "v1", d); err != nil {
					t.Errorf("the state left by the interrupted apply claims %s = %s, but the destination does not hold it whole: %v", address, d, err)
				}
			}
			if _, ok := claimed["imagesync_image.big"]; ok {
				t.Errorf("the state claims the image whose upload was interrupted:\n%s", out.String())
			}

			gate.open()
			if b, err := runCLI(work, env, cli, "apply", "-auto-approve", "-input=false", "-no-color"); err != nil {
				t.Fatalf("the apply after the interruption failed: %v\n%s", err, b)
			}
			for repo, want := range map[string]string{mirror + "/big": big.Digest, mirror + "/small": small.Digest} {
				if err := wholeImageAt(reg, repo, "v1", want); err != nil {
					t.Errorf("after the second apply: %v", err)
				}
			}
			if b, err := runCLI(work, env, cli, "plan", "-detailed-exitcode", "-input=false", "-no-color"); err != nil {
				t.Errorf("the plan after the second apply is not empty: %v\n%s", err, b)
			}
		})
	}
}

// terraformPath is the CLI the acceptance tests run: TF_ACC_TERRAFORM_PATH, or
// terraform on PATH.
func terraformPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("TF_ACC_TERRAFORM_PATH"); p != "" {
		return p
	}
	p, err := exec.LookPath("terraform")
	if err != nil {
		t.Skip("no terraform on PATH and no TF_ACC_TERRAFORM_PATH")
	}
	return p
}

// buildProvider builds the provider from this tree into a directory of its own.
func buildProvider(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "terraform-provider-imagesync"), "..")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the provider: %v\n%s", err, b)
	}
	return dir
}

// cliEnv points the CLI at the provider just built through dev_overrides, without
// reading or touching the user's own CLI configuration.
func cliEnv(t *testing.T, work, providerDir string) []string {
	t.Helper()
	rc := filepath.Join(work, "cli.tfrc")
	overrides := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"imagesync/imagesync\" = %q\n  }\n  direct {}\n}\n", providerDir)
	if err := os.WriteFile(rc, []byte(overrides), 0o600); err != nil {
		t.Fatal(err)
	}
	config := "terraform {\n  required_providers {\n    imagesync = { source = \"imagesync/imagesync\" }\n  }\n}\n"
	if err := os.WriteFile(filepath.Join(work, "providers.tf"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
}

func runCLI(dir string, env []string, cli string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cli, args...)
	cmd.Dir, cmd.Env = dir, env
	return cmd.CombinedOutput()
}

// stateClaims reads terraform.tfstate as the interrupted run left it: resource address
// → the digest it records. No state file, or an empty one (OpenTofu killed before it
// first wrote it), means no claims.
func stateClaims(t *testing.T, work string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(work, "terraform.tfstate"))
	if errors.Is(err, os.ErrNotExist) || err == nil && len(b) == 0 {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var state struct {
		Resources []struct {
			Type, Name string
			Instances  []struct {
				Attributes struct {
					Digest string `json:"digest"`
				} `json:"attributes"`
			} `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(b, &state); err != nil {
		t.Fatalf("the interrupted apply left a state file that is not JSON: %v\n%s", err, b)
	}
	claims := map[string]string{}
	for _, r := range state.Resources {
		for _, in := range r.Instances {
			claims[r.Type+"."+r.Name] = in.Attributes.Digest
		}
	}
	return claims
}

// wholeImageAt checks, reading the registry directly, that repo:tag is the manifest
// want and that every blob it names is there and hashes to its digest.
func wholeImageAt(reg *testregistry.Registry, repo, tag, want string) error {
	got, err := reg.ManifestDigest(context.Background(), repo, tag)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%s:%s is %s, want %s", repo, tag, got, want)
	}
	body, _, err := reg.Manifest(context.Background(), repo, want)
	if err != nil {
		return err
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(body, &m); err != nil {
		return err
	}
	for _, b := range append([]ocispec.Descriptor{m.Config}, m.Layers...) {
		resp, err := http.Get("http://" + reg.Host + "/v2/" + repo + "/blobs/" + b.Digest.String())
		if err != nil {
			return err
		}
		v := b.Digest.Verifier()
		n, err := io.Copy(v, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || n != b.Size || !v.Verified() {
			return fmt.Errorf("%s blob %s: %s, %d of %d bytes, %v", repo, b.Digest, resp.Status, n, b.Size, err)
		}
	}
	return nil
}

// slowUploads is a proxy in front of a registry that slows every large blob upload to
// a trickle until opened, so a test can interrupt one, and says when the first begins.
type slowUploads struct {
	host      string
	uploading chan struct{}
	started   sync.Once
	fast      atomic.Bool
}

func startSlowUploads(t *testing.T, target string) *slowUploads {
	g := &slowUploads{uploading: make(chan struct{})}
	forward := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: target})
	forward.ErrorLog = log.New(io.Discard, "", 0) // interrupted uploads are the point here
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.fast.Load() && (r.Method == http.MethodPut || r.Method == http.MethodPatch) && (r.ContentLength > 1<<20 || r.ContentLength < 0) {
			g.started.Do(func() { close(g.uploading) })
			r.Body = io.NopCloser(&trickle{r: r.Body, fast: &g.fast})
		}
		forward.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	g.host = srv.Listener.Addr().String()
	return g
}

// open lets uploads through at full speed.
func (g *slowUploads) open() { g.fast.Store(true) }

// trickle passes 64 KiB every 20 ms, about 3 MiB/s, until fast is set.
type trickle struct {
	r    io.Reader
	fast *atomic.Bool
}

func (s *trickle) Read(p []byte) (int, error) {
	if !s.fast.Load() {
		time.Sleep(20 * time.Millisecond)
		p = p[:min(len(p), 64<<10)]
	}
	return s.r.Read(p)
}
