package testregistry

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// writeHtpasswd writes the one account to dir/htpasswd, bcrypt being the
// only hash distribution accepts.
func writeHtpasswd(dir, username, password string) (string, error) {
	if strings.ContainsAny(username, ":\n") {
		return "", fmt.Errorf("write htpasswd: username %q may not contain a colon or newline", username)
	}
	// MinCost: the registry checks the hash on every request.
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		return "", fmt.Errorf("write htpasswd: %w", err)
	}
	path := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(path, []byte(username+":"+string(hash)+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write htpasswd: %w", err)
	}
	return path, nil
}
