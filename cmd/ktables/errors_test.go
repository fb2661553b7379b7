package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ktables/ktables/kafkatest"
)

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"dump", "--brokers", "x:1"}, "missing --topic"},
		{[]string{"dump", "--topic", "t"}, "no brokers"},
		{[]string{"dump", "--brokers", "x:1", "--topic", "t", "--format", "yaml"}, "--format"},
		{[]string{"dump", "--brokers", "x:1", "--topic", "t", "--client", "nope"}, "unknown --client"},
		{[]string{"dump", "--brokers", "x:1", "--topic", "bad topic!"}, "--topic"},
		{[]string{"dump", "--brokers", "x:1", "--topic", "t", "--sasl-mechanism", "md5", "--sasl-user", "u"}, "--sasl-mechanism"},
		{[]string{"dump", "--brokers", "x:1", "--topic", "t", "--tls-cert", "c.pem"}, "--tls-cert and --tls-key"},
		{[]string{"get", "--brokers", "x:1", "--topic", "t"}, "one KEY"},
		{[]string{"get", "--brokers", "x:1", "--topic", "t", "--grouped", "g"}, "GROUP MEMBER"},
		{[]string{"set", "--brokers", "x:1", "--topic", "t", "k"}, "KEY VALUE"},
		{[]string{"set", "--brokers", "x:1", "--topic", "t", "--values", "base64", "k", "!!"}, "not base64"},
		{[]string{"delete", "--brokers", "x:1", "--topic", "t"}, "one KEY"},
		{[]string{"ensure-topic", "--brokers", "x:1", "--topic", "t", "--partitions", "0"}, "--partitions"},
		{[]string{"ensure-topic", "--brokers", "x:1", "--topic", "t", "--config", "novalue"}, ""},
		{[]string{"demo", "extra"}, "no arguments"},
		{[]string{"broker", "--partitions", "0"}, "--partitions"},
	} {
		t.Run(strings.Join(tc.args, "_"), func(t *testing.T) {
			r := cli(t, tc.args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2; stderr: %s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("stderr %q lacks %q", r.stderr, tc.want)
			}
		})
	}
}

// TestUnknownFlag: a usage error is one "ktables: " line and a pointer to
// the command's help, exit 2 (issue 20 item 3).
func TestUnknownFlag(t *testing.T) {
	for _, cmd := range []string{"demo", "broker", "dump", "get", "watch", "set", "delete", "ensure-topic", "doctor", "version"} {
		r := cli(t, cmd, "--no-such-flag")
		want := "ktables: unknown flag --no-such-flag\nrun 'ktables " + cmd + " --help'\n"
		if r.code != 2 || r.stderr != want {
			t.Fatalf("%s --no-such-flag: exit %d, stderr %q, want %q", cmd, r.code, r.stderr, want)
		}
	}
	if r := cli(t, "dump", "-h"); r.code != 0 || !strings.Contains(r.stdout, "Usage: ktables dump") {
		t.Fatalf("dump -h: exit %d, stdout %q", r.code, r.stdout)
	}
	if r := cli(t); r.code != 2 || !strings.Contains(r.stderr, "Commands:") {
		t.Fatalf("no command: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := cli(t, "help"); r.code != 0 || !strings.Contains(r.stdout, "ensure-topic") {
		t.Fatalf("help: exit %d, stdout %q", r.code, r.stdout)
	}
}

func TestUnreachableBroker(t *testing.T) {
	// A port nobody listens on: refused at once.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	for _, cmd := range [][]string{{"dump"}, {"get", "k"}, {"watch"}, {"set", "k", "v"}, {"delete", "k"}, {"ensure-topic"}, {"demo", "--duration", "1s"}} {
		a := append(cmd, "--brokers", closed, "--topic", "t", "--timeout", "2s")
		if cmd[0] == "demo" {
			a = append(cmd, "--brokers", closed, "--timeout", "2s")
		}
		r := expectFail(t, 1, "cannot reach any broker of "+closed, a...)
		if r.took > 5*time.Second {
			t.Fatalf("%s took %s", cmd[0], r.took)
		}
	}

	// A listener that accepts and never answers: the command's timeout ends it.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() }) // after the parallel subtests
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	forEachClient(t, func(t *testing.T, client string) {
		r := expectFail(t, 1, "timed out after 2s", "dump", "--brokers", silent.Addr().String(), "--topic", "t", "--timeout", "2s", "--client", client)
		if r.took > 6*time.Second {
			t.Fatalf("took %s with --timeout 2s", r.took)
		}
	})
}

func TestBadTLSFiles(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"dump", "--brokers", "127.0.0.1:1", "--topic", "t", "--timeout", "2s"}
	expectFail(t, 1, "--tls-ca: open "+filepath.Join(dir, "missing.pem"), append(base, "--tls-ca", filepath.Join(dir, "missing.pem"))...)
	expectFail(t, 1, "--tls-ca: no PEM certificate found in "+garbage, append(base, "--tls-ca", garbage)...)
	expectFail(t, 1, "--tls-cert/--tls-key", append(base, "--tls-cert", garbage, "--tls-key", garbage)...)
}

