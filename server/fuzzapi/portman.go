package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

type obj = map[string]any

// openAPIDoc is what the driver needs of the served document.
type openAPIDoc struct {
	Paths map[string]map[string]operation `json:"paths"`
}

type operation struct {
	ID          string         `json:"operationId"`
	Responses   map[string]any `json:"responses"`
	RequestBody *struct {
		Content map[string]any `json:"content"`
	} `json:"requestBody"`
	Security []map[string][]string `json:"security"`
}

func (o operation) ndjson() bool {
	ok, _ := o.Responses["200"].(map[string]any)
	c, _ := ok["content"].(map[string]any)
	_, nd := c["application/x-ndjson"]
	return nd
}

func (o operation) public() bool { return o.Security != nil && len(o.Security) == 0 }

// ops lists the document's operations by id, with method and path.
func (d openAPIDoc) ops() map[string]struct {
	method, path string
	op           operation
} {
	out := map[string]struct {
		method, path string
		op           operation
	}{}
	for path, methods := range d.Paths {
		for method, op := range methods {
			out[op.ID] = struct {
				method, path string
				op           operation
			}{strings.ToUpper(method), path, op}
		}
	}
	return out
}

// order is the order the requests run in: reads first, then the learner's
// steps in the order a person takes them, then HR's writes, the
// deactivation last.
var order = []string{"getOpenAPIDocument", "getMe", "listMyLessons", "listMyReceipts", "getLesson", "markLessonRead",
	"startAttempt", "submitAttempt", "acknowledgeLesson", "getTeamReport", "getOrganisationReport", "listLessons",
	"getDraft", "listLessonVersions", "getLessonAnalytics", "saveDraft", "publishLesson", "listUsers", "getUser",
	"upsertUser", "replaceUser", "syncUsers", "exportReceipts", "exportAudit", "listCheckpoints", "deactivateUser"}

