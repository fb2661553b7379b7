package main

import (
	"github.com/IBM/sarama"
	"github.com/xdg-go/scram"

	"github.com/ktables/ktables/transport"
	saramatransport "github.com/ktables/ktables/transport_sarama"
)

// newSarama maps the security settings to a *sarama.Config.
func newSarama(seeds []string, sec *security) (transport.Transport, error) {
	cfg := saramatransport.NewConfig()
	cfg.ClientID = clientID
	if sec.tls != nil {
		cfg.Net.TLS.Enable = true
		cfg.Net.TLS.Config = sec.tls.Clone()
	}
	if sec.mechanism != "" {
		cfg.Net.SASL.Enable = true
		cfg.Net.SASL.Handshake = true
		cfg.Net.SASL.User = sec.user
		cfg.Net.SASL.Password = sec.password
		switch sec.mechanism {
		case "plain":
			cfg.Net.SASL.Mechanism = sarama.SASLTypePlaintext
		case "scram-sha-256":
			cfg.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA256
			cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{hash: scram.SHA256} }
		case "scram-sha-512":
			cfg.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA512
			cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{hash: scram.SHA512} }
		}
	}
	tr, err := saramatransport.New(seeds, cfg)
	if err != nil {
		return nil, err
	}
	return tr, nil
}

// scramClient is sarama's SCRAM client over github.com/xdg-go/scram (sarama
// ships the interface, not an implementation).
type scramClient struct {
	hash scram.HashGeneratorFcn
	conv *scram.ClientConversation
}

func (c *scramClient) Begin(user, password, authzID string) error {
	cl, err := c.hash.NewClient(user, password, authzID)
	if err != nil {
		return err
	}
	c.conv = cl.NewConversation()
	return nil
}

func (c *scramClient) Step(challenge string) (string, error) { return c.conv.Step(challenge) }

func (c *scramClient) Done() bool { return c.conv.Done() }
