package registryclient

import (
	"errors"
	"testing"
)

func TestParseReference(t *testing.T) {
	const d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		in, want, tag string
		digest        bool
	}{
		{"alpine", "docker.io/library/alpine", "", false},
		{"library/alpine:3.20", "docker.io/library/alpine:3.20", "3.20", false},
		{"bitnami/redis:7", "docker.io/bitnami/redis:7", "7", false},
		{"index.docker.io/library/alpine", "docker.io/library/alpine", "", false},
		{"registry-1.docker.io/library/alpine", "docker.io/library/alpine", "", false},
		{"ghcr.io/org/app:1.2", "ghcr.io/org/app:1.2", "1.2", false},
		{"localhost/app", "localhost/app", "", false},
		{"127.0.0.1:5000/a/b/c:tag", "127.0.0.1:5000/a/b/c:tag", "tag", false},
		{"registry.example.com/app@" + d, "registry.example.com/app@" + d, "", true},
		{"app:1.0@" + d, "docker.io/library/app:1.0@" + d, "1.0", true},
		{"[::1]:5000/app", "[::1]:5000/app", "", false},
		{"[::1]/app", "[::1]/app", "", false},
		{"R.EXAMPLE.com:443/app", "R.EXAMPLE.com:443/app", "", false},
	} {
		t.Run(tc.in+" is "+tc.want, func(t *testing.T) {
			ref, err := ParseReference(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if ref.String() != tc.want || ref.Tag != tc.tag || (ref.Digest != "") != tc.digest {
				t.Errorf("got %s (tag %q, digest %q)", ref, ref.Tag, ref.Digest)
			}
		})
	}
}

func TestParseReferenceRejects(t *testing.T) {
	for _, in := range []string{
		"", " alpine", "Alpine", "ghcr.io/Org/app", "app:", "app:-bad", "app@sha256:short",
		"ghcr.io/", "a//b", "app:" + string(make([]byte, 129)),
		"r.io:/app", "a:b/c", "0:/0", "-r.io/app", "r_io.example/app", "[::1/app", "[r.io]:5000/app",
		"[0]:0/0", "[fe80::1%eth0]:5000/app", "r.io:5000:1/app",
	} {
		t.Run(in, func(t *testing.T) {
			if _, err := ParseReference(in); !errors.Is(err, ErrInvalidReference) {
				t.Errorf("err = %v, want ErrInvalidReference", err)
			}
		})
	}
}

func TestDestinationTag(t *testing.T) {
	const d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, tc := range []struct{ src, dst, want string }{
		{"alpine:3.20", "r.io/mirror/alpine:pinned", "pinned"},
		{"alpine:3.20", "r.io/mirror/alpine", "3.20"},
		{"alpine", "r.io/mirror/alpine", "latest"},
		{"alpine@" + d, "r.io/mirror/alpine", ""},
		{"alpine:3.20@" + d, "r.io/mirror/alpine", "3.20"},
	} {
		t.Run(tc.src+" into "+tc.dst+" is tagged "+tc.want, func(t *testing.T) {
			src, _ := ParseReference(tc.src)
			dst, _ := ParseReference(tc.dst)
			if got := DestinationTag(src, dst); got != tc.want {
				t.Errorf("got %q", got)
			}
		})
	}
}
