# The connected side of an air-gapped mirror: export images into bundle.tar, carry
# the file (and its sha256) across. `terraform plan` here shows, for a new upstream
# digest, an update of imagesync_archive.bundle with the new digests:
#
#   ~ resource "imagesync_archive" "bundle" {
#       ~ digests = {
#           ~ "app" = "sha256:1f0c…" -> "sha256:9ab3…"
#         }
#       ~ sha256  = "sha256:…" -> (known after apply)
#     }
resource "imagesync_archive" "bundle" {
  path = "bundle.tar"
  images = {
    alpine = "alpine:3.20"
    app    = "ghcr.io/example/app:1.4.2"
  }
  copy_referrers = true # signatures, SBOMs and attestations travel too
}

output "sha256" {
  value = imagesync_archive.bundle.sha256
}
