//go:build !unix

package password

// mapBlocks is a heap buffer where there is no mmap.
func mapBlocks(n uint32) (blocks []argon2Block, unmap func()) {
	return make([]argon2Block, n), func() {}
}
