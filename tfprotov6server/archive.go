package tfprotov6server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/registryclient"
	"github.com/imagesync/terraform-provider-imagesync/tarball"
)

// archiveResource is imagesync_archive: remote images written into an OCI image layout
// on local disk, to be carried into an air-gapped network and pushed there with
// imagesync_image (source = "oci-archive:<path>:<name>").
type archiveResource struct{}

func (archiveResource) schema() *tfprotov6.Schema {
	return &tfprotov6.Schema{Version: 0, Block: &tfprotov6.SchemaBlock{
		Description: "Writes remote images into an OCI image layout on local disk: a tar file (a `path` ending in `.tar`) or a directory (any other `path`). The archive is deterministic (the same images always give the same bytes), written atomically (a crash or a kill never leaves half an archive at `path`) and streamed; blobs shared between images are written once. Push it on the other side with `imagesync_image` and `source = \"oci-archive:<path>:<name>\"`. Destroying the resource deletes the archive.",
		Attributes: []*tfprotov6.SchemaAttribute{
			{Name: "id", Type: tftypes.String, Computed: true, Description: "Equal to `path`."},
			{Name: "path", Type: tftypes.String, Required: true, Description: "Where to write the layout, relative to Terraform's working directory: `mirror.tar` for a tar file, `mirror/` (any path not ending in `.tar`) for a directory. Changing it replaces the resource."},
			{Name: "images", Type: stringMap, Required: true, Description: "The images to write, name → registry reference, for example `{ \"alpine\" = \"alpine:3.20\" }`. Each name is recorded as the image's `org.opencontainers.image.ref.name`, the name to use in `oci-archive:<path>:<name>`."},
			{Name: "platform", Type: tftypes.String, Optional: true, Description: "`os/arch[/variant]`, for example `linux/amd64`: write only this platform of each image. Without it, every platform of a multi-platform index is written."},
			{Name: "copy_referrers", Type: tftypes.Bool, Optional: true, Description: archiveCopyReferrersDescription},
			{Name: "digests", Type: stringMap, Computed: true, Description: "The manifest digest of each image in the archive, by name; known at plan."},
			{Name: "sha256", Type: tftypes.String, Computed: true, Description: "The sha256 of the archive (for a directory, of the tar it would make). A file changed or deleted outside Terraform is detected at refresh and written again."},
		},
	}}
}

// archive is the resource's state, plan or configuration.
type archive struct {
	ID, Path, Platform, SHA256 stringValue
	Images, Digests            mapValue
	CopyReferrers              boolValue
}

func readArchive(v tftypes.Value) (archive, error) {
	attrs, err := attributes(v)
	if err != nil {
		return archive{}, err
	}
	var a archive
	for name, dst := range map[string]*stringValue{"id": &a.ID, "path": &a.Path, "platform": &a.Platform, "sha256": &a.SHA256} {
		if *dst, err = asString(attrs[name]); err != nil {
			return archive{}, fmt.Errorf("attribute %s: %w", name, err)
		}
	}
	for name, dst := range map[string]*mapValue{"images": &a.Images, "digests": &a.Digests} {
		if *dst, err = asMap(attrs[name]); err != nil {
			return archive{}, fmt.Errorf("attribute %s: %w", name, err)
		}
	}
	if a.CopyReferrers, err = asBool(attrs["copy_referrers"]); err != nil {
		return archive{}, fmt.Errorf("attribute copy_referrers: %w", err)
	}
	return a, nil
}

func (a archive) value() tftypes.Value {
	return tftypes.NewValue(archiveResource{}.schema().ValueType(), map[string]tftypes.Value{
		"id": a.ID.tf(), "path": a.Path.tf(), "platform": a.Platform.tf(), "sha256": a.SHA256.tf(),
		"images": a.Images.tf(), "digests": a.Digests.tf(), "copy_referrers": a.CopyReferrers.tf(),
	})
}

// archiveTarget is the configuration, parsed.
type archiveTarget struct {
	images    map[string]registryclient.Reference
	platform  *registryclient.Platform
	referrers bool // copy_referrers
}

