package registryclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/internal/faultproxy"
	"github.com/imagesync/terraform-provider-imagesync/internal/testimage"
	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
)

// faultClient is a client whose stalls and silences are cut in fractions of a second,
// against proxies that would hold them for a minute: a test that passes in seconds
// shows the client cut them, not the proxy.
func faultClient(opts ...Option) *Client {
	return New(append([]Option{withBackoffBase(5 * time.Millisecond), withTimeouts(200*time.Millisecond, time.Second), WithChunkSize(256 << 10)}, opts...)...)
}

const proxyStall = time.Minute

// TestCopyRecoversFromEachFault breaks the first two requests a fault can strike, on one
// side at a time, and expects the copy to finish with the image intact: every fault
// here clears, so none of them may fail a copy.
func TestCopyRecoversFromEachFault(t *testing.T) {
	isolateConfig(t)
	src := testregistry.StartT(t, testregistry.Options{})
	dst := testregistry.StartT(t, testregistry.Options{})
	// Two small layers go in one PUT each, the 600 KiB one in chunks of 256 KiB.
	pushed, err := src.Push(t.Context(), "source/app", "v1", testregistry.ImageSpec{Seed: 31, Layers: 3, LayerSize: 200 << 10})
	if err != nil {
		t.Fatal(err)
	}
	big, err := src.Push(t.Context(), "source/big", "v1", testregistry.ImageSpec{Seed: 32, Layers: 1, LayerSize: 600 << 10})
	if err != nil {
		t.Fatal(err)
	}
	type side int
	const (
		source side = iota
		destination
	)
	var n int
	for _, s := range []side{source, destination} {
		for _, f := range faultproxy.All {
			match := "/blobs/"
			if f == faultproxy.WrongDigest {
				match = "/manifests/" // a blob's header is never trusted; a manifest's is checked
			}
			if s == destination && f == faultproxy.TruncatedBody {
				continue // the destination is never read from
			}
			name := fmt.Sprintf("%s at the source", f)
			if s == destination {
				name = fmt.Sprintf("%s at the destination", f)
			}
			for _, image := range []testregistry.Pushed{pushed, big} {
				n++
				t.Run(name+" of "+image.Repository, func(t *testing.T) {
					opts := faultproxy.Options{Seed: uint64(n), Rate: 1, Faults: []faultproxy.Fault{f}, Match: match, MaxFaults: 2, StallFor: proxyStall}
					srcHost, dstHost := src.Host, dst.Host
					var p *faultproxy.Proxy
					if s == source {
						p = faultproxy.StartT(t, src.Host, opts)
						srcHost = p.Host
					} else {
						p = faultproxy.StartT(t, dst.Host, opts)
						dstHost = p.Host
					}
					repo := fmt.Sprintf("mirror/c%d", n)
					started := time.Now()
					_, err := faultClient().Copy(t.Context(), mustParse(t, srcHost+"/"+image.Repository+":v1"), mustParse(t, dstHost+"/"+repo+":v1"), CopyOptions{})
					if err != nil {
						t.Fatalf("copy through a fault that clears: %v", err)
					}
					if took := time.Since(started); took > proxyStall/2 {
						t.Errorf("the copy took %s: a stall was not cut by the client", took)
					}
					if err := checkStored(t.Context(), dst, repo, "v1", digest.Digest(image.Digest)); err != nil {
						t.Error(err)
					}
					// A wrong digest on an answer without one (a 404 HEAD) is no fault.
					if got := p.Stats().Injected[f]; got == 0 || got > 2 {
						t.Errorf("the proxy injected %d faults, want 1 or 2: the test did not test", got)
					}
				})
			}
		}
	}
}

