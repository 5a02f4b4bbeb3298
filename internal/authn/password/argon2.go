package password

import (
	"encoding/binary"
	"hash"
	_ "unsafe" // go:linkname

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/blake2b"
)

// argon2id is argon2.IDKey computed in a buffer the caller keeps, so that
// a login allocates no 19 MiB: x/crypto allocates a new one per hash, and
// that garbage sets off a collection (which marks the whole heap) at
// nearly every login. The memory-hard passes are x/crypto's own
// (processBlocks, with its assembly); only what is cheap around them is
// here: H0, the first two blocks of each lane and the final H' (RFC 9106
// §3.2). TestArgon2idIsXCrypto checks it bit for bit against
// argon2.IDKey, so an x/crypto whose processBlocks no longer fits this
// fails the suite; one that renames it fails the build.
//
// buf is used when it has the blocks the parameters need (argon2Blocks),
// else one is made on the heap; it is cleared first (x/crypto's first
// pass XORs into it).
func argon2id(buf []argon2Block, password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	lanes := uint32(threads)
	h := newBlake2b(blake2b.Size)
	for _, v := range []uint32{lanes, keyLen, memory, time, argon2.Version, argon2idMode} {
		writeLE32(h, v)
	}
	for _, b := range [][]byte{password, salt, nil, nil} { // no secret, no associated data
		writeLE32(h, uint32(len(b)))
		h.Write(b)
	}
	var h0 [blake2b.Size + 8]byte
	h.Sum(h0[:0])

	blocks := argon2Blocks(memory, threads)
	if uint32(len(buf)) == blocks {
		clear(buf)
	} else {
		buf = make([]argon2Block, blocks)
	}
	var raw [1024]byte
	perLane := blocks / lanes
	for lane := range lanes {
		binary.LittleEndian.PutUint32(h0[blake2b.Size+4:], lane)
		for i := range uint32(2) {
			binary.LittleEndian.PutUint32(h0[blake2b.Size:], i)
			hPrime(raw[:], h0[:])
			b := &buf[lane*perLane+i]
			for j := range b {
				b[j] = binary.LittleEndian.Uint64(raw[j*8:])
			}
		}
	}
	processBlocks(buf, time, blocks, lanes, argon2idMode)

	last := &buf[blocks-1]
	for lane := range lanes - 1 {
		for j, v := range buf[lane*perLane+perLane-1] {
			last[j] ^= v
		}
	}
	for j, v := range last {
		binary.LittleEndian.PutUint64(raw[j*8:], v)
	}
	key := make([]byte, keyLen)
	hPrime(key, raw[:])
	return key
}

// argon2Blocks is how many blocks argon2id works in: memory (KiB) rounded
// down to a multiple of 4 (sync points) per lane, and at least two per
// segment (x/crypto's deriveKey, RFC 9106 §3.2).
func argon2Blocks(memory uint32, threads uint8) uint32 {
	lanes := uint32(threads)
	return max(memory/(4*lanes)*(4*lanes), 2*4*lanes)
}

// argon2Block is x/crypto's block: 1 KiB as 128 little-endian words.
type argon2Block [128]uint64

// argon2idMode is x/crypto's mode number for argon2id (and RFC 9106's y).
const argon2idMode = 2

// processBlocks is x/crypto's: the passes over memory, in place.
//
//go:linkname processBlocks golang.org/x/crypto/argon2.processBlocks
func processBlocks(B []argon2Block, time, memory, threads uint32, mode int)

// hPrime is RFC 9106's variable-length hash H' (§3.3) of in, into out.
func hPrime(out, in []byte) {
	h := newBlake2b(min(len(out), blake2b.Size))
	writeLE32(h, uint32(len(out)))
	h.Write(in)
	if len(out) <= blake2b.Size {
		h.Sum(out[:0])
		return
	}
	var v [blake2b.Size]byte
	h.Sum(v[:0])
	copy(out, v[:32])
	out = out[32:]
	for len(out) > blake2b.Size {
		h.Reset()
		h.Write(v[:])
		h.Sum(v[:0])
		copy(out, v[:32])
		out = out[32:]
	}
	h = newBlake2b(len(out))
	h.Write(v[:])
	h.Sum(out[:0])
}

func newBlake2b(size int) hash.Hash {
	h, err := blake2b.New(size, nil)
	if err != nil {
		panic(err) // size is 1..64 and there is no key: cannot fail
	}
	return h
}

func writeLE32(h hash.Hash, v uint32) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	h.Write(b[:])
}
