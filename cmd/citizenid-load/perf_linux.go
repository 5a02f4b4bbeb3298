package main

import (
	"os/exec"
	"syscall"
)

// setPdeathsig kills the server when the driver dies.
func setPdeathsig(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
