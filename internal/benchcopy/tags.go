//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
)

// mirrorRepo is where every tool mirrors the tags: skopeo sync names the destination
// repository after the source's last path element, under the prefix it is given.
const mirrorRepo = "mirror/tags"

// tagsSection mirrors every tag of one repository whose images share most layers:
// imagesync with one Client (one terraform apply), regctl once per tag in a shell loop,
// skopeo sync in one run. Each tool gets an empty destination registry and a fresh
// source proxy, both counting requests and bytes.
func (s *suite) tagsSection(ctx context.Context) error {
	src, err := testregistry.Start(ctx, testregistry.Options{})
	if err != nil {
		return err
	}
	defer src.Close()
	imgs, err := pushTagImages(ctx, src)
	if err != nil {
		return fmt.Errorf("generate the tags section's images: %w", err)
	}
	tools, skipped := s.pushTools()
	tools = slices.DeleteFunc(tools, func(t pushTool) bool { return t.name == crane })
	work, err := os.MkdirTemp("", "benchtags-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	home := filepath.Join(work, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		return err
	}
	// On loopback the tools' CPU shows; behind a round trip, how many requests they
	// wait for one after another.
	rtts := []time.Duration{0}
	if s.cfg.rtt > 0 {
		rtts = append(rtts, s.cfg.rtt)
	}
	for _, rtt := range rtts {
		for run := 1; run <= s.cfg.runs; run++ {
			order := append(slices.Clone(tools[(run-1)%len(tools):]), tools[:(run-1)%len(tools)]...)
			for _, t := range order {
				if err := s.mirrorTags(ctx, t, run, rtt, src, imgs, home); err != nil {
					return err
				}
			}
		}
		s.printTags(tools, skipped, imgs, rtt)
	}
	return nil
}

// mirrorTags runs one tool's mirror of every tag into an empty registry and records it.
func (s *suite) mirrorTags(ctx context.Context, t pushTool, run int, rtt time.Duration, src *testregistry.Registry, imgs tagImages, home string) error {
	dst, err := testregistry.Start(ctx, testregistry.Options{})
	if err != nil {
		return err
	}
	defer dst.Close()
	srcProxy, err := startRemote(ctx, src.Host, rtt, 0)
	if err != nil {
		return err
	}
	defer srcProxy.Close()
	dstProxy, err := startRemote(ctx, dst.Host, rtt, 0)
	if err != nil {
		return err
	}
	defer dstProxy.Close()
	srcRepo, dstRepo := srcProxy.Host+"/"+tagsRepo, dstProxy.Host+"/"+mirrorRepo

	var cmd *exec.Cmd
	switch t.name {
	case imagesync:
		cmd = exec.CommandContext(ctx, t.path, "-mode=tags", "-src", srcRepo, "-dst", dstRepo, "-tags", strings.Join(imgs.tags, ","))
	case regctl:
		// One process per tag, as a loop in a script runs it; sh waits for each, so its
		// rusage includes theirs.
		loop := `for t in $TAGS; do "$REGCTL" --host "reg=$SRC_HOST,tls=disabled" --host "reg=$DST_HOST,tls=disabled" image copy "$SRC_REPO:$t" "$DST_REPO:$t" >/dev/null || exit 1; done`
		cmd = exec.CommandContext(ctx, "sh", "-c", loop)
		cmd.Env = []string{"TAGS=" + strings.Join(imgs.tags, " "), "REGCTL=" + t.path,
			"SRC_HOST=" + srcProxy.Host, "DST_HOST=" + dstProxy.Host, "SRC_REPO=" + srcRepo, "DST_REPO=" + dstRepo}
	case skopeo:
		cmd = exec.CommandContext(ctx, t.path, "--insecure-policy", "sync", "--src", "docker", "--dest", "docker",
			"--src-tls-verify=false", "--dest-tls-verify=false", srcRepo, dstProxy.Host+"/"+filepath.Dir(mirrorRepo))
	default:
		return fmt.Errorf("tags section: no command for %s", t.name)
	}
	cmd.Env = append(append(os.Environ(), "DOCKER_CONFIG="+s.run.dockerConfig, "HOME="+home), cmd.Env...)
	m, err := runMeasured(cmd)
	if err != nil {
		return fmt.Errorf("%s mirroring %d tags: %w", t.name, len(imgs.tags), err)
	}
	smp := sample{
		Section: "tags", Scenario: tagsScenario(rtt), Workload: fmt.Sprintf("%d-tags", len(imgs.tags)), Client: t.name, Run: run,
		WallSeconds:     m.wall.Seconds(),
		UserSeconds:     m.user.Seconds(),
		SysSeconds:      m.sys.Seconds(),
		MaxRSSBytes:     m.maxRSS,
		Requests:        dstProxy.requests.Load(),
		UploadedBytes:   dstProxy.uploaded.Load(),
		SourceRequests:  srcProxy.requests.Load(),
		DownloadedBytes: srcProxy.downloaded.Load(),
		ByKind:          map[string]int{},
	}
	for side, proxy := range map[string]*remote{"source": srcProxy, "destination": dstProxy} {
		for kind, n := range proxy.kinds() {
			smp.ByKind[side+" "+kind] = n
		}
	}
	if t.name == imagesync {
		var rep tagsReport
		if err := json.Unmarshal(m.stdout.Bytes(), &rep); err != nil {
			return fmt.Errorf("read the report of the tags mirror: %w: %q", err, m.stdout.String())
		}
		smp.CopySeconds = rep.WallSeconds
	}
	for _, tag := range imgs.tags {
		got, err := dst.ManifestDigest(ctx, mirrorRepo, tag)
		if err != nil {
			return fmt.Errorf("%s mirroring %d tags: %w", t.name, len(imgs.tags), err)
		}
		if got == imgs.digests[tag] {
			smp.TagsMatched++
		}
	}
	if t.name == imagesync && smp.TagsMatched != len(imgs.tags) {
		return fmt.Errorf("imagesync mirrored %d of %d tags with the source's digest", smp.TagsMatched, len(imgs.tags))
	}
	s.samples = append(s.samples, smp)
	fmt.Fprintf(os.Stderr, "tags %-8s %-9s run %d: %6.2f s wall, %6.2f s CPU, %d+%d requests, %5.1f MiB down, %5.1f MiB up, %d tags match\n",
		smp.Scenario, t.name, run, smp.WallSeconds, smp.UserSeconds+smp.SysSeconds, smp.SourceRequests, smp.Requests,
		float64(smp.DownloadedBytes)/float64(mib), float64(smp.UploadedBytes)/float64(mib), smp.TagsMatched)
	return nil
}

