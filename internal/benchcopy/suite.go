//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
)

// The images each section copies.
var (
	copyWorkloads = []workload{
		{Name: "1 layer of 512 MiB", ID: "layer-512mib", Layers: 1, LayerSize: 512 * mib},
		{Name: "16 layers of 8 MiB", ID: "layers-16x8mib", Layers: 16, LayerSize: 8 * mib},
		{Name: "index: 3 platforms x 4 layers of 4 MiB", ID: "index-3x4x4mib", Platforms: 3, Layers: 4, LayerSize: 4 * mib},
	}
	memoryWorkloads = []workload{
		{Name: "64 MiB", ID: "layer-64mib", Layers: 1, LayerSize: 64 * mib},
		{Name: "256 MiB", ID: "layer-256mib", Layers: 1, LayerSize: 256 * mib},
		{Name: "1 GiB", ID: "layer-1gib", Layers: 1, LayerSize: gib},
	}
	sweepWorkloads = copyWorkloads[1:]
	sweepParallel  = []int{1, 2, 4, 8, 16}
)

// suiteConfig is what the flags say about a suite run.
type suiteConfig struct {
	crane      string
	runs       int
	sections   []string
	rtt        time.Duration
	streamRate float64 // bytes a second per body through a remote; 0 for no limit
	jsonOut    string
	storage    string
	// The push section's archive, peers, runs and chart.
	archive, regctl, skopeo string
	pushRuns                int
	pushChart               string
	// The scale section's CLI and the directory holding the provider binary.
	terraform, providerDir string
	scaleSizes             []int // resources per plan
}

// suite holds the registries and images every section copies between.
type suite struct {
	cfg      suiteConfig
	run      runner
	src, dst *testregistry.Registry
	digests  map[string]string // workload ID → source manifest digest
	samples  []sample
	// scaleSamples are the scale section's terraform runs.
	scaleSamples []scaleSample
	out          io.Writer
}

