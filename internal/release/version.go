package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// semver is Semantic Versioning 2.0.0, which both registries require of a provider version.
var semver = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
	`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

// checkVersion accepts x.y.z[-pre][+build], with or without the leading v of a git tag,
// and returns it without the v, as the registries spell versions in file names.
func checkVersion(v string) (string, error) {
	v = strings.TrimPrefix(v, "v")
	if !semver.MatchString(v) {
		return "", fmt.Errorf("version %q is not a semantic version: use x.y.z or x.y.z-pre, for example VERSION=0.1.0", v)
	}
	return v, nil
}

// described is `git describe --tags --long --always --dirty --match v[0-9]*`:
// "v1.2.3-4-g0123456789ab[-dirty]", or a bare commit hash when no tag is reachable.
var described = regexp.MustCompile(`^(?:v(.+)-(\d+)-g([0-9a-f]+)|([0-9a-f]+))(-dirty)?$`)

// gitVersion derives the version of the checked-out tree from its release tags:
//   - on a tag vX.Y.Z with no local changes, X.Y.Z: what a release is built from;
//   - after a tag, or with local changes, a pre-release of the next patch version,
//     X.Y.(Z+1)-dev.N.gHASH[.dirty], which sorts after the tag and before the next
//     release (after a pre-release tag X.Y.Z-rc.1 it is X.Y.Z-rc.1.dev.N.gHASH);
//   - with no tag at all, 0.0.0-dev.gHASH[.dirty].
func gitVersion(ctx context.Context, dir string) (string, error) {
	out, err := git(ctx, dir, "describe", "--tags", "--long", "--always", "--dirty", "--abbrev=12", "--match", "v[0-9]*")
	if err != nil {
		return "", fmt.Errorf("derive the version from git: %w (pass VERSION=x.y.z)", err)
	}
	return versionFromDescribe(out)
}

func versionFromDescribe(desc string) (string, error) {
	m := described.FindStringSubmatch(desc)
	if m == nil {
		return "", fmt.Errorf("cannot read a version from git describe output %q: pass VERSION=x.y.z", desc)
	}
	tag, distance, hash, bare, dirty := m[1], m[2], m[3], m[4], m[5] != ""
	suffix := ""
	if dirty {
		suffix = ".dirty"
	}
	if bare != "" {
		return "0.0.0-dev.g" + bare + suffix, nil
	}
	tag, _, _ = strings.Cut(tag, "+") // build metadata says nothing about order
	base := semver.FindStringSubmatch(tag)
	if base == nil {
		return "", fmt.Errorf("tag v%s is not a semantic version: pass VERSION=x.y.z", tag)
	}
	if distance == "0" && !dirty {
		return tag, nil
	}
	dev := "dev." + distance + ".g" + hash + suffix
	if base[4] != "" {
		return tag + "." + dev, nil
	}
	patch, err := strconv.Atoi(base[3])
	if err != nil {
		return "", fmt.Errorf("tag v%s: patch version: %w", tag, err)
	}
	return fmt.Sprintf("%s.%s.%d-%s", base[1], base[2], patch+1, dev), nil
}

// sourceTime is the time written into the zips: SOURCE_DATE_EPOCH when set (the
// reproducible-builds.org convention), else the commit time of HEAD, so a rebuild of
// one commit dates its files the same.
func sourceTime(ctx context.Context, dir string) (time.Time, error) {
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want seconds since 1970: %w", s, err)
		}
		return time.Unix(sec, 0).UTC(), nil
	}
	out, err := git(ctx, dir, "log", "-1", "--format=%ct", "HEAD")
	if err != nil {
		return time.Time{}, fmt.Errorf("read the commit time: %w (outside a git checkout, set SOURCE_DATE_EPOCH)", err)
	}
	sec, err := strconv.ParseInt(out, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("commit time %q: %w", out, err)
	}
	return time.Unix(sec, 0).UTC(), nil
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}
