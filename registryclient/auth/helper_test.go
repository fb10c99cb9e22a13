package auth

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCredentialHelperIsBounded(t *testing.T) {
	dockerEnv(t, `{"credHelpers": {"ghcr.io": "hangs"}}`)
	bin := t.TempDir()
	writeFile(t, filepath.Join(bin, "docker-credential-hangs"), "#!/bin/sh\nexec sleep 600\n")
	if err := os.Chmod(filepath.Join(bin, "docker-credential-hangs"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	r := NewResolver(nil)
	r.helperTimeout = 200 * time.Millisecond
	started := time.Now()
	_, err := r.Credential(t.Context(), "ghcr.io")
	if elapsed := time.Since(started); elapsed > 5*time.Second {
		t.Errorf("a hanging helper held the lookup for %s", elapsed)
	}
	if err == nil || !strings.Contains(err.Error(), "docker-credential-hangs did not answer within 200ms") {
		t.Errorf("error = %v, want one saying the helper did not answer in time", err)
	}
	if !errors.Is(err, ErrCredentialLookup) {
		t.Errorf("error %v is not ErrCredentialLookup", err)
	}
	if NewResolver(nil).helperTimeout != defaultHelperTimeout {
		t.Error("a new resolver does not bound helpers by default")
	}
}
