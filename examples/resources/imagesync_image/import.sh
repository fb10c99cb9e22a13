# By the destination and its tag:
terraform import imagesync_image.alpine registry.example.com/mirror/alpine:3.20

# An untagged image, by the destination and its digest:
terraform import imagesync_image.alpine registry.example.com/mirror/alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
