package tfprotov6server

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/imagesync/terraform-provider-imagesync/registryclient"
)

// imageDataSource is data "imagesync_image": what a registry holds under a reference,
// read without copying anything.
type imageDataSource struct{}

func (imageDataSource) schema() *tfprotov6.Schema {
	computed := func(name string, typ tftypes.Type, desc string) *tfprotov6.SchemaAttribute {
		return &tfprotov6.SchemaAttribute{Name: name, Type: typ, Computed: true, Description: desc}
	}
	return &tfprotov6.Schema{Block: &tfprotov6.SchemaBlock{
		Description: "Looks up an image in its registry: its digest, media type, platforms and config, and the reference pinned by digest. " +
			"Use it to deploy or copy exactly what a tag points at now, or to check that a tag has not moved. " +
			"A read costs one manifest GET (two when `platform` picks a child of an index, plus a config read when it checks a single-platform image), and listing its referrers one more GET (two where the registry lacks the referrers API) and three HEADs per manifest listed. " +
			"On Docker Hub a manifest GET counts towards the pull rate limit.",
		Attributes: []*tfprotov6.SchemaAttribute{
			{Name: "reference", Type: tftypes.String, Required: true,
				Description: "The image to look up, in any form the `imagesync_image` resource's `source` accepts: `registry/repo:tag`, `registry/repo@sha256:...`, or a Docker Hub short name such as `alpine:3.20`. Without a tag or digest, `:latest`. " +
					"This is what you ask for; the answer pinned by digest is `pinned`."},
			{Name: "platform", Type: tftypes.String, Optional: true,
				Description: "`os/arch[/variant][:osversion]`, for example `linux/arm64`. When `reference` names a multi-platform index, `digest`, `pinned`, `media_type` and `config_digest` describe this platform's image instead of the index. When it names a single-platform image, the image must be this platform. Unset by default: the image `reference` names."},
			computed("digest", tftypes.String, "The manifest digest, for example `sha256:` followed by 64 hex digits: of the index, or of the selected platform's image when `platform` is set."),
			computed("pinned", tftypes.String, "`registry/repo@sha256:...`: `reference` pinned by `digest`, without its tag, with Docker Hub names spelled out (`docker.io/library/alpine@sha256:...`). Ready for a Kubernetes `image` field or the resource's `source`. (The resource calls this attribute `reference`; here `reference` is the input.)"),
			computed("media_type", tftypes.String, "The manifest's media type, for example `application/vnd.oci.image.index.v1+json` for an index or `application/vnd.docker.distribution.manifest.v2+json` for a Docker image."),
			computed("platforms", tftypes.List{ElementType: tftypes.String}, "The platforms of the index `reference` names, in its order, such as `[\"linux/amd64\", \"linux/arm64/v8\"]`; empty when it names a single-platform image. Attestation entries (`unknown/unknown`) are left out."),
			computed("platform_digests", tftypes.Map{ElementType: tftypes.String}, "Each platform of `platforms` mapped to its image's manifest digest, for example `{\"linux/amd64\" = \"sha256:...\"}`; empty for a single-platform image."),
			computed("config_digest", tftypes.String, "The digest of the image's config blob, which identifies the image's content whatever its manifest looks like. Null for an index without `platform`."),
			computed("referrers", referrerObjects, referrerObjectsDescription),
		},
	}}
}

// imageLookup is the data source's configuration, parsed.
type imageLookup struct {
	ref      registryclient.Reference
	platform *registryclient.Platform
}

// readImageLookup parses reference and platform, reporting problems on each. Unknown
// values are skipped: Terraform reads the data source only once they are known.
func readImageLookup(config tftypes.Value) (imageLookup, diagnostics) {
	var l imageLookup
	var diags diagnostics
	attrs, err := attributes(config)
	if err != nil {
		diags.bug(err)
		return l, diags
	}
	reference, err1 := asString(attrs["reference"])
	platform, err2 := asString(attrs["platform"])
	if err := errors.Join(err1, err2); err != nil {
		diags.bug(err)
		return l, diags
	}
	if reference.known() {
		if l.ref, err = registryclient.ParseReference(reference.Value); err != nil {
			diags.attrError("reference", "Invalid reference", fmt.Sprintf("%s.\n\nWrite an image reference such as ghcr.io/org/app:1.2, alpine:3.20 or registry.example.com/app@sha256:<64 hex digits>.", err))
		}
	}
	if platform.known() {
		p, err := registryclient.ParsePlatform(platform.Value)
		if err != nil {
			diags.attrError("platform", "Invalid platform", err.Error()+".")
		}
		l.platform = &p
	}
	return l, diags
}

func (imageDataSource) validate(_ context.Context, config tftypes.Value) diagnostics {
	_, diags := readImageLookup(config)
	return diags
}

func (d imageDataSource) read(ctx context.Context, client *registryclient.Client, config tftypes.Value) (tftypes.Value, diagnostics) {
	l, diags := readImageLookup(config)
	if diags.hasError() {
		return tftypes.Value{}, diags
	}
	in, err := client.Inspect(ctx, l.ref, l.platform)
	if err != nil {
		attr := "reference"
		if errors.Is(err, registryclient.ErrPlatformNotFound) {
			attr = "platform"
		}
		return tftypes.Value{}, readFailed(attr, "Cannot read image", l.ref, err)
	}
	attrs, err := attributes(config)
	if err != nil {
		diags.bug(err)
		return tftypes.Value{}, diags
	}
	platforms := []tftypes.Value{}
	digests := map[string]tftypes.Value{}
	for _, child := range in.Children {
		p, ok := registryclient.PlatformOf(child)
		if !ok {
			continue
		}
		name := p.String()
		if _, seen := digests[name]; seen {
			continue // two entries for one platform: the first is the one pulled
		}
		platforms = append(platforms, tftypes.NewValue(tftypes.String, name))
		digests[name] = tftypes.NewValue(tftypes.String, child.Digest.String())
	}
	configDigest := tftypes.NewValue(tftypes.String, nil)
	if in.Config.Digest != "" {
		configDigest = tftypes.NewValue(tftypes.String, in.Config.Digest.String())
	}
	attrs["digest"] = tftypes.NewValue(tftypes.String, in.Manifest.Digest.String())
	attrs["pinned"] = tftypes.NewValue(tftypes.String, l.ref.Pinned(in.Manifest.Digest))
	attrs["media_type"] = tftypes.NewValue(tftypes.String, in.Manifest.MediaType)
	attrs["platforms"] = tftypes.NewValue(tftypes.List{ElementType: tftypes.String}, platforms)
	attrs["platform_digests"] = tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, digests)
	attrs["config_digest"] = configDigest
	if attrs["referrers"], err = listReferrers(ctx, client, l.ref, in.Manifest.Digest); err != nil {
		return tftypes.Value{}, readFailed("reference", "Cannot list the image's referrers", l.ref, err)
	}
	return tftypes.NewValue(d.schema().ValueType(), attrs), nil
}
