package tfprotov6server

import (
	"context"
	"fmt"
	"slices"

	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/imagesync/terraform-provider-imagesync/registryclient"
	"github.com/imagesync/terraform-provider-imagesync/tarball"
)

// copy_referrers and referrers: the signatures, SBOMs and attestations of the image,
// copied with it, and the plan that notices a new one at the source.

const copyReferrersDescription = "When `true`, also copies every artifact that refers to the image: OCI 1.1 referrers (signatures, SBOMs, attestations whose `subject` is the image), found through the source's referrers API or, where it has none, its `sha256-<hex>` fallback tag; and cosign's `sha256-<hex>.sig`, `.att` and `.sbom` tags. " +
	"For a multi-platform index, those of every platform's image too; and, recursively, the referrers of each referrer (a signature on an SBOM). " +
	"At the destination a referrer is pushed by digest and listed where the registry lists referrers itself (it answers with `OCI-Subject`), else added to the `sha256-<hex>` fallback tag's index; cosign's keep their tags, where cosign looks for them. " +
	"Every plan then lists the source's referrers (per manifest: one GET, two without the referrers API, and three HEADs), and one added since the last apply plans an update. " +
	"Default `false`: the image alone, and a plan costs what it did."

const referrersDescription = "The digests of the referrers at the destination after a copy with `copy_referrers`, sorted, such as `[\"sha256:...\"]`; null without `copy_referrers`."

// readReferrers reads copy_referrers and referrers. A state written before they existed
// has them null (stateFromJSON fills them in).
func (m *image) readReferrers(attrs map[string]tftypes.Value) error {
	var err error
	if m.CopyReferrers, err = asBool(attrs["copy_referrers"]); err != nil {
		return fmt.Errorf("attribute copy_referrers: %w", err)
	}
	if m.Referrers, err = asStringList(attrs["referrers"]); err != nil {
		return fmt.Errorf("attribute referrers: %w", err)
	}
	return nil
}

// withCopiedReferrers records what a copy brought along: the referrers at the
// destination with copy_referrers, null without.
func (m image) withCopiedReferrers(t target, res registryclient.CopyResult) image {
	m.Referrers = stringList{Null: true}
	if t.referrers {
		m.Referrers = stringList{Values: make([]string, 0, len(res.Referrers))}
		for _, d := range res.Referrers {
			m.Referrers.Values = append(m.Referrers.Values, d.String())
		}
	}
	return m
}

// plan is planCopy with referrers decided: unknown where apply copies with
// copy_referrers (the source may gain one in between), what state records where it
// does not, null without copy_referrers.
func (r imageResource) plan(ctx context.Context, client *registryclient.Client, req planRequest) planResult {
	res := r.planCopy(ctx, client, req)
	if res.diags.hasError() || res.planned.IsNull() {
		return res
	}
	planned, err := readImage(res.planned)
	if err != nil {
		res.diags.bug(err)
		return res
	}
	switch {
	case planned.CopyReferrers.Unknown:
		planned.Referrers = stringList{Unknown: true}
	case !planned.CopyReferrers.Value:
		planned.Referrers = stringList{Null: true}
	case readImagePrivate(res.private).Copy:
		planned.Referrers = stringList{Unknown: true}
	}
	res.planned = planned.value()
	return res
}

// referrersMoved reports whether a copy is due for the referrers alone: copy_referrers
// is set (or not known yet) and the source lists other referrers than state records,
// or state records none because they were not copied before.
func referrersMoved(prior, proposed image, t target, r resolved, resolvedOK bool) bool {
	if proposed.CopyReferrers.Unknown {
		return true
	}
	if !t.referrers || !resolvedOK {
		return false
	}
	return prior.Referrers.Null || prior.Referrers.Unknown || !slices.Equal(prior.Referrers.Values, r.referrers)
}

// withRegistryReferrers lists, with copy_referrers, the referrers a copy of the
// resolved image would bring: one GET of its manifest, then per manifest listed one GET
// of the referrers API (two without it) and three HEADs for cosign's tags.
func (r resolved) withRegistryReferrers(ctx context.Context, client *registryclient.Client, t target) (resolved, error) {
	if !t.referrers {
		return r, nil
	}
	src := t.source.WithDigest(r.identity)
	m, err := client.GetManifest(ctx, src)
	if err != nil {
		return resolved{}, err
	}
	return r.listing(ctx, client, client.Repository(src), m)
}

// withReferrers lists, with copy_referrers, the referrers of a local image, which an
// OCI layout written by imagesync_archive records.
func (r resolved) withReferrers(ctx context.Context, client *registryclient.Client, t target, img *tarball.Image, m registryclient.Manifest) (resolved, error) {
	if !t.referrers {
		return r, nil
	}
	return r.listing(ctx, client, img, m)
}

func (r resolved) listing(ctx context.Context, client *registryclient.Client, src registryclient.Source, m registryclient.Manifest) (resolved, error) {
	refs, err := client.ListReferrersFrom(ctx, src, m)
	if err != nil {
		return resolved{}, err
	}
	r.referrers = []string{}
	for _, d := range registryclient.ReferrerDigests(refs) {
		r.referrers = append(r.referrers, d.String())
	}
	return r, nil
}
