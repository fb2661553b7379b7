package ktables

import "fmt"

// ValidateTopicName checks a topic name the way Kafka does (SPEC E3):
// 1 to 249 characters from [a-zA-Z0-9._-], and not "." or "..".
// The error matches ErrInvalidTopicName and ErrInvalidOption.
func ValidateTopicName(name string) error {
	reason := ""
	switch {
	case name == "":
		reason = "empty"
	case name == "." || name == "..":
		reason = "cannot be \".\" or \"..\""
	case len(name) > 249:
		reason = fmt.Sprintf("%d characters, the limit is 249", len(name))
	default:
		for i := 0; i < len(name); i++ {
			if c := name[i]; !isTopicChar(c) {
				reason = fmt.Sprintf("character %q at byte %d is not one of [a-zA-Z0-9._-]", c, i)
				break
			}
		}
	}
	if reason == "" {
		return nil
	}
	return &OptionError{Option: "topic", Reason: fmt.Sprintf("%q: %s", truncate(name, 64), reason), Err: ErrInvalidTopicName}
}

func isTopicChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
