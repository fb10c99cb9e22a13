//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
)

// The peers the push section adds to imagesync and crane.
const (
	regctl = "regctl"
	skopeo = "skopeo"
)

// The two pushes of one archive: into a repository that has nothing, then the same file
// again, as a second terraform apply would.
const (
	cold = "cold"
	warm = "warm"
)

// archiveWorkload names the archive in the samples.
const archiveWorkload = "docker-save"

// pushTool is one program that pushes the archive.
type pushTool struct {
	name, path, version string
}

// pushSection pushes the docker-save archive with every tool the machine has, cold then
// warm, runs times each, into a fresh registry per tool and run behind a counting proxy.
func (s *suite) pushSection(ctx context.Context) error {
	archive, err := filepath.Abs(s.cfg.archive)
	if err != nil {
		return err
	}
	s.cfg.archive = archive
	size, err := ensureArchive(ctx, archive)
	if err != nil {
		return fmt.Errorf("build the docker-save archive: %w", err)
	}
	tools, skipped := s.pushTools()
	work, err := os.MkdirTemp("", "benchpush-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	// regctl and skopeo get a home of their own: the developer's configuration is
	// neither read nor written.
	home := filepath.Join(work, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		return err
	}
	for run := 1; run <= s.cfg.pushRuns; run++ {
		// Each run starts with the next tool, so none always meets the warmest caches.
		order := append(slices.Clone(tools[(run-1)%len(tools):]), tools[:(run-1)%len(tools)]...)
		for _, t := range order {
			if err := s.pushPair(ctx, t, run, work, home); err != nil {
				return err
			}
		}
	}
	s.printPush(tools, skipped, size)
	chart := pushChart(s.pushRows(tools), fmt.Sprintf("Pushing a %d MiB docker-save archive (4 layers), median of %d, whiskers min-max", size/mib, s.cfg.pushRuns))
	if s.cfg.pushChart == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(s.cfg.pushChart), 0o755); err != nil {
		return err
	}
	return os.WriteFile(s.cfg.pushChart, []byte(chart), 0o644)
}

// pushTools lists imagesync and every peer found, and says why any other was left out.
func (s *suite) pushTools() ([]pushTool, []string) {
	tools := []pushTool{
		{name: imagesync, path: s.run.self, version: "this commit"},
		{name: crane, path: s.cfg.crane, version: craneVersion(s.cfg.crane)},
	}
	var skipped []string
	for _, peer := range []struct{ name, path string }{{regctl, s.cfg.regctl}, {skopeo, s.cfg.skopeo}} {
		path, err := exec.LookPath(peer.path)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s (not found at %q: %v)", peer.name, peer.path, err))
			continue
		}
		tools = append(tools, pushTool{name: peer.name, path: path, version: toolVersion(peer.name, path)})
	}
	return tools, skipped
}

