package quiz

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// LoadDir parses every quiz file (*.yaml) in dir of fsys, by lesson slug,
// for the tools that answer the shipped quizzes (soak, bench, fuzz-api);
// the portal's own import (training.LoadBundle) reports problems by line
// instead. A file that does not parse is an error naming it.
func LoadDir(fsys fs.FS, dir string) (map[string]*Quiz, error) {
	files, err := fs.Glob(fsys, path.Join(dir, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("quiz: %w", err)
	}
	out := make(map[string]*Quiz, len(files))
	for _, f := range files {
		raw, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("quiz: %w", err)
		}
		q, probs := Parse(path.Base(f), raw, nil)
		if q == nil {
			return nil, fmt.Errorf("quiz: %s: %v", f, probs)
		}
		out[strings.TrimSuffix(path.Base(f), ".yaml")] = q
	}
	return out, nil
}
