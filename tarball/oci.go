package tarball

import (
	// Layouts may address blobs by sha512; go-digest needs the hash linked in.
	_ "crypto/sha512"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// containerdNameAnnotation names an image with its full reference, as containerd and
// Docker 25+ write beside org.opencontainers.image.ref.name (which then holds the tag).
const containerdNameAnnotation = "io.containerd.image.name"

// loadOCI reads an OCI image layout's oci-layout and index.json. Each index.json entry
// is an image; entries with the same digest (one per name) are one image. An error
// wrapping fs.ErrNotExist means there is no index.json.
func loadOCI(f files, label string) ([]archived, error) {
	layout, err := readMetadata(f, ocispec.ImageLayoutFile, label)
	switch {
	case err == nil:
		var l ocispec.ImageLayout
		if err := json.Unmarshal(layout, &l); err != nil || !strings.HasPrefix(l.Version, "1.") {
			return nil, fmt.Errorf("%w: %s: oci-layout is not {\"imageLayoutVersion\": \"1.0.0\"}", ErrMalformed, label)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	b, err := readMetadata(f, ocispec.ImageIndexFile, label)
	if err != nil {
		return nil, err
	}
	var index ocispec.Index
	if err := json.Unmarshal(b, &index); err != nil {
		return nil, fmt.Errorf("%w: %s: index.json is not an OCI image index: %v", ErrMalformed, label, err)
	}
	var images []archived
	byDigest := map[digest.Digest]int{}
	for i, desc := range index.Manifests {
		if err := desc.Digest.Validate(); err != nil {
			return nil, fmt.Errorf("%w: %s: entry %d of index.json has the digest %q: %v", ErrMalformed, label, i, desc.Digest, err)
		}
		if isReferrerEntry(desc) {
			continue // a signature or an SBOM of an image, listed by Image.Referrers
		}
		var names []string
		for _, key := range []string{ocispec.AnnotationRefName, containerdNameAnnotation} {
			if name := desc.Annotations[key]; name != "" {
				names = append(names, name)
			}
		}
		if j, ok := byDigest[desc.Digest]; ok {
			images[j].names = sortedUnique(append(images[j].names, names...))
			continue
		}
		byDigest[desc.Digest] = len(images)
		images = append(images, archived{names: sortedUnique(names), oci: desc})
	}
	return images, nil
}

// blobName is where an OCI image layout keeps the blob with digest d.
func blobName(d digest.Digest) (string, error) {
	if err := d.Validate(); err != nil {
		return "", fmt.Errorf("%w: the digest %q: %v", ErrMalformed, d, err)
	}
	return "blobs/" + d.Algorithm().String() + "/" + d.Encoded(), nil
}

// readManifestBlob reads a manifest or index from blobs/ and checks it against desc, so
// the bytes handed out are the ones whose digest a push preserves.
func readManifestBlob(f files, label string, desc ocispec.Descriptor) ([]byte, error) {
	name, err := blobName(desc.Digest)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	b, err := readMetadata(f, name, label)
	if err != nil {
		return nil, missing(err, label, "the manifest "+desc.Digest.String())
	}
	if got := desc.Digest.Algorithm().FromBytes(b); got != desc.Digest {
		return nil, fmt.Errorf("%w: %s: %s holds bytes whose digest is %s; the layout is damaged", ErrMalformed, label, name, got)
	}
	if desc.Size != 0 && desc.Size != int64(len(b)) {
		return nil, fmt.Errorf("%w: %s: %s is %d bytes but its descriptor says %d", ErrMalformed, label, name, len(b), desc.Size)
	}
	return b, nil
}

// rootDescriptor is an index.json entry as a push needs it: what the manifest is, not
// the names the layout gave it. A missing mediaType is read from the manifest itself.
func rootDescriptor(desc ocispec.Descriptor, manifest []byte, label string) (ocispec.Descriptor, error) {
	root := ocispec.Descriptor{
		MediaType:    desc.MediaType,
		Digest:       desc.Digest,
		Size:         int64(len(manifest)),
		Platform:     desc.Platform,
		ArtifactType: desc.ArtifactType,
	}
	var probe struct {
		MediaType string            `json:"mediaType"`
		Manifests []json.RawMessage `json:"manifests"`
	}
	if err := json.Unmarshal(manifest, &probe); err != nil {
		return root, fmt.Errorf("%w: %s: the manifest %s is not JSON: %v", ErrMalformed, label, desc.Digest, err)
	}
	if root.MediaType == "" {
		switch {
		case probe.MediaType != "":
			root.MediaType = probe.MediaType
		case probe.Manifests != nil:
			root.MediaType = ocispec.MediaTypeImageIndex
		default:
			root.MediaType = ocispec.MediaTypeImageManifest
		}
	}
	return root, nil
}
