package password

import (
	"encoding/binary"
	"hash"
	"sync"
	_ "unsafe" // go:linkname

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/blake2b"
)

// argon2id is argon2.IDKey computed in a buffer the caller keeps, so that
// a login allocates no 19 MiB: x/crypto allocates a new one per hash, and
// that garbage sets off a collection (which marks the whole heap) at
// nearly every login. The compression function G is x/crypto's own
// (processBlock and processBlockXOR, with its assembly); what is here is
// H0, the first two blocks of each lane, the order of the passes (fill)
// and the final H' (RFC 9106 §3.2). TestArgon2idIsXCrypto checks it bit
// for bit against argon2.IDKey, in fresh and in used buffers, so an
// x/crypto whose G no longer fits this fails the suite; one that renames
// it fails the build.
//
// buf is used when it has the blocks the parameters need (argon2Blocks),
// else one is made on the heap. A used buffer needs no clearing: the
// first pass writes every block it reads before reading it.
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
	if uint32(len(buf)) != blocks {
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
	fill(buf, time, lanes)

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

// syncPoints is how many slices a pass over a lane has (RFC 9106 §3.4).
const syncPoints = 4

// fill runs the passes over the blocks b (RFC 9106 §3.2 steps 5 and 6),
// whose first two blocks per lane are set. Unlike x/crypto's
// processBlocks, which XORs every new block into the old one and so
// needs memory that is zero, the first pass overwrites each block (the
// RFC's G without the XOR of later passes): a kept buffer is not
// cleared (19 MiB written per login) and the first pass reads no old
// block. The lanes of a slice run side by side; one lane runs in the
// caller's goroutine.
func fill(b []argon2Block, passes, lanes uint32) {
	g := geometry{passes: passes, lanes: lanes, blocks: uint32(len(b))}
	g.perLane = g.blocks / lanes
	g.segment = g.perLane / syncPoints
	for pass := range passes {
		for slice := range uint32(syncPoints) {
			if lanes == 1 {
				g.segmentOf(b, pass, slice, 0)
			} else {
				g.slice(b, pass, slice)
			}
		}
	}
}

// slice computes the segments of a slice, one goroutine per lane.
func (g geometry) slice(b []argon2Block, pass, slice uint32) {
	var wg sync.WaitGroup
	for lane := range g.lanes {
		wg.Go(func() { g.segmentOf(b, pass, slice, lane) })
	}
	wg.Wait()
}

// geometry is the shape of an argon2id memory: its passes, lanes, blocks
// in all, blocks per lane and per segment (a lane's part of a slice).
type geometry struct {
	passes, lanes, blocks, perLane, segment uint32
}

// segmentOf computes the blocks of one segment: each from the block
// before it and a reference block, chosen by pseudo-random numbers that
// argon2id takes independently of the password in the first half of the
// first pass and from the block before afterwards (RFC 9106 §3.4.1).
func (g geometry) segmentOf(b []argon2Block, pass, slice, lane uint32) {
	var addresses, input, zero argon2Block
	independent := pass == 0 && slice < syncPoints/2
	next := func() { // the next 128 pseudo-random numbers (§3.4.1.2)
		input[6]++
		processBlock(&addresses, &input, &zero)
		processBlock(&addresses, &addresses, &zero)
	}
	if independent {
		input[0], input[1], input[2] = uint64(pass), uint64(lane), uint64(slice)
		input[3], input[4], input[5] = uint64(g.blocks), uint64(g.passes), argon2idMode
	}
	index := uint32(0)
	if pass == 0 && slice == 0 {
		index = 2 // the first two blocks of the lane come from H0
		if independent {
			next()
		}
	}
	for offset := lane*g.perLane + slice*g.segment + index; index < g.segment; index, offset = index+1, offset+1 {
		prev := offset - 1
		if index == 0 && slice == 0 {
			prev += g.perLane // the lane's last block
		}
		var rand uint64
		if independent {
			if index%uint32(len(addresses)) == 0 {
				next()
			}
			rand = addresses[index%uint32(len(addresses))]
		} else {
			rand = b[prev][0]
		}
		ref := g.reference(rand, pass, slice, lane, index)
		if pass == 0 {
			processBlock(&b[offset], &b[prev], &b[ref])
		} else {
			processBlockXOR(&b[offset], &b[prev], &b[ref])
		}
	}
}

// reference maps the pseudo-random rand of the index-th block of a
// segment to the block it is computed with (RFC 9106 §3.4.2): a lane
// (its own in the first slice of the first pass), then a block among
// those of that lane it may read, the recent ones more likely.
func (g geometry) reference(rand uint64, pass, slice, lane, index uint32) uint32 {
	refLane := uint32(rand>>32) % g.lanes
	if pass == 0 && slice == 0 {
		refLane = lane
	}
	same := refLane == lane
	// area is how many blocks may be referenced, from start on: the
	// finished segments (the other three slices after the first pass),
	// and in its own lane those of this segment before the block before.
	area, start := g.perLane-g.segment, ((slice+1)%syncPoints)*g.segment
	if pass == 0 {
		area, start = slice*g.segment, 0
	}
	switch {
	case same:
		area += index - 1
	case index == 0:
		area-- // the block before is the last of the slice before
	}
	x := rand & 0xFFFFFFFF
	x = x * x >> 32
	x = uint64(area) * x >> 32
	return refLane*g.perLane + uint32((uint64(start)+uint64(area)-1-x)%uint64(g.perLane))
}

// processBlock and processBlockXOR are x/crypto's G (RFC 9106 §3.5):
// out = G(in1, in2), and out ^= G(in1, in2). Neither keeps a pointer it
// is given (noescape), so the blocks of segmentOf stay on its stack.
//
//go:linkname processBlock golang.org/x/crypto/argon2.processBlock
//go:noescape
func processBlock(out, in1, in2 *argon2Block)

//go:linkname processBlockXOR golang.org/x/crypto/argon2.processBlockXOR
//go:noescape
func processBlockXOR(out, in1, in2 *argon2Block)

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