// TestCopyGivesUpClearly runs into faults that never clear: the copy must end, within
// the retries it is allowed, with an error that names the blob or request, the
// registry, what happened and how often it was tried, and leave no manifest behind.
func TestCopyGivesUpClearly(t *testing.T) {
	isolateConfig(t)
	src := testregistry.StartT(t, testregistry.Options{})
	dst := testregistry.StartT(t, testregistry.Options{})
	if _, err := src.Push(t.Context(), "source/app", "v1", testregistry.ImageSpec{Seed: 41, Layers: 2, LayerSize: 300 << 10}); err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		name      string
		side      string
		opts      faultproxy.Options
		silent    bool
		wantIn    []string
		wantError error
	}{
		{
			name: "a source that corrupts every blob", side: "source",
			opts:   faultproxy.Options{Rate: 1, Faults: []faultproxy.Fault{faultproxy.CorruptBody}, Match: "/blobs/sha256:"},
			wantIn: []string{"copy blob sha256:", "content hashes to", "gave up after 3 attempts"}, wantError: ErrDigestMismatch,
		},
		{
			name: "a source that cuts every blob short", side: "source",
			opts:   faultproxy.Options{Rate: 1, Faults: []faultproxy.Fault{faultproxy.TruncatedBody}, Match: "/blobs/sha256:"},
			wantIn: []string{"copy blob sha256:", "gave up after 3 attempts"}, wantError: ErrUnexpectedContentSize,
		},
		{
			name: "a destination that finds every upload damaged", side: "destination",
			opts:   faultproxy.Options{Rate: 1, Faults: []faultproxy.Fault{faultproxy.CorruptBody}, Match: "/blobs/uploads/"},
			wantIn: []string{"copy blob sha256:", "DIGEST_INVALID", "gave up after 3 attempts"},
		},
		{
			name: "a destination that answers 503 to everything", side: "destination",
			opts:   faultproxy.Options{Rate: 1, Faults: []faultproxy.Fault{faultproxy.Status503}},
			wantIn: []string{"503", "gave up after 3 attempts"},
		},
		{name: "a source that stops answering", side: "source", silent: true, wantIn: []string{"gave up after 3 attempts"}},
		{name: "a destination that stops answering", side: "destination", silent: true, wantIn: []string{"gave up after 3 attempts"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.StallFor = proxyStall
			srcHost, dstHost := src.Host, dst.Host
			target := src.Host
			if tc.side == "destination" {
				target = dst.Host
			}
			p := faultproxy.StartT(t, target, tc.opts)
			if tc.side == "source" {
				srcHost = p.Host
			} else {
				dstHost = p.Host
			}
			if tc.silent {
				p.StopAnswering()
			}
			repo := fmt.Sprintf("mirror/g%d", i)
			started := time.Now()
			_, err := faultClient(WithMaxRetries(2)).Copy(t.Context(), mustParse(t, srcHost+"/source/app:v1"), mustParse(t, dstHost+"/"+repo+":v1"), CopyOptions{})
			if err == nil {
				t.Fatal("the copy succeeded through a fault that never clears")
			}
			if took := time.Since(started); took > proxyStall/2 {
				t.Errorf("giving up took %s", took)
			}
			msg := err.Error()
			for _, want := range append(tc.wantIn, p.Host) {
				if !strings.Contains(msg, want) {
					t.Errorf("the error does not say %q:\n%s", want, msg)
				}
			}
			if tc.wantError != nil && !errors.Is(err, tc.wantError) {
				t.Errorf("the error is not %v: %v", tc.wantError, err)
			}
			if d, err := dst.ManifestDigest(t.Context(), repo, "v1"); err == nil {
				t.Errorf("the destination holds %s although the copy failed", d)
			}
		})
	}
}

// countingSource counts how often each blob of a source is opened.
type countingSource struct {
	Source
	opened atomic.Int32
}

func (s *countingSource) OpenBlob(ctx context.Context, desc ocispec.Descriptor, offset int64) (io.ReadCloser, error) {
	s.opened.Add(1)
	return s.Source.OpenBlob(ctx, desc, offset)
}

// TestACorruptLocalArchiveIsReadOnce: a file's bytes do not heal, so a layer that does
// not match its digest fails the push at once, without retries, and nothing is pushed.
func TestACorruptLocalArchiveIsReadOnce(t *testing.T) {
	isolateConfig(t)
	dst := testregistry.StartT(t, testregistry.Options{})
	f, err := testimage.Build(testimage.Options{Layout: testimage.OCIArchive, Seed: 51, Layers: 1, LayerSize: 300 << 10})
	if err != nil {
		t.Fatal(err)
	}
	layer := f.Images[0].Platforms[0].Layers[0]
	e := f.Entry(testimage.BlobName(layer.Digest))
	e.Body = append([]byte(nil), e.Body...)
	e.Body[len(e.Body)/2] ^= 0xff
	f.WriteT(t)
	for _, chunk := range []int64{DefaultChunkSize, 64 << 10} {
		t.Run(fmt.Sprintf("chunk size %d", chunk), func(t *testing.T) {
			img, root, _, done, err := openLocal(t.Context(), f.Path)
			if err != nil {
				t.Fatal(err)
			}
			defer done()
			src := &countingSource{Source: img}
			repo := fmt.Sprintf("local/c%d", chunk)
			_, err = faultClient(WithChunkSize(chunk)).CopyFrom(t.Context(), src, root, mustParse(t, dst.Host+"/"+repo+":v1"), CopyOptions{})
			if !errors.Is(err, ErrDigestMismatch) || strings.Contains(err.Error(), "attempts") {
				t.Errorf("err = %v, want a digest mismatch on the first attempt", err)
			}
			if n := src.opened.Load(); n > 2 {
				t.Errorf("the archive's blobs were opened %d times: a corrupt file was read again", n)
			}
			if d, err := dst.ManifestDigest(t.Context(), repo, "v1"); err == nil {
				t.Errorf("the destination holds %s although a layer was corrupt", d)
			}
		})
	}
}

func mustParse(t *testing.T, s string) Reference {
	t.Helper()
	ref, err := ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}
