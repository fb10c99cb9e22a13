package testimage

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// ManifestItem is one image of a docker-save manifest.json.
type ManifestItem struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// ManifestJSON decodes the fixture's manifest.json, for tests that change it.
func (f *Fixture) ManifestJSON() ([]ManifestItem, error) {
	e := f.Entry("manifest.json")
	if e == nil {
		return nil, fmt.Errorf("testimage: %s has no manifest.json", f.Layout)
	}
	var items []ManifestItem
	if err := json.Unmarshal(e.Body, &items); err != nil {
		return nil, fmt.Errorf("testimage: decode manifest.json: %w", err)
	}
	return items, nil
}

// SetManifestJSON replaces the fixture's manifest.json.
func (f *Fixture) SetManifestJSON(items []ManifestItem) error {
	b, err := json.Marshal(items)
	if err != nil {
		return err
	}
	f.Remove("manifest.json")
	f.Entries = append(f.Entries, Entry{Name: "manifest.json", Body: b})
	return nil
}

// v1ID is a legacy layer ID: a hash of the layer, its parent's ID and, for the top
// layer, the config, as crane and skopeo derive them. Docker uses other inputs to the
// same effect; readers must never rely on these values.
func v1ID(layer, parent string, config []byte) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s %s %s", layer, parent, config))
	return hex.EncodeToString(sum[:])
}

// legacyLayers gives the v1 IDs of an image's layers, bottom first.
func legacyLayers(img imageData, compressedIDs bool) []string {
	var ids []string
	parent := ""
	for i, l := range img.layers {
		name := l.diffID.Encoded()
		if compressedIDs {
			name = l.digest.Encoded()
		}
		var config []byte
		if i == len(img.layers)-1 {
			config = img.config
		}
		parent = v1ID(name, parent, config)
		ids = append(ids, parent)
	}
	return ids
}

// v1JSON is a legacy layer's json file.
func v1JSON(id, parent string) []byte {
	b, _ := json.Marshal(map[string]string{"id": id, "parent": parent, "created": epoch.Format("2006-01-02T15:04:05Z")})
	return b
}

// repositories is the legacy repositories file: repository → tag → top layer ID.
func repositories(names [][]string, tops []string) []byte {
	repos := map[string]map[string]string{}
	for i, list := range names {
		for _, n := range list {
			repo, tag := splitTag(n)
			if repos[repo] == nil {
				repos[repo] = map[string]string{}
			}
			repos[repo][tag] = tops[i]
		}
	}
	b, _ := json.Marshal(repos)
	return b
}

func splitTag(name string) (string, string) {
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		return name[:i], name[i+1:]
	}
	return name, "latest"
}

// repoTags is a RepoTags value: null for an unnamed image, as docker and crane write.
func repoTags(names []string) []string {
	if len(names) == 0 {
		return nil
	}
	return names
}

