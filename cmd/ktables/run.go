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
// flag set per subcommand) and returns nil, a *usageError (exit 2),
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
	{"demo", "run the library's main job, a live registry: leases, a crash that expires, a watch, a barrier (embedded broker by default)", runDemo},
	{"broker", "run an in-memory development Kafka broker (kfake) until interrupted", runBroker},
	{"dump", "print a whole table as JSON or text", runDump},
	{"get", "print one value of a table", runGet},
	{"watch", "print every change of a table after catch-up (Table.Watch), one JSON line each", runWatch},
	{"status", "print a table's freshness: per-partition applied position, high watermark, lag", runStatus},
	{"set", "write a value (acknowledged)", runSet},
	{"delete", "write a tombstone (acknowledged)", runDelete},
	{"ensure-topic", "create a compacted topic or check an existing one's policy", runEnsureTopic},
	{"doctor", "read a table's topic once and report what would make the table wrong", runDoctor},
	{"version", "print the command's version", runVersion},
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
	case "-version", "--version":
		name = "version"
	}
	for _, c := range commands {
		if c.name != name {
			continue
		}
		err := c.run(ctx, sio, args[1:])
		return exitCode(stderr, c.name, err)
	}
	fmt.Fprintf(stderr, "ktables: unknown command %q\nrun 'ktables --help' for the list of commands\n", name)
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
	fmt.Fprintln(w, "Run 'ktables COMMAND --help' for a command's flags. Start with: ktables demo")
}

// usageError is a mistake on the command line: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

func exitCode(stderr io.Writer, cmd string, err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	}
	if ue, ok := errors.AsType[*usageError](err); ok {
		fmt.Fprintln(stderr, errorLine(ue))
		fmt.Fprintf(stderr, "run 'ktables %s --help'\n", cmd)
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

// plural renders a count with its noun: "1 argument", "2 arguments".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
