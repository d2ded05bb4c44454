package cli_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"conductportal/server/cli"
	"conductportal/server/testkit"
)

// TestServeAddrLinks: "portal serve --addr" on a port of its own, with
// neither PORTAL_ADDR nor PORTAL_BASE_URL set: the admin's settings page
// says the base URL is that address (and where it came from), and the test
// message sent from there links to it, not to port 8080.
func TestServeAddrLinks(t *testing.T) {
	mb := testkit.StartSMTP(t)
	dir := filepath.Join(t.TempDir(), "data")
	for k, v := range map[string]string{"PORTAL_ADDR": "", "PORTAL_BASE_URL": "", "MONGODB_URI": "", "PORTAL_SMTP_URL": mb.URL,
		"PORTAL_REMINDER_JOB": "off", "PORTAL_DELIVERY_WORKER": "off", "PORTAL_CHECKPOINT_JOB": "off"} {
		t.Setenv(k, v)
	}
	const pw = "settings page password"
	code, _, errs := runCLIStdin(t, dir, pw+"\n", "user", "add", "--login", "boss", "--name", "管理员", "--role", "admin", "--email", "boss@example.com", "--password-stdin")
	if code != 0 {
		t.Fatalf("user add: %d %s", code, errs)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, []string{"serve", "--addr", addr}, strings.NewReader(""), io.Discard, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve ended with %d", code)
		}
	})
	base := "http://" + addr
	for up := false; !up; {
		select {
		case code := <-done:
			t.Fatalf("serve --addr %s ended with %d", addr, code)
		case <-time.After(50 * time.Millisecond):
		}
		if res, err := http.Get(base + "/healthz"); err == nil {
			res.Body.Close()
			up = res.StatusCode == http.StatusOK
		}
	}

	br := newBrowser(t, base)
	expect(t, br.post("/login", "/login", url.Values{"login": {"boss"}, "password": {pw}}), http.StatusSeeOther, "/")
	page := br.get("/admin/settings")
	if page.status != http.StatusOK {
		t.Fatalf("settings: %d %.400s", page.status, page.body)
	}
	row := func(key string) string {
		_, after, ok := strings.Cut(page.body, `<tr id="setting-`+key+`">`)
		before, _, _ := strings.Cut(after, "</tr>")
		if !ok {
			t.Fatalf("no %s row on the settings page", key)
		}
		return before
	}
	if r := row("base_url"); !strings.Contains(r, "<code>"+base+"</code>") || !strings.Contains(r, "实际监听的地址") {
		t.Errorf("base URL row: %s", r)
	}
	if r := row("addr"); !strings.Contains(r, "<code>"+addr+"</code>") || !strings.Contains(r, "serve --addr") {
		t.Errorf("address row: %s", r)
	}

	sent := br.post("/admin/settings", "/admin/settings/test", url.Values{})
	if sent.status != http.StatusOK || !strings.Contains(sent.body, "测试邮件已发送到 boss@example.com") {
		t.Fatalf("test message: %d %.600s", sent.status, sent.body)
	}
	mails := mb.WaitMails(1)
	if len(mails) != 1 || mails[0].To[0] != "boss@example.com" || !strings.Contains(mails[0].Body, base+"/") || strings.Contains(mails[0].Body, ":8080") {
		t.Fatalf("the test message: %+v", mails)
	}
}

// runCLIStdin is runCLI with standard input.
func runCLIStdin(t *testing.T, dataDir, stdin string, args ...string) (int, string, string) {
	t.Helper()
	t.Setenv("PORTAL_DATA", dataDir)
	var out, errb strings.Builder
	code := cli.Run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}
