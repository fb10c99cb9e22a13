package tfprotov6server

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/imagesync/terraform-provider-imagesync/registryclient"
)

// imageResource is imagesync_image: an image copied from a source registry into a
// destination repository.
type imageResource struct{}

func (imageResource) schema() *tfprotov6.Schema {
	return &tfprotov6.Schema{Version: 0, Block: &tfprotov6.SchemaBlock{
		Description: "Copies a container image (a single manifest, or a whole multi-platform index with every child) from one registry to another, byte for byte, and tracks its digest at the destination. Digests are preserved, so `reference` can be deployed exactly like the source.",
		Attributes: []*tfprotov6.SchemaAttribute{
			{Name: "id", Type: tftypes.String, Computed: true, Description: "Equal to `reference`."},
			{Name: "source", Type: tftypes.String, Required: true,
				Description: "The image to copy, for example `alpine:3.20`, `ghcr.io/org/app:1.2` or `registry.example.com/app@sha256:...`. With both tag and digest (`app:1.2@sha256:...`) the digest wins. Docker Hub short names read as Docker reads them: `alpine` is `docker.io/library/alpine`. Without tag or digest, `:latest`. A tag is read when the image is copied; to follow a tag that moves, set `source` to the `pinned` attribute of the `imagesync_image` data source."},
			{Name: "destination", Type: tftypes.String, Required: true,
				Description: "Where to copy it: `registry/repo` or `registry/repo:tag`, for example `registry.example.com/mirror/alpine`. Without a tag, the source's tag is used (`alpine:3.20` lands as `:3.20`); a source given only by digest is pushed untagged. Changing it replaces the resource."},
			{Name: "platform", Type: tftypes.String, Optional: true,
				Description: "`os/arch[/variant][:osversion]`, for example `linux/arm64`. When the source is a multi-platform index, only this platform's image is copied and the destination holds that single-platform manifest (`linux/arm64` and `linux/arm64/v8` match each other). Default: unset, the whole index with every platform is copied."},
			{Name: "digest", Type: tftypes.String, Computed: true, Description: "The manifest digest at the destination, for example `sha256:` followed by 64 hex digits."},
			{Name: "reference", Type: tftypes.String, Computed: true, Description: "`registry/repo@sha256:...`: the destination pinned by digest, ready for a Kubernetes `image` field."},
		},
	}}
}

// image is the resource's state, plan or configuration as Go values.
type image struct {
	ID, Source, Destination, Platform, Digest, Reference stringValue
}

func readImage(v tftypes.Value) (image, error) {
	attrs, err := attributes(v)
	if err != nil {
		return image{}, err
	}
	var m image
	for name, dst := range m.fields() {
		if *dst, err = asString(attrs[name]); err != nil {
			return image{}, fmt.Errorf("attribute %s: %w", name, err)
		}
	}
	return m, nil
}

func (m *image) fields() map[string]*stringValue {
	return map[string]*stringValue{
		"id": &m.ID, "source": &m.Source, "destination": &m.Destination,
		"platform": &m.Platform, "digest": &m.Digest, "reference": &m.Reference,
	}
}

func (m image) value() tftypes.Value {
	attrs := map[string]tftypes.Value{}
	for name, v := range m.fields() {
		attrs[name] = v.tf()
	}
	return tftypes.NewValue(imageResource{}.schema().ValueType(), attrs)
}

// withDigest fills the computed attributes for an image pinned at d.
func (m image) withDigest(dst registryclient.Reference, d string) image {
	m.Digest = knownString(d)
	m.Reference = knownString(dst.Name() + "@" + d)
	m.ID = m.Reference
	return m
}

// withUnknownDigest marks the computed attributes as decided by apply.
func (m image) withUnknownDigest() image {
	m.Digest, m.Reference, m.ID = unknownString, unknownString, unknownString
	return m
}

// target is what the resource's configuration says to copy, parsed.
type target struct {
	source, destination registryclient.Reference
	platform            *registryclient.Platform
}

// parseTarget parses source, destination and platform, reporting each problem on its
// attribute. Unknown values are skipped: they are checked again at apply.
func parseTarget(m image) (target, diagnostics) {
	var t target
	var diags diagnostics
	if m.Source.known() {
		ref, err := registryclient.ParseReference(m.Source.Value)
		if err != nil {
			diags.attrError("source", "Invalid source", fmt.Sprintf("%s.\n\nWrite an image reference such as ghcr.io/org/app:1.2, alpine:3.20 or registry.example.com/app@sha256:<64 hex digits>.", err))
		}
		t.source = ref
	}
	if m.Destination.known() {
		ref, err := registryclient.ParseReference(m.Destination.Value)
		switch {
		case err != nil:
			diags.attrError("destination", "Invalid destination", fmt.Sprintf("%s.\n\nWrite a repository such as registry.example.com/mirror/app, optionally with a tag (:1.2).", err))
		case ref.Digest != "":
			diags.attrError("destination", "Digest in destination", fmt.Sprintf("destination %q carries a digest, but the digest at the destination is decided by the source. Remove @%s; read the result from the digest or reference attribute.", m.Destination.Value, ref.Digest))
		}
		t.destination = ref
	}
	if m.Platform.known() {
		p, err := registryclient.ParsePlatform(m.Platform.Value)
		if err != nil {
			diags.attrError("platform", "Invalid platform", err.Error()+".")
		}
		t.platform = &p
	}
	return t, diags
}

func (imageResource) validate(_ context.Context, config tftypes.Value) diagnostics {
	m, err := readImage(config)
	if err != nil {
		var d diagnostics
		d.bug(err)
		return d
	}
	_, diags := parseTarget(m)
	return diags
}