// printTags prints the tags table and what a mirror that moves every blob once uploads.
func (s *suite) printTags(tools []pushTool, skipped []string, imgs tagImages, rtt time.Duration) {
	where := "loopback"
	if rtt > 0 {
		where = fmt.Sprintf("%v per request and per new connection, both registries", rtt)
	}
	fmt.Fprintf(s.out, "\n### Mirroring %d tags of one repository (%d shared layers of %d MiB, one %d KiB layer per tag; %s; median of %d, min-max in brackets)\n\n",
		len(imgs.tags), sharedLayers, sharedLayerSize/mib, uniqueLayerSize/kib, where, s.cfg.runs)
	var versions []string
	for _, t := range tools {
		versions = append(versions, t.name+" "+t.version)
	}
	fmt.Fprintf(s.out, "Tools: %s.\n", strings.Join(versions, "; "))
	if len(skipped) > 0 {
		fmt.Fprintf(s.out, "Skipped: %s.\n", strings.Join(skipped, "; "))
	}
	// No peak RSS: Go starts a child in the harness's address space, so the kernel
	// begins its peak at the harness's, which generating the images has raised.
	fmt.Fprintf(s.out, "Every blob once: %.2f MiB (%.2f MiB shared layers + %.2f MiB of unique layers, configs and manifests).\n",
		float64(imgs.minimum())/float64(mib), float64(imgs.sharedBytes)/float64(mib), float64(imgs.perTagBytes)/float64(mib))
	fmt.Fprintln(s.out, "\n| tool | wall s | CPU s (user+sys) | requests to source | requests to destination | MiB read from source | MiB uploaded | ÷ every blob once | tags with the source digest |")
	fmt.Fprintln(s.out, "| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, t := range tools {
		got := s.tagSamples(t.name, tagsScenario(rtt))
		wall := spread(got, func(x sample) float64 { return x.WallSeconds })
		cpu := spread(got, func(x sample) float64 { return x.UserSeconds + x.SysSeconds })
		srcReq := spread(got, func(x sample) float64 { return float64(x.SourceRequests) })
		dstReq := spread(got, func(x sample) float64 { return float64(x.Requests) })
		down := spread(got, func(x sample) float64 { return float64(x.DownloadedBytes) / float64(mib) })
		up := spread(got, func(x sample) float64 { return float64(x.UploadedBytes) / float64(mib) })
		matched := spread(got, func(x sample) float64 { return float64(x.TagsMatched) })
		fmt.Fprintf(s.out, "| %s | %.2f (%.2f-%.2f) | %.2f (%.2f-%.2f) | %.0f | %.0f | %.2f | %.2f | %.2f | %.0f of %d |\n",
			t.name, wall.median, wall.min, wall.max, cpu.median, cpu.min, cpu.max, srcReq.median, dstReq.median,
			down.median, up.median, up.median*float64(mib)/float64(imgs.minimum()), matched.min, len(imgs.tags))
	}
	fmt.Fprintf(s.out, "\nRequests by kind, run 1:\n\n| tool | source | destination |\n| --- | --- | --- |\n")
	for _, t := range tools {
		got := s.tagSamples(t.name, tagsScenario(rtt))
		if len(got) == 0 {
			continue
		}
		side := func(prefix string) map[string]int {
			kinds := map[string]int{}
			for k, n := range got[0].ByKind {
				if rest, ok := strings.CutPrefix(k, prefix+" "); ok {
					kinds[rest] = n
				}
			}
			return kinds
		}
		fmt.Fprintf(s.out, "| %s | %s | %s |\n", t.name, formatKinds(side("source")), formatKinds(side("destination")))
	}
}

// tagsScenario names the samples of one round trip.
func tagsScenario(rtt time.Duration) string {
	if rtt <= 0 {
		return "loopback"
	}
	return "rtt-" + rtt.String()
}

// tagSamples are the tags section's samples of one tool and scenario.
func (s *suite) tagSamples(tool, scenario string) []sample {
	var got []sample
	for _, smp := range s.samples {
		if smp.Section == "tags" && smp.Client == tool && smp.Scenario == scenario {
			got = append(got, smp)
		}
	}
	return got
}