// runSuite starts a source and a destination registry, pushes the images the chosen
// sections need and runs the sections, printing a Markdown table after each.
func runSuite(ctx context.Context, cfg suiteConfig) error {
	for _, name := range cfg.sections {
		if !slices.Contains([]string{"copy", "memory", "sweep", "push", "scale", "tags"}, name) {
			return fmt.Errorf("unknown section %q: want copy, memory, sweep, push, scale or tags", name)
		}
	}
	if _, err := exec.LookPath(cfg.crane); err != nil {
		return fmt.Errorf("crane: %w (run `make bench`, which builds it into bin/)", err)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dockerConfig, err := os.MkdirTemp("", "benchcopy-docker-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dockerConfig)

	// testregistry keeps each registry's storage in a new directory under $TMPDIR.
	if err := os.Setenv("TMPDIR", cfg.storage); err != nil {
		return err
	}
	src, err := testregistry.Start(ctx, testregistry.Options{})
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := testregistry.Start(ctx, testregistry.Options{})
	if err != nil {
		return err
	}
	defer dst.Close()

	s := &suite{
		cfg:     cfg,
		run:     runner{self: self, crane: cfg.crane, dockerConfig: dockerConfig},
		src:     src,
		dst:     dst,
		digests: map[string]string{},
		out:     os.Stdout,
	}
	began := time.Now()
	s.printMachine()
	if err := s.generate(ctx); err != nil {
		return err
	}
	for _, name := range cfg.sections {
		var err error
		switch name {
		case "copy":
			err = s.copySection(ctx)
		case "memory":
			err = s.memorySection(ctx)
		case "sweep":
			err = s.sweepSection(ctx)
		case "push":
			err = s.pushSection(ctx)
		case "scale":
			err = s.scaleSection(ctx)
		case "tags":
			err = s.tagsSection(ctx)
		}
		if err != nil {
			return errors.Join(err, s.writeJSON())
		}
	}
	fmt.Fprintf(s.out, "\nWhole suite: %.0f s.\n", time.Since(began).Seconds())
	return s.writeJSON()
}

// generate pushes every image the chosen sections copy, outside any timed region.
func (s *suite) generate(ctx context.Context) error {
	var need []workload
	for _, name := range s.cfg.sections {
		switch name {
		case "copy":
			need = append(need, copyWorkloads...)
		case "memory":
			need = append(need, memoryWorkloads...)
		case "sweep":
			need = append(need, sweepWorkloads...)
		}
	}
	start := time.Now()
	var total int64
	for _, w := range need {
		if _, ok := s.digests[w.ID]; ok {
			continue
		}
		d, err := pushWorkload(ctx, s.src, w)
		if err != nil {
			return fmt.Errorf("generate %s: %w", w.Name, err)
		}
		s.digests[w.ID] = d
		total += w.Bytes()
	}
	fmt.Fprintf(os.Stderr, "generated %d MiB of images in %.1f s\n", total/mib, time.Since(start).Seconds())
	return nil
}

// copyMany measures every client copying w from srcHost to dstHost runs times, each into
// a fresh destination repository. The clients take turns, in alternating order, so
// neither always meets a warmer page cache.
// requests, when set, counts the requests the registries have answered so far.
func (s *suite) copyMany(ctx context.Context, section, scenario string, w workload, parallel int, srcHost, dstHost string, requests func() int64) error {
	clients := []string{imagesync, crane}
	for run := 1; run <= s.cfg.runs; run++ {
		for _, client := range clients {
			repo := fmt.Sprintf("bench/%s/%s-%s-p%d-r%d", w.ID, scenario, client, parallel, run)
			var before int64
			if requests != nil {
				before = requests()
			}
			smp, err := s.run.measure(ctx, copyJob{
				client:   client,
				parallel: parallel,
				src:      srcHost + "/" + w.ID + ":v1",
				dst:      dstHost + "/" + repo + ":v1",
				verify:   s.dst,
				dstRepo:  repo,
				want:     s.digests[w.ID],
			})
			if err != nil {
				return err
			}
			smp.Section, smp.Scenario, smp.Workload, smp.Run = section, scenario, w.ID, run
			if requests != nil {
				smp.Requests = requests() - before
			}
			s.samples = append(s.samples, smp)
			fmt.Fprintf(os.Stderr, "%-6s %-8s %-16s %-9s p=%-2d run %d: %6.2f s wall, %5.2f s CPU, %4.0f MiB RSS\n",
				section, scenario, w.ID, client, parallel, run, smp.WallSeconds, smp.UserSeconds+smp.SysSeconds, float64(smp.MaxRSSBytes)/float64(mib))
		}
		slices.Reverse(clients)
	}
	return nil
}

// find is the summary of the samples matching every field set in want.
func (s *suite) find(want sample) summary {
	var got []sample
	for _, smp := range s.samples {
		if smp.Section == want.Section && smp.Scenario == want.Scenario && smp.Workload == want.Workload &&
			smp.Client == want.Client && smp.Parallel == want.Parallel {
			got = append(got, smp)
		}
	}
	return summarize(got)
}

func (s *suite) copySection(ctx context.Context) error {
	for _, w := range copyWorkloads {
		if err := s.copyMany(ctx, "copy", "loopback", w, 0, s.src.Host, s.dst.Host, nil); err != nil {
			return err
		}
	}
	fmt.Fprintf(s.out, "\n### Copy: wall time and CPU (loopback, default parallelism, median of %d)\n\n", s.cfg.runs)
	fmt.Fprintln(s.out, "| image | client | wall s (min-max) | in Copy s | CPU s (user+sys) | user s | sys s | max RSS MiB | MiB/s |")
	fmt.Fprintln(s.out, "| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, w := range copyWorkloads {
		for _, client := range []string{imagesync, crane} {
			m := s.find(sample{Section: "copy", Scenario: "loopback", Workload: w.ID, Client: client})
			inCopy := "-"
			if client == imagesync {
				inCopy = fmt.Sprintf("%.2f", m.copyWall)
			}
			fmt.Fprintf(s.out, "| %s | %s | %.2f (%.2f-%.2f) | %s | %.2f | %.2f | %.2f | %.0f | %.0f |\n",
				w.Name, client, m.wall, m.wallMin, m.wallMax, inCopy, m.cpu, m.user, m.sys,
				m.maxRSS/float64(mib), float64(w.Bytes())/float64(mib)/m.wall)
		}
	}
	return nil
}

func (s *suite) memorySection(ctx context.Context) error {
	for _, w := range memoryWorkloads {
		if err := s.copyMany(ctx, "memory", "loopback", w, 0, s.src.Host, s.dst.Host, nil); err != nil {
			return err
		}
	}
	fmt.Fprintf(s.out, "\n### Peak memory by layer size (loopback, one layer, median of %d; highest in brackets)\n\n", s.cfg.runs)
	fmt.Fprintln(s.out, "| layer | imagesync max RSS MiB | crane max RSS MiB | imagesync wall s | crane wall s | imagesync CPU s | crane CPU s |")
	fmt.Fprintln(s.out, "| --- | --- | --- | --- | --- | --- | --- |")
	for _, w := range memoryWorkloads {
		ours := s.find(sample{Section: "memory", Scenario: "loopback", Workload: w.ID, Client: imagesync})
		theirs := s.find(sample{Section: "memory", Scenario: "loopback", Workload: w.ID, Client: crane})
		fmt.Fprintf(s.out, "| %s | %.0f (%.0f) | %.0f (%.0f) | %.2f | %.2f | %.2f | %.2f |\n", w.Name,
			ours.maxRSS/float64(mib), ours.maxRSSHigh/float64(mib), theirs.maxRSS/float64(mib), theirs.maxRSSHigh/float64(mib),
			ours.wall, theirs.wall, ours.cpu, theirs.cpu)
	}
	return nil
}

func (s *suite) sweepSection(ctx context.Context) error {
	type scenario struct {
		name, title      string
		srcHost, dstHost string
		requests         func() int64
	}
	scenarios := []scenario{{name: "loopback", title: "loopback", srcHost: s.src.Host, dstHost: s.dst.Host}}
	// Latency alone shows what parallel transfers hide of the round trips; with a cap
	// per stream as well, they also add up bandwidth, as against a real remote registry.
	remotes := []struct {
		name string
		rate float64
	}{{"rtt", 0}, {"remote", s.cfg.streamRate}}
	for _, r := range remotes {
		if s.cfg.rtt <= 0 && r.rate <= 0 || r.name == "remote" && r.rate <= 0 {
			continue
		}
		srcRemote, err := startRemote(ctx, s.src.Host, s.cfg.rtt, r.rate)
		if err != nil {
			return err
		}
		defer srcRemote.Close()
		dstRemote, err := startRemote(ctx, s.dst.Host, s.cfg.rtt, r.rate)
		if err != nil {
			return err
		}
		defer dstRemote.Close()
		limit := "no bandwidth limit"
		if r.rate > 0 {
			limit = fmt.Sprintf("%.0f MiB/s per HTTP body", r.rate/float64(mib))
		}
		scenarios = append(scenarios, scenario{
			name:     r.name,
			title:    fmt.Sprintf("simulated remote registries: %v per request and per new connection, %s", s.cfg.rtt, limit),
			srcHost:  srcRemote.Host,
			dstHost:  dstRemote.Host,
			requests: func() int64 { return srcRemote.requests.Load() + dstRemote.requests.Load() },
		})
	}
	for _, sc := range scenarios {
		for _, w := range sweepWorkloads {
			for _, p := range sweepParallel {
				if err := s.copyMany(ctx, "sweep", sc.name, w, p, sc.srcHost, sc.dstHost, sc.requests); err != nil {
					return err
				}
			}
		}
		fmt.Fprintf(s.out, "\n### Parallel transfers: wall s, median of %d (%s)\n\n", s.cfg.runs, sc.title)
		header := "| image | client |"
		rule := "| --- | --- |"
		for _, p := range sweepParallel {
			header += fmt.Sprintf(" %d |", p)
			rule += " --- |"
		}
		fmt.Fprintln(s.out, header)
		fmt.Fprintln(s.out, rule)
		for _, w := range sweepWorkloads {
			for _, client := range []string{imagesync, crane} {
				row := fmt.Sprintf("| %s | %s |", w.Name, client)
				for _, p := range sweepParallel {
					m := s.find(sample{Section: "sweep", Scenario: sc.name, Workload: w.ID, Client: client, Parallel: p})
					row += fmt.Sprintf(" %.2f |", m.wall)
				}
				fmt.Fprintln(s.out, row)
			}
		}
		if sc.requests != nil {
			s.printRequests(sc.name)
		}
	}
	return nil
}

// printRequests tells how many requests each client sent per copy through the remotes:
// each costs a round trip.
func (s *suite) printRequests(scenario string) {
	fmt.Fprintf(s.out, "\nRequests per copy through the simulated remotes (median over every parallelism; source + destination):\n\n")
	fmt.Fprintln(s.out, "| image | blobs | imagesync | crane |")
	fmt.Fprintln(s.out, "| --- | --- | --- | --- |")
	for _, w := range sweepWorkloads {
		row := fmt.Sprintf("| %s | %d |", w.Name, max(w.Platforms, 1)*(w.Layers+1))
		for _, client := range []string{imagesync, crane} {
			var counts []float64
			for _, smp := range s.samples {
				if smp.Section == "sweep" && smp.Scenario == scenario && smp.Workload == w.ID && smp.Client == client {
					counts = append(counts, float64(smp.Requests))
				}
			}
			row += fmt.Sprintf(" %.0f |", median(counts))
		}
		fmt.Fprintln(s.out, row)
	}
}

// printMachine says what the numbers were measured on.
func (s *suite) printMachine() {
	fmt.Fprintf(s.out, "Measured on: %d CPUs (%s), %s, %s/%s; crane %s; registry storage in %s; %d runs per cell.\n",
		runtime.NumCPU(), cpuModel(), runtime.Version(), runtime.GOOS, runtime.GOARCH, craneVersion(s.cfg.crane), s.cfg.storage, s.cfg.runs)
}

// cpuModel is the first "model name" in /proc/cpuinfo.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func craneVersion(path string) string {
	out, err := exec.Command(path, "version").Output()
	if err != nil {
		return "(version unknown)"
	}
	return strings.TrimSpace(string(out))
}

// writeJSON saves every sample when -json asks for it.
func (s *suite) writeJSON() error {
	if s.cfg.jsonOut == "" {
		return nil
	}
	data, err := json.MarshalIndent(s.samples, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(s.cfg.jsonOut, data, 0o644); err != nil {
		return err
	}
	if len(s.scaleSamples) == 0 {
		return nil
	}
	if data, err = json.MarshalIndent(s.scaleSamples, "", "  "); err != nil {
		return err
	}
	return os.WriteFile(strings.TrimSuffix(s.cfg.jsonOut, ".json")+"-scale.json", data, 0o644)
}
