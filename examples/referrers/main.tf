# Mirror an image with everything that signs and describes it: cosign signatures and
# attestations, OCI 1.1 referrers such as SBOMs, and the signatures on those.
resource "imagesync_image" "app" {
  source         = "ghcr.io/example/app:1.4.2"
  destination    = "registry.example.com/mirror/app"
  copy_referrers = true
}

# The signatures are where cosign looks for them at the mirror too:
#   cosign verify --key cosign.pub registry.example.com/mirror/app@sha256:...
output "app" {
  value = {
    image     = imagesync_image.app.reference
    referrers = imagesync_image.app.referrers # ["sha256:...", ...], sorted
  }
}

# What refers to an image, read without copying it.
data "imagesync_image" "upstream" {
  reference = "ghcr.io/example/app:1.4.2"
}

output "upstream_sboms" {
  value = [for r in data.imagesync_image.upstream.referrers : r.digest if r.artifact_type == "application/spdx+json"]
}
