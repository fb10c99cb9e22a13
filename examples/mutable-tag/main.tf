# nginx:latest moves; my-registry.example.com/nginx:stable follows it. Every plan
# reads the source tag with one HEAD: when it has moved, the plan shows an in-place
# update with the new digest, and apply copies exactly that image.
resource "imagesync_image" "nginx_stable" {
  source      = "nginx:latest"
  destination = "my-registry.example.com/nginx:stable"
}

# Someone else rolls this tag out and back by hand: follow them instead of undoing it.
resource "imagesync_image" "nginx_canary" {
  source            = "nginx:latest"
  destination       = "my-registry.example.com/nginx:canary"
  destination_drift = "accept"
  delete_on_destroy = true # destroy removes :canary, never another tag on the same image
}
