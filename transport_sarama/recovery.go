package saramatransport

import (
	"strings"
	"time"

	"github.com/IBM/sarama"
)

// Timeouts NewConfig sets (issue 16 item 9). sarama notices a connection
// that went silent (a network partition, a middlebox that lost the
// connection) only by its read deadline, Net.ReadTimeout, 30 s by default:
// writes stayed stuck for about 28 s after a 2 s partition healed. The
// produce timeout (how long the broker may wait for replicas with
// acks=all, answering REQUEST_TIMED_OUT after it, which sarama retries)
// stays below the read deadline so a slow but live broker is not taken for
// a dead connection.
const (
	DefaultReadTimeout     = 3 * time.Second
	DefaultWriteTimeout    = 3 * time.Second
	DefaultDialTimeout     = 5 * time.Second
	DefaultProducerTimeout = 2 * time.Second
)

func applyRecoveryDefaults(cfg *sarama.Config) {
	cfg.Net.ReadTimeout = DefaultReadTimeout
	cfg.Net.WriteTimeout = DefaultWriteTimeout
	cfg.Net.DialTimeout = DefaultDialTimeout
	cfg.Producer.Timeout = DefaultProducerTimeout
}

// isTooLarge reports sarama's client-side check of Producer.MaxMessageBytes,
// which it phrases as a configuration error although the record is what
// is wrong (issue 16 item 7): other adapters report the broker's
// MESSAGE_TOO_LARGE, matching ErrRecordTooLarge.
func isTooLarge(ce sarama.ConfigurationError) bool {
	return strings.Contains(string(ce), "larger than configured Producer.MaxMessageBytes")
}

// lastConnErr is the last connection failure of the transport's own
// dialers, for calls that run out of time (see transport.ContextError).
func (t *Transport) lastConnErr() error {
	for _, d := range []*dialer{t.dial, t.prodDial} {
		if d == nil {
			continue
		}
		if err := d.lastErr(); err != nil {
			return err
		}
	}
	return nil
}
