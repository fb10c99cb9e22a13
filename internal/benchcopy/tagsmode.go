//go:build linux

package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/imagesync/terraform-provider-imagesync/registryclient"
)

// tagsConcurrency is how many tags -mode=tags copies at once: Terraform's default
// -parallelism. The Client bounds the blob transfers across them itself.
const tagsConcurrency = 10

// tagsReport is what -mode=tags prints.
type tagsReport struct {
	Copied      int     `json:"copied"`
	WallSeconds float64 `json:"wall_seconds"` // around the copies only
}

// copyTags copies srcRepo:tag to dstRepo:tag for every tag with one Client at its
// default parallelism, as one terraform apply of a for_each over the tags does.
func copyTags(ctx context.Context, srcRepo, dstRepo string, tags []string, out io.Writer) error {
	if len(tags) == 0 {
		return errors.New("-tags names no tag to copy")
	}
	c := registryclient.New()
	start := time.Now()
	var (
		wg   sync.WaitGroup
		errs = make([]error, len(tags))
		next = make(chan int)
	)
	for range min(tagsConcurrency, len(tags)) {
		wg.Go(func() {
			for i := range next {
				errs[i] = copyTag(ctx, c, srcRepo+":"+tags[i], dstRepo+":"+tags[i])
			}
		})
	}
	for i := range tags {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return json.NewEncoder(out).Encode(tagsReport{Copied: len(tags), WallSeconds: time.Since(start).Seconds()})
}

func copyTag(ctx context.Context, c *registryclient.Client, src, dst string) error {
	srcRef, err := registryclient.ParseReference(src)
	if err != nil {
		return err
	}
	dstRef, err := registryclient.ParseReference(dst)
	if err != nil {
		return err
	}
	_, err = c.Copy(ctx, srcRef, dstRef, registryclient.CopyOptions{})
	return err
}