// config writes the Portman configuration for one role.
func config(r role, d openAPIDoc, draft []byte) (obj, error) {
	ops := d.ops()
	var allowed, allowedJSON, allowedND, forbidden, secured, withBody []string
	for id, o := range ops {
		switch {
		case slices.Contains(r.allowed, id):
			allowed = append(allowed, id)
			if o.op.ndjson() {
				allowedND = append(allowedND, id)
			} else {
				allowedJSON = append(allowedJSON, id)
			}
			if o.op.RequestBody != nil {
				withBody = append(withBody, id)
			}
		case !o.op.public():
			forbidden = append(forbidden, id)
		}
		if !o.op.public() && slices.Contains(r.allowed, id) {
			secured = append(secured, id)
		}
	}
	for _, l := range [][]string{allowed, allowedJSON, allowedND, forbidden, secured, withBody} {
		sort.Strings(l)
	}
	var files struct {
		Files map[string]string `json:"files"`
		Quiz  string            `json:"quiz"`
	}
	if err := json.Unmarshal(draft, &files); err != nil {
		return nil, fmt.Errorf("the draft of %s: %w", signSlug, err)
	}
	answerContract := func(code string) []obj {
		n, _ := strconv.Atoi(code)
		return []obj{{"statusCode": obj{"enabled": true, "code": n}}, {"contentType": obj{"enabled": true}},
			{"jsonBody": obj{"enabled": true}}, {"schemaValidation": obj{"enabled": true}}}
	}
	contract := []obj{
		{"openApiOperationIds": allowedJSON, "statusSuccess": obj{"enabled": true}},
		{"openApiOperationIds": allowedJSON, "contentType": obj{"enabled": true}},
		{"openApiOperationIds": allowedJSON, "jsonBody": obj{"enabled": true}},
		{"openApiOperationIds": allowedJSON, "schemaValidation": obj{"enabled": true}},
	}
	if len(allowedND) > 0 {
		contract = append(contract, obj{"openApiOperationIds": allowedND, "statusSuccess": obj{"enabled": true}},
			obj{"openApiOperationIds": allowedND, "contentType": obj{"enabled": true}})
	}
	variations := []obj{{
		// A token that is not one: 401 with the error schema, for every
		// operation that needs one.
		"openApiOperationIds": secured, "openApiResponse": "401",
		"variations": []obj{{"name": "no valid token",
			"overwrites": []obj{{"overwriteRequestSecurity": obj{"bearer": obj{"token": "not-a-token"}}}},
			"tests":      obj{"contractTests": answerContract("401")}}},
	}}
	if len(forbidden) > 0 {
		variations = append(variations, obj{
			"openApiOperationIds": forbidden, "openApiResponse": "403",
			"variations": []obj{{"name": "not this role's", "tests": obj{"contractTests": answerContract("403")}}},
		})
	}
	if len(withBody) > 0 {
		// Fuzzing: required fields left out, numbers and lengths past their
		// limits. Each must be refused as bad input (400 or 422 with the
		// error schema, judged by the driver against the document), never
		// answered 5xx.
		variations = append(variations, obj{
			"openApiOperationIds": withBody, "openApiResponse": "422",
			"variations": []obj{{"name": "fuzz",
				"fuzzing": []obj{{"requestBody": []obj{{
					"requiredFields": obj{"enabled": true}, "minimumNumberFields": obj{"enabled": true},
					"maximumNumberFields": obj{"enabled": true}, "minLengthFields": obj{"enabled": true},
					"maxLengthFields": obj{"enabled": true}}}}},
				"tests": obj{"contractTests": []obj{{"contentType": obj{"enabled": true}}, {"jsonBody": obj{"enabled": true}}}}}},
		})
	}

	person := obj{"login": "fz.new", "name": "范新人", "roles": []string{"employee"}, "department": "客服部",
		"manager": "fz.mgr", "hired": "2026-11-02", "email": "fz.new@example.com"}
	path := func(id, key, value string) obj {
		return obj{"openApiOperationId": id, "overwriteRequestPathVariables": []obj{{"key": key, "value": value, "overwrite": true}}}
	}
	body := func(id string, v any) obj {
		return obj{"openApiOperationId": id, "overwriteRequestBody": []obj{{"key": ".", "value": v, "overwrite": true}}}
	}
	query := func(id string, kv ...string) obj {
		var qs []obj
		for i := 0; i+1 < len(kv); i += 2 {
			qs = append(qs, obj{"key": kv[i], "value": kv[i+1], "overwrite": true})
		}
		return obj{"openApiOperationId": id, "overwriteRequestQueryParams": qs}
	}
	overwrites := []obj{
		path("getLesson", "slug", drawSlug), path("markLessonRead", "slug", drawSlug), path("startAttempt", "slug", drawSlug),
		path("submitAttempt", "id", "{{attemptId}}"), path("acknowledgeLesson", "slug", signSlug),
		body("acknowledgeLesson", obj{"version": 1, "signature": r.fullName}),
		path("getDraft", "slug", signSlug), path("listLessonVersions", "slug", signSlug), path("getLessonAnalytics", "slug", signSlug),
		path("saveDraft", "slug", signSlug), body("saveDraft", obj{"files": files.Files, "quiz": files.Quiz}),
		path("publishLesson", "slug", signSlug), body("publishLesson", obj{"kind": "minor", "note": "fuzz-api run", "grace_days": 14}),
		path("getUser", "login", "fz.emp"), body("upsertUser", person),
		path("replaceUser", "login", "fz.new"), body("replaceUser", person),
		body("syncUsers", obj{"users": []obj{person}, "deactivate_missing": false}),
		query("syncUsers", "deactivate_missing", "false"),
		path("deactivateUser", "login", "fz.leaver"),
		query("getTeamReport", "manager", "fz.mgr"),
		query("listUsers", "department", "客服部", "active", "true"),
		query("exportReceipts", "since", "2026-01-01", "lesson", signSlug),
		query("exportAudit", "since", "2026-01-01T00:00:00Z"),
	}
	if r.name == "hr" || r.name == "admin" {
		overwrites = append(overwrites, query("getTeamReport", "department", "客服部"))
	}
	var orderOps []string
	for _, id := range order {
		if o, ok := ops[id]; ok {
			orderOps = append(orderOps, o.method+"::"+o.path)
		}
	}
	return obj{
		"version": 1.0,
		"tests":   obj{"contractTests": contract, "variationTests": variations},
		"assignVariables": []obj{{"openApiOperationId": "startAttempt",
			"collectionVariables": []obj{{"responseBodyProp": "id", "name": "attemptId"}}}},
		"overwrites": overwrites,
		"globals": obj{
			// The generated requests name the token {{bearerToken}}: given
			// here, every request carries the role's token.
			"collectionVariables": obj{"bearerToken": r.token},
			"securityOverwrites":  obj{"bearer": obj{"token": r.token}},
			"orderOfOperations":   orderOps,
		},
	}, nil
}

// summary is what one role's run found.
type summary struct {
	requests, assertions int
	statuses             string
	failures             []string
}

