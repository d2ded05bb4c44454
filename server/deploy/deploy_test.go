package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// instruction is one line of a Dockerfile, continuations joined.
type instruction struct {
	cmd, args string
	line      int
}

// readDockerfile splits a Dockerfile into instructions: comments and blank
// lines dropped, lines ending in a backslash joined, as docker reads it.
func readDockerfile(t *testing.T, path string) []instruction {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []instruction
	var cur strings.Builder
	start := 0
	for i, line := range strings.Split(string(raw), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start})
		cur.Reset()
	}
	if cur.Len() > 0 {
		t.Fatalf("%s ends in a continuation", path)
	}
	return out
}

// pinned: an image with a version tag or a digest, never latest.
var pinned = regexp.MustCompile(`^[a-z0-9./-]+(:[a-z0-9._-]*[0-9][a-z0-9._-]*)?(@sha256:[0-9a-f]{64})?$`)

// TestDockerfileRules lints the Dockerfile for what a container of the
// portal must be: multi-stage, base images pinned, a static build
// (CGO_ENABLED=0), a final stage that runs as a non-root user, keeps its
// data in a volume and checks its health on /healthz.
func TestDockerfileRules(t *testing.T) {
	ins := readDockerfile(t, "Dockerfile")
	var stages [][]instruction
	for _, in := range ins {
		switch in.cmd {
		case "FROM":
			image := strings.Fields(in.args)[0]
			if image != "scratch" && (!pinned.MatchString(image) || !strings.ContainsAny(image, ":@") || strings.HasSuffix(image, ":latest")) {
				t.Errorf("line %d: base image %q is not pinned to a version", in.line, image)
			}
			stages = append(stages, nil)
		case "RUN", "COPY", "USER", "ENV", "VOLUME", "HEALTHCHECK", "ENTRYPOINT", "CMD", "EXPOSE", "WORKDIR", "ARG":
			if len(stages) == 0 {
				if in.cmd != "ARG" {
					t.Fatalf("line %d: %s before FROM", in.line, in.cmd)
				}
				continue
			}
			stages[len(stages)-1] = append(stages[len(stages)-1], in)
		default:
			t.Errorf("line %d: instruction %s is not one this lint knows", in.line, in.cmd)
		}
	}
	if len(stages) < 2 {
		t.Fatalf("%d stage(s): the image is to be built in one stage and run from another", len(stages))
	}
	build := buildCommand(t)
	if !strings.Contains(build, "CGO_ENABLED=0") || !strings.Contains(build, "-trimpath") {
		t.Errorf("the build is not static and reproducible: %s", build)
	}
	final := stages[len(stages)-1]
	last := func(cmd string) string {
		v := ""
		for _, in := range final {
			if in.cmd == cmd {
				v = in.args
			}
		}
		return v
	}
	if u := strings.Split(last("USER"), ":")[0]; u == "" || u == "0" || u == "root" {
		t.Errorf("the final stage runs as %q; want an unprivileged user", last("USER"))
	}
	if hc := last("HEALTHCHECK"); !strings.Contains(hc, `"healthcheck"`) || strings.Contains(hc, "--ready") {
		t.Errorf("HEALTHCHECK %q: want the portal's healthcheck of /healthz (readiness would restart it on a database outage)", hc)
	}
	if v := last("VOLUME"); !strings.Contains(v, `"/data"`) || !strings.Contains(last("ENV"), "PORTAL_DATA=/data") {
		t.Errorf("the data are not in the volume: VOLUME %q, ENV %q", v, last("ENV"))
	}
	if ep := last("ENTRYPOINT"); !strings.HasPrefix(ep, "[") {
		t.Errorf("ENTRYPOINT %q: want the exec form, so SIGTERM reaches the portal", ep)
	}
	for _, in := range final {
		if in.cmd == "COPY" && strings.Contains(in.args, "/data") && !strings.Contains(in.args, "--chown=65532") {
			t.Errorf("line %d: the data folder is not the portal user's", in.line)
		}
	}
}

