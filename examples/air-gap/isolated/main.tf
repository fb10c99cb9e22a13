# The isolated side: push every image of the carried bundle into the internal
# registry, by name. Digests are the ones exported, known at plan:
#
#   + resource "imagesync_image" "from_bundle" {
#       + digest    = "sha256:9ab3…"
#       + reference = "registry.internal/mirror/app@sha256:9ab3…"
#       + source    = "oci-archive:bundle.tar:app"
#     }
locals {
  images = ["alpine", "app"]
}

resource "imagesync_image" "from_bundle" {
  for_each      = toset(local.images)
  source        = "oci-archive:bundle.tar:${each.key}"
  source_digest = fileexists("bundle.tar") ? filesha256("bundle.tar") : null
  destination   = "registry.internal/mirror/${each.key}:carried"
  # The signatures carried in the bundle, pushed beside each image where cosign
  # and OCI 1.1 clients look for them on this side.
  copy_referrers = true
}