// dockerSave writes what `docker save` wrote before 25: one directory per layer, the
// config beside them, and every name sorted, because docker tars a directory it built.
func (f *Fixture) dockerSave(images [][]imageData, names [][]string) error {
	var items []ManifestItem
	var tops []string
	for i, imgs := range images {
		img := imgs[0]
		ids := legacyLayers(img, false)
		item := ManifestItem{Config: img.id.Encoded() + ".json", RepoTags: repoTags(names[i])}
		for l, id := range ids {
			parent := ""
			if l > 0 {
				parent = ids[l-1]
			}
			f.addDir(id + "/")
			f.add(Entry{Name: id + "/VERSION", Body: []byte("1.0")})
			f.add(Entry{Name: id + "/json", Body: v1JSON(id, parent)})
			f.add(Entry{Name: id + "/layer.tar", Body: img.layers[l].tar})
			item.Layers = append(item.Layers, id+"/layer.tar")
		}
		f.add(Entry{Name: item.Config, Body: img.config})
		items = append(items, item)
		tops = append(tops, ids[len(ids)-1])
		f.Images = append(f.Images, Image{Names: names[i], Platforms: []Platform{platformOf(img, false)}})
	}
	if err := f.addManifestJSON(items); err != nil {
		return err
	}
	f.add(Entry{Name: "repositories", Body: repositories(names, tops)})
	slices.SortStableFunc(f.Entries, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return nil
}

// craneLegacy writes what go-containerregistry's legacy tarball.MultiWrite does: per
// image the config, then each layer's layer.tar, json and VERSION, even a layer another
// image wrote already (so a shared base layer is in the tar twice).
func (f *Fixture) craneLegacy(images [][]imageData, names [][]string) error {
	var items []ManifestItem
	var tops []string
	for i, imgs := range images {
		img := imgs[0]
		ids := legacyLayers(img, true)
		item := ManifestItem{Config: img.id.Encoded() + ".json", RepoTags: repoTags(names[i])}
		f.Entries = append(f.Entries, Entry{Name: item.Config, Body: img.config})
		for l, id := range ids {
			parent := ""
			if l > 0 {
				parent = ids[l-1]
			}
			f.Entries = append(f.Entries,
				Entry{Name: id + "/layer.tar", Body: img.layers[l].tar},
				Entry{Name: id + "/json", Body: v1JSON(id, parent)},
				Entry{Name: id + "/VERSION", Body: []byte("1.0")})
			item.Layers = append(item.Layers, id+"/layer.tar")
		}
		items = append(items, item)
		tops = append(tops, ids[len(ids)-1])
		f.Images = append(f.Images, Image{Names: names[i], Platforms: []Platform{platformOf(img, false)}})
	}
	if err := f.addManifestJSON(items); err != nil {
		return err
	}
	f.Entries = append(f.Entries, Entry{Name: "repositories", Body: repositories(names, tops)})
	return nil
}

// skopeo writes what containers/image's docker-archive writer does: configs <hex>.json
// and layers <diffID hex>.tar at the root, then per layer a legacy directory whose
// layer.tar is a symlink to ../<hex>.tar, then manifest.json (pointing at the root
// files) and repositories. Files are mode 0444; RepoTags is [] for an unnamed image.
func (f *Fixture) skopeo(images [][]imageData, names [][]string) error {
	var items []ManifestItem
	var tops []string
	for i, imgs := range images {
		img := imgs[0]
		item := ManifestItem{Config: img.id.Encoded() + ".json", RepoTags: append([]string{}, names[i]...)}
		f.add(Entry{Name: item.Config, Body: img.config, Mode: 0o444})
		for _, l := range img.layers {
			name := l.diffID.Encoded() + ".tar"
			f.add(Entry{Name: name, Body: l.tar, Mode: 0o444})
			item.Layers = append(item.Layers, name)
		}
		ids := legacyLayers(img, false)
		for l, id := range ids {
			parent := ""
			if l > 0 {
				parent = ids[l-1]
			}
			f.add(Entry{Name: id + "/layer.tar", Type: tar.TypeSymlink, Link: "../" + img.layers[l].diffID.Encoded() + ".tar"})
			f.add(Entry{Name: id + "/VERSION", Body: []byte("1.0"), Mode: 0o444})
			f.add(Entry{Name: id + "/json", Body: v1JSON(id, parent), Mode: 0o444})
		}
		items = append(items, item)
		tops = append(tops, ids[len(ids)-1])
		f.Images = append(f.Images, Image{Names: names[i], Platforms: []Platform{platformOf(img, false)}})
	}
	if err := f.addManifestJSON(items); err != nil {
		return err
	}
	f.add(Entry{Name: "repositories", Body: repositories(names, tops), Mode: 0o444})
	return nil
}

// craneTarball writes what go-containerregistry's tarball.MultiRefWrite does: per image
// the config named sha256:<hex>, each layer once as <compressed hex>.tar.gz with the
// bytes a registry serves, then manifest.json with its images sorted by their joined
// RepoTags.
func (f *Fixture) craneTarball(images [][]imageData, names [][]string) error {
	order := make([]int, len(images))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return strings.Compare(strings.Join(names[a], ","), strings.Join(names[b], ","))
	})
	var items []ManifestItem
	for _, i := range order {
		img := images[i][0]
		item := ManifestItem{Config: img.id.String(), RepoTags: repoTags(names[i])}
		f.add(Entry{Name: item.Config, Body: img.config})
		for _, l := range img.layers {
			name := l.digest.Encoded() + ".tar.gz"
			f.add(Entry{Name: name, Body: l.gz})
			item.Layers = append(item.Layers, name)
		}
		items = append(items, item)
		f.Images = append(f.Images, Image{Names: names[i], Platforms: []Platform{platformOf(img, true)}})
	}
	return f.addManifestJSON(items)
}

// docker25 writes what `docker save` writes from 25 on: an OCI image layout with the
// layers uncompressed, manifest.json beside it pointing into blobs/, and repositories.
// index.json names an image with io.containerd.image.name (the full reference) and
// org.opencontainers.image.ref.name (its tag).
func (f *Fixture) docker25(images [][]imageData, names [][]string) error {
	if err := f.ociLayout(images, names, false, true); err != nil {
		return err
	}
	var items []ManifestItem
	var tops []string
	for i, imgs := range images {
		img := imgs[0]
		item := ManifestItem{Config: "blobs/sha256/" + img.id.Encoded(), RepoTags: repoTags(names[i])}
		for _, l := range img.layers {
			item.Layers = append(item.Layers, "blobs/sha256/"+l.diffID.Encoded())
		}
		items = append(items, item)
		tops = append(tops, img.id.Encoded())
	}
	if err := f.addManifestJSON(items); err != nil {
		return err
	}
	f.add(Entry{Name: "repositories", Body: repositories(names, tops)})
	return nil
}

func (f *Fixture) addManifestJSON(items []ManifestItem) error {
	b, err := json.Marshal(items)
	if err != nil {
		return fmt.Errorf("testimage: encode manifest.json: %w", err)
	}
	f.add(Entry{Name: "manifest.json", Body: b})
	return nil
}
