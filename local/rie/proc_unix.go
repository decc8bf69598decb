//go:build unix

package rie

import (
	"os/exec"
	"syscall"
)

// newProcessGroup puts the emulator in its own process group, so Close also
// ends the function process it forks (which would otherwise hold the log pipe
// open and outlive the test).
func newProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func killProcessGroup(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
