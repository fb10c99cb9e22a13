//go:build linux

// Command benchcopy measures registry-to-registry copies by registryclient beside crane:
// wall time, CPU and peak memory of the copying process, and how the copy time of
// many-layer images changes with WithParallelTransfers. It starts its own registries on
// loopback, generates the images, runs every copy in a fresh child process (itself with
// -mode=copy, or crane) and prints Markdown tables. `make bench` runs it; BENCHMARKS.md
// records the results.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"
)

func main() {
	mode := flag.String("mode", "suite", "suite: run the benchmarks; copy: copy -src to -dst once, push: push -archive to -dst once, tags: copy -src:T to -dst:T for every tag T of -tags with one client, each printing a JSON report (what the suite runs as our client)")
	src := flag.String("src", "", "copy mode: source image reference; tags mode: source repository")
	dst := flag.String("dst", "", "copy mode: destination image reference; tags mode: destination repository")
	tags := flag.String("tags", "", "tags mode: comma-separated tags to copy")
	parallel := flag.Int("parallel", 0, "copy mode: WithParallelTransfers; 0 keeps the client's default")
	crane := flag.String("crane", "bin/crane", "suite: the crane executable to compare with")
	runs := flag.Int("runs", 3, "suite: runs per measurement; tables show the median")
	sections := flag.String("sections", "copy,memory,sweep,push,scale,tags", "suite: comma-separated sections to run (copy, memory, sweep, push, scale, tags)")
	rtt := flag.Duration("rtt", 20*time.Millisecond, "suite: round trip the simulated remote registries add to every request and new connection")
	streamRate := flag.Float64("stream-rate", 32, "suite: MiB/s one HTTP body may stream through a simulated remote registry; 0 for no limit")
	jsonOut := flag.String("json", "", "suite: also write every sample as JSON to this file")
	storage := flag.String("storage", defaultStorage(), "suite: directory for the registries' storage; a tmpfs keeps disk writeback out of the timings")
	archive := flag.String("archive", "bin/bench/docker-save.tar", "push: the docker-save archive to push; the suite builds it there from this machine's files when it is missing")
	uncompressed := flag.Bool("uncompressed", false, "push mode: push the layers as they are (compression = \"none\")")
	compressedIn := flag.String("compressed-in", "", "push mode: JSON file of the compressions an earlier push made (the provider's private state)")
	compressedOut := flag.String("compressed-out", "", "push mode: write this push's compressions to this JSON file")
	cpuProfile := flag.String("cpuprofile", "", "push mode: write a CPU profile to this file")
	regctl := flag.String("regctl", "bin/regctl", "suite: the regctl executable to compare pushes with; skipped when missing")
	skopeo := flag.String("skopeo", "skopeo", "suite: the skopeo executable to compare pushes with; skipped when missing")
	pushRuns := flag.Int("push-runs", 5, "suite: runs of every push (cold and warm) per tool")
	pushChart := flag.String("push-chart", "BENCHMARKS-push.svg", "suite: write the push section's chart (SVG) here; empty for none")
	terraform := flag.String("terraform", "terraform", "suite: the Terraform CLI the scale section plans with")
	providerDir := flag.String("provider-dir", "bin", "suite: the directory holding terraform-provider-imagesync, for the scale section")
	scaleSizes := flag.String("scale-sizes", "100,1000", "suite: comma-separated numbers of resources the scale section plans")
	flag.Parse()
	var sizes []int
	for _, f := range strings.Split(*scaleSizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "benchcopy: -scale-sizes: %q is not a number of resources\n", f)
			os.Exit(2)
		}
		sizes = append(sizes, n)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	switch *mode {
	case "copy":
		err = copyOnce(ctx, *src, *dst, *parallel)
	case "push":
		err = pushOnce(ctx, pushConfig{archive: *archive, dst: *dst, compressedIn: *compressedIn, compressedOut: *compressedOut, cpuProfile: *cpuProfile, uncompressed: *uncompressed}, os.Stdout)
	case "tags":
		var list []string
		if *tags != "" {
			list = strings.Split(*tags, ",")
		}
		err = copyTags(ctx, *src, *dst, list, os.Stdout)
	case "suite":
		err = runSuite(ctx, suiteConfig{
			crane:       *crane,
			runs:        max(*runs, 1),
			sections:    strings.Split(*sections, ","),
			rtt:         *rtt,
			streamRate:  *streamRate * (1 << 20),
			jsonOut:     *jsonOut,
			storage:     *storage,
			archive:     *archive,
			regctl:      *regctl,
			skopeo:      *skopeo,
			pushRuns:    max(*pushRuns, 1),
			pushChart:   *pushChart,
			terraform:   *terraform,
			providerDir: *providerDir,
			scaleSizes:  sizes,
		})
	default:
		err = errors.New("unknown -mode " + *mode + ": want suite, copy, push or tags")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchcopy:", err)
		os.Exit(1)
	}
}

// defaultStorage is /dev/shm when the machine has it, else the usual temporary directory.
func defaultStorage() string {
	if info, err := os.Stat("/dev/shm"); err == nil && info.IsDir() {
		return "/dev/shm"
	}
	return os.TempDir()
}
