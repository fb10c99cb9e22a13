# `make demo` runs this against a throwaway registry on loopback; it passes the
# registry's address in var.registry.
terraform {
  required_providers {
    imagesync = {
      source = "imagesync/imagesync"
    }
  }
}

variable "registry" {
  type        = string
  description = "host:port of the local registry that holds source/hello:v1"
}

variable "archive" {
  type        = string
  description = "path of a docker-save archive to push"
}

provider "imagesync" {}

# The whole multi-platform index, under the source's tag.
resource "imagesync_image" "mirror" {
  source      = "${var.registry}/source/hello:v1"
  destination = "${var.registry}/mirror/hello"
}

# Only the linux/arm64 image.
resource "imagesync_image" "arm64" {
  source      = "${var.registry}/source/hello:v1"
  destination = "${var.registry}/mirror/hello:v1-arm64"
  platform    = "linux/arm64"
}

# A docker-save archive, pushed with its layers compressed once. source_digest
# re-pushes when the file changes.
resource "imagesync_image" "local" {
  source        = var.archive
  destination   = "${var.registry}/local/app:1.0"
  source_digest = filemd5(var.archive)
}

output "mirror_reference" {
  description = "The mirrored index, pinned by digest."
  value       = imagesync_image.mirror.reference
}

output "arm64_reference" {
  description = "The linux/arm64 image alone, pinned by digest."
  value       = imagesync_image.arm64.reference
}

output "local_reference" {
  description = "The image from the docker-save archive, pinned by digest."
  value       = imagesync_image.local.reference
}
