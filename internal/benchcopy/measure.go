//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
)

// The two clients compared.
const (
	imagesync = "imagesync"
	crane     = "crane"
)

// sample is one measured copy.
type sample struct {
	Section  string `json:"section"`
	Scenario string `json:"scenario"` // loopback or remote
	Workload string `json:"workload"`
	Client   string `json:"client"`
	Parallel int    `json:"parallel"` // 0: the client's default
	Run      int    `json:"run"`
	// WallSeconds is the copying process from start to exit, timed by the harness the
	// same way for both clients.
	WallSeconds float64 `json:"wall_seconds"`
	// CopySeconds is the time inside Client.Copy, which imagesync reports itself.
	CopySeconds float64 `json:"copy_seconds,omitempty"`
	// UserSeconds, SysSeconds and MaxRSSBytes are the child's rusage from wait4.
	UserSeconds float64 `json:"user_seconds"`
	SysSeconds  float64 `json:"sys_seconds"`
	MaxRSSBytes int64   `json:"max_rss_bytes"`
	// Requests is how many HTTP requests reached the simulated remote registries, or
	// the counting proxy in front of the push destination.
	Requests int64 `json:"requests,omitempty"`
	// UploadedBytes is the request bodies a push sent to its destination.
	UploadedBytes int64 `json:"uploaded_bytes,omitempty"`
	// LayerBytesRead is the layer content imagesync read, and so compressed, in a push.
	LayerBytesRead int64 `json:"layer_bytes_read,omitempty"`
	// SourceRequests and DownloadedBytes are what a tags mirror asked of its source
	// and read from it; TagsMatched is how many destination tags hold the source's digest.
	SourceRequests  int64 `json:"source_requests,omitempty"`
	DownloadedBytes int64 `json:"downloaded_bytes,omitempty"`
	TagsMatched     int   `json:"tags_matched,omitempty"`
	// ByKind counts a tags mirror's requests to source and destination by endpoint.
	ByKind map[string]int `json:"by_kind,omitempty"`
	// Digest is the manifest the destination tag holds after a push.
	Digest string `json:"digest,omitempty"`
}

// copyJob is one copy to run and measure.
type copyJob struct {
	client   string
	parallel int
	src      string // full references
	dst      string
	// verify is the destination registry, read afterwards: dstRepo:v1 must be want, the
	// source's manifest digest.
	verify  *testregistry.Registry
	dstRepo string
	want    string
}

// runner starts the copying processes.
type runner struct {
	self         string // this executable, run with -mode=copy
	crane        string
	dockerConfig string // an empty Docker config directory: both clients copy anonymously
}

// measure runs one copy in a fresh process, checks the destination holds the source's
// digest and returns what the process cost.
func (r *runner) measure(ctx context.Context, job copyJob) (sample, error) {
	var cmd *exec.Cmd
	switch job.client {
	case imagesync:
		args := []string{"-mode=copy", "-src", job.src, "-dst", job.dst}
		if job.parallel > 0 {
			args = append(args, "-parallel", strconv.Itoa(job.parallel))
		}
		cmd = exec.CommandContext(ctx, r.self, args...)
	case crane:
		args := []string{"copy", "--insecure", job.src, job.dst}
		if job.parallel > 0 {
			args = append(args, "--jobs", strconv.Itoa(job.parallel))
		}
		cmd = exec.CommandContext(ctx, r.crane, args...)
	default:
		return sample{}, fmt.Errorf("unknown client %q", job.client)
	}
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+r.dockerConfig)
	m, err := runMeasured(cmd)
	if err != nil {
		return sample{}, fmt.Errorf("%s copy %s to %s: %w", job.client, job.src, job.dst, err)
	}
	s := sample{
		Client:      job.client,
		Parallel:    job.parallel,
		WallSeconds: m.wall.Seconds(),
		UserSeconds: m.user.Seconds(),
		SysSeconds:  m.sys.Seconds(),
		MaxRSSBytes: m.maxRSS,
	}
	if job.client == imagesync {
		var rep copyReport
		if err := json.Unmarshal(m.stdout.Bytes(), &rep); err != nil {
			return sample{}, fmt.Errorf("read the report of copy %s: %w: %q", job.dst, err, m.stdout.String())
		}
		s.CopySeconds = rep.WallSeconds
	}
	got, err := job.verify.ManifestDigest(ctx, job.dstRepo, "v1")
	if err != nil {
		return sample{}, fmt.Errorf("%s copy to %s: %w", job.client, job.dst, err)
	}
	if got != job.want {
		return sample{}, fmt.Errorf("%s copy to %s: destination holds %s, source %s", job.client, job.dst, got, job.want)
	}
	return s, nil
}

// measured is what a child process cost, from the harness's clock and its rusage.
type measured struct {
	wall, user, sys time.Duration
	maxRSS          int64 // bytes
	stdout          bytes.Buffer
}

// runMeasured runs cmd to its end and measures it: wall time from start to exit, CPU
// and peak RSS from wait4's rusage. A failed command's error carries its stderr.
func runMeasured(cmd *exec.Cmd) (*measured, error) {
	m := &measured{}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &m.stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	m.wall = time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("%w\n%s", err, strings.TrimSpace(stderr.String()))
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return nil, fmt.Errorf("no rusage for %s", cmd.Path)
	}
	m.user = time.Duration(ru.Utime.Nano())
	m.sys = time.Duration(ru.Stime.Nano())
	m.maxRSS = ru.Maxrss << 10 // Linux counts KiB
	return m, nil
}

// median is the middle of xs (the mean of the two middle ones for an even count).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// summary is the median of a set of runs of one measurement.
type summary struct {
	wall, wallMin, wallMax float64 // seconds
	copyWall               float64 // seconds inside Client.Copy
	user, sys, cpu         float64 // seconds
	maxRSS, maxRSSHigh     float64 // bytes: median and highest
}

func summarize(samples []sample) summary {
	var wall, copyWall, user, sys, cpu, rss []float64
	for _, s := range samples {
		wall = append(wall, s.WallSeconds)
		copyWall = append(copyWall, s.CopySeconds)
		user = append(user, s.UserSeconds)
		sys = append(sys, s.SysSeconds)
		cpu = append(cpu, s.UserSeconds+s.SysSeconds)
		rss = append(rss, float64(s.MaxRSSBytes))
	}
	if len(samples) == 0 {
		return summary{}
	}
	return summary{
		wall:       median(wall),
		wallMin:    slices.Min(wall),
		wallMax:    slices.Max(wall),
		copyWall:   median(copyWall),
		user:       median(user),
		sys:        median(sys),
		cpu:        median(cpu),
		maxRSS:     median(rss),
		maxRSSHigh: slices.Max(rss),
	}
}
