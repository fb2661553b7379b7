package ktables

// Position is where a record lives: its partition and offset. An
// acknowledged write and every watch event carry one.
type Position struct {
	Partition int32
	Offset    int64
}
