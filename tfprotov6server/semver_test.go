package tfprotov6server

import (
	"slices"
	"sort"
	"testing"
)

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		tag string
		ok  bool
	}{
		{"1.2.3", true},
		{"v1.2.3", true},
		{"0.0.0", true},
		{"1.2.3-rc.1", true},
		{"1.2.3-alpha-2.x", true},
		{"1.2.3+build.5", true},
		{"v10.20.30-beta.1+sha.abc", true},
		{"1.27", false}, // a floating minor tag, not a release
		{"3", false},    // a floating major tag
		{"latest", false},
		{"1.2.3.4", false},
		{"01.2.3", false}, // leading zero
		{"1.2.3-01", false},
		{"1.2.3-", false},
		{"1.2.3+", false},
		{"1.2.3-rc..1", false},
		{"V1.2.3", false},
		{"vv1.2.3", false},
		{"1.2.x", false},
		{"99999999999999999999.0.0", false},
	} {
		if _, ok := parseVersion(tc.tag); ok != tc.ok {
			t.Errorf("parseVersion(%q) ok = %v, want %v", tc.tag, ok, tc.ok)
		}
	}
}

func TestVersionsSortBySemverPrecedence(t *testing.T) {
	// The example from semver.org, section 11, shuffled.
	want := []string{"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.2.0", "1.10.0", "2.0.0"}
	got := []string{"1.10.0", "1.0.0-beta.11", "2.0.0", "1.0.0-alpha.beta", "1.0.0", "1.0.0-rc.1", "1.0.0-alpha", "1.2.0", "1.0.0-beta", "1.0.1", "1.0.0-alpha.1", "1.0.0-beta.2"}
	sort.Slice(got, func(i, j int) bool {
		a, _ := parseVersion(got[i])
		b, _ := parseVersion(got[j])
		return a.compare(b) < 0
	})
	if !slices.Equal(got, want) {
		t.Errorf("sorted\n %v\nwant\n %v", got, want)
	}
	a, _ := parseVersion("1.0.0+build.1")
	b, _ := parseVersion("v1.0.0")
	if a.compare(b) != 0 {
		t.Error("build metadata and a leading v changed precedence")
	}
}

func TestConstraint(t *testing.T) {
	for _, tc := range []struct {
		constraint string
		allowed    []string
		refused    []string
	}{
		{">=1.2, <2", []string{"1.2.0", "1.2.1", "v1.9.9"}, []string{"1.1.9", "2.0.0", "2.0.0-rc.1", "1.5.0-rc.1"}},
		{">= 1.2.0, < 2.0.0", []string{"1.2.0", "1.99.0"}, []string{"2.0.0"}},
		{"1.4.2", []string{"1.4.2", "v1.4.2+build"}, []string{"1.4.3"}},
		{"= 1.4", []string{"1.4.0"}, []string{"1.4.1"}},
		{"!= 1.4.2, ~> 1.4.0", []string{"1.4.0", "1.4.9"}, []string{"1.4.2", "1.5.0"}},
		{"~> 1.2", []string{"1.2.0", "1.9.0"}, []string{"1.1.0", "2.0.0"}},
		{"~> 1", []string{"1.0.0", "1.9.0"}, []string{"0.9.0", "2.0.0"}},
		{"> 1.0.0, <= 1.1.0", []string{"1.0.1", "1.1.0"}, []string{"1.0.0", "1.1.1"}},
		{">= 2.0.0-rc.1", []string{"2.0.0-rc.1", "2.0.0-rc.2", "2.0.0", "3.0.0"}, []string{"2.0.0-beta.1", "3.0.0-rc.1"}},
	} {
		c, err := parseConstraint(tc.constraint)
		if err != nil {
			t.Errorf("parseConstraint(%q): %v", tc.constraint, err)
			continue
		}
		for _, tag := range tc.allowed {
			if v, _ := parseVersion(tag); !c.allows(v) {
				t.Errorf("%q refuses %s", tc.constraint, tag)
			}
		}
		for _, tag := range tc.refused {
			if v, _ := parseVersion(tag); c.allows(v) {
				t.Errorf("%q allows %s", tc.constraint, tag)
			}
		}
	}
}

func TestConstraintErrors(t *testing.T) {
	for _, s := range []string{"", ">=", ">= 1.2,", "latest", ">= 1.x", "=> 1.2", ">= 1.2 < 2", "1.2.3.4", "~> 1.2-rc.1"} {
		if _, err := parseConstraint(s); err == nil {
			t.Errorf("parseConstraint(%q) accepted it", s)
		}
	}
}
