package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/docker/docker-credential-helpers/credentials"
)

// defaultHelperTimeout bounds one credential helper call. Docker waits forever; a plan
// must not, whether the helper waits for a keychain prompt nobody answers or for a
// desktop app that is not running.
const defaultHelperTimeout = time.Minute

// helperCredential asks docker-credential-<name> for the credential of key (a host, or
// Docker Hub's "https://index.docker.io/v1/"), as docker's native store does, but ended
// with ctx or after timeout, and without repeating what the helper printed: a helper
// that fails may print a secret, and errors reach Terraform's output and logs.
func helperCredential(ctx context.Context, name, key string, timeout time.Duration) (Credential, error) {
	program := "docker-credential-" + name
	run, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(run, program, "get")
	cmd.Stdin = strings.NewReader(key)
	// A helper's own children may hold its output open after it is killed.
	cmd.WaitDelay = time.Second
	out, err := cmd.Output() // stderr is captured, not shown
	switch {
	case ctx.Err() != nil:
		return Credential{}, fmt.Errorf("credential helper %s: %w", program, ctx.Err())
	case run.Err() != nil:
		return Credential{}, fmt.Errorf("credential helper %s did not answer within %s", program, timeout)
	case errors.Is(err, exec.ErrNotFound):
		return Credential{}, fmt.Errorf("credential helper %s is not installed, or not on PATH", program)
	case err != nil && credentials.IsErrCredentialsNotFoundMessage(string(out)):
		return Credential{}, nil
	case err != nil:
		return Credential{}, fmt.Errorf("credential helper %s failed (%v); what it printed is not shown, as it may hold a secret: run `echo %s | %s get` to see it", program, err, key, program)
	}
	var c credentials.Credentials
	if err := json.Unmarshal(out, &c); err != nil {
		return Credential{}, fmt.Errorf("credential helper %s answered with something other than JSON credentials", program)
	}
	// docker login stores an identity token under this user name.
	if c.Username == "<token>" {
		return Credential{IdentityToken: c.Secret}, nil
	}
	return Credential{Username: c.Username, Password: c.Secret}, nil
}
