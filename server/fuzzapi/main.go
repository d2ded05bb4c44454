// Command fuzzapi judges the API with checkers we did not write: Redocly
// lints the OpenAPI document the portal serves, and Portman turns it into
// contract and fuzz tests that Newman runs against the real binary, once
// for a token of each role. "make fuzz-api" installs the pinned npm packages
// and runs it; it listens and calls on loopback only.
//
//	go run ./server/fuzzapi -bin bin/portal -node build/fuzz-api/node_modules
//
// It fails on any Redocly error or warning, any 5xx, any failed Portman
// assertion (status, content type, JSON body, the response schema of the
// status answered) and any status the document does not list for the
// operation.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	portal "conductportal"
	"conductportal/server/quiz"
)

func main() {
	bin := flag.String("bin", "bin/portal", "the portal binary")
	node := flag.String("node", "build/fuzz-api/node_modules", "where make fuzz-api installed the npm packages")
	keep := flag.Bool("keep", false, "keep the temporary folder (collections, reports, server log)")
	flag.Parse()
	if err := run(*bin, *node, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "fuzz-api: FAIL:", err)
		os.Exit(1)
	}
}

// role is a token holder and what the document lets them call.
type role struct {
	name, login, token string
	fullName           string // as the person signs
	// allowed are the operationIds this role may call; every other
	// operation with a scope is expected to answer 403.
	allowed []string
}

var (
	learnerOps = []string{"getMe", "listMyLessons", "listMyReceipts", "getLesson", "markLessonRead", "startAttempt",
		"submitAttempt", "acknowledgeLesson", "getOpenAPIDocument"}
	contentOps = []string{"listLessons", "getDraft", "listLessonVersions", "getLessonAnalytics", "saveDraft", "publishLesson"}
	userOps    = []string{"listUsers", "getUser", "upsertUser", "replaceUser", "syncUsers", "deactivateUser"}
)

// Lessons the learner steps use: a quiz is drawn and failed on one, and the
// other is passed before the run so that it can be signed.
const (
	drawSlug = "dress"
	signSlug = "attendance"
)

type fuzz struct {
	bin, node, dir, data, base string
	log                        *os.File
}

