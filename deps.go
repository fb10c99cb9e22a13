//go:build tools

package main

import (
	_ "github.com/docker/cli/cli/config"
	_ "github.com/docker/cli/cli/config/credentials"
	_ "github.com/hashicorp/terraform-plugin-go/tfprotov6"
	_ "github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
	_ "github.com/hashicorp/terraform-plugin-go/tftypes"
	_ "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	_ "github.com/opencontainers/go-digest"
	_ "github.com/opencontainers/image-spec/specs-go/v1"
	_ "golang.org/x/crypto/bcrypt"
)
