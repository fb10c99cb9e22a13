package registryclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// pagedTags answers GET /v2/<repo>/tags/list like a registry that caps pages at
// pageSize (whatever n asks), or ignores n and sends everything when pageSize is 0,
// and continues with ?last=; link writes the Link header for the next page, given the
// request and the last tag sent.
func pagedTags(f *fakeRegistry, repo string, tags []string, pageSize int, link func(r *http.Request, last string) string) {
	sorted := slices.Clone(tags)
	sort.Strings(sorted)
	f.intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/v2/"+repo+"/tags/list" {
			return false
		}
		n := len(sorted)
		if asked, err := strconv.Atoi(r.URL.Query().Get("n")); err == nil && pageSize > 0 {
			n = min(asked, pageSize)
		}
		start := sort.SearchStrings(sorted, r.URL.Query().Get("last"))
		if last := r.URL.Query().Get("last"); last != "" && start < len(sorted) && sorted[start] == last {
			start++
		}
		end := min(start+n, len(sorted))
		if end < len(sorted) {
			w.Header().Set("Link", link(r, sorted[end-1]))
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"name": repo, "tags": sorted[start:end]})
		return true
	}
}

func manyTags(n int) []string {
	tags := make([]string, n)
	for i := range tags {
		tags[i] = fmt.Sprintf("1.%d.%d", i/100, i%100)
	}
	sort.Strings(tags)
	return tags
}

func TestListTags(t *testing.T) {
	relative := func(r *http.Request, last string) string {
		return fmt.Sprintf(`</v2/app/tags/list?last=%s&n=%s>; rel="next"`, url.QueryEscape(last), r.URL.Query().Get("n"))
	}

	t.Run("10,000 tags in pages of 100 with relative links are all listed, in order", func(t *testing.T) {
		reg := newFakeRegistry(t)
		want := manyTags(10000)
		pagedTags(reg, "app", want, 100, relative)
		got, err := testClient().ListTags(context.Background(), reg.ref(t, "app"))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("got %d tags, want %d (first %v, last %v)", len(got), len(want), got[:min(3, len(got))], got[max(len(got)-3, 0):])
		}
		if pages := reg.count("GET /v2/app/tags/list"); pages != 100 {
			t.Errorf("%d pages fetched, want 100", pages)
		}
		if first := reg.log()[len(reg.log())-100]; !strings.Contains(first, "n=1000") {
			t.Errorf("first page request %q does not ask for n=1000", first)
		}
	})

	t.Run("an absolute link on the registry's own host is followed", func(t *testing.T) {
		reg := newFakeRegistry(t)
		want := manyTags(250)
		pagedTags(reg, "app", want, 100, func(r *http.Request, last string) string {
			return fmt.Sprintf(`<http://%s/v2/app/tags/list?n=100&last=%s>; rel="next"`, reg.host(), url.QueryEscape(last))
		})
		got, err := testClient().ListTags(context.Background(), reg.ref(t, "app"))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("got %d tags, want %d", len(got), len(want))
		}
	})

	t.Run("a registry that sends every tag at once needs one request", func(t *testing.T) {
		reg := newFakeRegistry(t)
		want := manyTags(3000)
		pagedTags(reg, "app", want, 0, relative)
		got, err := testClient().ListTags(context.Background(), reg.ref(t, "app"))
		if err != nil || len(got) != len(want) {
			t.Fatalf("got %d tags (err %v), want %d", len(got), err, len(want))
		}
		if pages := reg.count("GET /v2/app/tags/list"); pages != 1 {
			t.Errorf("%d requests, want 1", pages)
		}
	})

	t.Run("a link back to a page already fetched is an error, not an endless loop", func(t *testing.T) {
		reg := newFakeRegistry(t)
		pagedTags(reg, "app", manyTags(300), 100, func(*http.Request, string) string {
			return `</v2/app/tags/list?last=1.0.99&n=100>; rel="next"`
		})
		_, err := testClient().ListTags(context.Background(), reg.ref(t, "app"))
		if !errors.Is(err, errBadPaging) {
			t.Fatalf("err = %v, want errBadPaging", err)
		}
	})

	t.Run("a missing repository is ErrNotFound with the registry's code", func(t *testing.T) {
		reg := newFakeRegistry(t)
		_, err := testClient().ListTags(context.Background(), reg.ref(t, "nothing/here"))
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "NAME_UNKNOWN") {
			t.Fatalf("err = %v, want ErrNotFound naming NAME_UNKNOWN", err)
		}
	})
}
