package web_test

import (
	"bytes"
	"context"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"
)

// bulkWorld is a small company for the bulk actions: 客服部 has two active
// people, one already exempt from grooming and one turned off; 销售部 one.
type bulkWorld struct {
	p       *testkit.Portal
	hr, emp *caller
	mgr     *caller
}

func newBulkWorld(t *testing.T) *bulkWorld {
	t.Helper()
	p := testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard)
	ctx := context.Background()
	const pw = "bulk test password"
	users := map[string]*model.User{}
	for _, nu := range []auth.NewUser{
		{Login: "hr", Name: "人事", Roles: []string{model.RoleHR}},
		{Login: "mgr", Name: "经理", Roles: []string{model.RoleManager}, Department: "客服部"},
		{Login: "a1", Name: "甲一", Department: "客服部", Manager: "mgr"},
		{Login: "a2", Name: "甲二", Department: "客服部", Manager: "mgr"},
		{Login: "a3", Name: "甲三", Department: "客服部", Manager: "mgr"},
		{Login: "a4", Name: "甲四", Department: "客服部", Manager: "mgr"},
		{Login: "b1", Name: "乙一", Department: "销售部"},
	} {
		nu.Password = pw
		u, err := p.Auth.CreateUser(ctx, nu)
		if err != nil {
			t.Fatal(err)
		}
		users[nu.Login] = u
	}
	if err := p.Training.SetException(ctx, users["hr"], users["a3"], "grooming", "exempt", time.Time{}, "派遣人员"); err != nil {
		t.Fatal(err)
	}
	if err := p.Auth.Deactivate(ctx, users["a4"]); err != nil {
		t.Fatal(err)
	}
	return &bulkWorld{p: p, hr: newCaller(t, p.Base, "hr", pw), emp: newCaller(t, p.Base, "a1", pw), mgr: newCaller(t, p.Base, "mgr", pw)}
}

// exceptions returns each login's exception for slug (nil: none), read
// from the database, not the portal's memory.
func (w *bulkWorld) exceptions(t *testing.T, slug string, logins ...string) map[string]*model.Exception {
	t.Helper()
	out := map[string]*model.Exception{}
	for _, l := range logins {
		var u model.User
		if err := w.p.DB.Database.Collection("users").FindOne(context.Background(), map[string]string{"login": l}).Decode(&u); err != nil {
			t.Fatal(err)
		}
		if ex, ok := u.Exceptions[slug]; ok {
			out[l] = &ex
		} else {
			out[l] = nil
		}
	}
	return out
}