// buildCommand is the Dockerfile's go build, with its ARGs as the test
// sets them and the output in out.
func buildCommand(t *testing.T) string {
	t.Helper()
	for _, in := range readDockerfile(t, "Dockerfile") {
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			return in.args
		}
	}
	t.Fatal("the Dockerfile has no go build")
	return ""
}

// The values the test passes as the Dockerfile's build arguments.
const (
	testVersion = "v1.8.0-test"
	testCommit  = "0123456789abcdef0123456789abcdef01234567"
	testDate    = "2026-12-02T12:00:00Z"
)

// portalBinary builds the portal once per test run, with the command of
// the Dockerfile (its ARGs given), and returns its path.
var portalBinary = func() func(t *testing.T) string {
	var path string
	var err error
	var built bool
	return func(t *testing.T) string {
		t.Helper()
		if !built {
			built = true
			path, err = build(t)
		}
		if err != nil {
			t.Fatal(err)
		}
		return path
	}
}()

func build(t *testing.T) (string, error) {
	cmd := buildCommand(t)
	if !strings.Contains(cmd, "-o /out/portal ") {
		return "", fmt.Errorf("the Dockerfile's build does not write /out/portal: %s", cmd)
	}
	dir, err := os.MkdirTemp("", "portal-deploy-")
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "portal")
	cmd = strings.Replace(cmd, "-o /out/portal ", "-o "+out+" ", 1)
	sh := exec.Command("sh", "-c", cmd) // #nosec G204 -- the repository's own Dockerfile
	sh.Dir = filepath.Join("..", "..")
	sh.Env = append(os.Environ(), "VERSION="+testVersion, "COMMIT="+testCommit, "BUILD_DATE="+testDate)
	if msg, err := sh.CombinedOutput(); err != nil {
		return "", fmt.Errorf("the Dockerfile's build failed: %v\n%s", err, msg)
	}
	return out, nil
}

