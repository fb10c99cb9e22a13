package tfprotov6server

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/imagesync/terraform-provider-imagesync/registryclient"
)

// moveState takes the state of the two resources imagesync_image replaces:
//   - crane_image (any provider whose type is "crane"): source, destination, platform,
//     source_digest, digest and reference carry over;
//   - imagesync of sHesl/imagesync (type "imagesync", from any provider address, since
//     users give that provider a local name of their choosing): source and destination
//     carry over, and its id, destination@digest, gives digest and reference.
//
// Terraform sends the source provider's full address (registry.terraform.io/ns/crane);
// OpenTofu has been seen to send the bare type ("crane") or its own host, so the type
// is matched on the address's last part.
func (imageResource) moveState(req moveRequest) (tftypes.Value, bool, diagnostics) {
	var diags diagnostics
	provider := req.sourceProvider
	if i := strings.LastIndex(provider, "/"); i >= 0 {
		provider = provider[i+1:]
	}
	var old map[string]any
	kind := ""
	switch {
	case req.sourceType == "crane_image" && provider == "crane":
		kind = "crane_image"
	case req.sourceType == "imagesync":
		// The type alone is sHesl/imagesync's; users may give its provider any local name.
		kind = "imagesync"
	default:
		return tftypes.Value{}, false, nil
	}
	if err := json.Unmarshal(req.sourceState, &old); err != nil {
		diags.error("Cannot move state", fmt.Sprintf("The %s state is not a JSON object: %s.", kind, err))
		return tftypes.Value{}, false, diags
	}
	str := func(name string) string { s, _ := old[name].(string); return s }
	m := emptyImage()
	set := func(dst *stringValue, v string) {
		if v != "" {
			*dst = knownString(v)
		}
	}
	set(&m.Source, str("source"))
	set(&m.Destination, str("destination"))
	switch kind {
	case "crane_image":
		set(&m.Platform, str("platform"))
		set(&m.SourceDigest, str("source_digest"))
		set(&m.Digest, str("digest"))
		set(&m.Reference, str("reference"))
		set(&m.ID, str("reference"))
	case "imagesync":
		if ref, err := registryclient.ParseReference(str("id")); err == nil && ref.Digest != "" {
			m = m.withDigest(ref, ref.Digest.String())
		}
	}
	if !m.Source.known() || !m.Destination.known() {
		diags.error("Cannot move state", fmt.Sprintf("The %s state has no source or destination to carry over.", kind))
		return tftypes.Value{}, false, diags
	}
	return m.value(), true, diags
}
