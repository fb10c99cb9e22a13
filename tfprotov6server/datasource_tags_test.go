package tfprotov6server

import (
	"regexp"
	"slices"
	"testing"
)

func TestSelectTags(t *testing.T) {
	registry := []string{"latest", "1.10.0", "v1.2.0", "1.2.0", "1.9.0-rc.1", "1.27", "2.0.0-rc.1", "1.9.0", "alpine", "1.9.0-alpine", "stable", "1.2.0"}
	for _, tc := range []struct {
		name, filter, semver string
		want                 []string
		latest               string
	}{
		{name: "without filters: versions in version order, then the rest lexically, each once",
			want:   []string{"1.2.0", "v1.2.0", "1.9.0-alpine", "1.9.0-rc.1", "1.9.0", "1.10.0", "2.0.0-rc.1", "1.27", "alpine", "latest", "stable"},
			latest: "1.10.0"},
		{name: "a semver range leaves out non-versions and pre-releases", semver: ">= 1.2, < 2",
			want: []string{"1.2.0", "v1.2.0", "1.9.0", "1.10.0"}, latest: "1.10.0"},
		{name: "a range naming a pre-release admits it", semver: ">= 2.0.0-rc.1",
			want: []string{"2.0.0-rc.1"}, latest: "2.0.0-rc.1"},
		{name: "a filter alone keeps non-versions", filter: "^[a-z]",
			want: []string{"v1.2.0", "alpine", "latest", "stable"}, latest: "v1.2.0"},
		{name: "filter and semver together", filter: `^\d`, semver: "~> 1.9.0",
			want: []string{"1.9.0"}, latest: "1.9.0"},
		{name: "nothing matches", semver: ">= 3",
			want: nil, latest: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var q tagsQuery
			if tc.filter != "" {
				q.filter = regexp.MustCompile(tc.filter)
			}
			if tc.semver != "" {
				c, err := parseConstraint(tc.semver)
				if err != nil {
					t.Fatal(err)
				}
				q.semver = c
			}
			tags, latest := q.selectTags(registry)
			if !slices.Equal(tags, tc.want) {
				t.Errorf("tags\n %q\nwant\n %q", tags, tc.want)
			}
			if latest != tc.latest {
				t.Errorf("latest_semver %q, want %q", latest, tc.latest)
			}
		})
	}
}
