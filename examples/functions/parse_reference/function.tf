locals {
  # { registry = "docker.io", repository = "library/alpine", tag = "3.20", digest = null }
  alpine = provider::imagesync::parse_reference("alpine:3.20")
}

# Mirror any image into the same path on a private registry.
resource "imagesync_image" "mirror" {
  source      = "alpine:3.20"
  destination = "registry.example.com/${local.alpine.registry}/${local.alpine.repository}"
}
