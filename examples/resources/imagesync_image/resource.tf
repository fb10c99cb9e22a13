# Registry to registry: a whole multi-platform image, every platform, digests kept.
resource "imagesync_image" "alpine" {
  source      = "alpine:3.20"
  destination = "registry.example.com/mirror/alpine" # gets the source's tag: :3.20
}

# One platform of an index: the destination holds the linux/arm64 image alone.
resource "imagesync_image" "app_arm64" {
  source      = "ghcr.io/example/app:1.4.2"
  destination = "registry.example.com/apps/app:1.4.2-arm64"
  platform    = "linux/arm64"
}

# Deploy by digest: registry.example.com/mirror/alpine@sha256:...
output "alpine_image" {
  value = imagesync_image.alpine.reference
}
