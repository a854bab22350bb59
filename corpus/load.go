package corpus

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
)

//go:embed cases
var embedded embed.FS

// Embedded returns the corpus compiled into the binary.
func Embedded() ([]*Case, error) {
	return LoadFS(embedded, ".")
}

// LoadDir loads every case under dir/cases (dir is a corpus root such as the repository's corpus/).
func LoadDir(dir string) ([]*Case, error) {
	if _, err := os.Stat(path.Join(dir, "cases")); err != nil {
		return nil, fmt.Errorf("corpus %s: %w", dir, err)
	}
	return LoadFS(os.DirFS(dir), ".")
}

// LoadFS loads every "*.case" file under root/cases in fsys. All problems are reported together,
// each as file:line: message, so a corpus author sees them in one pass.
func LoadFS(fsys fs.FS, root string) ([]*Case, error) {
	var cases []*Case
	var errs []error
	byID := map[string]string{}
	err := fs.WalkDir(fsys, path.Join(root, "cases"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, root+"/"), "./")
		if !strings.HasSuffix(p, ".case") {
			if !strings.HasSuffix(p, ".md") {
				errs = append(errs, &ParseError{File: rel, Msg: "not a .case file (cases/ holds only *.case and *.md)"})
			}
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("read %s: %w", rel, err)
		}
		cs, err := ParseAll(rel, data)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		for _, c := range cs {
			if prev, dup := byID[c.ID]; dup {
				errs = append(errs, &ParseError{File: rel, Msg: fmt.Sprintf("id %q already used by %s", c.ID, prev)})
				return nil
			}
			byID[c.ID] = rel
			cases = append(cases, c)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load corpus: %w", err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(cases) == 0 {
		return nil, fmt.Errorf("load corpus: no cases under %s", path.Join(root, "cases"))
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].ID < cases[j].ID })
	return cases, nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
