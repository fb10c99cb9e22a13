import {
  to = imagesync_image.alpine
  id = "registry.example.com/mirror/alpine:3.20"
}
