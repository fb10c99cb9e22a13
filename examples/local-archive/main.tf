# A local image archive (docker save, or an OCI layout tar) pushed to a registry.
# source_digest changes when the file does, so a rebuilt archive is pushed again.
#
# Not validated by `make examples-check` yet: local sources and source_digest are
# being added to imagesync_image; the Makefile's EXAMPLES_PENDING lists this folder
# until they are merged.
resource "imagesync_image" "app" {
  source        = "${path.module}/build/app.tar"
  source_digest = filemd5("${path.module}/build/app.tar")
  destination   = "registry.example.com/apps/app:1.4.2"
}
