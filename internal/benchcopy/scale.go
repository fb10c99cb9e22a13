//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
)

// scaleParallelism are the -parallelism values each scale plan runs at.
var scaleParallelism = []int{10, 50}

// scaleConfig is the Terraform configuration of the scale section: n images, each copied
// from its own source repository to its own destination repository of one registry.
const scaleConfig = `terraform {
  required_providers {
    imagesync = {
      source = "imagesync/imagesync"
    }
  }
}

variable "registry" { type = string }
variable "n" { type = number }
variable "password" {
  type      = string
  sensitive = true
}

provider "imagesync" {
  registry_auth {
    address  = var.registry
    username = "tester"
    password = var.password
  }
}

resource "imagesync_image" "app" {
  count       = var.n
  source      = "${var.registry}/src/app-${count.index}:v1"
  destination = "${var.registry}/dst/app-${count.index}:v1"
}
`

// scaleSample is one measured terraform command of the scale section.
type scaleSample struct {
	Resources   int            `json:"resources"`
	Command     string         `json:"command"` // apply or plan
	Parallelism int            `json:"parallelism"`
	WallSeconds float64        `json:"wall_seconds"`
	CPUSeconds  float64        `json:"cpu_seconds"` // terraform and the provider it ran
	Requests    int64          `json:"requests"`    // that reached the registry
	ByKind      map[string]int `json:"by_kind"`     // "HEAD manifest", "GET ping", ...
	Tokens      int            `json:"tokens"`      // requests to the token server
}

// scaleSection applies n imagesync_image resources against one token-auth registry
// behind a counting proxy, then times `terraform plan -refresh=true` at each
// parallelism and counts what the plan asked the registry and its token server.
func (s *suite) scaleSection(ctx context.Context) error {
	cli, err := exec.LookPath(s.cfg.terraform)
	if err != nil {
		return fmt.Errorf("scale section: %w (terraform must be on PATH, or pass -terraform)", err)
	}
	provider, err := filepath.Abs(s.cfg.providerDir)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(provider, "terraform-provider-imagesync")); err != nil {
		return fmt.Errorf("scale section: provider not built: %w (run `make build`)", err)
	}
	var samples []scaleSample
	for _, n := range s.cfg.scaleSizes {
		got, err := s.scaleRun(ctx, cli, provider, n)
		if err != nil {
			return err
		}
		samples = append(samples, got...)
	}
	s.scaleSamples = samples
	s.printScale(cli, samples)
	return nil
}

// scaleRun is one size: a fresh registry with n source images, an apply that copies
// them, and one plan per parallelism.
func (s *suite) scaleRun(ctx context.Context, cli, provider string, n int) ([]scaleSample, error) {
	reg, err := testregistry.Start(ctx, testregistry.Options{Auth: testregistry.AuthToken})
	if err != nil {
		return nil, err
	}
	defer reg.Close()
	proxy, err := startRemote(ctx, reg.Host, 0, 0)
	if err != nil {
		return nil, err
	}
	defer proxy.Close()
	start := time.Now()
	if err := pushSources(ctx, reg, n); err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "scale: pushed %d source images in %.1f s\n", n, time.Since(start).Seconds())

	work, err := os.MkdirTemp("", "benchscale-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	rc := filepath.Join(work, "terraform.rc")
	overrides := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"imagesync/imagesync\" = %q\n  }\n  direct {}\n}\n", provider)
	if err := os.WriteFile(rc, []byte(overrides), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(work, "main.tf"), []byte(scaleConfig), 0o644); err != nil {
		return nil, err
	}
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1",
		"TF_VAR_registry="+proxy.Host, "TF_VAR_n="+strconv.Itoa(n), "TF_VAR_password="+reg.Password,
		"DOCKER_CONFIG="+s.run.dockerConfig)

	run := func(command string, parallelism int, args ...string) (scaleSample, error) {
		cmd := exec.CommandContext(ctx, cli, append([]string{command, "-input=false", "-no-color", "-parallelism=" + strconv.Itoa(parallelism)}, args...)...)
		cmd.Dir, cmd.Env = work, env
		proxy.resetKinds()
		requests, tokens := proxy.requests.Load(), reg.TokenRequests()
		m, err := runMeasured(cmd)
		if err != nil {
			return scaleSample{}, fmt.Errorf("%s %s with %d resources: %w", filepath.Base(cli), command, n, err)
		}
		smp := scaleSample{
			Resources: n, Command: command, Parallelism: parallelism,
			WallSeconds: m.wall.Seconds(),
			CPUSeconds:  (m.user + m.sys).Seconds(),
			Requests:    proxy.requests.Load() - requests,
			ByKind:      proxy.kinds(),
			Tokens:      reg.TokenRequests() - tokens,
		}
		fmt.Fprintf(os.Stderr, "scale: %s of %d at -parallelism=%d: %.1f s, %d requests, %d token requests\n",
			command, n, parallelism, smp.WallSeconds, smp.Requests, smp.Tokens)
		return smp, nil
	}

	applied, err := run("apply", 50, "-auto-approve")
	if err != nil {
		return nil, err
	}
	samples := []scaleSample{applied}
	for _, p := range scaleParallelism {
		// -detailed-exitcode: 0 is an empty plan, as it must be with every image in place.
		smp, err := run("plan", p, "-refresh=true", "-detailed-exitcode")
		if err != nil {
			return nil, err
		}
		samples = append(samples, smp)
	}
	return samples, nil
}

