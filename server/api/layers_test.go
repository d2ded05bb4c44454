package api_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The web and API layers reach the database only through the services:
// none of their files imports storage (errors come from package fault,
// filters from model). Tests may, to look at what was stored.
func TestWebAndAPIDoNotImportStorage(t *testing.T) {
	files := 0
	for _, dir := range []string{".", "../web"} {
		paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range paths {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			files++
			for _, imp := range f.Imports {
				if p, _ := strconv.Unquote(imp.Path.Value); p == "conductportal/server/storage" {
					t.Errorf("%s imports storage", path)
				}
			}
		}
	}
	if files < 20 {
		t.Fatalf("read %d files of web and api: the paths are wrong", files)
	}
}

// Training speaks to storage in typed operations, never in the driver's
// terms (no bson in its files); the audit package reaches storage through
// its own narrow interface, so it imports neither.
func TestTrainingAndAuditDoNotImportTheDriver(t *testing.T) {
	for dir, refused := range map[string][]string{
		"../training": {"go.mongodb.org/mongo-driver/v2/bson", "go.mongodb.org/mongo-driver/v2/mongo"},
		"../audit":    {"conductportal/server/storage", "go.mongodb.org/mongo-driver/v2/bson"},
	} {
		paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		files := 0
		for _, path := range paths {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			files++
			for _, imp := range f.Imports {
				if p, _ := strconv.Unquote(imp.Path.Value); slices.Contains(refused, p) {
					t.Errorf("%s imports %s", path, p)
				}
			}
		}
		if files < 2 {
			t.Fatalf("read %d files of %s: the path is wrong", files, dir)
		}
	}
}
