package tfprotov6server

import (
	"context"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/opencontainers/go-digest"

	"github.com/imagesync/terraform-provider-imagesync/registryclient"
)

// The imagesync_image data source's referrers: what signs and describes the image.

var referrerObject = tftypes.Object{AttributeTypes: map[string]tftypes.Type{
	"digest": tftypes.String, "artifact_type": tftypes.String, "subject": tftypes.String, "tag": tftypes.String,
}}

var referrerObjects = tftypes.List{ElementType: referrerObject}

const referrerObjectsDescription = "The artifacts that refer to the image `digest` names (signatures, SBOMs, attestations), and those that refer to them in turn (a signature on an SBOM), sorted by digest: " +
	"OCI 1.1 referrers found through the registry's referrers API or its `sha256-<hex>` fallback tag, and cosign's `sha256-<hex>.sig`, `.att` and `.sbom` tags. " +
	"Each has `digest`; `artifact_type` (such as `application/spdx+json`, null where the listing gives none, as for cosign's tags); `subject`, the digest it refers to; and `tag`, cosign's tag it is kept under (null for an OCI 1.1 referrer). " +
	"For an index without `platform`, the index's own referrers (read a platform's with `platform`; the resource's `copy_referrers` copies both). Empty when nothing refers to the image."

// listReferrers lists what refers to the manifest d in ref's repository, as the data
// source's referrers value.
func listReferrers(ctx context.Context, client *registryclient.Client, ref registryclient.Reference, d digest.Digest) (tftypes.Value, error) {
	refs, err := client.ListReferrersOf(ctx, client.Repository(ref), d)
	if err != nil {
		return tftypes.Value{}, err
	}
	slices.SortStableFunc(refs, func(a, b registryclient.Referrer) int {
		return strings.Compare(a.Descriptor.Digest.String()+" "+a.Subject.String()+" "+a.Tag, b.Descriptor.Digest.String()+" "+b.Subject.String()+" "+b.Tag)
	})
	orNull := func(s string) tftypes.Value {
		if s == "" {
			return tftypes.NewValue(tftypes.String, nil)
		}
		return tftypes.NewValue(tftypes.String, s)
	}
	elems := make([]tftypes.Value, 0, len(refs))
	for _, r := range refs {
		elems = append(elems, tftypes.NewValue(referrerObject, map[string]tftypes.Value{
			"digest":        tftypes.NewValue(tftypes.String, r.Descriptor.Digest.String()),
			"artifact_type": orNull(r.Descriptor.ArtifactType),
			"subject":       tftypes.NewValue(tftypes.String, r.Subject.String()),
			"tag":           orNull(r.Tag),
		}))
	}
	return tftypes.NewValue(referrerObjects, elems), nil
}
