package tfprotov6server

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/imagesync/terraform-provider-imagesync/registryclient"
	"github.com/imagesync/terraform-provider-imagesync/tarball"
)

// imageResource is imagesync_image: an image copied from a registry or a local file
// into a destination repository.
type imageResource struct{}

// Values of destination_drift and compression.
const (
	driftRestore       = "restore"
	driftAccept        = "accept"
	compressGzip       = "gzip"
	compressNone       = "none"
	defaultTimeout     = "60m"
	imageSchemaVersion = 1
)

var timeoutsType = tftypes.Object{AttributeTypes: map[string]tftypes.Type{"create": tftypes.String, "update": tftypes.String, "delete": tftypes.String}}

func (imageResource) schema() *tfprotov6.Schema {
	str := func(name, desc string) *tfprotov6.SchemaAttribute {
		return &tfprotov6.SchemaAttribute{Name: name, Type: tftypes.String, Optional: true, Description: desc}
	}
	return &tfprotov6.Schema{Version: imageSchemaVersion, Block: &tfprotov6.SchemaBlock{
		Description: "Copies a container image (a single manifest or a whole multi-platform index) from a registry, a docker-save archive or an OCI image layout into a destination repository, and tracks its digest. Every plan checks the source with one HEAD: when its tag has moved, the plan shows an in-place update with the new digest.",
		Attributes: []*tfprotov6.SchemaAttribute{
			{Name: "id", Type: tftypes.String, Computed: true, Description: "Equal to `reference`."},
			{Name: "source", Type: tftypes.String, Required: true,
				Description: "The image to copy. A registry reference: `ghcr.io/org/app:1.2`, `registry.example.com/app@sha256:...`, `repo:tag@sha256:...` (the digest wins), or a Docker Hub short name such as `alpine:3.20` (without tag or digest, `:latest`). Or a local image: the prefixes `docker-archive:`, `oci-archive:` and `oci-layout:` always name a file or directory; otherwise a value that starts with `/`, `./`, `../` or `~/`, or ends in `.tar`, `.tar.gz` or `.tgz`, is a file (`path/to/image.tar`). Relative paths are relative to Terraform's working directory. An archive holding several images is narrowed with a suffix: `image.tar:repo:tag` (docker-save RepoTags) or `oci-archive:layout.tar:name` (the `org.opencontainers.image.ref.name` annotation)."},
			{Name: "destination", Type: tftypes.String, Required: true,
				Description: "Where to copy it: `registry/repo` or `registry/repo:tag`. Without a tag, the source's tag is used (a local image without one gets `:latest`); a source given only by digest is pushed untagged. Changing where the image lands (including a tagless destination whose source tag changes) replaces the resource."},
			str("platform", "`os/arch[/variant][:osversion]`, for example `linux/arm64`. When the source is a multi-platform index, only this platform's image is copied and the destination holds that single-platform manifest (`linux/arm64` and `linux/arm64/v8` match each other). Default: unset, the whole index with every platform is copied."),
			str("source_digest", "An opaque trigger: any change plans an update that copies the source again (a copy that finds nothing to move writes nothing). Set it from `filemd5(\"image.tar\")` for a local file, or from the `imagesync_image` data source."),
			str("compression", "How layers a docker-save archive holds uncompressed are pushed: `gzip` (default; deterministic, so the same file always gives the same digest) or `none` (pushed as `application/vnd.oci.image.layer.v1.tar`: fastest, and the digest is known at plan). Ignored for other sources, whose layers travel as they are."),
			{Name: "delete_on_destroy", Type: tftypes.Bool, Optional: true,
				Description: "When `true`, destroying or replacing the resource removes the destination tag: the tag is deleted where the registry supports it, else the manifest, but only when no other tag in the repository points at it. Blobs are left to the registry's garbage collector. Default `false`: the image stays in the registry."},
			str("destination_drift", "What to do when someone pushes another image under the destination tag: `restore` (default) plans an update that puts this image back; `accept` takes what the registry holds into state and plans nothing, so roll-outs and roll-backs made outside Terraform are never fought. Under both, a deleted tag is created again."),
			{Name: "copy_referrers", Type: tftypes.Bool, Optional: true, Description: copyReferrersDescription},
			{Name: "referrers", Type: stringListType, Computed: true, Description: referrersDescription},
			{Name: "digest", Type: tftypes.String, Computed: true, Description: "The manifest digest at the destination (`sha256:` and 64 hex digits), known at plan for registry sources and OCI layouts, and for docker-save archives pushed before or with `compression = \"none\"`."},
			{Name: "reference", Type: tftypes.String, Computed: true, Description: "`registry/repo@sha256:...`: the destination pinned by digest, ready for a Kubernetes `image` field."},
		},
		BlockTypes: []*tfprotov6.SchemaNestedBlock{{
			TypeName: "timeouts",
			Nesting:  tfprotov6.SchemaNestedBlockNestingModeSingle,
			Block: &tfprotov6.SchemaBlock{
				Description: "How long a copy or a deletion may take before it is abandoned, as a Go duration such as `30m` or `2h` (default " + defaultTimeout + " each). A copy that times out records nothing.",
				Attributes: []*tfprotov6.SchemaAttribute{
					str("create", "Time allowed to copy the image when the resource is created (default "+defaultTimeout+")."),
					str("update", "Time allowed to copy the image again on an update (default "+defaultTimeout+")."),
					str("delete", "Time allowed to remove the tag when `delete_on_destroy` is set (default "+defaultTimeout+")."),
				},
			},
		}},
	}}
}

