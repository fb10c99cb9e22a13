package tfprotov6server

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/opencontainers/go-digest"

	"github.com/imagesync/terraform-provider-imagesync/registryclient"
)

// pinFunction is provider::imagesync::pin(ref, digest): registry/repo@digest.
type pinFunction struct{}

func (pinFunction) definition() *tfprotov6.Function {
	return &tfprotov6.Function{
		Summary: "Pin an image reference to a digest",
		Description: "Returns `registry/repository@digest`: the reference without its tag, pinned to `digest`, with Docker Hub short names spelled out " +
			"(`pin(\"nginx:1.27\", d)` is `docker.io/library/nginx@<d>`). " +
			"It is an error when `digest` is not `algorithm:hex` (such as `sha256:` and 64 hex digits) or when `ref` already carries a different digest. " +
			"It never contacts a registry: to look a digest up, use the `imagesync_image` data source.",
		Parameters: []*tfprotov6.FunctionParameter{{
			Name: "ref", Type: tftypes.String,
			Description: "An image reference; its tag is dropped. For example `registry.example.com/app:1.2`.",
		}, {
			Name: "digest", Type: tftypes.String,
			Description: "The manifest digest to pin to, for example `sha256:` followed by 64 hex digits.",
		}},
		Return: &tfprotov6.FunctionReturn{Type: tftypes.String},
	}
}

func (pinFunction) call(_ context.Context, args []tftypes.Value) (tftypes.Value, *tfprotov6.FunctionError) {
	s, ferr := stringArg(args, 0)
	if ferr != nil {
		return tftypes.Value{}, ferr
	}
	d, ferr := stringArg(args, 1)
	if ferr != nil {
		return tftypes.Value{}, ferr
	}
	ref, err := registryclient.ParseReference(s)
	if err != nil {
		return tftypes.Value{}, argumentError(0, fmt.Sprintf("%s. Write an image reference such as registry.example.com/app:1.2.", err))
	}
	dgst, err := digest.Parse(d)
	if err != nil {
		return tftypes.Value{}, argumentError(1, fmt.Sprintf("digest %q is not a manifest digest (%v): write algorithm:hex, such as sha256: followed by 64 lowercase hex digits.", d, err))
	}
	if ref.Digest != "" && ref.Digest != dgst {
		return tftypes.Value{}, argumentError(1, fmt.Sprintf("%s is already pinned to %s, a different image than %s: pass the reference without its digest.", s, ref.Digest, dgst))
	}
	return tftypes.NewValue(tftypes.String, ref.Pinned(dgst)), nil
}
