package transport

import "context"

// TopicDeleter is an optional capability: delete a topic. Nothing in the
// core deletes topics; tools that create throwaway topics (the ktables
// command's demo on a real cluster) use it to clean up after themselves.
type TopicDeleter interface {
	// DeleteTopic deletes topic and its data. An unknown topic is an error
	// matching ErrUnknownTopic.
	DeleteTopic(ctx context.Context, topic string) error
}
