package auth

import (
	"slices"
	"strings"

	"github.com/docker/cli/cli/config/credentials"
)

// dockerHub is the one name every Docker Hub alias resolves to.
const dockerHub = "docker.io"

// dockerHubConfigKey is the key Docker Hub's credential has in a docker config and in
// credential helpers.
const dockerHubConfigKey = "https://index.docker.io/v1/"

// hubAliases are the names Docker Hub goes by: docker.io in image references,
// index.docker.io in old configs, registry-1.docker.io as its API host.
var hubAliases = []string{"docker.io", "index.docker.io", "registry-1.docker.io"}

// IsDockerHub reports whether host is one of Docker Hub's names, in any case.
func IsDockerHub(host string) bool { return slices.Contains(hubAliases, strings.ToLower(host)) }

// NormalizeHost turns a registry address as users write it ("https://ghcr.io/",
// "https://index.docker.io/v1/") into a lowercase host[:port], with Docker Hub's aliases
// folded into one.
func NormalizeHost(address string) string {
	host := strings.ToLower(credentials.ConvertToHostname(strings.TrimSpace(address)))
	if slices.Contains(hubAliases, host) {
		return dockerHub
	}
	return host
}
