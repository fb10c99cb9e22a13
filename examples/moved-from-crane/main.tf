# Moving from terraform-provider-crane: replace the resource type and add a moved
# block (Terraform 1.8+, OpenTofu 1.12+). Keep the crane provider installed for the
# apply that moves the state. source, destination, platform, source_digest, digest
# and reference carry over; when the image is in place the plan is empty.
moved {
  from = crane_image.app
  to   = imagesync_image.app
}

resource "imagesync_image" "app" {
  source      = "ghcr.io/example/app:1.4.2"
  destination = "registry.example.com/apps/app:1.4.2"
}