func parseArchive(a archive) (archiveTarget, diagnostics) {
	var diags diagnostics
	t := archiveTarget{images: map[string]registryclient.Reference{}}
	if a.Path.known() && strings.TrimSpace(a.Path.Value) == "" {
		diags.attrError("path", "Invalid path", "path is empty: write where the archive goes, such as mirror.tar or mirror/.")
	}
	if a.Images.known() {
		if len(a.Images.Values) == 0 {
			diags.attrError("images", "No images", "images is empty: name at least one image to write, such as { alpine = \"alpine:3.20\" }.")
		}
		for name, s := range a.Images.Values {
			at := tftypes.NewAttributePath().WithAttributeName("images").WithElementKeyString(name)
			if name == "" || strings.ContainsAny(name, " \t\n") {
				diags.pathError(at, "Invalid image name", fmt.Sprintf("%q cannot name an image in the archive: use a name without spaces, such as alpine or alpine:3.20.", name))
			}
			ref, err := registryclient.ParseReference(s)
			if err != nil {
				diags.pathError(at, "Invalid image reference", fmt.Sprintf("%s.\n\nWrite a registry reference such as alpine:3.20 or ghcr.io/org/app@sha256:<digest>.", err))
			}
			t.images[name] = ref
		}
	}
	if a.Platform.known() {
		p, err := registryclient.ParsePlatform(a.Platform.Value)
		if err != nil {
			diags.attrError("platform", "Invalid platform", err.Error()+".")
		}
		t.platform = &p
	}
	t.referrers = a.CopyReferrers.Value
	return t, diags
}

func (archiveResource) validate(_ context.Context, config tftypes.Value) diagnostics {
	a, err := readArchive(config)
	if err != nil {
		var d diagnostics
		d.bug(err)
		return d
	}
	_, diags := parseArchive(a)
	return diags
}

// archivePrivate remembers the sha256 this provider wrote, to tell a file changed
// behind Terraform's back.
type archivePrivate struct {
	SHA256 string `json:"sha256,omitempty"`
	Write  bool   `json:"write,omitempty"`
	// Referrers are the referrer digests written with each image (copy_referrers).
	Referrers map[string][]string `json:"referrers,omitempty"`
}

func readArchivePrivate(b []byte) archivePrivate {
	var p archivePrivate
	_ = json.Unmarshal(b, &p) // unreadable private state only loses drift detection
	return p
}

func (p archivePrivate) bytes() []byte { b, _ := json.Marshal(p); return b }

// plan: destroy plans nothing; a new path replaces; otherwise every image is resolved
// (one HEAD each) and the archive is written again when an image changed upstream,
// the images or platform changed, copy_referrers lists other referrers than were
// written, or the file was changed or deleted behind Terraform's back. The digests are known at plan; the archive's sha256 after apply.
func (archiveResource) plan(ctx context.Context, client *registryclient.Client, req planRequest) planResult {
	res := planResult{planned: req.proposed, private: req.private}
	if req.proposed.IsNull() {
		return res
	}
	proposed, err := readArchive(req.proposed)
	if err != nil {
		res.diags.bug(err)
		return res
	}
	t, diags := parseArchive(proposed)
	if diags.hasError() {
		res.diags = diags
		return res
	}
	private := readArchivePrivate(req.private)
	var prior archive
	if !req.prior.IsNull() {
		if prior, err = readArchive(req.prior); err != nil {
			res.diags.bug(err)
			return res
		}
	}
	planned := proposed
	planned.ID = proposed.Path
	digests := mapValue{Unknown: true}
	var referrers map[string][]string
	if proposed.Images.known() && client != nil {
		d, refs, err := resolveArchive(ctx, client, t)
		switch {
		case err == nil:
			digests, referrers = mapValue{Values: d}, refs
		case req.prior.IsNull() || !sameMap(prior.Images, proposed.Images):
			res.diags.attrError("images", "Cannot read image", err.Error())
			return res
		default:
			res.diags.add(tfprotov6.DiagnosticSeverityWarning, "images", "Images not checked", fmt.Sprintf("%s.\n\nThe archive is kept as it is; the next plan checks again.", err))
			return res
		}
	}
	if !req.prior.IsNull() {
		if differ(prior.Path, proposed.Path, same) {
			res.requiresReplace = []*tftypes.AttributePath{tftypes.NewAttributePath().WithAttributeName("path")}
		} else if sameMap(digests, prior.Digests) && !differ(prior.Platform, proposed.Platform, normalPlatform) &&
			prior.SHA256.known() && prior.SHA256.Value == private.SHA256 && sameReferrerLists(referrers, private.Referrers) {
			return res // the archive holds these images and nobody changed it
		}
	}
	planned.Digests, planned.SHA256 = digests, unknownString
	res.planned, res.private = planned.value(), archivePrivate{SHA256: private.SHA256, Write: true}.bytes()
	return res
}

