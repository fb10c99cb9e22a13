package tfprotov6server

import (
	"context"
	"encoding/json"

	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/imagesync/terraform-provider-imagesync/registryclient"
)

// imagePrivate is kept in Terraform's private state: the digest this provider pushed,
// so that a plan can tell when the destination was overwritten behind its back.
type imagePrivate struct {
	Digest string `json:"digest,omitempty"`
}

func readImagePrivate(b []byte) imagePrivate {
	var p imagePrivate
	if len(b) > 0 {
		_ = json.Unmarshal(b, &p) // unreadable private state only loses drift detection
	}
	return p
}

func (p imagePrivate) bytes() []byte {
	b, _ := json.Marshal(p)
	return b
}

// plan decides what apply will do. The cases, one by one:
//   - destroy: nothing to plan (the image stays in the registry);
//   - create: copy; digest, reference and id are known after apply;
//   - destination changed: replace;
//   - source or platform changed, or the destination no longer holds what this provider
//     pushed: update in place by copying again;
//   - otherwise: no change, every computed value stays as it is.
//
// Config values are never altered: Terraform rejects a plan that changes them.
func (imageResource) plan(_ context.Context, req planRequest) planResult {
	res := planResult{planned: req.proposed, private: req.private}
	if req.proposed.IsNull() {
		return res
	}
	proposed, err := readImage(req.proposed)
	if err != nil {
		res.diags.bug(err)
		return res
	}
	if req.prior.IsNull() {
		res.planned = proposed.withUnknownDigest().value()
		return res
	}
	prior, err := readImage(req.prior)
	if err != nil {
		res.diags.bug(err)
		return res
	}
	switch {
	case destinationChanged(prior, proposed):
		res.requiresReplace = []*tftypes.AttributePath{tftypes.NewAttributePath().WithAttributeName("destination")}
		res.planned = proposed.withUnknownDigest().value()
	case differ(prior.Source, proposed.Source, normalSource),
		differ(prior.Platform, proposed.Platform, normalPlatform),
		drifted(prior, readImagePrivate(req.private)):
		res.planned = proposed.withUnknownDigest().value()
	}
	return res
}

// differ reports whether two configured values mean different things. "alpine" and
// "docker.io/library/alpine" are the same image: a change of spelling alone is no reason
// to copy again.
func differ(a, b stringValue, normal func(string) string) bool {
	if a.Unknown || b.Unknown {
		return true
	}
	if a.Null || b.Null {
		return a.Null != b.Null
	}
	return normal(a.Value) != normal(b.Value)
}

// normalSource spells a source the one way it is read: without tag or digest, :latest.
func normalSource(s string) string {
	ref, err := registryclient.ParseReference(s)
	if err != nil {
		return s
	}
	if ref.Tag == "" && ref.Digest == "" {
		ref.Tag = "latest"
	}
	return ref.String()
}

// normalDestination keeps a missing tag missing: it means "the source's tag".
func normalDestination(s string) string {
	ref, err := registryclient.ParseReference(s)
	if err != nil {
		return s
	}
	return ref.String()
}

// normalPlatform spells a platform the way it selects: linux/arm64 is linux/arm64/v8.
func normalPlatform(s string) string {
	p, err := registryclient.ParsePlatform(s)
	if err != nil {
		return s
	}
	return p.Normal().String()
}

// destinationChanged reports whether the image is to live somewhere else. An imported
// image knows only where it is (with its tag), so it is compared with where the
// configuration would put it: importing "r.io/app:1.0" for a destination "r.io/app"
// whose source is tagged 1.0 is the same place.
func destinationChanged(prior, proposed image) bool {
	if prior.Source.Null && prior.Destination.known() && proposed.Destination.known() && proposed.Source.known() {
		was, err1 := registryclient.ParseReference(prior.Destination.Value)
		src, err2 := registryclient.ParseReference(proposed.Source.Value)
		dst, err3 := registryclient.ParseReference(proposed.Destination.Value)
		if err1 == nil && err2 == nil && err3 == nil {
			return was.Name() != dst.Name() || was.Tag != registryclient.DestinationTag(src, dst)
		}
	}
	return differ(prior.Destination, proposed.Destination, normalDestination)
}

// drifted reports whether the last refresh found a different image at the destination
// than the one this provider pushed.
func drifted(prior image, private imagePrivate) bool {
	return private.Digest != "" && prior.Digest.known() && prior.Digest.Value != private.Digest
}
