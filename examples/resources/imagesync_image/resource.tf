# Mirror a multi-platform image, every platform, keeping its digest.
resource "imagesync_image" "alpine" {
  source      = "alpine:3.20"
  destination = "registry.example.com/mirror/alpine" # gets the source's tag: :3.20
}

# Copy only the linux/arm64 image of an index.
resource "imagesync_image" "app_arm64" {
  source      = "ghcr.io/example/app:1.4.2"
  destination = "registry.example.com/apps/app:1.4.2-arm64"
  platform    = "linux/arm64"
}

# Deploy by digest: the reference is registry/repo@sha256:...
output "alpine_image" {
  value = imagesync_image.alpine.reference
}
