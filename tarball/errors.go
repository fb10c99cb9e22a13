package tarball

import "errors"

// Sentinel errors, checked with errors.Is. Every error this package returns wraps one
// of them and names the path (and the entry or image inside it) it is about.
var (
	// ErrInvalidSource: the value cannot name a local image (an empty path or name).
	ErrInvalidSource = errors.New("invalid local image source")
	// ErrNotFound: the path does not exist.
	ErrNotFound = errors.New("no such file or directory")
	// ErrUnreadable: the path exists but cannot be read (permissions, I/O).
	ErrUnreadable = errors.New("cannot read")
	// ErrNotLayout: a directory or tar that holds neither manifest.json (docker save)
	// nor index.json (OCI image layout), or not the one a prefix asked for.
	ErrNotLayout = errors.New("not an image archive or OCI image layout")
	// ErrNotTar: a file that is neither a tar nor a gzip-compressed tar, or whose tar
	// headers or gzip stream are damaged.
	ErrNotTar = errors.New("not a tar archive")
	// ErrTruncated: the archive ends before its last entry does.
	ErrTruncated = errors.New("truncated archive")
	// ErrUnsafeEntry: an entry with an absolute name or "..", a link leaving the
	// archive or looping, or an entry kind images never hold (sparse files).
	ErrUnsafeEntry = errors.New("unsafe archive entry")
	// ErrMalformed: manifest.json, index.json, a config or a manifest that cannot be
	// used: bad JSON, missing fields, above the size limit, or bytes that do not match
	// their digest.
	ErrMalformed = errors.New("malformed image metadata")
	// ErrImageNotFound: no image inside the archive has the requested name.
	ErrImageNotFound = errors.New("image not found in archive")
	// ErrAmbiguous: the archive holds several images and none was chosen, or the name
	// chosen belongs to several.
	ErrAmbiguous = errors.New("ambiguous image choice")
	// ErrMissingBlob: a manifest references a file or blob the archive does not hold.
	ErrMissingBlob = errors.New("blob missing from archive")
)
