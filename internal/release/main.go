// Command release builds the provider's release files into one directory: a zip per
// platform with the binary named as the Terraform and OpenTofu registries expect it,
// the SHA256SUMS over them and the registry manifest. `make release` runs it.
//
// Builds are reproducible: one commit built with one Go toolchain gives the same bytes
// wherever it is checked out (-trimpath, -buildvcs=false, CGO_ENABLED=0, zip entries
// with the commit's time and fixed modes). Signing the SHA256SUMS is the publisher's
// step: gpg --detach-sign produces the _SHA256SUMS.sig the registries also want.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
)

func main() {
	version := flag.String("version", "", "version to stamp, x.y.z (default: derived from git describe, see version.go)")
	out := flag.String("out", "dist", "directory for the release files; it must be absent or empty")
	targets := flag.String("targets", "linux/amd64,linux/arm64,darwin/amd64,darwin/arm64,windows/amd64,windows/arm64", "comma-separated os/arch pairs to build")
	goCmd := flag.String("go", "go", "the go command to build with")
	dir := flag.String("dir", ".", "the provider's module directory")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *dir, *version, *out, *targets, *goCmd); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dir, version, out, targetList, goCmd string) error {
	opts := options{moduleDir: dir, out: out, goCmd: goCmd}
	var err error
	if version == "" {
		if version, err = gitVersion(ctx, dir); err != nil {
			return err
		}
	}
	if opts.version, err = checkVersion(version); err != nil {
		return err
	}
	if opts.modTime, err = sourceTime(ctx, dir); err != nil {
		return err
	}
	for _, s := range strings.Split(targetList, ",") {
		t, err := parseTarget(s)
		if err != nil {
			return err
		}
		opts.targets = append(opts.targets, t)
	}
	files, err := release(ctx, opts)
	if err != nil {
		return err
	}
	fmt.Printf("release %s (files dated %s):\n", opts.version, opts.modTime.Format("2006-01-02 15:04:05Z07:00"))
	for _, f := range files {
		fmt.Println("  " + f)
	}
	return nil
}
