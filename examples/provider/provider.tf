terraform {
  required_providers {
    imagesync = {
      source = "imagesync/imagesync"
    }
  }
}

provider "imagesync" {
  # Registries without a registry_auth block use ~/.docker/config.json and its
  # credential helpers, as `docker pull` does, or else anonymous access.
  registry_auth {
    address  = "registry.example.com"
    username = "ci-bot"
    password = var.registry_password
  }

  # Plain HTTP or unverified TLS. Loopback registries need not be listed.
  insecure_registries = ["10.0.0.5:5000"]
}

variable "registry_password" {
  type      = string
  sensitive = true
}
