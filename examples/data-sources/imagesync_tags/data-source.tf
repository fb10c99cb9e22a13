# Every 1.x release of the app from 1.2 on, mirrored under its own tag.
data "imagesync_tags" "app_v1" {
  repository = "ghcr.io/example/app"
  semver     = ">= 1.2, < 2"
}

resource "imagesync_image" "app_v1" {
  for_each    = toset(data.imagesync_tags.app_v1.tags)
  source      = "ghcr.io/example/app:${each.key}"
  destination = "registry.example.com/mirror/app" # keeps each tag
}

# Variant tags are matched with a regular expression; the newest is latest_semver.
data "imagesync_tags" "nginx_alpine" {
  repository = "nginx"
  filter     = "^1\\.27\\.[0-9]+-alpine$"
}

output "newest_nginx_alpine" {
  value = data.imagesync_tags.nginx_alpine.latest_semver # such as 1.27.4-alpine
}
