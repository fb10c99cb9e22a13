package tfprotov6server

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/imagesync/terraform-provider-imagesync/registryclient"
)

// parseReferenceFunction is provider::imagesync::parse_reference(ref): an image
// reference split into its parts, spelled the way the provider reads it.
type parseReferenceFunction struct{}

var referenceObject = tftypes.Object{AttributeTypes: map[string]tftypes.Type{
	"registry": tftypes.String, "repository": tftypes.String, "tag": tftypes.String, "digest": tftypes.String,
}}

func (parseReferenceFunction) definition() *tfprotov6.Function {
	return &tfprotov6.Function{
		Summary: "Split an image reference into registry, repository, tag and digest",
		Description: "Reads an image reference the way the provider and Docker read it and returns an object with `registry`, `repository`, `tag` and `digest`. " +
			"Docker Hub short names are spelled out: `alpine:3.20` gives registry `docker.io`, repository `library/alpine`, tag `3.20`. " +
			"`tag` and `digest` are null when the reference has none; no default tag is added. " +
			"A malformed reference is an error that names the part that is wrong. It never contacts a registry.",
		Parameters: []*tfprotov6.FunctionParameter{{
			Name: "ref", Type: tftypes.String,
			Description: "An image reference, such as `alpine:3.20`, `ghcr.io/org/app:1.2` or `registry.example.com/app@sha256:<64 hex digits>`.",
		}},
		Return: &tfprotov6.FunctionReturn{Type: referenceObject},
	}
}

func (parseReferenceFunction) call(_ context.Context, args []tftypes.Value) (tftypes.Value, *tfprotov6.FunctionError) {
	s, ferr := stringArg(args, 0)
	if ferr != nil {
		return tftypes.Value{}, ferr
	}
	ref, err := registryclient.ParseReference(s)
	if err != nil {
		return tftypes.Value{}, argumentError(0, fmt.Sprintf("%s. Write an image reference such as alpine:3.20, ghcr.io/org/app:1.2 or registry.example.com/app@sha256:<64 hex digits>.", err))
	}
	optional := func(s string) tftypes.Value {
		if s == "" {
			return tftypes.NewValue(tftypes.String, nil)
		}
		return tftypes.NewValue(tftypes.String, s)
	}
	return tftypes.NewValue(referenceObject, map[string]tftypes.Value{
		"registry":   tftypes.NewValue(tftypes.String, ref.Registry),
		"repository": tftypes.NewValue(tftypes.String, ref.Repository),
		"tag":        optional(ref.Tag),
		"digest":     optional(ref.Digest.String()),
	}), nil
}
