//go:build unix

package testenv

import (
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"
)

var (
	interruptSignal = syscall.SIGINT
	killSignal      = syscall.SIGKILL
)

// setProcAttr puts cmd in its own process group and, for a long-lived
// server, asks the kernel to kill it if this process dies.
func setProcAttr(cmd *exec.Cmd, server bool) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	if server {
		setPdeathsig(cmd.SysProcAttr)
	}
}

// signalGroup signals the process group led by cmd's process.
func signalGroup(cmd *exec.Cmd, sig syscall.Signal) {
	if cmd.Process == nil {
		return
	}
	syscall.Kill(-cmd.Process.Pid, sig)
}

// runAs makes cmd run as the named user when this process is root, and
// returns that user's uid and gid (-1, -1 when not root).
func runAs(cmd *exec.Cmd, name string) (uid, gid int, err error) {
	if os.Geteuid() != 0 {
		return -1, -1, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return 0, 0, err
	}
	uid, err = strconv.Atoi(u.Uid)
	if err != nil {
		return 0, 0, err
	}
	gid, err = strconv.Atoi(u.Gid)
	if err != nil {
		return 0, 0, err
	}
	if cmd != nil {
		if cmd.SysProcAttr == nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{}
		}
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	return uid, gid, nil
}
