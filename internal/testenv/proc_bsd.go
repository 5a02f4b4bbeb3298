//go:build unix && !linux

package testenv

import "syscall"

// setPdeathsig does nothing where the kernel has no parent-death signal:
// a server outlives a test process that dies without running Main's stop.
func setPdeathsig(*syscall.SysProcAttr) {}
