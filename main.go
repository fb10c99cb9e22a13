// Command terraform-provider-imagesync is a Terraform and OpenTofu provider that copies
// container images between OCI registries and tracks their digests in state.
package main

import (
	"flag"
	"fmt"
	"log"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/imagesync/terraform-provider-imagesync/tfprotov6server"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// address is the provider's source address in the Terraform registry.
const address = "registry.terraform.io/imagesync/imagesync"

func main() {
	debug := flag.Bool("debug", false, "run in debug mode: print TF_REATTACH_PROVIDERS for a debugger-attached provider")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println(version)
		return
	}
	var opts []tf6server.ServeOpt
	if *debug {
		opts = append(opts, tf6server.WithManagedDebug())
	}
	if err := tf6server.Serve(address, tfprotov6server.New(version), opts...); err != nil {
		log.Fatal(err)
	}
}