func (w *bulkWorld) audits(t *testing.T, prefix string) []model.AuditEntry {
	t.Helper()
	es, err := w.p.Audit.Search(context.Background(), model.AuditFilter{Action: prefix}, 100)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func sameExceptions(a, b map[string]*model.Exception) bool {
	if len(a) != len(b) {
		return false
	}
	for k, x := range a {
		y, ok := b[k]
		if !ok || (x == nil) != (y == nil) {
			return false
		}
		if x != nil && (x.Exempt != y.Exempt || x.Assigned != y.Assigned || !x.Until.Equal(y.Until) || x.Reason != y.Reason || x.By != y.By || !x.At.Equal(y.At)) {
			return false
		}
	}
	return true
}

var bulkDone = regexp.MustCompile(`^/hr/bulk/([0-9a-f]{32})\?`)

// confirmBulk posts form confirmed and returns the action's id.
func (w *bulkWorld) confirmBulk(t *testing.T, form url.Values, wantQuery string) string {
	t.Helper()
	form.Set("confirm", "1")
	res := w.hr.postRaw(t, w.p.Base+"/hr/bulk", form)
	loc := res.Header.Get("Location")
	m := bulkDone.FindStringSubmatch(loc)
	if res.StatusCode != http.StatusSeeOther || m == nil || !strings.Contains(loc, wantQuery) {
		t.Fatalf("confirm: %d to %q, want a result page with %s", res.StatusCode, loc, wantQuery)
	}
	return m[1]
}

func (cl *caller) postRaw(t *testing.T, u string, form url.Values) *http.Response {
	t.Helper()
	form.Set("_csrf", cl.csrf)
	res, err := cl.c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// TestBulkExemptPreviewConfirmUndo: a department's exemption is previewed
// (who, who is skipped and why) without changing anything, applied once
// confirmed with one audit entry naming the count and the logins, and
// undone exactly: only the people it exempted go back, the one exempt
// before stays exempt, and a second undo does nothing.
func TestBulkExemptPreviewConfirmUndo(t *testing.T) {
	w := newBulkWorld(t)
	logins := []string{"a1", "a2", "a3", "a4", "b1"}
	before := w.exceptions(t, "grooming", logins...)
	form := url.Values{"lesson": {"grooming"}, "kind": {"exempt"}, "department": {"客服部"}, "reason": {"外包团队另行培训"}}

	st, body := w.hr.post(t, w.p.Base+"/hr/bulk", form)
	if st != http.StatusOK || !strings.Contains(body, `id="confirm-yes"`) {
		t.Fatalf("preview: %d\n%s", st, body)
	}
	body = html.UnescapeString(body)
	for _, want := range []string{"让 3 人免修", "甲一 (a1)", "甲二 (a2)", "经理 (mgr)", "甲三 (a3): 已免修", "甲四 (a4): 账号已停用", "跳过（2 人）"} {
		if !strings.Contains(body, want) {
			t.Errorf("the preview lacks %q", want)
		}
	}
	if strings.Contains(body, "b1") {
		t.Error("the preview names someone of another department")
	}
	if got := w.exceptions(t, "grooming", logins...); !sameExceptions(got, before) {
		t.Fatal("the preview changed exceptions")
	}
	if n := len(w.audits(t, "bulk.")); n != 0 {
		t.Fatalf("the preview wrote %d audit entries", n)
	}

	id := w.confirmBulk(t, form, "m=hr.bulk.done.exempt&n=3")
	st, body = w.hr.get(t, w.p.Base+"/hr/bulk/"+id+"?m=hr.bulk.done.exempt&n=3")
	if st != http.StatusOK || !strings.Contains(body, "已让 3 人免修。") || !strings.Contains(body, `id="bulk-undo"`) {
		t.Fatalf("result page: %d\n%s", st, body)
	}
	after := w.exceptions(t, "grooming", logins...)
	for _, l := range []string{"a1", "a2", "mgr"} {
		ex := w.exceptions(t, "grooming", l)[l]
		if ex == nil || !ex.Exempt || ex.Reason != "外包团队另行培训" || ex.By != "hr" {
			t.Errorf("%s after the exemption: %+v", l, ex)
		}
	}
	if !sameExceptions(map[string]*model.Exception{"a3": after["a3"], "a4": after["a4"], "b1": after["b1"]},
		map[string]*model.Exception{"a3": before["a3"], "a4": before["a4"], "b1": before["b1"]}) {
		t.Error("the exemption changed someone it skipped")
	}
	es := w.audits(t, "bulk.")
	if len(es) != 1 || es[0].Action != "bulk.exempt" || es[0].Target != "grooming" || !strings.Contains(es[0].Detail, "3 people") ||
		!strings.HasSuffix(es[0].Detail, "logins: a1,a2,mgr") || !strings.Contains(es[0].Detail, id) {
		t.Fatalf("audit after the exemption: %+v", es)
	}
	// The learner no longer has the lesson.
	if st, _ := w.emp.get(t, w.p.Base+"/lessons/grooming"); st == http.StatusOK {
		t.Error("an exempted learner still opens the lesson")
	}

	// Undo: asked first, then restored exactly.
	st, body = w.hr.post(t, w.p.Base+"/hr/bulk/"+id+"/undo", url.Values{})
	if st != http.StatusOK || !strings.Contains(body, `id="confirm-yes"`) {
		t.Fatalf("undo question: %d", st)
	}
	if got := w.exceptions(t, "grooming", logins...); !sameExceptions(got, after) {
		t.Fatal("the undo question changed exceptions")
	}
	res := w.hr.postRaw(t, w.p.Base+"/hr/bulk/"+id+"/undo", url.Values{"confirm": {"1"}})
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "a=0&m=hr.bulk.undone&n=3") {
		t.Fatalf("undo: %d %s", res.StatusCode, loc)
	}
	if got := w.exceptions(t, "grooming", logins...); !sameExceptions(got, before) {
		t.Fatalf("after undo: %v, want %v", got, before)
	}
	if st, _ := w.emp.get(t, w.p.Base+"/lessons/grooming"); st != http.StatusOK {
		t.Errorf("after undo the learner opens the lesson: %d", st)
	}
	// Once only.
	res = w.hr.postRaw(t, w.p.Base+"/hr/bulk/"+id+"/undo", url.Values{"confirm": {"1"}})
	if loc := res.Header.Get("Location"); !strings.Contains(loc, "m=hr.bulk.already_undone") {
		t.Fatalf("second undo: %d %s", res.StatusCode, loc)
	}
	if es := w.audits(t, "bulk."); len(es) != 2 || es[0].Action != "bulk.undo" || !strings.Contains(es[0].Detail, "3 restored") {
		t.Fatalf("audit after undo: %+v", es)
	}
	// The page lists the action, undone.
	_, body = w.hr.get(t, w.p.Base+"/hr/bulk")
	if !strings.Contains(body, "/hr/bulk/"+id) || !strings.Contains(body, "已由 hr 于") {
		t.Errorf("the recent actions lack the undone action:\n%s", body)
	}
}

// TestBulkExtendListAndUndoChangedSince: a pasted list (unknown logins
// skipped) extends due dates by N days from each person's due date; an
// undo restores those unchanged since and leaves one HR changed by hand.
func TestBulkExtendListAndUndoChangedSince(t *testing.T) {
	w := newBulkWorld(t)
	ctx := context.Background()
	logins := []string{"a1", "a2", "b1"}
	before := w.exceptions(t, "dress", logins...)
	due := map[string]time.Time{}
	for _, l := range logins {
		u, err := w.p.Auth.UserByLogin(ctx, l)
		if err != nil {
			t.Fatal(err)
		}
		st, err := w.p.Training.Standing(ctx, u, "dress")
		if err != nil {
			t.Fatal(err)
		}
		due[l] = st.Due
	}
	form := url.Values{"lesson": {"dress"}, "kind": {"extend"}, "logins": {"a1, a2\nb1\nnobody"}, "days": {"10"}, "reason": {"系统故障"}}
	st, body := w.hr.post(t, w.p.Base+"/hr/bulk", form)
	body = html.UnescapeString(body)
	if st != http.StatusOK || !strings.Contains(body, "nobody: 没有这个账号") || !strings.Contains(body, "推迟 10 天") {
		t.Fatalf("preview: %d\n%s", st, body)
	}
	id := w.confirmBulk(t, form, "m=hr.bulk.done.extend&n=3")
	got := w.exceptions(t, "dress", logins...)
	for _, l := range logins {
		want := due[l]
		if now := time.Now(); want.Before(now) {
			t.Fatalf("%s is overdue already: the test expects a due date ahead", l)
		}
		if ex := got[l]; ex == nil || !ex.Until.Equal(want.AddDate(0, 0, 10).Truncate(time.Millisecond)) {
			t.Errorf("%s extended to %+v, want %s", l, ex, want.AddDate(0, 0, 10))
		}
	}
	// HR changes b1 by hand afterwards: the undo leaves b1 alone.
	hr, _ := w.p.Auth.UserByLogin(ctx, "hr")
	b1, _ := w.p.Auth.UserByLogin(ctx, "b1")
	if err := w.p.Training.SetException(ctx, hr, b1, "dress", "exempt", time.Time{}, "调岗"); err != nil {
		t.Fatal(err)
	}
	res := w.hr.postRaw(t, w.p.Base+"/hr/bulk/"+id+"/undo", url.Values{"confirm": {"1"}})
	if loc := res.Header.Get("Location"); !strings.Contains(loc, "a=1&m=hr.bulk.undone&n=2") {
		t.Fatalf("undo: %d %s", res.StatusCode, loc)
	}
	after := w.exceptions(t, "dress", logins...)
	if after["a1"] != nil || after["a2"] != nil || before["a1"] != nil {
		t.Errorf("a1, a2 not restored: %+v %+v", after["a1"], after["a2"])
	}
	if ex := after["b1"]; ex == nil || !ex.Exempt || ex.Reason != "调岗" {
		t.Errorf("b1, changed since, was touched by the undo: %+v", ex)
	}
}

// TestBulkAssignBeyondAudience: a lesson for 销售部 only is assigned to
// 客服部 (the person exempt from it is assigned too), and undone.
func TestBulkAssignBeyondAudience(t *testing.T) {
	w := newBulkWorld(t)
	ctx := context.Background()
	l, err := w.p.Store.Lesson(ctx, "grooming")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.p.Store.SetLessonSettings(ctx, "grooming", l.Order, "销售部", l.DueDays, l.ValidMonths); err != nil {
		t.Fatal(err)
	}
	if st, _ := w.emp.get(t, w.p.Base+"/lessons/grooming"); st == http.StatusOK {
		t.Fatal("a1 has a lesson for 销售部 before it is assigned")
	}
	logins := []string{"a1", "a2", "a3", "b1"}
	before := w.exceptions(t, "grooming", logins...)
	form := url.Values{"lesson": {"grooming"}, "kind": {"assign"}, "department": {"客服部"}, "reason": {"跨部门支援"}}
	id := w.confirmBulk(t, form, "m=hr.bulk.done.assign&n=4") // mgr, a1, a2 and a3 (exempt before)
	got := w.exceptions(t, "grooming", logins...)
	for _, l := range []string{"a1", "a2", "a3"} {
		if ex := got[l]; ex == nil || !ex.Assigned || ex.Exempt {
			t.Errorf("%s after assign: %+v", l, ex)
		}
	}
	if st, _ := w.emp.get(t, w.p.Base+"/lessons/grooming"); st != http.StatusOK {
		t.Errorf("a1 cannot open the assigned lesson: %d", st)
	}
	// More time for a2 on the person's page keeps the lesson assigned.
	if st, body := w.hr.post(t, w.p.Base+"/hr/people/a2/exceptions", url.Values{"lesson": {"grooming"}, "kind": {"extend"},
		"until": {time.Now().AddDate(0, 2, 0).Format(time.DateOnly)}, "reason": {"病假"}}); st != http.StatusSeeOther {
		t.Fatalf("extend a2: %d\n%s", st, body)
	}
	if ex := w.exceptions(t, "grooming", "a2")["a2"]; ex == nil || !ex.Assigned || ex.Until.IsZero() {
		t.Errorf("a2 after an extension: %+v", ex)
	}
	_, body := w.hr.get(t, w.p.Base+"/hr/people/a2")
	if !strings.Contains(body, "由人事指派") {
		t.Error("the person's page does not say the lesson was assigned by HR")
	}
	// The undo restores the others and leaves a2, changed since, alone.
	res := w.hr.postRaw(t, w.p.Base+"/hr/bulk/"+id+"/undo", url.Values{"confirm": {"1"}})
	if loc := res.Header.Get("Location"); !strings.Contains(loc, "a=1&m=hr.bulk.undone&n=3") {
		t.Fatalf("undo: %s", loc)
	}
	got = w.exceptions(t, "grooming", logins...)
	if ex := got["a2"]; ex == nil || !ex.Assigned || ex.Reason != "病假" {
		t.Errorf("a2 after undo: %+v", ex)
	}
	delete(got, "a2")
	delete(before, "a2")
	if !sameExceptions(got, before) {
		t.Errorf("after undo: %+v, want %+v", got, before)
	}
}

// TestBulkBadInput: each bad form is refused with its message next to the
// form (422) and changes nothing stored.
func TestBulkBadInput(t *testing.T) {
	w := newBulkWorld(t)
	logins := []string{"a1", "a2", "a3", "a4", "b1"}
	before := w.exceptions(t, "grooming", logins...)
	ok := url.Values{"lesson": {"grooming"}, "kind": {"extend"}, "department": {"客服部"}, "days": {"5"}, "reason": {"原因"}}
	for name, tc := range map[string]struct {
		set  map[string]string
		want string
	}{
		"unknown department": {map[string]string{"department": "无此部门"}, "没有这个部门"},
		"empty list":         {map[string]string{"department": "", "logins": " \n , "}, "请选择一个部门，或填写/上传账号名单。"},
		"both groups":        {map[string]string{"logins": "a1"}, "部门和账号名单只能选一种。"},
		"bad date":           {map[string]string{"days": "", "until": "2026-13-45"}, "延期日期须是今天之后的日期。"},
		"past date":          {map[string]string{"days": "", "until": "2020-01-01"}, "延期日期须是今天之后的日期。"},
		"bad days":           {map[string]string{"days": "abc"}, "天数须是 1 到 3650 之间的整数。"},
		"no extension":       {map[string]string{"days": ""}, "延期需要填写天数或日期。"},
		"no reason":          {map[string]string{"reason": " "}, "请写明原因"},
		"unknown lesson":     {map[string]string{"lesson": "no-such"}, "没有这门课程。"},
		"bad kind":           {map[string]string{"kind": "delete"}, "请选择一种操作"},
	} {
		for _, confirm := range []string{"", "1"} {
			form := url.Values{}
			for k, v := range ok {
				form[k] = v
			}
			for k, v := range tc.set {
				form.Set(k, v)
			}
			if confirm != "" {
				form.Set("confirm", confirm)
			}
			st, body := w.hr.post(t, w.p.Base+"/hr/bulk", form)
			if st != http.StatusUnprocessableEntity || !strings.Contains(html.UnescapeString(body), tc.want) {
				t.Errorf("%s (confirm=%q): %d, want 422 with %q", name, confirm, st, tc.want)
			}
			if name == "unknown department" && !strings.Contains(body, `name="department" aria-invalid="true"`) {
				t.Errorf("%s: the department field is not marked invalid", name)
			}
		}
	}
	if got := w.exceptions(t, "grooming", logins...); !sameExceptions(got, before) {
		t.Error("bad input changed exceptions")
	}
	if n := len(w.audits(t, "bulk.")); n != 0 {
		t.Errorf("bad input wrote %d audit entries", n)
	}
	if acts, err := w.p.Training.BulkActions(context.Background(), 10); err != nil || len(acts) != 0 {
		t.Errorf("bad input stored actions: %v %v", acts, err)
	}
}

// TestBulkForbidden: employees and managers get 403 on every bulk route,
// and their posts change nothing.
func TestBulkForbidden(t *testing.T) {
	w := newBulkWorld(t)
	before := w.exceptions(t, "grooming", "a1", "a2")
	form := url.Values{"lesson": {"grooming"}, "kind": {"exempt"}, "department": {"客服部"}, "reason": {"x"}, "confirm": {"1"}}
	for name, cl := range map[string]*caller{"employee": w.emp, "manager": w.mgr} {
		if st, _ := cl.get(t, w.p.Base+"/hr/bulk"); st != http.StatusForbidden {
			t.Errorf("%s GET /hr/bulk: %d", name, st)
		}
		if st, _ := cl.post(t, w.p.Base+"/hr/bulk", form); st != http.StatusForbidden {
			t.Errorf("%s POST /hr/bulk: %d", name, st)
		}
	}
	// An action HR made cannot be undone by them either.
	id := w.confirmBulk(t, form, "n=3")
	after := w.exceptions(t, "grooming", "a1", "a2")
	for name, cl := range map[string]*caller{"employee": w.emp, "manager": w.mgr} {
		if st, _ := cl.post(t, w.p.Base+"/hr/bulk/"+id+"/undo", url.Values{"confirm": {"1"}}); st != http.StatusForbidden {
			t.Errorf("%s undo: %d", name, st)
		}
		if st, _ := cl.get(t, w.p.Base+"/hr/bulk/"+id); st != http.StatusForbidden {
			t.Errorf("%s result page: %d", name, st)
		}
	}
	if got := w.exceptions(t, "grooming", "a1", "a2"); !sameExceptions(got, after) || sameExceptions(got, before) {
		t.Error("a forbidden undo changed exceptions")
	}
	// Without the CSRF token HR is refused too.
	res, err := w.hr.c.PostForm(w.p.Base+"/hr/bulk", url.Values{"lesson": {"grooming"}, "kind": {"exempt"}, "department": {"客服部"}, "reason": {"x"}, "confirm": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("without CSRF: %d", res.StatusCode)
	}
}

// postFile posts form with a file field as multipart, the way the browser
// sends the bulk form.
func (cl *caller) postFile(t *testing.T, u string, form url.Values, field, name, content string) (int, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	form.Set("_csrf", cl.csrf)
	for k, vs := range form {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	fw, err := mw.CreateFormFile(field, name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(fw, content)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, u, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := cl.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// TestBulkCSVUpload: the logins of an uploaded CSV (its login column) are
// previewed and carried to the confirmation; a file that is not CSV is
// refused; an action that would change nobody says so and stores nothing.
func TestBulkCSVUpload(t *testing.T) {
	w := newBulkWorld(t)
	form := url.Values{"lesson": {"dress"}, "kind": {"exempt"}, "reason": {"名单导入"}}
	csvFile := "\ufeffname,login\n甲一,a1\n乙一,b1\n某人,ghost\n"
	st, body := w.hr.postFile(t, w.p.Base+"/hr/bulk", form, "file", "people.csv", csvFile)
	body = html.UnescapeString(body)
	if st != http.StatusOK || !strings.Contains(body, "让 2 人免修") || !strings.Contains(body, "ghost: 没有这个账号") ||
		!strings.Contains(body, `name="logins" value="a1,b1,ghost"`) {
		t.Fatalf("CSV preview: %d\n%s", st, body)
	}
	w.confirmBulk(t, url.Values{"lesson": {"dress"}, "kind": {"exempt"}, "reason": {"名单导入"}, "logins": {"a1,b1,ghost"}}, "n=2")
	got := w.exceptions(t, "dress", "a1", "b1", "a2")
	if got["a1"] == nil || !got["a1"].Exempt || got["b1"] == nil || !got["b1"].Exempt || got["a2"] != nil {
		t.Fatalf("after the CSV exemption: %+v", got)
	}
	// Again: everyone is exempt already.
	st, body = w.hr.postFile(t, w.p.Base+"/hr/bulk", form, "file", "people.csv", csvFile)
	body = html.UnescapeString(body)
	if st != http.StatusUnprocessableEntity || !strings.Contains(body, "这个操作不会改变任何人") || !strings.Contains(body, "甲一 (a1): 已免修") {
		t.Fatalf("nobody to change: %d\n%s", st, body)
	}
	st, body = w.hr.postFile(t, w.p.Base+"/hr/bulk", form, "file", "bad.csv", "login\n\"a1\n")
	if st != http.StatusUnprocessableEntity || !strings.Contains(html.UnescapeString(body), "无法读取该 CSV 文件") {
		t.Fatalf("bad CSV: %d", st)
	}
	if n := len(w.audits(t, "bulk.")); n != 1 {
		t.Errorf("%d bulk audit entries, want the one exemption", n)
	}
}

// TestBulkDoubleConfirm: two confirmations of one preview at once (a
// double click) apply it once; the other finds nobody left to change. Two
// undos at once restore once.
func TestBulkDoubleConfirm(t *testing.T) {
	w := newBulkWorld(t)
	form := url.Values{"lesson": {"dress"}, "kind": {"exempt"}, "department": {"客服部"}, "reason": {"双击"}, "confirm": {"1"}}
	statuses := make(chan int, 2)
	for range 2 {
		go func() {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			statuses <- w.hr.postRaw(t, w.p.Base+"/hr/bulk", f).StatusCode
		}()
	}
	got := []int{<-statuses, <-statuses}
	if !(got[0] == http.StatusSeeOther && got[1] == http.StatusConflict) && !(got[0] == http.StatusConflict && got[1] == http.StatusSeeOther) {
		t.Fatalf("two confirmations: %v, want one 303 and one 409", got)
	}
	acts, err := w.p.Training.BulkActions(context.Background(), 10)
	if err != nil || len(acts) != 1 || acts[0].Count != 4 { // a1, a2, a3, mgr
		t.Fatalf("actions stored: %+v %v", acts, err)
	}
	for range 2 {
		go func() {
			statuses <- w.hr.postRaw(t, w.p.Base+"/hr/bulk/"+acts[0].ID+"/undo", url.Values{"confirm": {"1"}}).StatusCode
		}()
	}
	<-statuses
	<-statuses
	if es := w.audits(t, "bulk.undo"); len(es) != 1 {
		t.Errorf("two undos at once wrote %d undo entries", len(es))
	}
	for l, ex := range w.exceptions(t, "dress", "a1", "a2", "a3", "mgr") {
		if ex != nil {
			t.Errorf("%s after the undo: %+v", l, ex)
		}
	}
}
