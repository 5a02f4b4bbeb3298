//go:build !linux

package main

import "os/exec"

// setPdeathsig does nothing here: perf mode reads /proc and is for Linux.
func setPdeathsig(*exec.Cmd) {}
