package ktables_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every citation of a clause ("SPEC" then a clause id) in the repository's Go
// files and docs resolves to a clause of docs/SPEC.md: the contract the tests and messages cite ships
// with the project.
func TestSpecCitationsResolve(t *testing.T) {
	spec, err := os.ReadFile("docs/SPEC.md")
	if err != nil {
		t.Fatal(err)
	}
	clauses := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^- \*\*([A-Z][0-9]+)\*\*`).FindAllSubmatch(spec, -1) {
		clauses[string(m[1])] = true
	}
	if len(clauses) < 60 {
		t.Fatalf("docs/SPEC.md defines %d clauses; the format '- **X1** ...' changed?", len(clauses))
	}
	cite := regexp.MustCompile(`SPEC ([A-Z][0-9]+)`)
	checked := 0
	err = filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && p != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(p); ext != ".go" && ext != ".md" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range cite.FindAllSubmatch(data, -1) {
			checked++
			if !clauses[string(m[1])] {
				t.Errorf("%s cites SPEC %s, which docs/SPEC.md does not define", p, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no SPEC citation found: the walk is broken")
	}
	t.Logf("%d citations of %d clauses checked", checked, len(clauses))
}
