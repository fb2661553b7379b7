// Command release prepares a release of every published module at one
// version:
//
//	go run ./tools/cmd/release v0.2.0          # check only, change nothing
//	go run ./tools/cmd/release --apply v0.2.0  # write the go.mod files
//
// It refuses a malformed version and a dirty work tree. In a copy of the
// tree (HEAD) it sets every requirement between the project's modules to the
// version, then builds and vets each module of go.work with GOWORK=off, so a
// module that only builds inside the workspace is named with its error.
// With --apply it writes the same go.mod changes to the work tree. It then
// prints the tags to push: vX.Y.Z for the root, dir/vX.Y.Z for the others.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/ktables/ktables/tools/internal/modset"
)

func main() {
	apply := flag.Bool("apply", false, "write the go.mod changes to the work tree (default: check only)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: release [--apply] vX.Y.Z")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *apply); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run(version string, apply bool) error {
	if err := modset.CheckVersion(version); err != nil {
		return err
	}
	root, err := git("", "rev-parse", "--show-toplevel")
	if err != nil {
		return err
	}
	root = strings.TrimSpace(root)
	if st, err := git(root, "status", "--porcelain"); err != nil {
		return err
	} else if st != "" {
		return fmt.Errorf("the work tree is dirty; commit or stash first:\n%s", st)
	}
	dirs, err := modset.WorkspaceDirs(root)
	if err != nil {
		return err
	}

	// Work on a copy of HEAD, so that a check run changes nothing.
	tmp, err := os.MkdirTemp("", "ktables-release-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	archive := exec.Command("git", "archive", "--format=tar", "HEAD")
	archive.Dir = root
	untar := exec.Command("tar", "-x", "-C", tmp)
	untar.Stdin, _ = archive.StdoutPipe()
	untar.Stderr = os.Stderr
	if err := untar.Start(); err != nil {
		return err
	}
	if err := archive.Run(); err != nil {
		return fmt.Errorf("git archive: %w", err)
	}
	if err := untar.Wait(); err != nil {
		return fmt.Errorf("tar: %w", err)
	}

	changes := map[string][]byte{}
	for _, d := range dirs {
		file := filepath.Join(d, "go.mod")
		data, err := os.ReadFile(filepath.Join(tmp, file))
		if err != nil {
			return err
		}
		out, changed, err := modset.SetVersion(file, data, version)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		if changed {
			changes[file] = out
			if err := os.WriteFile(filepath.Join(tmp, file), out, 0o644); err != nil {
				return err
			}
			fmt.Printf("%s: requirements of %s/... set to %s\n", file, modset.Prefix, version)
		}
	}

	var failed []string
	for _, d := range dirs {
		for _, args := range [][]string{{"build", "./..."}, {"vet", "./..."}} {
			cmd := exec.Command("go", args...)
			cmd.Dir = filepath.Join(tmp, d)
			cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				failed = append(failed, fmt.Sprintf("module %s: GOWORK=off go %s: %v\n%s", d, strings.Join(args, " "), err, out.String()))
				break
			}
		}
		if len(failed) == 0 || !strings.HasPrefix(failed[len(failed)-1], "module "+d+":") {
			fmt.Printf("ok  %s builds and vets with GOWORK=off\n", d)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d module(s) do not build outside the workspace:\n%s", len(failed), strings.Join(failed, "\n"))
	}

	if apply {
		for file, out := range changes {
			if err := os.WriteFile(filepath.Join(root, file), out, 0o644); err != nil {
				return err
			}
		}
		fmt.Printf("wrote %d go.mod file(s); commit them, then push the tags:\n", len(changes))
	} else {
		fmt.Println("check only (nothing written; --apply writes the go.mod files). Then push the tags:")
	}
	var tags []string
	for _, m := range modset.Published {
		tags = append(tags, m.Tag(version))
	}
	fmt.Printf("  git tag %s\n  git push origin %s\n", strings.Join(tags, " && git tag "), strings.Join(tags, " "))
	return nil
}

func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		return "", fmt.Errorf("git %s: %v %s", strings.Join(args, " "), err, stderr)
	}
	return string(out), nil
}
