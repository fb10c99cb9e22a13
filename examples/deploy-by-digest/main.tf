resource "imagesync_image" "app" {
  source      = "ghcr.io/example/app:1.4.2"
  destination = "registry.example.com/apps/app"
}

# With the kubernetes provider, the container's image is the pinned reference:
#
#   resource "kubernetes_deployment" "app" {
#     ...
#     container {
#       name  = "app"
#       image = imagesync_image.app.reference # registry.example.com/apps/app@sha256:...
#     }
#   }
#
# terraform_data stands in for it here, because this example is validated offline,
# where the kubernetes provider cannot be installed. Anything that takes an image
# reference works the same way: the cluster runs exactly the image that was copied,
# and a new copy (a new digest) is a change to the deployment.
resource "terraform_data" "deployment" {
  input = {
    name  = "app"
    image = imagesync_image.app.reference
  }
}