// pushPair runs a cold and a warm push of the archive with t into a registry of their
// own, which starts empty, and records both.
func (s *suite) pushPair(ctx context.Context, t pushTool, run int, work, home string) error {
	reg, err := testregistry.Start(ctx, testregistry.Options{})
	if err != nil {
		return err
	}
	defer reg.Close()
	proxy, err := startRemote(ctx, reg.Host, 0, 0)
	if err != nil {
		return err
	}
	defer proxy.Close()
	repo := fmt.Sprintf("bench/push/%s-r%d", t.name, run)
	ref := proxy.Host + "/" + repo + ":v1"
	compressed := filepath.Join(work, fmt.Sprintf("compressed-r%d.json", run))
	for _, scenario := range []string{cold, warm} {
		cmd := s.pushCommand(ctx, t, scenario, ref, proxy.Host, compressed)
		cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+s.run.dockerConfig, "HOME="+home)
		requests, uploaded := proxy.requests.Load(), proxy.uploaded.Load()
		m, err := runMeasured(cmd)
		if err != nil {
			return fmt.Errorf("%s %s push to %s: %w", t.name, scenario, ref, err)
		}
		smp := sample{
			Section: "push", Scenario: scenario, Workload: archiveWorkload, Client: t.name, Run: run,
			WallSeconds:   m.wall.Seconds(),
			UserSeconds:   m.user.Seconds(),
			SysSeconds:    m.sys.Seconds(),
			MaxRSSBytes:   m.maxRSS,
			Requests:      proxy.requests.Load() - requests,
			UploadedBytes: proxy.uploaded.Load() - uploaded,
		}
		if smp.Digest, err = reg.ManifestDigest(ctx, repo, "v1"); err != nil {
			return fmt.Errorf("%s %s push to %s: %w", t.name, scenario, ref, err)
		}
		if t.name == imagesync {
			var rep pushReport
			if err := json.Unmarshal(m.stdout.Bytes(), &rep); err != nil {
				return fmt.Errorf("read the report of push %s: %w: %q", ref, err, m.stdout.String())
			}
			if rep.Digest != smp.Digest {
				return fmt.Errorf("imagesync pushed %s to %s, but the tag holds %s", rep.Digest, ref, smp.Digest)
			}
			smp.CopySeconds, smp.LayerBytesRead = rep.WallSeconds, rep.LayerBytesRead
		}
		s.samples = append(s.samples, smp)
		fmt.Fprintf(os.Stderr, "push %-9s %s run %d: %6.2f s wall, %6.2f s CPU, %4.0f MiB RSS, %5.0f MiB uploaded, %d requests\n",
			t.name, scenario, run, smp.WallSeconds, smp.UserSeconds+smp.SysSeconds, float64(smp.MaxRSSBytes)/float64(mib),
			float64(smp.UploadedBytes)/float64(mib), smp.Requests)
	}
	return nil
}

// pushCommand is the command line that makes t push the archive to ref.
func (s *suite) pushCommand(ctx context.Context, t pushTool, scenario, ref, host, compressed string) *exec.Cmd {
	switch t.name {
	case imagesync:
		args := []string{"-mode=push", "-archive", s.cfg.archive, "-dst", ref, "-compressed-out", compressed}
		if scenario == warm {
			// What the provider keeps in private state after the first apply.
			args = append(args, "-compressed-in", compressed)
		}
		return exec.CommandContext(ctx, t.path, args...)
	case crane:
		return exec.CommandContext(ctx, t.path, "push", s.cfg.archive, ref, "--insecure")
	case regctl:
		return exec.CommandContext(ctx, t.path, "--host", "reg="+host+",tls=disabled", "image", "import", ref, s.cfg.archive)
	default: // skopeo
		return exec.CommandContext(ctx, t.path, "--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false",
			"docker-archive:"+s.cfg.archive, "docker://"+ref)
	}
}

// toolVersion asks a peer for its version.
func toolVersion(name, path string) string {
	args := []string{"--version"}
	if name == regctl {
		args = []string{"version", "--format", "{{.VCSTag}}"}
	}
	out, err := exec.Command(path, args...).Output()
	if err != nil {
		return "(version unknown)"
	}
	return strings.TrimPrefix(strings.TrimSpace(string(out)), name+" version ") // skopeo says "skopeo version 1.9.3"
}

