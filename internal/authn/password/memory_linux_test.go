package password

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// The hasher's buffer starts on a huge page's boundary and the kernel
// has been asked for huge pages over it: its mapping's VmFlags in
// /proc/self/smaps carry "hg" (MADV_HUGEPAGE). Whether the kernel then
// grants them is its own setting; the advice and the alignment are ours.
func TestMappedBufferAsksForHugePages(t *testing.T) {
	p := DefaultParams()
	blocks, unmap := mapBlocks(argon2Blocks(p.Memory, p.Threads))
	defer unmap()
	addr := uintptr(unsafe.Pointer(&blocks[0]))
	if addr%hugePage != 0 {
		t.Fatalf("buffer at %#x, not on a %d-byte boundary", addr, hugePage)
	}
	flags := vmFlags(t, addr)
	if !strings.Contains(" "+flags+" ", " hg ") {
		t.Fatalf("the buffer's mapping has VmFlags %q, without hg", flags)
	}
	end := addr + uintptr(len(blocks))*unsafe.Sizeof(blocks[0]) - 1
	if got := vmFlags(t, end); got != flags {
		t.Fatalf("the buffer's last byte is in a mapping with VmFlags %q, its first in one with %q", got, flags)
	}
}

// vmFlags returns the VmFlags of the mapping that holds addr.
func vmFlags(t *testing.T, addr uintptr) string {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if flags, ok := strings.CutPrefix(line, "VmFlags:"); ok {
			if in {
				return strings.TrimSpace(flags)
			}
			continue
		}
		span, _, _ := strings.Cut(line, " ")
		lo, hi, ok := strings.Cut(span, "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		stop, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 == nil && err2 == nil {
			in = uint64(addr) >= start && uint64(addr) < stop
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Fatalf("no mapping holds %#x", addr)
	return ""
}
