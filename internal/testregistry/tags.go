package testregistry

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// Tags lists repo's tags in the registry's (lexical) order.
func (r *Registry) Tags(ctx context.Context, repo string) ([]string, error) {
	resp, err := r.do(ctx, request{
		method: http.MethodGet,
		url:    r.endpoint("/v2/%s/tags/list", repo),
		repo:   repo,
		want:   http.StatusOK,
	})
	if err != nil {
		return nil, fmt.Errorf("list tags, repository %s: %w", repo, err)
	}
	var list struct {
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(resp.body, &list); err != nil {
		return nil, fmt.Errorf("list tags, repository %s: decode answer: %w", repo, err)
	}
	return list.Tags, nil
}
