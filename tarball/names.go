package tarball

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Names lists the names of the images inside, sorted: docker-save RepoTags, OCI
// org.opencontainers.image.ref.name and io.containerd.image.name annotations.
func (a *Archive) Names() []string {
	var names []string
	for _, img := range a.images {
		names = append(names, img.names...)
	}
	return sortedUnique(names)
}

// Image selects one image: the one named name, else the name Open split from the path,
// else the only image inside. A name matches as written or after Docker Hub's
// normalisation ("alpine:3.20" is "docker.io/library/alpine:3.20"); "@N" picks the N-th
// image (from 0), named or not, as skopeo does. An unknown name or an ambiguous choice is
// an error that lists the images inside.
func (a *Archive) Image(name string) (*Image, error) {
	if name == "" {
		name = a.loc.Name
	}
	i, err := a.choose(name)
	if err != nil {
		return nil, err
	}
	label := a.label
	if name != a.loc.Name {
		l := a.loc
		l.Name, l.raw = name, ""
		label = l.String()
	}
	return &Image{archive: a, index: i, label: label}, nil
}

func (a *Archive) choose(name string) (int, error) {
	switch {
	case len(a.images) == 0:
		return 0, fmt.Errorf("%w: %s holds no images", ErrImageNotFound, a.label)
	case name == "" && len(a.images) == 1:
		return 0, nil
	case name == "":
		return 0, fmt.Errorf("%w: %s holds %d images; name one after the path (%s:NAME), one of %s", ErrAmbiguous, a.label, len(a.images), a.loc.Path, a.describe(nil))
	}
	if n, ok := strings.CutPrefix(name, "@"); ok {
		i, err := strconv.Atoi(n)
		if err != nil || i < 0 || i >= len(a.images) {
			return 0, fmt.Errorf("%w: %s holds images @0 to @%d, not %s; the images are %s", ErrImageNotFound, a.label, len(a.images)-1, name, a.describe(nil))
		}
		return i, nil
	}
	matches := a.matching(func(n string) bool { return n == name })
	if len(matches) == 0 {
		want := normalizeName(name)
		matches = a.matching(func(n string) bool { return normalizeName(n) == want })
	}
	switch len(matches) {
	case 0:
		return 0, fmt.Errorf("%w: %s holds no image named %q; it holds %s", ErrImageNotFound, a.label, name, a.describe(nil))
	case 1:
		return matches[0], nil
	}
	return 0, fmt.Errorf("%w: in %s, %q names %d different images: %s; pick one with @N", ErrAmbiguous, a.label, name, len(matches), a.describe(matches))
}

func (a *Archive) matching(match func(string) bool) []int {
	var found []int
	for i, img := range a.images {
		if slices.ContainsFunc(img.names, match) {
			found = append(found, i)
		}
	}
	return found
}

// describe lists images for a message: their names, and "@N" for each, so an unnamed
// image can be chosen too. only limits the list to some images.
func (a *Archive) describe(only []int) string {
	var parts []string
	for i, img := range a.images {
		if only != nil && !slices.Contains(only, i) {
			continue
		}
		names := "unnamed"
		if len(img.names) > 0 {
			names = strings.Join(img.names, ", ")
		}
		parts = append(parts, fmt.Sprintf("@%d (%s)", i, names))
	}
	return strings.Join(parts, "; ")
}

// normalizeName spells an image reference the way Docker Hub's normalisation does, so
// "alpine", "alpine:latest" and "docker.io/library/alpine:latest" compare equal.
func normalizeName(ref string) string {
	name, dgst, hasDigest := strings.Cut(ref, "@")
	tag := ""
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name, tag = name[:i], name[i+1:]
	}
	domain, rest, found := strings.Cut(name, "/")
	if !found || !(strings.ContainsAny(domain, ".:") || domain == "localhost") {
		domain, rest = "docker.io", name
	}
	if domain == "index.docker.io" {
		domain = "docker.io"
	}
	if domain == "docker.io" && !strings.Contains(rest, "/") {
		rest = "library/" + rest
	}
	if tag == "" && !hasDigest {
		tag = "latest"
	}
	out := domain + "/" + rest
	if tag != "" {
		out += ":" + tag
	}
	if hasDigest {
		out += "@" + dgst
	}
	return out
}

func sortedUnique(names []string) []string {
	if len(names) == 0 {
		return nil
	}
	out := slices.Clone(names)
	slices.Sort(out)
	return slices.Compact(out)
}
