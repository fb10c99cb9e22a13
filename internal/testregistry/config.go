package testregistry

import (
	"encoding/json"
	"fmt"
	"os"
)

// instanceHeader is added to every registry answer so Start can tell its
// own process from anything else that grabbed the port first.
const instanceHeader = "X-Testregistry-Instance"

// serverConfig is what goes into the registry's config.yml.
type serverConfig struct {
	addr      string
	storage   string
	instance  string
	htpasswd  string  // path, basic mode only
	token     *signer // token mode only
	realm     string  // token mode only
	rootCerts string  // token mode only: rootcertbundle path
	noDelete  bool    // refuse deletes, as many production registries do
}

// write renders c as JSON, which is YAML too, so encoding/json does the
// quoting of temp paths for us.
func (c serverConfig) write(path string) error {
	doc := map[string]any{
		"version": "0.1",
		"log": map[string]any{
			"level":     "error",
			"accesslog": map[string]any{"disabled": true},
		},
		"storage": map[string]any{
			"filesystem": map[string]any{"rootdirectory": c.storage},
			"delete":     map[string]any{"enabled": !c.noDelete},
		},
		"http": map[string]any{
			"addr":    c.addr,
			"headers": map[string][]string{instanceHeader: {c.instance}},
		},
		"health": map[string]any{
			"storagedriver": map[string]any{"enabled": false},
		},
	}
	switch {
	case c.htpasswd != "":
		doc["auth"] = map[string]any{
			"htpasswd": map[string]any{"realm": "testregistry", "path": c.htpasswd},
		}
	case c.token != nil:
		doc["auth"] = map[string]any{
			"token": map[string]any{
				"realm":          c.realm,
				"service":        c.token.service,
				"issuer":         c.token.issuer,
				"rootcertbundle": c.rootCerts,
			},
		}
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encode registry config: %w", err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("write registry config: %w", err)
	}
	return nil
}
