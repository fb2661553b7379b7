// Command installcheck proves that the published modules install as a user
// gets them, without the workspace or replace directives:
//
//	go run ./tools/cmd/installcheck [-version v0.1.0]
//
// It zips every module of modset.Published from the work tree (with
// golang.org/x/mod/zip, requirements between the project's modules set to the
// test version as a release would) into a file-based module proxy (@v/list,
// .info, .mod, .zip). Then, for each module, in a fresh temporary module with
// no replace directive, it runs `go get` of the module at that version,
// builds and runs a tiny program that uses it, and checks with
// `go list -m all` that the module graph holds none of the forbidden modules
// (franz-go and kfake for the sarama-only and kafka-go-only programs).
//
// Third-party modules come from the local module cache, then the normal
// proxy (GOPROXY); checksum lookups are skipped for the project's own
// modules only (GONOSUMDB). A temporary module cache keeps the test
// versions out of the real one. Any failure names the module and the go
// command's output, and exits non-zero.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"

	"github.com/ktables/ktables/tools/internal/modset"
)

func main() {
	version := flag.String("version", "v0.1.0", "the version the modules are served at")
	keep := flag.Bool("keep", false, "keep the temporary proxy and modules (for debugging)")
	flag.Parse()
	if err := run(*version, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "installcheck:", err)
		os.Exit(1)
	}
}

func run(version string, keep bool) error {
	if err := modset.CheckVersion(version); err != nil {
		return err
	}
	root, err := goEnv("", "GOMOD")
	if err != nil {
		return err
	}
	// Run from anywhere in the repository: the root is where go.work is.
	work, err := goEnv("", "GOWORK")
	if err != nil || work == "" || work == "off" {
		return fmt.Errorf("run inside the repository (go.work not found: %q %v, GOMOD %q)", work, err, root)
	}
	repo := filepath.Dir(work)
	realCache, err := goEnv("", "GOMODCACHE")
	if err != nil {
		return err
	}
	upstream, err := goEnv("", "GOPROXY")
	if err != nil {
		return err
	}

	tmp, err := os.MkdirTemp("", "ktables-installcheck-")
	if err != nil {
		return err
	}
	cache := filepath.Join(tmp, "modcache")
	defer func() {
		if keep {
			fmt.Println("kept", tmp)
			return
		}
		// The module cache is read-only unless -modcacherw; clean it with go.
		c := exec.Command("go", "clean", "-modcache")
		c.Env = append(os.Environ(), "GOMODCACHE="+cache, "GOWORK=off")
		_ = c.Run()
		os.RemoveAll(tmp)
	}()

	proxy := filepath.Join(tmp, "proxy")
	for _, m := range modset.Published {
		if err := publish(proxy, filepath.Join(repo, m.Dir), m.Path, version); err != nil {
			return fmt.Errorf("module %s: %w", m.Path, err)
		}
	}
	fmt.Printf("proxy with %d modules at %s in %s\n", len(modset.Published), version, proxy)

	// Known checksums from the real cache spare network lookups.
	_ = copyDir(filepath.Join(realCache, "cache", "download", "sumdb"), filepath.Join(cache, "cache", "download", "sumdb"))
	env := append(os.Environ(),
		"GOWORK=off",
		"GOFLAGS=-mod=mod",
		"GOMODCACHE="+cache,
		"GOPROXY="+strings.Join([]string{fileURL(proxy), fileURL(filepath.Join(realCache, "cache", "download")), upstream}, ","),
		"GONOSUMDB="+modset.Prefix,
		"GONOPROXY=", "GOPRIVATE=",
	)

	var failures []string
	for _, m := range modset.Published {
		if err := consume(filepath.Join(tmp, "use-"+strings.ReplaceAll(m.Dir, "/", "_")), m, version, env); err != nil {
			failures = append(failures, fmt.Sprintf("module %s: %v", m.Path, err))
			continue
		}
		fmt.Printf("ok  %s@%s installs, builds and runs; graph free of %v\n", m.Path, version, m.Forbidden)
	}
	if len(failures) > 0 {
		return fmt.Errorf("%d of %d modules failed:\n%s", len(failures), len(modset.Published), strings.Join(failures, "\n"))
	}
	fmt.Printf("%d passed, 0 failed\n", len(modset.Published))
	return nil
}

