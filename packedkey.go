package ktables

import (
	"encoding/binary"
	"unsafe"
)

// A probe compares a candidate entry's key in two steps, neither of which
// calls memequal: a call is a measurable share of a Get (issue 17), and one
// inside the probe loop also makes the loop keep its values on the stack.
// The head, words loaded from the key once and from each candidate the
// same way, settles every key of up to 16 bytes and nearly every mismatch
// of a longer one. Only a longer key's middle, bytes 8 to len-8, is left
// for after the loop (restMatches), once per Get.

// keyHead is a key's head as a probe compares it with a candidate's. A
// key of 8 bytes or more loads whole words at 0 and len-8 (overlapping
// below 16): lo and last. A shorter key cannot be loaded a word at a time
// without reading past its end: its head, last, is its bytes (shortKey), in
// the top bytes of a word; the candidate's is the word that ends
// where its key does, which starts in its own header, inside its
// allocation, masked to the key's bytes. Get probes with one or the other
// form (long, short), picked once per call: a loop that served both would
// carry the mask and an offset for every key, instructions that, on a
// lookup that misses the cache, leave room for fewer lookups in flight.
type keyHead struct {
	mask     uint64
	lo, last uint64
}

// longHead is the head of a key of 8 bytes or more, shortHead of a shorter
// one of n bytes whose bits shortKey loaded. Each inlines into Get; one
// function for both, or shortHead calling shortKey, would not.
func longHead(key string) keyHead {
	k := unsafe.Pointer(unsafe.StringData(key))
	return keyHead{^uint64(0), word(k), word(unsafe.Add(k, len(key)-8))}
}

func shortHead(bits uint64, n int) keyHead {
	s := 64 - 8*uint(n) // 64 for the empty key: mask and head are 0
	return keyHead{^uint64(0) << s, 0, bits << s}
}

// shortKey is the n < 8 bytes of key, little-endian, loaded as two
// halves that overlap (their shared bytes are equal, so or-ing them is
// exact) and never leave the key.
func shortKey(key string) uint64 {
	n := len(key)
	k := unsafe.Pointer(unsafe.StringData(key))
	switch {
	case n >= 4:
		return uint64(binary.LittleEndian.Uint32((*[4]byte)(k)[:])) |
			uint64(binary.LittleEndian.Uint32((*[4]byte)(unsafe.Add(k, n-4))[:]))<<(8*(n-4))
	case n >= 2:
		return uint64(binary.LittleEndian.Uint16((*[2]byte)(k)[:])) |
			uint64(binary.LittleEndian.Uint16((*[2]byte)(unsafe.Add(k, n-2))[:]))<<(8*(n-2))
	case n == 1:
		return uint64(key[0])
	}
	return 0
}

// long and short report whether p's key has length n and the head of a key
// of n bytes, n >= 8 and n < 8 respectively. p's length is checked first:
// only then are the words loaded in bounds.
func (h keyHead) long(p *kv, n int) bool {
	if p.klen != uint32(n) {
		return false
	}
	d := p.data()
	return word(d) == h.lo && word(unsafe.Add(d, n-8)) == h.last
}

func (h keyHead) short(p *kv, n int) bool {
	return p.klen == uint32(n) && word(unsafe.Add(p.data(), n-8))&h.mask == h.last
}

// restMatches reports whether the key p's long head matched (so of key's
// length, 8 bytes or more) is key: for a key over 16 bytes, whether their middles are equal too, compared a word at a
// time in line. For the keys tables hold, tens of bytes, a few loads cost
// less than a call to memequal, whose wide loads pay off only for keys of
// hundreds of bytes.
func restMatches(p *kv, key string) bool {
	k, d := unsafe.Pointer(unsafe.StringData(key)), p.data()
	// Each word starts before the last 8 bytes, which the head compared,
	// and so ends inside the key.
	for j := 8; j < len(key)-8; j += 8 {
		if word(unsafe.Add(k, j)) != word(unsafe.Add(d, j)) {
			return false
		}
	}
	return true
}

// hasKey reports whether p's key is key.
func (p *kv) hasKey(key string) bool {
	if n := len(key); n < 8 {
		return shortHead(shortKey(key), n).short(p, n)
	}
	return longHead(key).long(p, len(key)) && restMatches(p, key)
}

// word loads the 8 bytes at p, aligned or not (one load where the CPU
// allows it).
func word(p unsafe.Pointer) uint64 { return binary.LittleEndian.Uint64((*[8]byte)(p)[:]) }