// image is the resource's state, plan or configuration as Go values.
type image struct {
	ID, Source, Destination, Platform, SourceDigest, Compression, DestinationDrift, Digest, Reference stringValue
	DeleteOnDestroy                                                                                   boolValue
	Timeouts                                                                                          timeouts
	CopyReferrers                                                                                     boolValue
	Referrers                                                                                         stringList
}

// timeouts is the timeouts block; Null when the block is absent.
type timeouts struct {
	Create, Update, Delete stringValue
	Null                   bool
}

func readImage(v tftypes.Value) (image, error) {
	attrs, err := attributes(v)
	if err != nil {
		return image{}, err
	}
	var m image
	for name, dst := range m.strings() {
		if *dst, err = asString(attrs[name]); err != nil {
			return image{}, fmt.Errorf("attribute %s: %w", name, err)
		}
	}
	if m.DeleteOnDestroy, err = asBool(attrs["delete_on_destroy"]); err != nil {
		return image{}, fmt.Errorf("attribute delete_on_destroy: %w", err)
	}
	if err := m.readReferrers(attrs); err != nil {
		return image{}, err
	}
	m.Timeouts.Null = true
	if t, ok := attrs["timeouts"]; ok && !t.IsNull() {
		ta, err := attributes(t)
		if err != nil {
			return image{}, err
		}
		m.Timeouts.Null = false
		for name, dst := range m.Timeouts.fields() {
			if *dst, err = asString(ta[name]); err != nil {
				return image{}, fmt.Errorf("attribute timeouts.%s: %w", name, err)
			}
		}
	}
	return m, nil
}

func (m *image) strings() map[string]*stringValue {
	return map[string]*stringValue{
		"id": &m.ID, "source": &m.Source, "destination": &m.Destination, "platform": &m.Platform,
		"source_digest": &m.SourceDigest, "compression": &m.Compression, "destination_drift": &m.DestinationDrift,
		"digest": &m.Digest, "reference": &m.Reference,
	}
}

func (t *timeouts) fields() map[string]*stringValue {
	return map[string]*stringValue{"create": &t.Create, "update": &t.Update, "delete": &t.Delete}
}

func (m image) value() tftypes.Value {
	attrs := map[string]tftypes.Value{"delete_on_destroy": m.DeleteOnDestroy.tf(), "copy_referrers": m.CopyReferrers.tf(), "referrers": m.Referrers.tf()}
	for name, v := range m.strings() {
		attrs[name] = v.tf()
	}
	attrs["timeouts"] = tftypes.NewValue(timeoutsType, nil)
	if !m.Timeouts.Null {
		t := map[string]tftypes.Value{}
		for name, v := range m.Timeouts.fields() {
			t[name] = v.tf()
		}
		attrs["timeouts"] = tftypes.NewValue(timeoutsType, t)
	}
	return tftypes.NewValue(imageResource{}.schema().ValueType(), attrs)
}

