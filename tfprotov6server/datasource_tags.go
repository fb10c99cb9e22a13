package tfprotov6server

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/imagesync/terraform-provider-imagesync/registryclient"
)

// tagsDataSource is data "imagesync_tags": the tags of a repository, filtered and
// sorted, so that mirroring a version range is a for_each.
type tagsDataSource struct{}

func (tagsDataSource) schema() *tfprotov6.Schema {
	return &tfprotov6.Schema{Block: &tfprotov6.SchemaBlock{
		Description: "Lists the tags of a repository, optionally only those matching a regular expression or a semantic version constraint, sorted. " +
			"Every page of the registry's tag list is read, however many tags there are. " +
			"Feed `tags` to `for_each` to mirror a version range with one `imagesync_image` block.",
		Attributes: []*tfprotov6.SchemaAttribute{
			{Name: "repository", Type: tftypes.String, Required: true,
				Description: "The repository whose tags to list, without tag or digest: `registry/repo`, such as `ghcr.io/org/app`, or a Docker Hub short name such as `nginx` (which is `docker.io/library/nginx`)."},
			{Name: "filter", Type: tftypes.String, Optional: true,
				Description: "A regular expression in RE2 syntax that a tag must match to be listed, such as `-alpine$` or `^1\\.27\\.`. It matches anywhere in the tag unless anchored with `^` and `$`. Unset by default: every tag."},
			{Name: "semver", Type: tftypes.String, Optional: true,
				Description: "A version constraint written like Terraform's, such as `>= 1.2, < 2` or `~> 1.27.0`: comma-separated comparisons with `=`, `!=`, `>`, `>=`, `<`, `<=` or `~>` (`~> 1.27.0` allows 1.27.x, `~> 1.2` allows 1.x from 1.2 on). " +
					"When it is set, only tags that are semantic versions (`MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`, a leading `v` accepted) and satisfy it are listed; tags such as `latest` or `1.27` are left out. " +
					"Pre-releases (`2.0.0-rc.1`) are listed only when a comparison names a pre-release of the same version. Unset by default: no version filtering. Applied after `filter`."},
			{Name: "tags", Type: tftypes.List{ElementType: tftypes.String}, Computed: true,
				Description: "The tags, semantic versions first in version order (`1.2.0`, `1.10.0`, `2.0.0-rc.1`, `2.0.0`), then every other tag in lexical order."},
			{Name: "latest_semver", Type: tftypes.String, Computed: true,
				Description: "The highest semantic version among `tags`, spelled as the tag is, such as `1.27.3`. A release wins over any pre-release; when `tags` holds only pre-releases (variant tags such as `1.27.3-alpine` are pre-releases in semver's terms), the highest of them. Null when `tags` holds no semantic version."},
		},
	}}
}

// tagsQuery is the data source's configuration, parsed.
type tagsQuery struct {
	repo   registryclient.Reference
	filter *regexp.Regexp
	semver constraint // nil when unset
}

// readTagsQuery parses the configuration, reporting each problem on its attribute.
func readTagsQuery(config tftypes.Value) (tagsQuery, diagnostics) {
	var q tagsQuery
	var diags diagnostics
	attrs, err := attributes(config)
	if err != nil {
		diags.bug(err)
		return q, diags
	}
	repository, err1 := asString(attrs["repository"])
	filter, err2 := asString(attrs["filter"])
	semver, err3 := asString(attrs["semver"])
	if err := errors.Join(err1, err2, err3); err != nil {
		diags.bug(err)
		return q, diags
	}
	if repository.known() {
		q.repo, err = registryclient.ParseReference(repository.Value)
		switch {
		case err != nil:
			diags.attrError("repository", "Invalid repository", fmt.Sprintf("%s.\n\nWrite a repository such as ghcr.io/org/app or nginx.", err))
		case q.repo.Tag != "" || q.repo.Digest != "":
			diags.attrError("repository", "Tag or digest in repository", fmt.Sprintf("repository %q names one image; write the repository alone, %s, and narrow the tags with filter or semver.", repository.Value, q.repo.Name()))
		}
	}
	if filter.known() {
		if q.filter, err = regexp.Compile(filter.Value); err != nil {
			diags.attrError("filter", "Invalid filter", fmt.Sprintf("filter is not a regular expression in RE2 syntax: %s.", err))
		}
	}
	if semver.known() {
		if q.semver, err = parseConstraint(semver.Value); err != nil {
			diags.attrError("semver", "Invalid semver constraint", err.Error()+".")
		}
	}
	return q, diags
}

func (tagsDataSource) validate(_ context.Context, config tftypes.Value) diagnostics {
	_, diags := readTagsQuery(config)
	return diags
}

func (d tagsDataSource) read(ctx context.Context, client *registryclient.Client, config tftypes.Value) (tftypes.Value, diagnostics) {
	q, diags := readTagsQuery(config)
	if diags.hasError() {
		return tftypes.Value{}, diags
	}
	all, err := client.ListTags(ctx, q.repo)
	if err != nil {
		return tftypes.Value{}, readFailed("repository", "Cannot list tags", q.repo, err)
	}
	tags, latest := q.selectTags(all)
	attrs, err := attributes(config)
	if err != nil {
		diags.bug(err)
		return tftypes.Value{}, diags
	}
	values := make([]tftypes.Value, len(tags))
	for i, t := range tags {
		values[i] = tftypes.NewValue(tftypes.String, t)
	}
	attrs["tags"] = tftypes.NewValue(tftypes.List{ElementType: tftypes.String}, values)
	attrs["latest_semver"] = tftypes.NewValue(tftypes.String, nil)
	if latest != "" {
		attrs["latest_semver"] = tftypes.NewValue(tftypes.String, latest)
	}
	return tftypes.NewValue(d.schema().ValueType(), attrs), nil
}

// selectTags filters and sorts the registry's tags and finds the highest version: the
// highest release, or when there is none, the highest pre-release (image variants
// such as 1.27.3-alpine are pre-releases in semver's terms).
func (q tagsQuery) selectTags(all []string) (tags []string, latest string) {
	type versioned struct {
		tag string
		v   version
	}
	var versions []versioned
	var others []string
	seen := map[string]bool{}
	for _, tag := range all {
		if seen[tag] || (q.filter != nil && !q.filter.MatchString(tag)) {
			continue
		}
		seen[tag] = true
		v, ok := parseVersion(tag)
		switch {
		case q.semver != nil && (!ok || !q.semver.allows(v)):
		case ok:
			versions = append(versions, versioned{tag, v})
		default:
			others = append(others, tag)
		}
	}
	// Equal precedence (1.0.0, v1.0.0, 1.0.0+build) falls back to the tag's text, so
	// the order never depends on the registry's.
	slices.SortFunc(versions, func(a, b versioned) int {
		if c := a.v.compare(b.v); c != 0 {
			return c
		}
		return strings.Compare(a.tag, b.tag)
	})
	slices.Sort(others)
	var latestRelease string
	for _, v := range versions {
		tags = append(tags, v.tag)
		latest = v.tag
		if len(v.v.pre) == 0 {
			latestRelease = v.tag
		}
	}
	if latestRelease != "" {
		latest = latestRelease
	}
	return append(tags, others...), latest
}
