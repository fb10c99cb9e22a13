//go:build !linux

package testregistry

import "os/exec"

// configureProcess leaves the defaults: off Linux, exec.CommandContext's
// kill on Close is all the cleanup there is.
func configureProcess(*exec.Cmd) {}
