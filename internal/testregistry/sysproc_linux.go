//go:build linux

package testregistry

import (
	"os/exec"
	"syscall"
)

// configureProcess makes the registry die with the test binary even when
// Close never runs (a panic, `go test -timeout`, kill -9), and puts it in
// its own process group so cancelling kills the group.
//
// Pdeathsig fires when the forking OS thread exits, not the process; Go
// keeps its threads alive, so in practice the two coincide.
func configureProcess(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
