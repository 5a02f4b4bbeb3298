//go:build unix

package password

import (
	"syscall"
	"unsafe"
)

// mapBlocks maps n blocks of anonymous memory outside Go's heap, for a
// buffer the hasher keeps: on the heap, its 19 MiB would count in the
// heap the collector paces itself by, which would then let twice that
// much garbage pile up between collections and leave the live objects
// made meanwhile (sessions, on the embedded server) scattered over pages
// it can no longer give back (8.6 MiB more anonymous memory after 3,000
// password logins). unmap gives it back to the system at once.
func mapBlocks(n uint32) (blocks []argon2Block, unmap func()) {
	size := int(n) * int(unsafe.Sizeof(argon2Block{}))
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]argon2Block, n), func() {} // the heap will do
	}
	return unsafe.Slice((*argon2Block)(unsafe.Pointer(&b[0])), n), func() { syscall.Munmap(b) }
}
