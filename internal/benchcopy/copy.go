//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/imagesync/terraform-provider-imagesync/registryclient"
)

// copyReport is what one copy in -mode=copy prints: the process measures itself, so the
// numbers are the client's alone.
type copyReport struct {
	Digest      string  `json:"digest"`
	WallSeconds float64 `json:"wall_seconds"` // around Client.Copy only
	UserSeconds float64 `json:"user_seconds"` // of the whole process
	SysSeconds  float64 `json:"sys_seconds"`
	MaxRSSBytes int64   `json:"max_rss_bytes"`
}

// copyOnce copies src to dst with a new Client, as one Terraform apply would, and prints
// a copyReport on stdout.
func copyOnce(ctx context.Context, src, dst string, parallel int) error {
	srcRef, err := registryclient.ParseReference(src)
	if err != nil {
		return err
	}
	dstRef, err := registryclient.ParseReference(dst)
	if err != nil {
		return err
	}
	var opts []registryclient.Option
	if parallel > 0 {
		opts = append(opts, registryclient.WithParallelTransfers(parallel))
	}
	c := registryclient.New(opts...)
	start := time.Now()
	res, err := c.Copy(ctx, srcRef, dstRef, registryclient.CopyOptions{})
	wall := time.Since(start)
	if err != nil {
		return err
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return fmt.Errorf("getrusage: %w", err)
	}
	return json.NewEncoder(os.Stdout).Encode(copyReport{
		Digest:      res.Digest.String(),
		WallSeconds: wall.Seconds(),
		UserSeconds: time.Duration(ru.Utime.Nano()).Seconds(),
		SysSeconds:  time.Duration(ru.Stime.Nano()).Seconds(),
		MaxRSSBytes: ru.Maxrss << 10, // Linux counts KiB
	})
}
