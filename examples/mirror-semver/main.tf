# Mirror every 1.x release of an image from 1.2 on, each under its own tag, with one
# for_each. The tag list is read at every plan (all pages of /tags/list), so a new
# release upstream shows up as one more resource to create.
data "imagesync_tags" "app" {
  repository = "ghcr.io/example/app"
  semver     = ">= 1.2, < 2"
}

resource "imagesync_image" "app" {
  for_each    = toset(data.imagesync_tags.app.tags)
  source      = "ghcr.io/example/app:${each.key}"
  destination = "registry.example.com/mirror/app" # keeps each source tag
}

output "newest" {
  value = imagesync_image.app[data.imagesync_tags.app.latest_semver].reference
}
