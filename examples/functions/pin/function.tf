variable "app_digest" {
  type        = string
  description = "The digest a release pipeline approved, sha256:..."
}

output "approved_image" {
  # registry.example.com/app@sha256:...: the tag is dropped, the digest is checked.
  value = provider::imagesync::pin("registry.example.com/app:1.4.2", var.app_digest)
}
