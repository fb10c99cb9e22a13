package registryclient

import (
	"errors"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestParsePlatform(t *testing.T) {
	for _, in := range []string{"linux/amd64", "linux/arm64/v8", "windows/amd64:10.0.20348.2700"} {
		p, err := ParsePlatform(in)
		if err != nil || p.String() != in {
			t.Errorf("ParsePlatform(%q) = %v, %v", in, p, err)
		}
	}
	for _, in := range []string{"", "linux", "linux/", "Linux/amd64", "linux/amd64/v8/x"} {
		if _, err := ParsePlatform(in); !errors.Is(err, ErrInvalidPlatform) {
			t.Errorf("ParsePlatform(%q) err = %v, want ErrInvalidPlatform", in, err)
		}
	}
}

func TestSelectPlatform(t *testing.T) {
	children := []ocispec.Descriptor{
		{Digest: "amd64", Platform: &ocispec.Platform{OS: "linux", Architecture: "amd64"}},
		{Digest: "arm64", Platform: &ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}},
		{Digest: "armv6", Platform: &ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v6"}},
		{Digest: "armv7", Platform: &ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}},
		{Digest: "attestation", Platform: &ocispec.Platform{OS: "unknown", Architecture: "unknown"}},
	}
	for _, tc := range []struct{ platform, want string }{
		{"linux/amd64", "amd64"},
		{"linux/arm64", "arm64"},
		{"linux/arm64/v8", "arm64"},
		{"linux/arm/v7", "armv7"},
		{"linux/arm/v6", "armv6"},
		{"linux/arm", "armv7"},
		{"linux/s390x", ""},
		{"windows/amd64", ""},
	} {
		t.Run(tc.platform+" selects "+tc.want, func(t *testing.T) {
			p, _ := ParsePlatform(tc.platform)
			got, ok := selectPlatform(children, p)
			if string(got.Digest) != tc.want || ok != (tc.want != "") {
				t.Errorf("got %q, %v", got.Digest, ok)
			}
		})
	}
	if got := platforms(children); got != "linux/amd64, linux/arm64/v8, linux/arm/v6, linux/arm/v7" {
		t.Errorf("platforms listed as %q", got)
	}
}
