package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
)

// flags is a subcommand's flag set and the texts of its --help.
type flags struct {
	*flag.FlagSet
	sio          *stdio
	name         string
	argsSynopsis string
	help         string
}

// newFlagSet returns the flag set of a subcommand. The flag package prints
// nothing itself: a bad flag becomes a one-line usage error, --help prints
// the command's help on stdout.
func newFlagSet(sio *stdio, name, argsSynopsis, help string) *flags {
	fs := flag.NewFlagSet("ktables "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flags{FlagSet: fs, sio: sio, name: name, argsSynopsis: argsSynopsis, help: help}
}

// printHelp writes the command's usage: its own flags first, then the
// connection, TLS and SASL flags every cluster command shares.
func (f *flags) printHelp(w io.Writer) {
	syn := "ktables " + f.name + " [flags]"
	if f.argsSynopsis != "" {
		syn += " " + f.argsSynopsis
	}
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", syn, f.help)
	var own, shared []*flag.Flag
	f.VisitAll(func(fl *flag.Flag) {
		if slices.Contains(connFlagNames, fl.Name) {
			shared = append(shared, fl)
		} else {
			own = append(own, fl)
		}
	})
	if len(own) > 0 {
		fmt.Fprintln(w, "\nFlags:")
		for _, fl := range own {
			printFlag(w, fl)
		}
	}
	if len(shared) > 0 {
		fmt.Fprintln(w, "\nConnection, TLS and SASL flags:")
		for _, fl := range shared {
			printFlag(w, fl)
		}
	}
}

func printFlag(w io.Writer, fl *flag.Flag) {
	typ, usage := flag.UnquoteUsage(fl)
	line := "  --" + fl.Name
	if typ != "" {
		line += " " + typ
	}
	fmt.Fprintf(w, "%s\n      %s", line, strings.ReplaceAll(usage, "\n", "\n      "))
	switch fl.DefValue {
	case "", "0", "false", "0s":
	default:
		fmt.Fprintf(w, " (default %s)", fl.DefValue)
	}
	fmt.Fprintln(w)
}

// parseArgs parses flags that may appear before, between or after the
// positional arguments ("get KEY --topic T" works), and returns the
// positional arguments. After "--" everything is positional.
func parseArgs(fs *flags, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.printHelp(fs.sio.stdout)
				return nil, err
			}
			return nil, &usageError{msg: flagMessage(err)}
		}
		rest := fs.Args()
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// flagMessage rewrites the flag package's messages with the two-dash
// spelling the help and the README use.
func flagMessage(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return "unknown flag --" + name
	}
	for _, p := range []string{"for flag -", "for -", "argument: -"} {
		msg = strings.Replace(msg, p, strings.TrimSuffix(p, "-")+"--", 1)
	}
	return msg
}

// connFlagNames are the flags of connFlags, listed apart in --help.
var connFlagNames = []string{"brokers", "client", "timeout", "tls", "tls-ca", "tls-cert", "tls-key", "sasl-mechanism", "sasl-user", "sasl-password"}

func runVersion(_ context.Context, sio *stdio, args []string) error {
	fs := newFlagSet(sio, "version", "", "Print the command's module version, the Go version it was built with and its platform.")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("version takes no arguments, got %s", plural(len(pos), "argument"))
	}
	_, err = fmt.Fprintln(sio.stdout, versionLine())
	return err
}

// versionLine is "ktables VERSION (GO, OS/ARCH)"; VERSION is the module
// version the binary was built from: a tag for go install pkg@version,
// "(devel)" for a build in a checkout, plus the VCS revision when known.
func versionLine() string {
	v := "(unknown)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		var rev, dirty string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "+dirty"
				}
			}
		}
		if rev != "" {
			v += " " + rev[:min(len(rev), 12)] + dirty
		}
	}
	return fmt.Sprintf("ktables %s (%s, %s/%s)", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
