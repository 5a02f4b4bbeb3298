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
//
// Where the system has transparent huge pages (adviseHuge), the buffer
// starts on a huge page's boundary and asks for them: its first run
// then faults about ten pages in, not about 4,900 (31 against 72 ms
// for argon2id m=19 MiB in a fresh buffer, on an AMD EPYC whose page
// faults cost about 10 µs each). Once faulted in, the hash runs within
// 2 % of the same buffer on ordinary pages.
func mapBlocks(n uint32) (blocks []argon2Block, unmap func()) {
	size := int(n) * int(unsafe.Sizeof(argon2Block{}))
	b, err := syscall.Mmap(-1, 0, size+hugePage, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]argon2Block, n), func() {} // the heap will do
	}
	off := alignment(uintptr(unsafe.Pointer(&b[0])), hugePage)
	adviseHuge(b[off : off+size])
	return unsafe.Slice((*argon2Block)(unsafe.Pointer(&b[off])), n), func() { syscall.Munmap(b) }
}

// alignment is how many bytes after addr the next multiple of to is (0
// when to is 0).
func alignment(addr uintptr, to int) int {
	if to == 0 {
		return 0
	}
	return (to - int(addr%uintptr(to))) % to
}
