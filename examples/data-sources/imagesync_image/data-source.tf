# nginx:latest moves; my-registry.example.com/nginx:stable follows it. The data
# source reads the tag at every plan and pins what it finds by digest, so when
# upstream pushes a new latest, the next plan shows the new digest in source and
# apply copies exactly that image.
data "imagesync_image" "nginx" {
  reference = "nginx:latest"
}

resource "imagesync_image" "nginx_stable" {
  source      = data.imagesync_image.nginx.pinned # docker.io/library/nginx@sha256:...
  destination = "my-registry.example.com/nginx:stable"
}

# What an image offers, without copying it.
data "imagesync_image" "app" {
  reference = "ghcr.io/example/app:1.4.2"
  platform  = "linux/arm64"
}

output "app_arm64" {
  value = {
    digest        = data.imagesync_image.app.digest        # the linux/arm64 image's manifest
    config_digest = data.imagesync_image.app.config_digest # its config blob
    platforms     = data.imagesync_image.app.platforms     # ["linux/amd64", "linux/arm64/v8", ...]
  }
}
