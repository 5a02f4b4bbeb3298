//go:build !unix

package testenv

import (
	"errors"
	"os"
	"os/exec"
)

var (
	interruptSignal = os.Interrupt
	killSignal      = os.Kill
)

func setProcAttr(*exec.Cmd, bool) {}

func signalGroup(cmd *exec.Cmd, sig os.Signal) {
	if cmd.Process != nil {
		cmd.Process.Signal(sig)
	}
}

func runAs(*exec.Cmd, string) (int, int, error) {
	return 0, 0, errors.New("throwaway servers need a unix system")
}