// publish writes path@version from dir into the proxy layout under proxy.
func publish(proxy, dir, path, version string) error {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	mod, _, err := modset.SetVersion(filepath.Join(dir, "go.mod"), data, version)
	if err != nil {
		return err
	}
	esc, err := module.EscapePath(path)
	if err != nil {
		return err
	}
	vdir := filepath.Join(proxy, filepath.FromSlash(esc), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return err
	}
	files, err := moduleFiles(dir, mod)
	if err != nil {
		return err
	}
	zf, err := os.Create(filepath.Join(vdir, version+".zip"))
	if err != nil {
		return err
	}
	if err := modzip.Create(zf, module.Version{Path: path, Version: version}, files); err != nil {
		zf.Close()
		return fmt.Errorf("zip: %w", err)
	}
	if err := zf.Close(); err != nil {
		return err
	}
	info, _ := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, time.Now().UTC().Truncate(time.Second)})
	for name, b := range map[string][]byte{"list": []byte(version + "\n"), version + ".info": info, version + ".mod": mod} {
		if err := os.WriteFile(filepath.Join(vdir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// moduleFiles lists the files of the module in dir, as the go command puts
// them in a module zip: nested modules, VCS and hidden directories left out;
// go.mod replaced by mod.
func moduleFiles(dir string, mod []byte) ([]modzip.File, error) {
	var files []modzip.File
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			if rel == "." {
				return nil
			}
			if strings.HasPrefix(d.Name(), ".") || d.Name() == "vendor" {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
				return filepath.SkipDir // a module of its own
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if rel == "go.mod" {
			files = append(files, memFile{"go.mod", mod})
			return nil
		}
		files = append(files, diskFile{filepath.ToSlash(rel), p})
		return nil
	})
	return files, err
}

type diskFile struct{ rel, path string }

func (f diskFile) Path() string                 { return f.rel }
func (f diskFile) Lstat() (os.FileInfo, error)  { return os.Lstat(f.path) }
func (f diskFile) Open() (io.ReadCloser, error) { return os.Open(f.path) }

type memFile struct {
	rel  string
	data []byte
}

func (f memFile) Path() string { return f.rel }
func (f memFile) Lstat() (os.FileInfo, error) {
	return memInfo{filepath.Base(f.rel), int64(len(f.data))}, nil
}
func (f memFile) Open() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(f.data)), nil }

type memInfo struct {
	name string
	size int64
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() fs.FileMode  { return 0o644 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }

// consume builds and runs m.Main in a fresh module that gets m at version.
func consume(dir string, m modset.Module, version string, env []string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/consumer\n\ngo 1.26\n"), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(m.Main), 0o644); err != nil {
		return err
	}
	goCmd := func(args ...string) (string, error) {
		c := exec.Command("go", args...)
		c.Dir, c.Env = dir, env
		out, err := c.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out), nil
	}
	if _, err := goCmd("get", m.Path+"@"+version); err != nil {
		return err
	}
	if _, err := goCmd("mod", "tidy"); err != nil {
		return err
	}
	if out, err := goCmd("run", "."); err != nil {
		return err
	} else if strings.TrimSpace(out) != "ok" {
		return fmt.Errorf("the program printed %q, want ok", out)
	}
	out, err := goCmd("list", "-m", "all")
	if err != nil {
		return err
	}
	mods := modset.ReadLines(out)
	found := false
	for _, l := range mods {
		path := strings.Fields(l)[0]
		if path == m.Path && strings.HasSuffix(l, " "+version) {
			found = true
		}
		for _, f := range m.Forbidden {
			if path == f || strings.HasPrefix(path, f+"/") {
				return fmt.Errorf("module graph holds %s (forbidden prefix %s):\n%s", l, f, out)
			}
		}
	}
	if !found {
		return fmt.Errorf("module graph lacks %s %s:\n%s", m.Path, version, out)
	}
	return nil
}

func fileURL(dir string) string { return "file://" + filepath.ToSlash(dir) }

func goEnv(dir, name string) (string, error) {
	c := exec.Command("go", "env", name)
	c.Dir = dir
	out, err := c.Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// copyDir copies the regular files under src to dst (best effort).
func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		t := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(t, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(t, b, 0o644)
	})
}
