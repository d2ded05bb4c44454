package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"conductportal/server/api"
	"conductportal/server/testkit"
)

var pathParamRe = regexp.MustCompile(`:([a-z]+)`)

// TestOpenAPICoversEveryRoute: every /api/v1 route is in the OpenAPI
// document and every documented operation exists; the document is served.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	p := testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard)
	documented := api.OpenAPIPaths()
	registered := map[string]bool{}
	for _, r := range p.App.GetRoutes(true) {
		if r.Method == http.MethodHead || !strings.HasPrefix(r.Path, "/api/v1/") {
			continue
		}
		key := strings.ToLower(r.Method) + " " + pathParamRe.ReplaceAllString(strings.TrimPrefix(r.Path, "/api/v1"), "{$1}")
		registered[key] = true
		if !slices.Contains(documented, key) {
			t.Errorf("route %s %s is not in the OpenAPI document", r.Method, r.Path)
		}
	}
	for _, d := range documented {
		if !registered[d] {
			t.Errorf("the OpenAPI document lists %s, which is not registered", d)
		}
	}
	res, err := http.Get(p.Base + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil || res.StatusCode != 200 || doc["openapi"] != "3.1.0" {
		t.Fatalf("the document: %d %v %v", res.StatusCode, err, doc["openapi"])
	}
}
