package api_test

import (
	"os/exec"
	"strings"
	"testing"
)

const (
	storagePkg = "conductportal/server/storage"
	driverPkgs = "go.mongodb.org/mongo-driver/" // bson, mongo and the rest
)

// storageOrDriver is what the layers above the services must not reach.
func storageOrDriver(p string) bool { return p == storagePkg || strings.HasPrefix(p, driverPkgs) }

// importGraph is every package the roots depend on, as `go list -deps`
// sees them (test files aside), with the packages each imports.
func importGraph(t *testing.T, roots ...string) map[string][]string {
	t.Helper()
	// go test puts its own go first on the PATH.
	args := append([]string{"list", "-deps", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}"}, roots...)
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	g := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		g[f[0]] = f[1:]
	}
	return g
}

// importChain is the shortest chain of imports from root to a package
// refused says yes to, root first; nil: none.
func importChain(g map[string][]string, root string, refused func(string) bool) []string {
	from := map[string]string{root: ""}
	queue := []string{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if refused(p) {
			var chain []string
			for ; p != ""; p = from[p] {
				chain = append([]string{p}, chain...)
			}
			return chain
		}
		for _, q := range g[p] {
			if _, seen := from[q]; !seen {
				from[q] = p
				queue = append(queue, q)
			}
		}
	}
	return nil
}

// refuseImports fails for each root that reaches a refused package,
// naming the chain of imports that does.
func refuseImports(t *testing.T, g map[string][]string, roots []string, refused func(string) bool) {
	t.Helper()
	for _, root := range roots {
		if _, ok := g[root]; !ok {
			t.Fatalf("go list did not list %s: the path is wrong", root)
		}
		if chain := importChain(g, root, refused); chain != nil {
			t.Errorf("%s reaches %s: %s", root, chain[len(chain)-1], strings.Join(chain, " -> "))
		}
	}
}

// The web and API layers reach the database only through the services,
// which declare the store they need as an interface (cli hands storage
// in): neither imports storage or the driver, even through a service.
// Tests may, to look at what was stored.
func TestWebAndAPIDoNotImportStorage(t *testing.T) {
	const cli = "conductportal/server/cli"
	roots := []string{"conductportal/server/web", "conductportal/server/api"}
	g := importGraph(t, append(roots, cli)...)
	refuseImports(t, g, roots, storageOrDriver)
	// The same check sees the wiring's import of storage: it would see a
	// service's.
	if chain := importChain(g, cli, storageOrDriver); len(chain) < 2 {
		t.Fatalf("no chain from cli to storage found (%v): the check cannot see one", chain)
	}
}

// Training speaks to its store in typed operations, never in the driver's
// terms (no bson even transitively); the audit package reaches storage
// through its own narrow interface, so it reaches neither.
func TestTrainingAndAuditDoNotImportTheDriver(t *testing.T) {
	roots := []string{"conductportal/server/training", "conductportal/server/audit"}
	refuseImports(t, importGraph(t, roots...), roots, storageOrDriver)
}
