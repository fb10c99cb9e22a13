package registryclient

import (
	"fmt"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Platform selects one child of an index: os/arch[/variant][:osversion].
type Platform struct {
	OS, Architecture, Variant, OSVersion string
}

// ParsePlatform parses "linux/amd64", "linux/arm64/v8" or "windows/amd64:10.0.20348.2700".
func ParsePlatform(s string) (Platform, error) {
	var p Platform
	spec, osVersion, _ := strings.Cut(s, ":")
	p.OSVersion = osVersion
	parts := strings.Split(spec, "/")
	if len(parts) < 2 || len(parts) > 3 {
		return p, fmt.Errorf("%w %q: use os/arch[/variant][:osversion], for example linux/amd64 or linux/arm64/v8", ErrInvalidPlatform, s)
	}
	for _, part := range parts {
		if part == "" || strings.ToLower(part) != part || strings.ContainsAny(part, " \t") {
			return p, fmt.Errorf("%w %q: each part must be a non-empty lowercase word, for example linux/arm64/v8", ErrInvalidPlatform, s)
		}
	}
	p.OS, p.Architecture = parts[0], parts[1]
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}

// String renders the platform in the form ParsePlatform reads.
func (p Platform) String() string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	if p.OSVersion != "" {
		s += ":" + p.OSVersion
	}
	return s
}

// Normal is p with the variant containerd assumes when none is given (arm64 is v8, arm
// is v7), so two spellings of one platform compare equal.
func (p Platform) Normal() Platform {
	p.Variant = normalVariant(p.Architecture, p.Variant)
	return p
}

// matches reports whether an index entry's platform is this one. Variants are compared
// after the defaults containerd applies (arm64 is v8, arm is v7), so "linux/arm64"
// finds a child labelled linux/arm64/v8 and the other way round, and "linux/arm" is v7.
func (p Platform) matches(q *ocispec.Platform) bool {
	if q == nil || q.OS != p.OS || q.Architecture != p.Architecture {
		return false
	}
	if p.OSVersion != "" && q.OSVersion != p.OSVersion {
		return false
	}
	want := normalVariant(p.Architecture, p.Variant)
	return want == "" || want == normalVariant(q.Architecture, q.Variant)
}

func normalVariant(arch, variant string) string {
	if variant != "" {
		return variant
	}
	switch arch {
	case "arm64":
		return "v8"
	case "arm":
		return "v7"
	}
	return ""
}

// selectPlatform picks the child of an index for p, preferring an exact variant match.
func selectPlatform(children []ocispec.Descriptor, p Platform) (ocispec.Descriptor, bool) {
	var found *ocispec.Descriptor
	for i := range children {
		c := &children[i]
		if !p.matches(c.Platform) {
			continue
		}
		if c.Platform.Variant == p.Variant {
			return *c, true
		}
		if found == nil {
			found = c
		}
	}
	if found == nil {
		return ocispec.Descriptor{}, false
	}
	return *found, true
}

// platforms lists the platforms an index offers, for an error message.
func platforms(children []ocispec.Descriptor) string {
	var names []string
	for _, c := range children {
		if c.Platform != nil && c.Platform.OS != "unknown" {
			names = append(names, Platform{OS: c.Platform.OS, Architecture: c.Platform.Architecture, Variant: c.Platform.Variant}.String())
		}
	}
	return strings.Join(names, ", ")
}