func sameMap(a, b mapValue) bool {
	if a.Unknown || b.Unknown || a.Null != b.Null || len(a.Values) != len(b.Values) {
		return false
	}
	for k, v := range a.Values {
		if w, ok := b.Values[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// resolveArchive finds the digest each image will have in the archive and, with
// copy_referrers, the referrers written with it (nil without).
func resolveArchive(ctx context.Context, client *registryclient.Client, t archiveTarget) (map[string]string, map[string][]string, error) {
	out := map[string]string{}
	var referrers map[string][]string
	if t.referrers {
		referrers = map[string][]string{}
	}
	for _, name := range sortedKeys(t.images) {
		r, err := resolve(ctx, client, target{source: t.images[name], platform: t.platform, referrers: t.referrers}, imagePrivate{})
		if err != nil {
			return nil, nil, fmt.Errorf("images[%q] = %s: %w", name, t.images[name], err)
		}
		out[name] = r.push.String()
		if t.referrers {
			referrers[name] = r.referrers
		}
	}
	return out, referrers, nil
}

// apply writes the archive: every image through the one copy walk into a layout
// writer, exactly the digests the plan showed, then moves it into place. Destroy
// deletes it.
func (archiveResource) apply(ctx context.Context, client *registryclient.Client, req applyRequest) applyResult {
	if req.planned.IsNull() {
		prior, err := readArchive(req.prior)
		res := applyResult{state: req.planned}
		if err == nil && prior.Path.known() {
			if err := os.RemoveAll(prior.Path.Value); err != nil {
				res.state, res.private = req.prior, req.private
				res.diags.attrError("path", "Cannot delete the archive", fmt.Sprintf("%s. Delete %s by hand, or fix its permissions, and destroy again.", err, prior.Path.Value))
			}
		}
		return res
	}
	failed := applyResult{state: req.prior, private: req.private}
	planned, err := readArchive(req.planned)
	if err != nil {
		failed.diags.bug(err)
		return failed
	}
	if !readArchivePrivate(req.private).Write {
		return applyResult{state: req.planned, private: req.private}
	}
	t, diags := parseArchive(planned)
	if diags.hasError() {
		failed.diags = diags
		return failed
	}
	path := planned.Path.Value
	w, err := tarball.NewWriter(path, strings.HasSuffix(path, ".tar"))
	if err != nil {
		failed.diags.attrError("path", "Cannot write the archive", fmt.Sprintf("%s. Check that the directory exists and is writable.", err))
		return failed
	}
	var named []tarball.Named
	digests := map[string]string{}
	referrers := writtenReferrers(t)
	for _, name := range sortedKeys(t.images) {
		ref, opts := t.images[name], registryclient.CopyOptions{Platform: t.platform, Referrers: t.referrers}
		if d, ok := planned.Digests.Values[name]; ok && !planned.Digests.Unknown {
			ref, opts.Platform = ref.WithDigest(digest.Digest(d)), nil
		}
		root, err := client.GetManifest(ctx, ref)
		if err == nil {
			var res registryclient.CopyResult
			if res, err = client.CopyTo(ctx, client.Repository(ref), root, w, opts); err == nil {
				named = append(named, tarball.Named{Name: name, Descriptor: ocispec.Descriptor{MediaType: res.MediaType, Digest: res.Digest}})
				digests[name] = res.Digest.String()
				referrers.add(name, res)
			}
		}
		if err != nil {
			w.Abort()
			failed.diags.pathError(tftypes.NewAttributePath().WithAttributeName("images").WithElementKeyString(name), "Cannot write image into the archive",
				fmt.Sprintf("Writing %s into %s failed: %s.\n\nNothing was written to %s and nothing recorded in state; apply again.", t.images[name], path, err, path))
			return failed
		}
	}
	sum, err := w.Commit(named)
	if err != nil {
		failed.diags.attrError("path", "Cannot write the archive", err.Error())
		return failed
	}
	planned.ID, planned.SHA256, planned.Digests = planned.Path, knownString(sum.String()), mapValue{Values: digests}
	return applyResult{state: planned.value(), private: archivePrivate{SHA256: sum.String(), Referrers: referrers}.bytes()}
}

// read checks the archive on disk: gone means the next plan writes it again; changed
// shows the sha256 it has now, which the next plan restores.
func (archiveResource) read(_ context.Context, _ *registryclient.Client, req readRequest) readResult {
	res := readResult{state: req.current, private: req.private}
	if req.current.IsNull() {
		return res
	}
	a, err := readArchive(req.current)
	if err != nil || !a.Path.known() {
		return res
	}
	sum, err := tarball.Checksum(a.Path.Value)
	switch {
	case errors.Is(err, tarball.ErrNotFound):
		res.state = tftypes.NewValue(req.current.Type(), nil)
	case err != nil:
		res.diags.attrError("path", "Cannot read the archive", err.Error())
	case sum.String() != a.SHA256.Value:
		a.SHA256 = knownString(sum.String())
		res.state = a.value()
	}
	return res
}

func (archiveResource) importState(context.Context, string) (tftypes.Value, diagnostics) {
	var diags diagnostics
	diags.error("Import not supported", "imagesync_archive cannot be imported: declare it and apply, which writes the archive (deterministically, so an identical file is written again byte for byte).")
	return tftypes.Value{}, diags
}

func (archiveResource) moveState(moveRequest) (tftypes.Value, bool, diagnostics) {
	return tftypes.Value{}, false, nil
}
