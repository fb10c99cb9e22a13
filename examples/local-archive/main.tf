# A local image archive pushed to a registry: `docker save -o build/app.tar app:1.4.2`
# (any Docker version), skopeo's docker-archive: or oci-archive:, crane pull, or an OCI
# layout directory. source_digest changes when the file does, so a rebuilt archive
# plans an update; the layers are compressed once, and a second push of the same file
# compresses and uploads nothing.
variable "archive" {
  type    = string
  default = "build/app.tar"
}

resource "imagesync_image" "app" {
  source        = var.archive
  source_digest = fileexists(var.archive) ? filemd5(var.archive) : null
  destination   = "registry.example.com/apps/app:1.4.2"
}

# One image of a multi-image docker save, and one of an OCI layout, by name.
resource "imagesync_image" "worker" {
  source      = "build/all.tar:example/worker:1.4.2"
  destination = "registry.example.com/apps/worker:1.4.2"
}

resource "imagesync_image" "base_arm64" {
  source      = "oci-layout:build/layout:base"
  destination = "registry.example.com/base:1.0-arm64"
  platform    = "linux/arm64"
}
