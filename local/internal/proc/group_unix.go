//go:build unix

package proc

import (
	"os/exec"
	"syscall"
)

// newProcessGroup puts the child in its own process group, so Stop also ends
// what it forks (the emulator's function, moto's workers), which would
// otherwise hold the log pipe open and outlive the caller.
func newProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func killProcessGroup(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
