# On the connected side: write the images into one OCI layout tar. Blobs the images
# share are written once; the same images always give the same bytes.
resource "imagesync_archive" "bundle" {
  path = "bundle.tar"
  images = {
    alpine = "alpine:3.20"
    app    = "ghcr.io/example/app:1.4.2"
  }
  platform = "linux/amd64"
}

output "bundle_sha256" {
  value = imagesync_archive.bundle.sha256 # to check the file after carrying it across
}
