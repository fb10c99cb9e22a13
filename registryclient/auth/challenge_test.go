package auth

import (
	"reflect"
	"testing"
)

func TestParseChallenges(t *testing.T) {
	tests := []struct {
		name   string
		header string
		want   []Challenge
	}{
		{
			name:   "a Docker Hub bearer challenge yields realm, service and scope",
			header: `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"`,
			want: []Challenge{{Scheme: "bearer", Params: map[string]string{
				"realm": "https://auth.docker.io/token", "service": "registry.docker.io", "scope": "repository:library/alpine:pull",
			}}},
		},
		{
			name:   "a comma inside quotes stays in the value",
			header: `Bearer realm="https://r.example/token",scope="repository:a:pull,push"`,
			want: []Challenge{{Scheme: "bearer", Params: map[string]string{
				"realm": "https://r.example/token", "scope": "repository:a:pull,push",
			}}},
		},
		{
			name:   "escaped quotes are unescaped",
			header: `Basic realm="say \"hi\" \\ back"`,
			want:   []Challenge{{Scheme: "basic", Params: map[string]string{"realm": `say "hi" \ back`}}},
		},
		{
			name:   "Basic and Bearer in one header are two challenges",
			header: `Basic realm="registry", Bearer realm="https://auth.example/token",service="reg"`,
			want: []Challenge{
				{Scheme: "basic", Params: map[string]string{"realm": "registry"}},
				{Scheme: "bearer", Params: map[string]string{"realm": "https://auth.example/token", "service": "reg"}},
			},
		},
		{
			name:   "mixed case schemes and parameter names are lowercased",
			header: `BEARER Realm="https://a/token", SERVICE="Reg"`,
			want:   []Challenge{{Scheme: "bearer", Params: map[string]string{"realm": "https://a/token", "service": "Reg"}}},
		},
		{
			name:   "a token68 challenge is tolerated and the next challenge still parses",
			header: `Negotiate abc/123==, Basic realm="r"`,
			want: []Challenge{
				{Scheme: "negotiate", Params: map[string]string{}},
				{Scheme: "basic", Params: map[string]string{"realm": "r"}},
			},
		},
		{
			name:   "odd spacing and empty list elements are tolerated",
			header: `  Bearer   realm = "x" ,  service=y  ,, Basic realm=z `,
			want: []Challenge{
				{Scheme: "bearer", Params: map[string]string{"realm": "x", "service": "y"}},
				{Scheme: "basic", Params: map[string]string{"realm": "z"}},
			},
		},
		{
			name:   "an unquoted realm URL is read whole",
			header: `Bearer realm=https://auth.example.com/token?x=1,service=example`,
			want: []Challenge{{Scheme: "bearer", Params: map[string]string{
				"realm": "https://auth.example.com/token?x=1", "service": "example",
			}}},
		},
		{
			name:   "a scheme without parameters is followed by another challenge",
			header: `Basic, Bearer realm="r"`,
			want: []Challenge{
				{Scheme: "basic", Params: map[string]string{}},
				{Scheme: "bearer", Params: map[string]string{"realm": "r"}},
			},
		},
		{
			name:   "an unterminated quote runs to the end",
			header: `Basic realm="open`,
			want:   []Challenge{{Scheme: "basic", Params: map[string]string{"realm": "open"}}},
		},
		{
			name:   "an empty header has no challenges",
			header: "",
			want:   nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseChallenges(tt.header)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseChallenges(%q)\n got %#v\nwant %#v", tt.header, got, tt.want)
			}
		})
	}
}
