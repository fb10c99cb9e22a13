package registryclient

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/imagesync/terraform-provider-imagesync/registryclient/auth"
)

// DefaultTag is the tag a reference without tag or digest means, as Docker reads it.
const DefaultTag = "latest"

// DockerHub is the registry name that short references such as "alpine" live on.
const DockerHub = "docker.io"

// dockerHubAPIHost is where Docker Hub actually serves the Distribution API.
const dockerHubAPIHost = "registry-1.docker.io"

var (
	repositoryComponent = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$`)
	tagPattern          = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)
	hostPattern         = regexp.MustCompile(`^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*$`)
	portPattern         = regexp.MustCompile(`^[0-9]+$`)
)

// validRegistry reports whether s is a registry as Docker reads one, and as request
// URLs can carry it: a host name or IPv4 address, or an IPv6 address in brackets,
// then an optional port.
func validRegistry(s string) bool {
	host := s
	if i := strings.LastIndex(s, ":"); i >= 0 && !strings.HasSuffix(s, "]") {
		host = s[:i]
		if !portPattern.MatchString(s[i+1:]) {
			return false
		}
	}
	if inner, ok := strings.CutPrefix(host, "["); ok {
		inner, ok = strings.CutSuffix(inner, "]")
		addr, err := netip.ParseAddr(inner)
		return ok && err == nil && addr.Is6() && addr.Zone() == ""
	}
	return hostPattern.MatchString(host)
}

// Reference names an image: a registry, a repository, and a tag, a digest or both.
type Reference struct {
	Registry   string        // "docker.io", "ghcr.io", "127.0.0.1:5000"
	Repository string        // "library/alpine"
	Tag        string        // may be empty
	Digest     digest.Digest // may be empty; when both are set the digest wins
}

// ParseReference parses an image reference the way Docker does: "alpine" is
// docker.io/library/alpine, and the first path component is a registry only when it
// contains "." or ":" or is "localhost". No default tag is added.
func ParseReference(s string) (Reference, error) {
	if s == "" {
		return Reference{}, fmt.Errorf("%w: empty reference", ErrInvalidReference)
	}
	if strings.TrimSpace(s) != s {
		return Reference{}, fmt.Errorf("%w %q: remove the surrounding spaces", ErrInvalidReference, s)
	}
	var ref Reference
	name := s
	if at := strings.LastIndex(name, "@"); at >= 0 {
		d, err := digest.Parse(name[at+1:])
		if err != nil {
			return Reference{}, fmt.Errorf("%w %q: digest %q: %v", ErrInvalidReference, s, name[at+1:], err)
		}
		ref.Digest = d
		name = name[:at]
	}
	if colon := strings.LastIndex(name, ":"); colon > strings.LastIndex(name, "/") {
		ref.Tag = name[colon+1:]
		name = name[:colon]
		if !tagPattern.MatchString(ref.Tag) {
			return Reference{}, fmt.Errorf("%w %q: tag %q must match [A-Za-z0-9_][A-Za-z0-9._-]{0,127}", ErrInvalidReference, s, ref.Tag)
		}
	}
	ref.Registry = DockerHub
	if slash := strings.Index(name, "/"); slash >= 0 {
		first := name[:slash]
		if strings.ContainsAny(first, ".:") || first == "localhost" {
			if !validRegistry(first) {
				return Reference{}, fmt.Errorf("%w %q: registry %q must be a host name or IP address with an optional :port, such as ghcr.io or 127.0.0.1:5000", ErrInvalidReference, s, first)
			}
			ref.Registry = first
			name = name[slash+1:]
		}
	}
	if auth.IsDockerHub(ref.Registry) {
		ref.Registry = DockerHub
	}
	if ref.Registry == DockerHub && !strings.Contains(name, "/") {
		name = "library/" + name
	}
	if name == "" {
		return Reference{}, fmt.Errorf("%w %q: the repository name is missing", ErrInvalidReference, s)
	}
	for _, component := range strings.Split(name, "/") {
		if !repositoryComponent.MatchString(component) {
			hint := "use lowercase letters, digits and single separators (. _ __ -)"
			if strings.ToLower(component) == component {
				hint = "components are lowercase letters and digits joined by . _ __ or -"
			}
			return Reference{}, fmt.Errorf("%w %q: repository component %q is invalid: %s", ErrInvalidReference, s, component, hint)
		}
	}
	ref.Repository = name
	return ref, nil
}

// Name is registry/repository, without tag or digest.
func (r Reference) Name() string { return r.Registry + "/" + r.Repository }

// String renders the reference with every part it has.
func (r Reference) String() string {
	s := r.Name()
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest.String()
	}
	return s
}

// Pinned is registry/repository@digest: what a deployment should use.
func (r Reference) Pinned(d digest.Digest) string { return r.Name() + "@" + d.String() }

// WithDigest returns the same repository pinned to d, without a tag.
func (r Reference) WithDigest(d digest.Digest) Reference {
	return Reference{Registry: r.Registry, Repository: r.Repository, Digest: d}
}

// WithTag returns the same repository with tag t and no digest.
func (r Reference) WithTag(t string) Reference {
	return Reference{Registry: r.Registry, Repository: r.Repository, Tag: t}
}

// identifier is what goes after /manifests/: the digest when there is one, else the tag.
func (r Reference) identifier() string {
	if r.Digest != "" {
		return r.Digest.String()
	}
	if r.Tag != "" {
		return r.Tag
	}
	return DefaultTag
}

// apiHost is the host that serves the Distribution API for this registry.
func (r Reference) apiHost() string {
	if r.Registry == DockerHub {
		return dockerHubAPIHost
	}
	return r.Registry
}