// TestBinaryAsTheDockerfileBuildsIt: the binary of the Dockerfile's build
// is static, prints the version it was given, starts, serves /readyz, passes
// its own HEALTHCHECK command, and stops cleanly on SIGTERM.
func TestBinaryAsTheDockerfileBuildsIt(t *testing.T) {
	bin := portalBinary(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the binary asks for a dynamic loader: not static, it would not run on an empty image")
		}
	}
	f.Close()
	out, err := exec.Command(bin, "version").Output() // #nosec G204 -- the binary this test built
	if err != nil || !strings.Contains(string(out), "Conduct Portal "+testVersion) ||
		!strings.Contains(string(out), "commit: "+testCommit) || !strings.Contains(string(out), "built:  "+testDate) {
		t.Fatalf("portal version: %v\n%s", err, out)
	}

	data := t.TempDir()
	srv := exec.Command(bin, "serve") // #nosec G204 -- the binary this test built
	srv.Env = append(os.Environ(), "PORTAL_ADDR=127.0.0.1:0", "PORTAL_DATA="+data, "MONGODB_URI=", "PORTAL_CONTENT=")
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	srv.Stderr = &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, a, ok := strings.Cut(sc.Text(), "serving on http://"); ok {
				addr <- a
			}
		}
		close(addr)
	}()
	var base string
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatalf("the portal stopped before serving:\n%s", logs.String())
		}
		base = "http://" + a
	case <-time.After(60 * time.Second):
		t.Fatalf("the portal did not start within 60 s:\n%s", logs.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("/readyz never answered 200 (%v):\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	u, _ := url.Parse(base)
	for _, args := range [][]string{{"healthcheck", "--addr", u.Host}, {"healthcheck", "--ready", "--addr", u.Host}} {
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil { // #nosec G204 -- the binary this test built
			t.Fatalf("portal %v: %v\n%s", args, err, out)
		}
	}
	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := srv.Wait(); err != nil {
		t.Fatalf("the portal did not stop cleanly on SIGTERM: %v\n%s", err, logs.String())
	}
	if out, err := exec.Command(bin, "healthcheck", "--addr", u.Host).CombinedOutput(); err == nil { // #nosec G204 -- the binary this test built
		t.Fatalf("healthcheck passed with the portal stopped: %s", out)
	}
}

// TestSystemdUnit: systemd-analyze verifies the unit (with ExecStart on the
// binary built here), its offline security review rates it OK, and the
// hardening the README promises is there.
func TestSystemdUnit(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatal("systemd-analyze is needed (apt-get install systemd; .ci/run installs it)")
	}
	raw, err := os.ReadFile("conduct-portal.service")
	if err != nil {
		t.Fatal(err)
	}
	unit := string(raw)
	for _, want := range []string{"DynamicUser=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/conduct-portal",
		"Environment=PORTAL_DATA=/var/lib/conduct-portal", "Restart=on-failure", "NoNewPrivileges=yes",
		"CapabilityBoundingSet=\n", "ExecStart=/usr/local/bin/portal serve"} {
		if !strings.Contains(unit, want) {
			t.Errorf("the unit lacks %q", strings.TrimSpace(want))
		}
	}
	copyPath := filepath.Join(t.TempDir(), "conduct-portal.service")
	unit = strings.Replace(unit, "ExecStart=/usr/local/bin/portal", "ExecStart="+portalBinary(t), 1)
	if err := os.WriteFile(copyPath, []byte(unit), 0o600); err != nil {
		t.Fatal(err)
	}
	// The backup service and its timer, beside it (the timer names the
	// service, the service the unit).
	dir := filepath.Dir(copyPath)
	for _, name := range []string{"conduct-portal-backup.service", "conduct-portal-backup.timer"} {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(string(raw), "/usr/local/bin/portal", portalBinary(t))
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	backupUnit, _ := os.ReadFile("conduct-portal-backup.service")
	for _, want := range []string{"User=conduct-portal\n", "ExecStopPost=+/bin/systemctl start conduct-portal.service", "portal backup ", "Environment=PORTAL_DATA=/var/lib/conduct-portal\n"} {
		if !strings.Contains(string(backupUnit), want) {
			t.Errorf("the backup unit lacks %q", strings.TrimSpace(want))
		}
	}
	out, err := exec.Command(analyze, "verify", copyPath, filepath.Join(dir, "conduct-portal-backup.service"), // #nosec G204 -- systemd-analyze on the test's own copies
		filepath.Join(dir, "conduct-portal-backup.timer")).CombinedOutput()
	if err != nil || strings.Contains(string(out), "conduct-portal") {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err = exec.Command(analyze, "security", "--offline=true", copyPath).CombinedOutput() // #nosec G204 -- as above
	m := regexp.MustCompile(`Overall exposure level for [^:]+: ([0-9.]+) (\w+)`).FindStringSubmatch(string(out))
	if err != nil || m == nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	if score, _ := strconv.ParseFloat(m[1], 64); score > 2.0 || m[2] != "OK" {
		t.Errorf("the unit's exposure is %s %s; want OK, at most 2.0", m[1], m[2])
	}
	t.Logf("systemd-analyze security: exposure %s %s", m[1], m[2])
}

// TestComposeFile parses the compose file: the portal reaches all three
// members of the replica set with majority, journaled writes, the members
// form rs0, images are pinned, and the portal waits for the set.
func TestComposeFile(t *testing.T) {
	raw, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Build       map[string]string `yaml:"build"`
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			Ports       []string          `yaml:"ports"`
			DependsOn   map[string]struct {
				Condition string `yaml:"condition"`
			} `yaml:"depends_on"`
			Volumes []string `yaml:"volumes"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	portal, ok := c.Services["portal"]
	if !ok {
		t.Fatal("no portal service")
	}
	if df := portal.Build["dockerfile"]; df != "server/deploy/Dockerfile" || portal.Build["context"] != "../.." {
		t.Errorf("the portal is not built from this Dockerfile: %v", portal.Build)
	}
	u, err := url.Parse(portal.Environment["MONGODB_URI"])
	if err != nil || u.Scheme != "mongodb" || u.Path != "/portal" {
		t.Fatalf("MONGODB_URI %q: %v", portal.Environment["MONGODB_URI"], err)
	}
	q := u.Query()
	if q.Get("replicaSet") != "rs0" || q.Get("w") != "majority" || q.Get("journal") != "true" {
		t.Errorf("MONGODB_URI %s: want replicaSet=rs0, w=majority, journal=true", u)
	}
	var members []string
	for _, h := range strings.Split(u.Host, ",") {
		name, port, _ := strings.Cut(h, ":")
		if port != "27017" {
			t.Errorf("member %s: want port 27017", h)
		}
		members = append(members, name)
		m, ok := c.Services[name]
		if !ok {
			t.Fatalf("MONGODB_URI names %s, which is no service", name)
		}
		if !slices.Equal(m.Command, []string{"mongod", "--replSet", "rs0", "--bind_ip_all"}) || len(m.Volumes) != 1 {
			t.Errorf("%s: command %v, volumes %v; want a member of rs0 with its own volume", name, m.Command, m.Volumes)
		}
	}
	if len(members) != 3 {
		t.Errorf("the replica set has %d members; want 3", len(members))
	}
	initCmd := strings.Join(c.Services["mongo-init"].Command, " ")
	for _, m := range members {
		if !strings.Contains(initCmd, m+":27017") {
			t.Errorf("mongo-init does not add %s to the set", m)
		}
	}
	if portal.DependsOn["mongo-init"].Condition != "service_completed_successfully" {
		t.Errorf("the portal does not wait for the replica set: %v", portal.DependsOn)
	}
	if !strings.HasPrefix(portal.Environment["PORTAL_SECRET_KEY"], "${PORTAL_SECRET_KEY:?") {
		t.Errorf("PORTAL_SECRET_KEY must be required, not defaulted: %q", portal.Environment["PORTAL_SECRET_KEY"])
	}
	for _, p := range portal.Ports {
		if !strings.HasPrefix(p, "127.0.0.1:") {
			t.Errorf("port %s is published on every address; the reverse proxy is the way in", p)
		}
	}
	for name, s := range c.Services {
		if s.Image != "" && name != "portal" && (!pinned.MatchString(s.Image) || !strings.Contains(s.Image, ":")) {
			t.Errorf("%s: image %q is not pinned to a version", name, s.Image)
		}
	}
}

// TestNginxExample: the reverse proxy passes the client's address the
// way the portal reads it, and says which settings go with it.
func TestNginxExample(t *testing.T) {
	raw, err := os.ReadFile("nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	conf := string(raw)
	for _, want := range []string{"PORTAL_TRUSTED_PROXIES=127.0.0.1", "PORTAL_COOKIE_SECURE=true", "PORTAL_BASE_URL=https://",
		"proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;", "proxy_set_header Host $host;",
		"server 127.0.0.1:8080;", "return 301 https://", "location = /metrics"} {
		if !strings.Contains(conf, want) {
			t.Errorf("nginx.conf lacks %q", want)
		}
	}
	if strings.Count(conf, "{") != strings.Count(conf, "}") {
		t.Error("nginx.conf: unbalanced braces")
	}
	for i, line := range strings.Split(conf, "\n") {
		l := strings.TrimSpace(line)
		if l == "" || strings.HasPrefix(l, "#") || strings.HasSuffix(l, "{") || l == "}" {
			continue
		}
		if !strings.HasSuffix(l, ";") {
			t.Errorf("nginx.conf line %d: a directive without ';': %s", i+1, l)
		}
	}
}
