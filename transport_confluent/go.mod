module github.com/ktables/ktables/transport_confluent

go 1.26.0

require (
	github.com/confluentinc/confluent-kafka-go/v2 v2.11.1
	github.com/ktables/ktables v0.1.0
)

require (
	github.com/klauspost/compress v1.20.3 // indirect
	golang.org/x/crypto v0.51.0 // indirect
	golang.org/x/sys v0.44.0 // indirect
)

replace github.com/ktables/ktables => ../
