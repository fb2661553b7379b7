module github.com/ktables/ktables/transport_kafkago

go 1.26.0

require (
	github.com/ktables/ktables v0.1.0
	github.com/segmentio/kafka-go v0.4.51
)

require (
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/pierrec/lz4/v4 v4.1.33 // indirect
)

replace github.com/ktables/ktables => ../
