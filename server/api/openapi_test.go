package api

import (
	"regexp"
	"testing"
)

// TestEveryOperationHasAnID: generated clients and the checkers of make
// fuzz-api (Portman, Redocly) address operations by operationId; each is
// unique and written like the others.
func TestEveryOperationHasAnID(t *testing.T) {
	seen := map[string]string{}
	shape := regexp.MustCompile(`^[a-z][A-Za-z]+$`)
	for path, ops := range OpenAPIDocument()["paths"].(obj) {
		for method, op := range ops.(obj) {
			id, _ := op.(obj)["operationId"].(string)
			where := method + " " + path
			switch {
			case !shape.MatchString(id):
				t.Errorf("%s: operationId %q is missing or not lowerCamelCase", where, id)
			case seen[id] != "":
				t.Errorf("%s: operationId %q is also %s", where, id, seen[id])
			}
			seen[id] = where
			if _, ok := op.(obj)["summary"].(string); !ok {
				t.Errorf("%s: no summary", where)
			}
		}
	}
}
