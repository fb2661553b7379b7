// Package modset knows the project's modules: which are published (tagged
// and installable), the tiny program that proves each installs, and how to
// set the requirements between the project's modules to one version. The
// release and installcheck commands share it.
package modset

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

// Prefix is the path of the root module; every module of the project has it.
const Prefix = "github.com/ktables/ktables"

// Module is one published module.
type Module struct {
	Dir  string // relative to the repository root; "." for the root module
	Path string
	// Main is the program installcheck builds and runs in a fresh module
	// that requires only this module; it must print "ok".
	Main string
	// Forbidden lists module path prefixes that must not appear in that
	// program's module graph (`go list -m all`).
	Forbidden []string
}

// Tag is the git tag that publishes m at version v.
func (m Module) Tag(v string) string {
	if m.Dir == "." {
		return v
	}
	return m.Dir + "/" + v
}

var noFranz = []string{"github.com/twmb/franz-go", Prefix + "/kafkatest", Prefix + "/wiretest"}

// Published is the list of modules users can require. Adding a module (a new
// transport, a metrics module) is one entry here: release tags it and
// installcheck proves it installs.
var Published = []Module{
	{Dir: ".", Path: Prefix, Forbidden: noFranz, Main: `package main

import (
	"context"
	"fmt"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
)

func main() {
	ctx := context.Background()
	c := memtransport.NewCluster()
	defer c.Close()
	tr := c.Transport()
	w, err := ktables.OpenWriter(ctx, tr, "t", ktables.String())
	if err != nil {
		panic(err)
	}
	defer w.Close()
	tbl, err := ktables.Open(ctx, tr, "t", ktables.String())
	if err != nil {
		panic(err)
	}
	defer tbl.Close()
	if err := w.Set(ctx, "k", "v"); err != nil {
		panic(err)
	}
	if err := tbl.Barrier(ctx); err != nil {
		panic(err)
	}
	if v, _ := tbl.Get("k"); v != "v" {
		panic("read " + v)
	}
	fmt.Println("ok")
}
`},
	{Dir: "transport_franz", Path: Prefix + "/transport_franz", Forbidden: []string{"github.com/twmb/franz-go/pkg/kfake", Prefix + "/kafkatest", Prefix + "/wiretest"}, Main: adapterMain("franztransport", "transport_franz", `franztransport.New([]string{"127.0.0.1:1"})`)},
	{Dir: "transport_sarama", Path: Prefix + "/transport_sarama", Forbidden: noFranz, Main: adapterMain("saramatransport", "transport_sarama", `saramatransport.New([]string{"127.0.0.1:1"}, saramatransport.NewConfig())`)},
	{Dir: "transport_kafkago", Path: Prefix + "/transport_kafkago", Forbidden: noFranz, Main: adapterMain("kafkagotransport", "transport_kafkago", `kafkagotransport.New([]string{"127.0.0.1:1"})`)},
	{Dir: "transport_confluent", Path: Prefix + "/transport_confluent", Forbidden: noFranz, Main: `package main

import (
	"fmt"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	confluenttransport "github.com/ktables/ktables/transport_confluent"
)

func main() {
	tr, err := confluenttransport.New(kafka.ConfigMap{"bootstrap.servers": "127.0.0.1:1"})
	if err != nil {
		panic(err)
	}
	if err := tr.Close(); err != nil {
		panic(err)
	}
	fmt.Println("ok")
}
`},
	{Dir: "kafkatest", Path: Prefix + "/kafkatest", Forbidden: []string{Prefix + "/wiretest"}, Main: `package main

import (
	"fmt"

	"github.com/ktables/ktables/kafkatest"
)

func main() {
	_ = kafkatest.External()
	fmt.Println("ok")
}
`},
	{Dir: "metrics/prometheus", Path: Prefix + "/metrics/prometheus", Forbidden: noFranz, Main: `package main

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	ktprom "github.com/ktables/ktables/metrics/prometheus"
)

func main() {
	c, err := ktprom.New()
	if err != nil {
		panic(err)
	}
	if err := prometheus.NewRegistry().Register(c); err != nil {
		panic(err)
	}
	fmt.Println("ok")
}
`},
	{Dir: "metrics/otel", Path: Prefix + "/metrics/otel", Forbidden: noFranz, Main: `package main

import (
	"fmt"

	"go.opentelemetry.io/otel/metric/noop"

	ktotel "github.com/ktables/ktables/metrics/otel"
)

func main() {
	m, err := ktotel.New(noop.NewMeterProvider())
	if err != nil {
		panic(err)
	}
	_ = m
	fmt.Println("ok")
}
`},
}

// adapterMain is a program that constructs a transport (no broker is
// dialled) and closes it.
func adapterMain(name, dir, call string) string {
	return fmt.Sprintf(`package main

import (
	"fmt"

	%s "%s/%s"
)

func main() {
	tr, err := %s
	if err != nil {
		panic(err)
	}
	if err := tr.Close(); err != nil {
		panic(err)
	}
	fmt.Println("ok")
}
`, name, Prefix, dir, call)
}

// CheckVersion refuses anything but a canonical semantic version such as
// v1.2.3 or v1.2.3-rc.1.
func CheckVersion(v string) error {
	if !semver.IsValid(v) || semver.Canonical(v) != v {
		return fmt.Errorf("malformed version %q: want a canonical semantic version such as v0.2.0", v)
	}
	if semver.Major(v) != "v0" && semver.Major(v) != "v1" {
		return fmt.Errorf("version %s: a major version above v1 needs a /vN module path", v)
	}
	return nil
}

// WorkspaceDirs lists the module directories of root/go.work, relative to
// root.
func WorkspaceDirs(root string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(root, "go.work"))
	if err != nil {
		return nil, err
	}
	wf, err := modfile.ParseWork("go.work", data, nil)
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, u := range wf.Use {
		dirs = append(dirs, filepath.Clean(u.Path))
	}
	return dirs, nil
}

// SetVersion returns the go.mod data with every requirement of a project
// module set to v, and whether anything changed. Replace directives are
// kept: they serve development and are ignored by the module's users.
func SetVersion(file string, data []byte, v string) ([]byte, bool, error) {
	f, err := modfile.Parse(file, data, nil)
	if err != nil {
		return nil, false, err
	}
	changed := false
	for _, r := range f.Require {
		p := r.Mod.Path
		if (p == Prefix || strings.HasPrefix(p, Prefix+"/")) && r.Mod.Version != v {
			if err := f.AddRequire(p, v); err != nil {
				return nil, false, err
			}
			changed = true
		}
	}
	if !changed {
		return data, false, nil
	}
	out, err := f.Format()
	return out, true, err
}

// ReadLines returns the non-empty lines of s.
func ReadLines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out
}