// testPKI writes a CA, a server certificate for 127.0.0.1 and a client
// certificate into dir and returns the broker's TLS config, requiring client
// certificates.
func testPKI(t *testing.T, dir string) *tls.Config {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	writePEM := func(name, typ string, der []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	caKey := newKey()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ktables test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	writePEM("ca.pem", "CERTIFICATE", caDER)
	leaf := func(serial int64, name string, usage x509.ExtKeyUsage) tls.Certificate {
		k := newKey()
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		writePEM(name+".pem", "CERTIFICATE", der)
		writePEM(name+"-key.pem", "EC PRIVATE KEY", kder)
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}
	}
	server := leaf(2, "server", x509.ExtKeyUsageServerAuth)
	leaf(3, "client", x509.ExtKeyUsageClientAuth)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &tls.Config{Certificates: []tls.Certificate{server}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	srv := testPKI(t, dir)
	_, seeds := kafkatest.StartCluster(t, kfake.TLS(srv))
	forEachClient(t, func(t *testing.T, client string) {
		c := append(conn(seeds, client), "--tls-ca", filepath.Join(dir, "ca.pem"),
			"--tls-cert", filepath.Join(dir, "client.pem"), "--tls-key", filepath.Join(dir, "client-key.pem"))
		_, tf := topicFlag(t)
		ok(t, args([]string{"set"}, c, tf, []string{"k", "over tls"})...)
		if r := ok(t, args([]string{"get"}, c, tf, []string{"k"})...); r.stdout != "over tls\n" {
			t.Fatalf("get over TLS = %q", r.stdout)
		}
		// Without the CA the broker's certificate is not trusted: an error
		// within the timeout, not a hang.
		r := cli(t, args([]string{"get", "--brokers", seeds[0], "--client", client, "--tls", "--timeout", "3s"}, tf, []string{"k"})...)
		if r.code != 1 || r.took > 8*time.Second {
			t.Fatalf("untrusted broker certificate: exit %d after %s: %s", r.code, r.took, r.stderr)
		}
		checkFail(t, r, 1, "")
	})
}

func TestSASL(t *testing.T) {
	for _, mech := range []struct{ flag, kfake string }{
		{"plain", "PLAIN"},
		{"scram-sha-256", "SCRAM-SHA-256"},
		{"scram-sha-512", "SCRAM-SHA-512"},
	} {
		t.Run(mech.flag, func(t *testing.T) {
			_, seeds := kafkatest.StartCluster(t, kfake.EnableSASL(), kfake.Superuser(mech.kfake, "alice", "s3cret"))
			forEachClient(t, func(t *testing.T, client string) {
				c := append(conn(seeds, client), "--sasl-mechanism", mech.flag, "--sasl-user", "alice")
				_, tf := topicFlag(t)
				ok(t, args([]string{"set", "--sasl-password", "s3cret"}, c, tf, []string{"k", "v"})...)
				if r := ok(t, args([]string{"get", "--sasl-password", "s3cret"}, c, tf, []string{"k"})...); r.stdout != "v\n" {
					t.Fatalf("get with SASL = %q", r.stdout)
				}
				bad := args([]string{"get", "--sasl-password", "wrong"}, c, tf, []string{"k", "--timeout", "10s"})
				r := cli(t, bad...)
				checkFail(t, r, 1, "authentication failed (check --sasl-mechanism", bad...)
				if r.took > 15*time.Second {
					t.Fatalf("wrong password took %s", r.took)
				}
				t.Logf("wrong password (%s): %s after %s", client, strings.TrimSpace(r.stderr), r.took)
			})
		})
	}
}

func TestSASLPasswordFromEnv(t *testing.T) {
	_, seeds := kafkatest.StartCluster(t, kfake.EnableSASL(), kfake.Superuser("PLAIN", "bob", "envpass"))
	t.Setenv(envSASLPassword, "envpass")
	c := append(conn(seeds, "franz"), "--sasl-mechanism", "plain", "--sasl-user", "bob")
	_, tf := topicFlag(t)
	ok(t, args([]string{"set"}, c, tf, []string{"k", "v"})...)
}

func TestBrokersFromEnv(t *testing.T) {
	seeds := kafkatest.Start(t)
	t.Setenv(envBrokers, strings.Join(seeds, ","))
	_, tf := topicFlag(t)
	ok(t, args([]string{"set"}, tf, []string{"k", "v"})...)
	if r := ok(t, args([]string{"get"}, tf, []string{"k"})...); r.stdout != "v\n" {
		t.Fatalf("get = %q", r.stdout)
	}
}

func TestProgress(t *testing.T) {
	old := progressDelay
	progressDelay = 0
	defer func() { progressDelay = old }()
	var buf syncBuffer
	var n int64
	stop := showProgress(&buf, "t", 200, func() int64 { n += 50; return n })
	waitFor(t, 5*time.Second, "a progress line", func() bool { return strings.Contains(buf.String(), "% of end offsets") })
	stop()
	s := buf.String()
	if !strings.Contains(s, "catching up t: ") || !strings.Contains(s, "records/s") || !strings.Contains(s, "caught up t: ") {
		t.Fatalf("progress output %q", s)
	}
	if isTerminal(&buf) {
		t.Fatal("a buffer is not a terminal")
	}
}