// portman converts the document into a collection for r, runs it with
// Newman and reads Newman's JSON report.
func (f *fuzz) portman(r role, d openAPIDoc, draft []byte) (*summary, error) {
	cfg, err := config(r, d, draft)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(f.dir, r.name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	cfgPath, report := filepath.Join(dir, "portman-config.json"), filepath.Join(dir, "newman.json")
	if err := writeJSON(cfgPath, cfg); err != nil {
		return nil, err
	}
	// Portman stops Newman at the first failure unless told otherwise: every
	// request must run so that the report has every finding.
	newman, err := json.Marshal(obj{"reporters": []string{"json"}, "reporter": obj{"json": obj{"export": report}},
		"timeoutRequest": 30000, "abortOnFailure": false})
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(filepath.Join(f.node, ".bin", "portman"), "-l", filepath.Join(f.dir, "openapi.json"),
		"-b", f.base+"/api/v1", "-c", cfgPath, "-o", filepath.Join(dir, "collection.json"),
		"--runNewman", "--newmanRunOptions", string(newman), "--includeTests", "true")
	cmd.Dir = dir
	out, runErr := cmd.CombinedOutput()
	if err := os.WriteFile(filepath.Join(dir, "portman.log"), out, 0o600); err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(report)
	if err != nil {
		return nil, fmt.Errorf("portman wrote no Newman report (%v):\n%s", runErr, tail(string(out), 30))
	}
	return judge(raw, d)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// newmanReport is the part of Newman's JSON report the driver reads.
type newmanReport struct {
	Run struct {
		Stats map[string]struct {
			Total  int `json:"total"`
			Failed int `json:"failed"`
		} `json:"stats"`
		Executions []struct {
			Item struct {
				Name string `json:"name"`
			} `json:"item"`
			Request struct {
				Method string `json:"method"`
				URL    struct {
					Path []string `json:"path"`
				} `json:"url"`
			} `json:"request"`
			Response struct {
				Code int `json:"code"`
			} `json:"response"`
			Assertions []struct {
				Assertion string `json:"assertion"`
				Error     *struct {
					Message string `json:"message"`
				} `json:"error"`
			} `json:"assertions"`
		} `json:"executions"`
	} `json:"run"`
}

// judge turns a Newman report into findings: failed assertions, server
// errors, and statuses the document does not list for the operation.
func judge(raw []byte, d openAPIDoc) (*summary, error) {
	var rep newmanReport
	if err := json.Unmarshal(raw, &rep); err != nil {
		return nil, fmt.Errorf("the Newman report: %w", err)
	}
	s := &summary{requests: rep.Run.Stats["requests"].Total, assertions: rep.Run.Stats["assertions"].Total}
	statuses := map[int]int{}
	templates := map[string]*regexp.Regexp{}
	for path := range d.Paths {
		var re strings.Builder
		for i, part := range strings.Split(path, "/") {
			if i > 0 {
				re.WriteString("/")
			}
			if strings.HasPrefix(part, "{") {
				re.WriteString("[^/]+")
			} else {
				re.WriteString(regexp.QuoteMeta(part))
			}
		}
		templates[path] = regexp.MustCompile("^/api/v1" + re.String() + "$")
	}
	for _, e := range rep.Run.Executions {
		code := e.Response.Code
		statuses[code]++
		where := fmt.Sprintf("%s %s [%s]", e.Request.Method, "/"+strings.Join(e.Request.URL.Path, "/"), e.Item.Name)
		if strings.Contains(e.Item.Name, "[fuzz]") && code < 400 {
			s.failures = append(s.failures, fmt.Sprintf("%s accepted a fuzzed body with %d", where, code))
		}
		if code >= 500 || code == 0 {
			s.failures = append(s.failures, fmt.Sprintf("%s answered %d", where, code))
		}
		for _, a := range e.Assertions {
			if a.Error != nil {
				s.failures = append(s.failures, fmt.Sprintf("%s (%d): %s: %s", where, code, a.Assertion, a.Error.Message))
			}
		}
		documented := false
		for path, re := range templates {
			if !re.MatchString("/" + strings.Join(e.Request.URL.Path, "/")) {
				continue
			}
			if op, ok := d.Paths[path][strings.ToLower(e.Request.Method)]; ok {
				_, documented = op.Responses[strconv.Itoa(code)]
				if code >= 500 {
					documented = true // reported above
				}
			}
		}
		if !documented {
			s.failures = append(s.failures, fmt.Sprintf("%s answered %d, which the document does not list", where, code))
		}
	}
	var parts []string
	for _, c := range slices.Sorted(maps.Keys(statuses)) {
		parts = append(parts, fmt.Sprintf("%d×%d", statuses[c], c))
	}
	s.statuses = strings.Join(parts, " ")
	return s, nil
}