// printPush prints the push table, the ratios the target is set in, and what the warm
// pushes moved.
func (s *suite) printPush(tools []pushTool, skipped []string, size int64) {
	fmt.Fprintf(s.out, "\n### Pushing a docker-save archive (%d MiB, 4 layers; median of %d, min-max in brackets)\n\n", size/mib, s.cfg.pushRuns)
	var versions []string
	for _, t := range tools {
		versions = append(versions, t.name+" "+t.version)
	}
	fmt.Fprintf(s.out, "Tools: %s.\n", strings.Join(versions, "; "))
	if len(skipped) > 0 {
		fmt.Fprintf(s.out, "Skipped: %s.\n", strings.Join(skipped, "; "))
	}
	fmt.Fprintln(s.out, "\n| tool | push | wall s | CPU s (user+sys) | peak RSS MiB | uploaded MiB (highest) | requests | layer MiB compressed (highest) |")
	fmt.Fprintln(s.out, "| --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, t := range tools {
		for _, scenario := range []string{cold, warm} {
			got := s.pushSamples(t.name, scenario)
			wall := spread(got, func(x sample) float64 { return x.WallSeconds })
			cpu := spread(got, func(x sample) float64 { return x.UserSeconds + x.SysSeconds })
			rss := spread(got, func(x sample) float64 { return float64(x.MaxRSSBytes) / float64(mib) })
			uploaded := spread(got, func(x sample) float64 { return float64(x.UploadedBytes) / float64(mib) })
			requests := spread(got, func(x sample) float64 { return float64(x.Requests) })
			read := "-"
			if t.name == imagesync {
				read = fmt.Sprintf("%.0f", spread(got, func(x sample) float64 { return float64(x.LayerBytesRead) / float64(mib) }).max)
			}
			fmt.Fprintf(s.out, "| %s | %s | %.2f (%.2f-%.2f) | %.2f (%.2f-%.2f) | %.0f (%.0f-%.0f) | %.0f (%.0f) | %.0f | %s |\n",
				t.name, scenario, wall.median, wall.min, wall.max, cpu.median, cpu.min, cpu.max,
				rss.median, rss.min, rss.max, uploaded.median, uploaded.max, requests.median, read)
		}
	}
	ours := summarize(s.pushSamples(imagesync, cold))
	fmt.Fprintln(s.out)
	for _, t := range tools[1:] {
		theirs := summarize(s.pushSamples(t.name, cold))
		fmt.Fprintf(s.out, "Cold push, %s ÷ imagesync: %.1f× the wall time, %.1f× the CPU time.\n", t.name, theirs.wall/ours.wall, theirs.cpu/ours.cpu)
	}
	digests := map[string]bool{}
	for _, smp := range s.pushSamples(imagesync, "") {
		digests[smp.Digest] = true
	}
	fmt.Fprintf(s.out, "imagesync pushed %d distinct manifest digest(s) over %d pushes (cold and warm): %s.\n",
		len(digests), len(s.pushSamples(imagesync, "")), strings.Join(slices.Sorted(maps.Keys(digests)), ", "))
}

// pushSamples are the push section's samples of one tool, of one scenario or of both.
func (s *suite) pushSamples(tool, scenario string) []sample {
	var got []sample
	for _, smp := range s.samples {
		if smp.Section == "push" && smp.Client == tool && (scenario == "" || smp.Scenario == scenario) {
			got = append(got, smp)
		}
	}
	return got
}

// pushRows are the chart's rows: every tool's cold and warm push.
func (s *suite) pushRows(tools []pushTool) []chartRow {
	var rows []chartRow
	for _, t := range tools {
		for _, scenario := range []string{cold, warm} {
			got := s.pushSamples(t.name, scenario)
			rows = append(rows, chartRow{
				label: t.name + " " + scenario,
				warm:  scenario == warm,
				wall:  spread(got, func(x sample) float64 { return x.WallSeconds }),
				rss:   spread(got, func(x sample) float64 { return float64(x.MaxRSSBytes) / float64(mib) }),
			})
		}
	}
	return rows
}

// stats are the median and range of one measure over a set of runs.
type stats struct{ median, min, max float64 }

func spread(samples []sample, value func(sample) float64) stats {
	if len(samples) == 0 {
		return stats{}
	}
	xs := make([]float64, 0, len(samples))
	for _, smp := range samples {
		xs = append(xs, value(smp))
	}
	return stats{median: median(xs), min: slices.Min(xs), max: slices.Max(xs)}
}