// withDigest fills the computed attributes for an image pinned at d in dst.
func (m image) withDigest(dst registryclient.Reference, d string) image {
	m.Digest = knownString(d)
	m.Reference = knownString(strings.ToLower(dst.Registry) + "/" + dst.Repository + "@" + d)
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
	source      registryclient.Reference // a registry source
	local       *tarball.Location        // a local source, instead of source
	destination registryclient.Reference
	platform    *registryclient.Platform
	compress    bool
	referrers   bool // copy_referrers
}

// sourceName is the source as messages name it.
func (t target) sourceName() string {
	if t.local != nil {
		return t.local.String()
	}
	return t.source.String()
}

// at is where the image lands: the destination with its effective tag, or without one
// (pushed by digest). Registry hosts are case-insensitive and Docker Hub's aliases are
// one registry, so two spellings of one place compare equal.
func (t target) at() registryclient.Reference {
	dst := t.destination
	dst.Registry = strings.ToLower(dst.Registry)
	tag := dst.Tag
	switch {
	case tag != "":
	case t.local != nil:
		tag = registryclient.DefaultTag
	default:
		tag = registryclient.DestinationTag(t.source, t.destination)
	}
	if tag == "" {
		return dst.WithDigest("")
	}
	return dst.WithTag(tag)
}

// parseTarget parses the configuration, reporting each problem on its attribute.
// Unknown values are skipped: they are checked again at apply.
func parseTarget(m image) (target, diagnostics) {
	var t target
	var diags diagnostics
	if m.Source.known() {
		loc, local, err := tarball.ParseSource(m.Source.Value)
		switch {
		case err != nil:
			diags.attrError("source", "Invalid source", fmt.Sprintf("%s.\n\nName a local image as docker-archive:path, oci-archive:path[:name] or oci-layout:dir[:name], or a path such as ./image.tar.", err))
		case local:
			t.local = &loc
		default:
			ref, err := registryclient.ParseReference(m.Source.Value)
			if err != nil {
				diags.attrError("source", "Invalid source", fmt.Sprintf("%s.\n\nWrite an image reference such as ghcr.io/org/app:1.2, alpine:3.20 or registry.example.com/app@sha256:<64 hex digits>, or a local file such as ./image.tar.", err))
			}
			t.source = ref
		}
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
	t.compress = true
	if m.Compression.known() {
		switch m.Compression.Value {
		case compressGzip:
		case compressNone:
			t.compress = false
		default:
			diags.attrError("compression", "Invalid compression", fmt.Sprintf("compression %q is not one of %q or %q.", m.Compression.Value, compressGzip, compressNone))
		}
	}
	if m.DestinationDrift.known() && m.DestinationDrift.Value != driftRestore && m.DestinationDrift.Value != driftAccept {
		diags.attrError("destination_drift", "Invalid destination_drift", fmt.Sprintf("destination_drift %q is not one of %q (put this image back) or %q (follow what the registry holds).", m.DestinationDrift.Value, driftRestore, driftAccept))
	}
	t.referrers = m.CopyReferrers.Value // false when null or unknown
	diags = append(diags, validateTimeouts(m.Timeouts)...)
	if !diags.hasError() && m.Source.known() && m.Destination.known() && t.local == nil &&
		t.source.Digest == "" && sameRepository(t.source, t.destination) && t.at().Tag == registryclient.DestinationTag(t.source, registryclient.Reference{}) {
		diags.attrError("destination", "Source and destination are the same image", fmt.Sprintf("source %q and destination %q name the same tag: copying an image onto itself does nothing. Point destination at another repository or tag.", m.Source.Value, m.Destination.Value))
	}
	return t, diags
}

func sameRepository(a, b registryclient.Reference) bool {
	return strings.EqualFold(a.Registry, b.Registry) && a.Repository == b.Repository
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