func run(bin, node string, keep bool) error {
	started := time.Now()
	node, err := filepath.Abs(node)
	if err != nil {
		return err
	}
	for _, tool := range []string{"portman", "redocly"} {
		if _, err := os.Stat(filepath.Join(node, ".bin", tool)); err != nil {
			return fmt.Errorf("%s is not installed under %s (make fuzz-api installs it): %w", tool, node, err)
		}
	}
	dir, err := os.MkdirTemp("", "portal-fuzz-api-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Println("fuzz-api: keeping", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	f := &fuzz{bin: bin, node: node, dir: dir, data: filepath.Join(dir, "data")}
	if f.log, err = os.Create(filepath.Join(dir, "server.log")); err != nil {
		return err
	}
	defer f.log.Close()

	roles, err := f.accounts()
	if err != nil {
		return err
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	f.base = "http://" + addr
	srv, err := f.serve(addr)
	if err != nil {
		return err
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()

	doc, err := f.get("/api/v1/openapi.json", "")
	if err != nil {
		return err
	}
	docPath := filepath.Join(dir, "openapi.json")
	if err := os.WriteFile(docPath, doc, 0o600); err != nil {
		return err
	}
	var problems []string
	if err := f.lint(docPath); err != nil {
		problems = append(problems, err.Error())
	}

	var spec openAPIDoc
	if err := json.Unmarshal(doc, &spec); err != nil {
		return fmt.Errorf("the served document: %w", err)
	}
	draft, err := f.get("/api/v1/lessons/"+signSlug+"/draft", roles[2].token)
	if err != nil {
		return err
	}
	for _, r := range roles {
		if err := f.passQuiz(r); err != nil {
			return err
		}
		sum, err := f.portman(r, spec, draft)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", r.name, err))
			continue
		}
		fmt.Printf("fuzz-api: %-8s %4d requests, %4d assertions, %d failed; statuses %s\n",
			r.name, sum.requests, sum.assertions, len(sum.failures), sum.statuses)
		for _, p := range sum.failures {
			problems = append(problems, r.name+": "+p)
		}
	}
	fmt.Printf("fuzz-api: %s in all\n", time.Since(started).Round(time.Second))
	if len(problems) > 0 {
		return fmt.Errorf("%d findings:\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
	fmt.Println("fuzz-api: clean: Redocly 0 errors and 0 warnings; Portman 0 failures, 0 server errors, 0 undocumented statuses for every role")
	return nil
}

// accounts makes a person of each role with a token, while the server is
// stopped (the embedded database is locked by a running one).
func (f *fuzz) accounts() ([]role, error) {
	people := []struct{ login, name, roles, extra string }{
		{"fz.mgr", "范经理", "manager", ""},
		{"fz.emp", "范员工", "employee", "fz.mgr"},
		{"fz.hr", "范人事", "hr", ""},
		{"fz.admin", "范管理", "admin", ""},
		{"fz.leaver", "范离职", "employee", ""},
	}
	tokens, names := map[string]string{}, map[string]string{}
	for _, p := range people {
		names[p.login] = p.name
		args := []string{"user", "add", "--login", p.login, "--name", p.name, "--role", p.roles, "--department", "客服部", "--password-stdin"}
		if p.extra != "" {
			args = append(args, "--manager", p.extra)
		}
		if _, err := f.cli("a long enough password\n", args...); err != nil {
			return nil, err
		}
		out, err := f.cli("", "token", "create", "--login", p.login, "--name", "fuzz-api")
		if err != nil {
			return nil, err
		}
		tokens[p.login] = strings.TrimSpace(out)
	}
	hrOps := slices.Concat(learnerOps, contentOps, userOps, []string{"getTeamReport", "getOrganisationReport", "exportReceipts", "exportAudit", "listCheckpoints"})
	adminOps := slices.Concat(learnerOps, contentOps, userOps, []string{"exportAudit", "listCheckpoints"})
	return []role{
		{name: "employee", login: "fz.emp", token: tokens["fz.emp"], fullName: names["fz.emp"], allowed: learnerOps},
		{name: "manager", login: "fz.mgr", token: tokens["fz.mgr"], fullName: names["fz.mgr"], allowed: slices.Concat(learnerOps, []string{"getTeamReport"})},
		{name: "hr", login: "fz.hr", token: tokens["fz.hr"], fullName: names["fz.hr"], allowed: hrOps},
		{name: "admin", login: "fz.admin", token: tokens["fz.admin"], fullName: names["fz.admin"], allowed: adminOps},
	}, nil
}

func (f *fuzz) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PORTAL_") && !strings.HasPrefix(kv, "MONGODB_URI=") {
			env = append(env, kv)
		}
	}
	return append(env, "PORTAL_DATA="+f.data)
}

func (f *fuzz) cli(stdin string, args ...string) (string, error) {
	cmd := exec.Command(f.bin, args...)
	cmd.Env = f.env()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("portal %s: %w: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func (f *fuzz) serve(addr string) (*exec.Cmd, error) {
	cmd := exec.Command(f.bin, "serve")
	cmd.Env = append(f.env(), "PORTAL_ADDR="+addr)
	cmd.Stdout, cmd.Stderr = f.log, f.log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if res, err := c.Get(f.base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return cmd, nil
			}
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return nil, errors.New("the server did not become ready in 60 s; see its log with -keep")
}

// call makes one API request with a token and decodes a JSON answer.
func (f *fuzz) call(method, path, token string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, f.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

func (f *fuzz) get(path, token string) ([]byte, error) {
	st, b, err := f.call(http.MethodGet, path, token, nil)
	if err == nil && st != http.StatusOK {
		err = fmt.Errorf("GET %s: %d %s", path, st, b)
	}
	return b, err
}

// passQuiz reads signSlug and passes its quiz as r, so that Portman's
// acknowledgement reaches the signature instead of "quiz not passed".
func (f *fuzz) passQuiz(r role) error {
	qs, err := quiz.LoadDir(portal.Assets, "quizzes")
	if err != nil {
		return err
	}
	q := qs[signSlug]
	if st, b, err := f.call(http.MethodPost, "/api/v1/lessons/"+signSlug+"/read", r.token, nil); err != nil || st != http.StatusOK {
		return fmt.Errorf("read %s as %s: %d %s %v", signSlug, r.name, st, b, err)
	}
	st, b, err := f.call(http.MethodPost, "/api/v1/lessons/"+signSlug+"/attempts", r.token, nil)
	if err != nil || st != http.StatusCreated {
		return fmt.Errorf("attempt %s as %s: %d %s %v", signSlug, r.name, st, b, err)
	}
	var at struct {
		ID        string `json:"id"`
		Questions []struct {
			ID string `json:"id"`
		} `json:"questions"`
	}
	if err := json.Unmarshal(b, &at); err != nil {
		return err
	}
	answers := map[string][]string{}
	for _, qq := range at.Questions {
		question, ok := q.Question(qq.ID)
		if !ok {
			return fmt.Errorf("question %s is not in the shipped quiz %s", qq.ID, signSlug)
		}
		answers[qq.ID] = question.Answer
	}
	st, b, err = f.call(http.MethodPost, "/api/v1/attempts/"+at.ID+"/submit", r.token, map[string]any{"answers": answers})
	if err != nil || st != http.StatusOK || !bytes.Contains(b, []byte(`"passed":true`)) {
		return fmt.Errorf("submit %s as %s: %d %s %v", signSlug, r.name, st, b, err)
	}
	return nil
}

// lint runs Redocly's recommended rules; any error or warning fails.
func (f *fuzz) lint(doc string) error {
	cmd := exec.Command(filepath.Join(f.node, ".bin", "redocly"), "lint", "--extends", "recommended", "--format", "stylish", doc)
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true")
	out, err := cmd.CombinedOutput()
	findings := regexp.MustCompile(`(?m)^\s+\d+:\d+\s+(error|warning)\s+.*$`).FindAllString(string(out), -1)
	fmt.Printf("fuzz-api: redocly lint (recommended): %d findings\n", len(findings))
	if err != nil || len(findings) > 0 {
		return fmt.Errorf("redocly lint: %v\n%s", err, strings.Join(findings, "\n"))
	}
	return nil
}
