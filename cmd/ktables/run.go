package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// command is one subcommand. Its run function parses args itself (one
// flag.FlagSet per subcommand) and returns nil, a *usageError (exit 2),
// flag.ErrHelp (exit 0) or any other error (exit 1).
type command struct {
	name     string
	synopsis string
	run      func(ctx context.Context, io *stdio, args []string) error
}

// stdio is where a command writes, plus its environment.
type stdio struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

var commands = []command{
	{"demo", "run the library's main job: registry, live view, tombstone, barrier, stats (embedded broker by default)", runDemo},
	{"broker", "run an in-memory development Kafka broker (kfake) until interrupted", runBroker},
	{"dump", "print a whole table as JSON or text", runDump},
	{"get", "print one value of a table", runGet},
	{"watch", "print every change of a table after catch-up, one JSON line each", runWatch},
	{"set", "write a value (acknowledged)", runSet},
	{"delete", "write a tombstone (acknowledged)", runDelete},
	{"ensure-topic", "create a compacted topic or check an existing one's policy", runEnsureTopic},
}

// run is the whole program: it returns the process exit code. It is called
// in-process by the tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	sio := &stdio{stdout: stdout, stderr: stderr, getenv: os.Getenv}
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return 0
	}
	for _, c := range commands {
		if c.name != name {
			continue
		}
		err := c.run(ctx, sio, args[1:])
		return exitCode(stderr, err)
	}
	fmt.Fprintf(stderr, "ktables: unknown command %q (run 'ktables help' for the list)\n", name)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "ktables: compacted Kafka topics as in-memory tables (ktables for Go)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: ktables COMMAND [flags] [args]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-13s %s\n", c.name, c.synopsis)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'ktables COMMAND -h' for a command's flags. Start with: ktables demo")
}

// usageError is a mistake on the command line: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

func exitCode(stderr io.Writer, err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errFlagParse):
		return 2 // the flag package already printed the error and usage
	}
	if ue, ok := errors.AsType[*usageError](err); ok {
		fmt.Fprintln(stderr, errorLine(ue))
		return 2
	}
	fmt.Fprintln(stderr, errorLine(err))
	return 1
}

// errorLine renders err as one line starting with "ktables: ", without the
// "ktables: " prefixes of the errors it wraps.
func errorLine(err error) string {
	msg := strings.ReplaceAll(err.Error(), "ktables: ", "")
	msg = strings.Join(strings.FieldsFunc(msg, func(r rune) bool { return r == '\n' || r == '\r' }), "; ")
	return "ktables: " + msg
}

// errFlagParse marks an error the flag package has already reported.
var errFlagParse = errors.New("bad flags")

// newFlagSet returns a FlagSet for a subcommand that reports errors on
// stderr and lets the caller decide the exit code.
func newFlagSet(sio *stdio, name, argsSynopsis, help string) *flag.FlagSet {
	fs := flag.NewFlagSet("ktables "+name, flag.ContinueOnError)
	fs.SetOutput(sio.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: ktables %s [flags] %s\n\n%s\n\nFlags:\n", name, argsSynopsis, help)
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses flags that may appear before, between or after the
// positional arguments ("get KEY --topic T" works), and returns the
// positional arguments. After "--" everything is positional.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errFlagParse
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
