package registryclient

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestParseLinks(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		want        []link
	}{
		{"distribution's relative next page",
			`</v2/app/tags/list?last=v1.9&n=100>; rel="next"`,
			[]link{{"/v2/app/tags/list?last=v1.9&n=100", map[string]string{"rel": "next"}}}},
		{"an absolute target",
			`<https://ghcr.io/v2/org/app/tags/list?last=b&n=2>; rel="next"`,
			[]link{{"https://ghcr.io/v2/org/app/tags/list?last=b&n=2", map[string]string{"rel": "next"}}}},
		{"an unquoted rel and no spaces",
			`</v2/a/tags/list?last=x>;rel=next`,
			[]link{{"/v2/a/tags/list?last=x", map[string]string{"rel": "next"}}}},
		{"two links in one value, a comma inside the target",
			`</p?last=a,b>; rel="next", </p?first>; rel="first"`,
			[]link{{"/p?last=a,b", map[string]string{"rel": "next"}}, {"/p?first", map[string]string{"rel": "first"}}}},
		{"a comma and an escaped quote inside a quoted value",
			`</x>; title="a, \"b\""; rel=next`,
			[]link{{"/x", map[string]string{"title": `a, "b"`, "rel": "next"}}}},
		{"parameter names are case-insensitive and the first rel wins",
			`</x>; REL="next"; rel="prev"`,
			[]link{{"/x", map[string]string{"rel": "next"}}}},
		{"a parameter without a value",
			`</x>; crossorigin; rel=next`,
			[]link{{"/x", map[string]string{"crossorigin": "", "rel": "next"}}}},
		{"junk before a good entry is skipped",
			`garbage; rel="next", </good>; rel="next"`,
			[]link{{"/good", map[string]string{"rel": "next"}}}},
		{"an unterminated target ends the header",
			`</x; rel="next"`,
			nil},
		{"an empty value", ``, nil},
		{"empty list elements", ` , ,</x>; rel=next,`,
			[]link{{"/x", map[string]string{"rel": "next"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseLinks(tc.value); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("parseLinks(%q)\n got %#v\nwant %#v", tc.value, got, tc.want)
			}
		})
	}
}

func TestNextLink(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []string
		want   string
	}{
		{"no Link header means the last page", nil, ""},
		{"rel=next among other relations", []string{`</first>; rel="first", </n>; rel="next"`}, "/n"},
		{"a rel list holding next", []string{`</n>; rel="prefetch next"`}, "/n"},
		{"next in a second Link header", []string{`</p>; rel="prev"`, `</n>; rel="Next"`}, "/n"},
		{"only a previous page", []string{`</p>; rel="prev"`}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tc.values {
				h.Add("Link", v)
			}
			if got := nextLink(h); got != tc.want {
				t.Errorf("nextLink(%q) = %q, want %q", tc.values, got, tc.want)
			}
		})
	}
}

// FuzzParseLink checks that any header parses without panicking, that no target runs
// past its closing bracket, and that writing the result back in canonical form and
// parsing it again gives the same links.
func FuzzParseLink(f *testing.F) {
	for _, seed := range []string{
		`</v2/app/tags/list?last=v1.9&n=100>; rel="next"`,
		`</p?last=a,b>; rel="next", </p?first>; rel="first"`,
		`</x>; title="a, \"b\""; rel=next`,
		`garbage; rel="next", </good>; rel=next`,
		`</x; rel="next"`,
		`<>;;=;"`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		links := parseLinks(value)
		var canonical []string
		for _, l := range links {
			if strings.Contains(l.target, ">") {
				t.Fatalf("target %q of %q runs past its closing bracket", l.target, value)
			}
			entry := "<" + l.target + ">"
			for name, v := range l.params {
				if name == "" || strings.ToLower(name) != name {
					t.Fatalf("parameter name %q of %q is not a lowercase token", name, value)
				}
				entry += `; ` + name + `="` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
			}
			canonical = append(canonical, entry)
		}
		again := parseLinks(strings.Join(canonical, ", "))
		if len(links) == 0 && len(again) == 0 {
			return
		}
		if !reflect.DeepEqual(again, links) {
			t.Fatalf("%q parsed to %#v; written back and parsed again: %#v", value, links, again)
		}
	})
}
