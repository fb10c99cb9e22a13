package auth

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzParseChallenges reads WWW-Authenticate values as a registry or a proxy in front
// of it might send them. Whatever it parses must survive being written out again in
// canonical form (quoted values) and read back: a scheme or parameter that moved
// between challenges there would send credentials to the wrong realm.
func FuzzParseChallenges(f *testing.F) {
	for _, s := range []string{
		`Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"`,
		`Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:org/app:pull,push"`,
		`Basic realm="Registry Realm"`,
		`Basic realm="registry", Bearer realm="https://auth.example/token",service="reg"`,
		`Bearer realm="https://r.example/token",error="insufficient_scope",scope="repository:a:pull"`,
		`Negotiate abc/123==, Basic realm="r"`,
		`  Bearer   realm = "x" ,  service=y  ,, Basic realm=z `,
		`Bearer realm=https://auth.example.com/token?x=1,service=example`,
		`Basic realm="say \"hi\" \\ back"`,
		`Basic realm="open`, `Basic realm="ends in backslash\`, `Basic, Bearer realm="r"`, `BEARER Realm="a", REALM="b"`,
		``, `,`, `=`, `==, ,`, `Bearer ,realm=x`, `Bearer realm=,`, `Bearer realm=""`, `Bearer =x`, "Bearer\trealm=\"t\"",
		`Bearer realm="ü", service=ü`, "Bearer realm=\"\x00\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		parsed := ParseChallenges(header)
		for _, c := range parsed {
			if c.Scheme == "" || c.Scheme != strings.ToLower(c.Scheme) || !allTokenChars(c.Scheme) {
				t.Fatalf("ParseChallenges(%q) gave scheme %q: want a non-empty lowercase token", header, c.Scheme)
			}
			for k := range c.Params {
				if k == "" || k != strings.ToLower(k) || !allTokenChars(k) {
					t.Fatalf("ParseChallenges(%q) gave parameter name %q: want a non-empty lowercase token", header, k)
				}
			}
		}
		canonical := render(parsed)
		if again := ParseChallenges(canonical); !reflect.DeepEqual(normal(again), normal(parsed)) {
			t.Fatalf("ParseChallenges(%q) = %#v\nwritten out as %q it reads back as %#v", header, parsed, canonical, again)
		}
	})
}

// render writes challenges the way RFC 7235 spells them, every value quoted.
func render(cs []Challenge) string {
	var parts []string
	for _, c := range cs {
		s := c.Scheme
		var params []string
		for k, v := range c.Params {
			params = append(params, k+`="`+strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v)+`"`)
		}
		if len(params) > 0 {
			s += " " + strings.Join(params, ", ")
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// normal makes a nil and an empty result compare equal.
func normal(cs []Challenge) []Challenge {
	if len(cs) == 0 {
		return nil
	}
	return cs
}

func allTokenChars(s string) bool {
	for i := range len(s) {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}
