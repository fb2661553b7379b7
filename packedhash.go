package ktables

import (
	"hash/maphash"
	"math/rand/v2"
	"strconv"
	"unsafe"
)

// packedSeed hashes the packed store's keys. On 64-bit platforms it calls
// the runtime's string hash directly, the function Go maps use (AES-based
// where the CPU has it, randomly seeded here): maphash.String reaches the
// same function through two more calls, a measurable share of a Get
// (issue 17). 32-bit platforms, where that hash is 32 bits wide and could
// not pick a shard and a slot apart, keep maphash.
type packedSeed struct {
	rt uintptr
	ms maphash.Seed
}

func newPackedSeed() packedSeed {
	return packedSeed{rt: uintptr(rand.Uint64()), ms: maphash.MakeSeed()}
}

func (s packedSeed) hash(key string) uint64 {
	if strconv.IntSize == 64 {
		return uint64(runtimeStrhash(unsafe.Pointer(&key), s.rt))
	}
	return maphash.String(s.ms, key)
}

// runtimeStrhash is runtime.strhash, which the runtime keeps reachable by
// linkname with a fixed signature (go.dev/issue/67401). p points to a
// string header; it does not escape.
//
//go:noescape
//go:linkname runtimeStrhash runtime.strhash
func runtimeStrhash(p unsafe.Pointer, h uintptr) uintptr
