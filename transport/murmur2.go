package transport

// Murmur2 is the 32-bit murmur2 hash with the seed and mixing the Java Kafka
// client uses for keyed records (org.apache.kafka.common.utils.Utils.murmur2).
// franz-go's default keyed partitioner and librdkafka's murmur2 partitioners
// compute the same value.
func Murmur2(data []byte) int32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	length := len(data)
	h := seed ^ uint32(length)
	n := length / 4
	for i := 0; i < n; i++ {
		j := i * 4
		k := uint32(data[j]) | uint32(data[j+1])<<8 | uint32(data[j+2])<<16 | uint32(data[j+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	tail := data[n*4:]
	switch len(tail) {
	case 3:
		h ^= uint32(tail[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(tail[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(tail[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return int32(h)
}

// Partition returns the partition the Java client's default partitioner
// chooses for a keyed record: toPositive(murmur2(key)) % numPartitions, where
// toPositive clears the sign bit. Writers on every client use it so that they
// agree with each other and with Java and franz-go producers. (SPEC P1)
//
// numPartitions must be positive.
func Partition(key []byte, numPartitions int32) int32 {
	return (Murmur2(key) & 0x7fffffff) % numPartitions
}
