//go:build unix && !linux

package password

// hugePage is 0 where this package does not ask for huge pages.
const hugePage = 0

func adviseHuge([]byte) {}
