package password

import "syscall"

// hugePage is the size of a transparent huge page on Linux with 4 KiB
// pages (amd64, and arm64 as most distributions build it). Where it is
// another size the buffer is merely aligned to 2 MiB, which costs only
// address space, and the kernel uses what fits.
const hugePage = 2 << 20

// adviseHuge asks for transparent huge pages over b. Where they are off
// ("never") or the kernel finds none free, the buffer gets ordinary
// pages, which is only slower; so the error is not a failure.
func adviseHuge(b []byte) { _ = syscall.Madvise(b, syscall.MADV_HUGEPAGE) }