// pushSources pushes n small, different images, src/app-<i>:v1, four at a time.
func pushSources(ctx context.Context, reg *testregistry.Registry, n int) error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	next := make(chan int)
	for range 4 {
		wg.Go(func() {
			for i := range next {
				_, errs[i] = reg.Push(ctx, fmt.Sprintf("src/app-%d", i), "v1", testregistry.ImageSpec{OCI: true, Layers: 1, LayerSize: 1024, Seed: int64(i + 1)})
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}

// printScale prints the scale table: per plan, requests and tokens per resource, and
// how the time grows with the number of resources.
func (s *suite) printScale(cli string, samples []scaleSample) {
	out, _ := exec.Command(cli, "version").Output()
	version, _, _ := strings.Cut(string(out), "\n")
	fmt.Fprintf(s.out, "\n### Scale: `terraform plan -refresh=true` of N imagesync_image resources (%s, token-auth registry behind a counting proxy)\n\n", version)
	fmt.Fprintln(s.out, "| resources | command | -parallelism | wall s | ms per resource | CPU s | requests | per resource | token requests | requests by kind |")
	fmt.Fprintln(s.out, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, smp := range samples {
		fmt.Fprintf(s.out, "| %d | %s | %d | %.1f | %.1f | %.1f | %d | %.2f | %d | %s |\n",
			smp.Resources, smp.Command, smp.Parallelism, smp.WallSeconds, 1000*smp.WallSeconds/float64(smp.Resources),
			smp.CPUSeconds, smp.Requests, float64(smp.Requests)/float64(smp.Resources), smp.Tokens, formatKinds(smp.ByKind))
	}
	fmt.Fprintln(s.out)
	for _, p := range scaleParallelism {
		var small, large *scaleSample
		for i := range samples {
			smp := &samples[i]
			if smp.Command != "plan" || smp.Parallelism != p {
				continue
			}
			if smp.Resources == slices.Min(s.cfg.scaleSizes) {
				small = smp
			}
			if smp.Resources == slices.Max(s.cfg.scaleSizes) {
				large = smp
			}
		}
		if small != nil && large != nil && small != large {
			fmt.Fprintf(s.out, "Plan at -parallelism=%d: %d→%d resources (%.0f×) took %.1f× the time.\n", p,
				small.Resources, large.Resources, float64(large.Resources)/float64(small.Resources), large.WallSeconds/small.WallSeconds)
		}
	}
}

func formatKinds(kinds map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, kinds[k]))
	}
	return strings.Join(parts, ", ")
}
