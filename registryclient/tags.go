package registryclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/imagesync/terraform-provider-imagesync/registryclient/internal/retry"
)

// tagsPageSize is the n asked for on each page of a tag list. Registries may answer
// with fewer (Docker Hub and GHCR cap it) and say where the next page is in a Link
// header; some ignore n and send everything at once.
const tagsPageSize = 1000

// maxTagsPageSize bounds how much of one tag-list answer is read into memory: a
// thousand 128-character tags are about 130 KiB.
const maxTagsPageSize = 16 << 20

// ListTags lists every tag of repo's repository (its tag and digest are ignored), in
// the registry's order, following the registry's Link headers to the last page.
func (c *Client) ListTags(ctx context.Context, repo Reference) ([]string, error) {
	r := &request{
		method:   http.MethodGet,
		ref:      repo,
		endpoint: tagsList,
		query:    url.Values{"n": {strconv.Itoa(tagsPageSize)}},
		header:   http.Header{"Accept": {"application/json"}},
		expect:   []int{http.StatusOK},
	}
	var tags []string
	fetched := map[string]bool{}
	for {
		page, next, err := c.tagsPage(ctx, r)
		if err != nil {
			return nil, err
		}
		tags = append(tags, page...)
		if next == nil {
			return tags, nil
		}
		// A registry that links back to a page it already sent, or onward from an
		// empty one, would keep this loop going for ever.
		if fetched[next.String()] || len(page) == 0 {
			return nil, fmt.Errorf("list tags %s: the registry's next page %s goes nowhere new: %w", repo.Name(), next.Redacted(), errBadPaging)
		}
		fetched[next.String()] = true
		r = r.following(next)
	}
}

// errBadPaging is a tag list whose Link headers loop.
var errBadPaging = errors.New("tag list pages loop")

// tagsPage fetches one page, as an operation of its own, and returns its tags and the
// absolute URL of the next page, nil on the last one.
func (c *Client) tagsPage(ctx context.Context, r *request) (tags []string, next *url.URL, err error) {
	err = c.retrying(ctx, func(ctx context.Context, _ retry.Action) (err error) {
		tags, next, err = c.tagsPageOnce(ctx, r)
		return err
	})
	return tags, next, err
}

func (c *Client) tagsPageOnce(ctx context.Context, r *request) ([]string, *url.URL, error) {
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Tags []string `json:"tags"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxTagsPageSize)).Decode(&body); err != nil {
		return nil, nil, r.failed(fmt.Errorf("read tag list: %w", err))
	}
	target := nextLink(resp.Header)
	if target == "" {
		return body.Tags, nil, nil
	}
	// The target may be relative: it is resolved against the URL that was asked.
	next, err := resp.Request.URL.Parse(target)
	if err != nil {
		return nil, nil, r.failed(fmt.Errorf("the Link header's next page %q is not a URL: %w", target, err))
	}
	return body.Tags, next, nil
}
