package tfprotov6server

import (
	"maps"
	"slices"

	"github.com/imagesync/terraform-provider-imagesync/registryclient"
)

// imagesync_archive's copy_referrers: signatures, SBOMs and attestations written into
// the layout with their images, for imagesync_image to push on the other side.

const archiveCopyReferrersDescription = "When `true`, also writes every artifact that refers to each image, as `imagesync_image`'s `copy_referrers` copies them (OCI 1.1 referrers, the `sha256-<hex>` fallback tag, cosign's `.sig`, `.att` and `.sbom` tags; for an index, its platforms' too; recursively). " +
	"They are blobs of the layout like any manifest, named in `index.json` with the annotations `vnd.imagesync.referrer-of` (the digest referred to) and `vnd.imagesync.referrer-tag` (cosign's tag), so `imagesync_image` with `source = \"oci-archive:<path>:<name>\"` and `copy_referrers = true` pushes them on the other side. " +
	"Every plan then lists each image's referrers (per manifest: one GET, two without the referrers API, and three HEADs), and one added since the archive was written plans writing it again. Default `false`."

// referrerLists maps an image's name to the referrer digests written with it; nil
// without copy_referrers.
type referrerLists map[string][]string

func writtenReferrers(t archiveTarget) referrerLists {
	if !t.referrers {
		return nil
	}
	return referrerLists{}
}

func (l referrerLists) add(name string, res registryclient.CopyResult) {
	if l == nil {
		return
	}
	l[name] = []string{}
	for _, d := range res.Referrers {
		l[name] = append(l[name], d.String())
	}
}

// sameReferrerLists reports whether the referrers listed at plan are those written:
// nil (without copy_referrers) matches only nil.
func sameReferrerLists(listed, written map[string][]string) bool {
	if (listed == nil) != (written == nil) {
		return false
	}
	return maps.EqualFunc(listed, written, func(a, b []string) bool { return slices.Equal(a, b) })
}
