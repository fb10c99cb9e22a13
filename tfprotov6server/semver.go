package tfprotov6server

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
)

// This file reads image tags as semantic versions (semver.org 2.0.0) and checks them
// against constraints written like Terraform's own version constraints, for the
// imagesync_tags data source.

// version is a semantic version read from a tag.
type version struct {
	major, minor, patch uint64
	pre                 []string // pre-release identifiers: 1.3.0-rc.1 has ["rc", "1"]
}

// parseVersion reads MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD] with an optional leading
// "v". Partial versions such as "1.27" or "3" are not semantic versions: image tags
// like that usually float over the newest patch release.
func parseVersion(tag string) (version, bool) {
	s := strings.TrimPrefix(tag, "v")
	s, build, hasBuild := strings.Cut(s, "+")
	if hasBuild && !validIdentifiers(build, false) {
		return version{}, false
	}
	core, pre, hasPre := strings.Cut(s, "-")
	var v version
	if hasPre {
		if !validIdentifiers(pre, true) {
			return version{}, false
		}
		v.pre = strings.Split(pre, ".")
	}
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return version{}, false
	}
	for i, dst := range []*uint64{&v.major, &v.minor, &v.patch} {
		n, ok := number(parts[i])
		if !ok {
			return version{}, false
		}
		*dst = n
	}
	return v, true
}

// number reads a numeric identifier: digits without a leading zero.
func number(s string) (uint64, bool) {
	if s == "" || (len(s) > 1 && s[0] == '0') || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// validIdentifiers checks dot-separated identifiers of [0-9A-Za-z-]; pre-release
// identifiers that are numeric must not have leading zeros.
func validIdentifiers(s string, pre bool) bool {
	for _, id := range strings.Split(s, ".") {
		if id == "" || strings.TrimLeft(id, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-") != "" {
			return false
		}
		if _, ok := number(id); pre && !ok && strings.TrimLeft(id, "0123456789") == "" {
			return false
		}
	}
	return true
}

// compare orders versions by semver precedence: build metadata does not count, and a
// pre-release comes before its release.
func (a version) compare(b version) int {
	if c := cmp.Compare(a.major, b.major); c != 0 {
		return c
	}
	if c := cmp.Compare(a.minor, b.minor); c != 0 {
		return c
	}
	if c := cmp.Compare(a.patch, b.patch); c != 0 {
		return c
	}
	switch {
	case len(a.pre) == 0 && len(b.pre) == 0:
		return 0
	case len(a.pre) == 0:
		return 1
	case len(b.pre) == 0:
		return -1
	}
	for i := 0; i < len(a.pre) && i < len(b.pre); i++ {
		if c := compareIdentifier(a.pre[i], b.pre[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a.pre), len(b.pre))
}

// compareIdentifier: numeric identifiers compare as numbers and come before
// alphanumeric ones, which compare in ASCII order.
func compareIdentifier(a, b string) int {
	an, aNum := number(a)
	bn, bNum := number(b)
	switch {
	case aNum && bNum:
		return cmp.Compare(an, bn)
	case aNum:
		return -1
	case bNum:
		return 1
	}
	return strings.Compare(a, b)
}

func (a version) sameRelease(b version) bool {
	return a.major == b.major && a.minor == b.minor && a.patch == b.patch
}

// constraint is a list of comparisons that must all hold: ">= 1.2, < 2".
type constraint []comparison

type comparison struct {
	op string // "=", "!=", ">", ">=", "<", "<=" or "~>"
	v  version
	// parts is how many of MAJOR.MINOR.PATCH were written: "~> 1.2" allows 1.x from
	// 1.2 on, "~> 1.2.0" allows 1.2.x.
	parts int
}

// operators, longest first so that ">=" is not read as ">".
var operators = []string{"~>", ">=", "<=", "!=", ">", "<", "="}

// parseConstraint reads comma-separated comparisons. A version may leave out minor and
// patch (they are 0) and may carry a pre-release when it is complete.
func parseConstraint(s string) (constraint, error) {
	var c constraint
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, fmt.Errorf("%q has an empty comparison: write comparisons such as \">= 1.2, < 2\" separated by commas", s)
		}
		comp := comparison{op: "="}
		for _, op := range operators {
			if rest, ok := strings.CutPrefix(part, op); ok {
				comp.op, part = op, strings.TrimSpace(rest)
				break
			}
		}
		v, parts, ok := parseConstraintVersion(part)
		if !ok {
			return nil, fmt.Errorf("%q: %q is not a version: write MAJOR[.MINOR[.PATCH[-PRERELEASE]]], such as 1.2 or 2.0.0-rc.1, after one of = != > >= < <= ~>", s, part)
		}
		comp.v, comp.parts = v, parts
		c = append(c, comp)
	}
	return c, nil
}

func parseConstraintVersion(s string) (version, int, bool) {
	if v, ok := parseVersion(s); ok {
		return v, 3, true
	}
	parts := strings.Split(strings.TrimPrefix(s, "v"), ".")
	if len(parts) > 2 {
		return version{}, 0, false
	}
	var v version
	for i, dst := range []*uint64{&v.major, &v.minor}[:len(parts)] {
		n, ok := number(parts[i])
		if !ok {
			return version{}, 0, false
		}
		*dst = n
	}
	return v, len(parts), true
}

// allows reports whether v satisfies every comparison. A pre-release is allowed only
// when a comparison names a pre-release of the same MAJOR.MINOR.PATCH, so ">= 1.2"
// does not pick up 2.0.0-rc.1, while ">= 2.0.0-rc.1" does.
func (c constraint) allows(v version) bool {
	if len(v.pre) > 0 && !c.admitsPrerelease(v) {
		return false
	}
	for _, comp := range c {
		if !comp.allows(v) {
			return false
		}
	}
	return true
}

func (c constraint) admitsPrerelease(v version) bool {
	for _, comp := range c {
		if len(comp.v.pre) > 0 && comp.v.sameRelease(v) {
			return true
		}
	}
	return false
}

func (c comparison) allows(v version) bool {
	d := v.compare(c.v)
	switch c.op {
	case "=":
		return d == 0
	case "!=":
		return d != 0
	case ">":
		return d > 0
	case ">=":
		return d >= 0
	case "<":
		return d < 0
	case "<=":
		return d <= 0
	}
	// "~>": at least the version, and below the next release of the part before
	// the last one written (~> 1.2 is below 2.0.0; ~> 1.2.3 is below 1.3.0).
	upper := version{major: c.v.major + 1}
	if c.parts == 3 {
		upper = version{major: c.v.major, minor: c.v.minor + 1}
	}
	return d >= 0 && v.compare(upper) < 0
}
