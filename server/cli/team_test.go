package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/report"
	"conductportal/server/testkit"

	"github.com/xuri/excelize/v2"
)

const teamPass = "correct horse battery"

// teamFixture is a small company: two managers with a team each, a
// department manager, HR, an administrator and an employee.
func teamFixture(t *testing.T) (*testkit.Portal, map[string]*model.User) {
	t.Helper()
	p := startPortal(t, t.TempDir(), &bytes.Buffer{})
	testkit.BackdateLessons(t, p)
	now := time.Now()
	users := map[string]*model.User{}
	for _, nu := range []auth.NewUser{
		{Login: "wang.qiang", Name: "王强", Roles: []string{model.RoleManager}, Department: "客服部", Email: "wq@example.com"},
		{Login: "li.na", Name: "李娜", Manager: "wang.qiang", Department: "客服部", Hired: now.AddDate(0, 0, -30)},
		{Login: "zhao.lei", Name: "赵磊", Manager: "wang.qiang", Department: "客服部", Hired: now},
		{Login: "liu.yang", Name: "刘洋", Roles: []string{model.RoleManager}, Department: "前台"},
		{Login: "zhou.min", Name: "周敏", Manager: "liu.yang", Department: "前台", Hired: now.AddDate(0, 0, -30)},
		{Login: "chen.jing", Name: "陈静", Roles: []string{model.RoleManager}, Manages: "前台"},
		{Login: "hr.xu", Name: "徐华", Roles: []string{model.RoleHR}},
		{Login: "root", Name: "管理员", Roles: []string{model.RoleAdmin}},
	} {
		if len(nu.Roles) == 0 {
			nu.Roles = []string{model.RoleEmployee}
		}
		nu.Password = teamPass
		u, err := p.Auth.CreateUser(context.Background(), nu)
		if err != nil {
			t.Fatal(err)
		}
		users[u.Login] = u
	}
	// 赵磊 finished one lesson already.
	testkit.Complete(t, p.Training, users["zhao.lei"], "dress")
	return p, users
}

func loggedIn(t *testing.T, p *testkit.Portal, login string) *browser {
	t.Helper()
	b := newBrowser(t, p.Base)
	if login != "" {
		expect(t, b.post("/login", "/login", url.Values{"login": {login}, "password": {teamPass}}), http.StatusSeeOther, "/")
	}
	return b
}

// TestReportAuthorization tries every report route and export as each
// role: anonymous, employee, a manager on their own team and on another
// team, a department manager, HR and an administrator.
func TestReportAuthorization(t *testing.T) {
	p, _ := teamFixture(t)
	type route struct {
		method, path string
		form         url.Values
	}
	routes := []route{
		{"GET", "/team", nil},
		{"GET", "/team?manager=wang.qiang", nil},
		{"GET", "/team?manager=wang.qiang&overdue=1", nil},
		{"GET", "/team/export.csv?manager=wang.qiang", nil},
		{"GET", "/team/export.xlsx?manager=wang.qiang", nil},
		{"POST", "/team/remind", url.Values{"manager": {"wang.qiang"}}},
		{"GET", "/people/li.na", nil},
		{"POST", "/people/li.na/remind", url.Values{}},
		{"GET", "/team?department=" + url.QueryEscape("前台"), nil},
		{"GET", "/team/export.csv?department=" + url.QueryEscape("前台"), nil},
		{"GET", "/people/zhou.min", nil},
		{"GET", "/organisation", nil},
		{"GET", "/organisation/export.csv", nil},
		{"GET", "/organisation/export.csv?by=lesson", nil},
		{"GET", "/organisation/export.xlsx", nil},
		{"GET", "/api/v1/reports/team?manager=wang.qiang", nil},
		{"GET", "/api/v1/reports/team?department=" + url.QueryEscape("前台"), nil},
		{"GET", "/api/v1/reports/organisation", nil},
		{"GET", "/notifications", nil},
	}
	const (
		ok     = 200
		redir  = 303
		forbid = 403
		login  = -1 // sent to log in: 303 to /login, or 401 from the API
	)
	// want[role] lists the answer to each route, in order.
	want := map[string][]int{
		"":           {login, login, login, login, login, login, login, login, login, login, login, login, login, login, login, login, login, login, login},
		"li.na":      {forbid, forbid, forbid, forbid, forbid, forbid, forbid, forbid, forbid, forbid, forbid, forbid, forbid, forbid, forbid, forbid, forbid, forbid, ok},
		"wang.qiang": {ok, ok, ok, ok, ok, redir, ok, redir, forbid, forbid, forbid, forbid, forbid, forbid, forbid, ok, forbid, forbid, ok},
		"liu.yang":   {ok, forbid, forbid, forbid, forbid, forbid, forbid, forbid, forbid, forbid, ok, forbid, forbid, forbid, forbid, forbid, forbid, forbid, ok},
		"chen.jing":  {ok, forbid, forbid, forbid, forbid, forbid, forbid, forbid, ok, ok, ok, forbid, forbid, forbid, forbid, forbid, ok, forbid, ok},
		"hr.xu":      {redir, ok, ok, ok, ok, redir, ok, redir, ok, ok, ok, ok, ok, ok, ok, ok, ok, ok, ok},
		"root":       {forbid, forbid, forbid, forbid, forbid, forbid, forbid, forbid, forbid, forbid, forbid, forbid, forbid, forbid, forbid, forbid, forbid, forbid, ok},
	}
	for role, statuses := range want {
		t.Run("role="+role, func(t *testing.T) {
			b := loggedIn(t, p, role)
			for i, r := range routes {
				var a answer
				if r.method == "POST" {
					from := "/"
					if role == "" {
						from = "/login"
					}
					a = b.post(from, r.path, r.form)
				} else {
					a = b.get(r.path)
				}
				w := statuses[i]
				switch {
				case w == login && strings.HasPrefix(r.path, "/api/"):
					w = http.StatusUnauthorized
				case w == login:
					w = redir
					if !strings.HasPrefix(a.location, "/login") {
						t.Errorf("%s %s: sent to %q, want the login page", r.method, r.path, a.location)
					}
				}
				if a.status != w {
					t.Errorf("%s %s as %q: %d, want %d (%.200s)", r.method, r.path, role, a.status, w, a.body)
				}
				if w == forbid && !strings.HasPrefix(r.path, "/api/") && !strings.Contains(a.body, "你没有权限查看此页面") {
					t.Errorf("%s %s as %q: 403 without the forbidden page", r.method, r.path, role)
				}
				if w == ok && strings.Contains(r.path, "export") && a.header.Get("Content-Disposition") == "" {
					t.Errorf("%s %s: export without Content-Disposition", r.method, r.path)
				}
			}
		})
	}
	if n := p.LoggedErrors(); n > 0 {
		t.Errorf("the server logged %d errors", n)
	}
}

// TestTeamViewExportsAndReminders is the manager's day: find the late
// people, filter, export what the screen shows, remind them, and see the
// reminder arrive in the person's inbox and on their record.
func TestTeamViewExportsAndReminders(t *testing.T) {
	p, users := teamFixture(t)
	m := loggedIn(t, p, "wang.qiang")

	page := m.get("/team")
	if page.status != 200 {
		t.Fatalf("team: %d %.300s", page.status, page.body)
	}
	for _, s := range []string{"李娜", "赵磊", `href="/people/li.na"`, "已逾期", "已完成", "未开始", "完成率", "<svg class=\"chart\""} {
		if !strings.Contains(page.body, s) {
			t.Errorf("the team view lacks %q", s)
		}
	}
	for _, s := range []string{"周敏", "style="} {
		if strings.Contains(page.body, s) {
			t.Errorf("the team view has %q", s)
		}
	}
	// The overdue filter leaves 李娜, not 赵磊 (hired today).
	late := m.get("/team?overdue=1")
	if !strings.Contains(late.body, `href="/people/li.na"`) || strings.Contains(late.body, `href="/people/zhao.lei"`) {
		t.Errorf("overdue filter: %.2000s", late.body)
	}
	// Status and lesson filters: who has done the dress lesson.
	done := m.get("/team?status=done&lesson=dress")
	if strings.Contains(done.body, `href="/people/li.na"`) || !strings.Contains(done.body, `href="/people/zhao.lei"`) {
		t.Errorf("done-in-dress filter: %.2000s", done.body)
	}
	// The export form keeps the filter.
	if !strings.Contains(late.body, `<form method="get" action="/team/export.xlsx" class="export" id="export">`) ||
		!strings.Contains(late.body, `<input type="hidden" name="overdue" value="1">`) {
		t.Errorf("the export form does not carry the filter")
	}
	csv := m.get("/team/export.csv?overdue=1")
	if !strings.HasPrefix(csv.body, "\uFEFF姓名,账号,部门,直属经理,") || !strings.Contains(csv.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %q %v", csv.body[:min(len(csv.body), 120)], csv.header)
	}
	// Named after the team and the filter.
	if cd := csv.header.Get("Content-Disposition"); !regexp.MustCompile(`^attachment; filename="team-wang\.qiang-overdue-\d{4}-\d{2}-\d{2}\.csv"$`).MatchString(cd) {
		t.Errorf("csv file name: %q", cd)
	}
	lines := strings.Split(strings.TrimSpace(csv.body), "\r\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "李娜,li.na,客服部,wang.qiang,") || !strings.HasPrefix(lines[2], "合计") {
		t.Errorf("csv rows: %q", lines)
	}
	// Each lesson in its own columns: status, due date, completed on, overdue.
	header := strings.Split(strings.TrimPrefix(lines[0], "\uFEFF"), ",")
	first := strings.Split(lines[1], ",")
	col := slices.Index(header, "着装规范：状态")
	if col < 0 || header[col+1] != "着装规范：截止日期" || header[col+2] != "着装规范：完成日期" || header[col+3] != "着装规范：逾期" {
		t.Fatalf("csv header: %q", header)
	}
	if first[col] != "未开始" || !regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`).MatchString(first[col+1]) || first[col+2] != "" || first[col+3] != "是" {
		t.Errorf("li.na's dress columns: %q", first[col:col+4])
	}
	// The language is chosen explicitly.
	if en := m.get("/team/export.csv?overdue=1&lang=en"); !strings.HasPrefix(en.body, "\uFEFFName,Login,Department,Manager,") {
		t.Errorf("english export: %q", en.body[:min(len(en.body), 80)])
	}
	xl := m.get("/team/export.xlsx?overdue=1")
	f, err := excelize.OpenReader(strings.NewReader(xl.body))
	if err != nil {
		t.Fatalf("xlsx: %v", err)
	}
	sheet := f.GetSheetName(0)
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[1][0] != "李娜" || strings.Join(rows[0], ",") != strings.TrimPrefix(lines[0], "\uFEFF") {
		t.Errorf("xlsx rows %q, csv header %q", rows, lines[0])
	}
	// Numbers and dates are numbers and dates; the header is frozen and filtered.
	due, _ := excelize.CoordinatesToCellName(col+2, 2)
	percent, _ := excelize.CoordinatesToCellName(len(header)-2, 2)
	for cell, want := range map[string]excelize.CellType{due: excelize.CellTypeUnset, percent: excelize.CellTypeUnset} {
		if typ, err := f.GetCellType(sheet, cell); err != nil || typ != want {
			t.Errorf("cell %s has type %v (%v), want a number", cell, typ, err)
		}
	}
	if raw, _ := f.GetCellValue(sheet, due, excelize.Options{RawCellValue: true}); !regexp.MustCompile(`^\d{5}$`).MatchString(raw) {
		t.Errorf("the due date is stored as %q, want a date serial number", raw)
	}
	if v, _ := f.GetCellValue(sheet, due); v != first[col+1] {
		t.Errorf("the due date shows as %q, want %q", v, first[col+1])
	}
	pct, _ := strconv.Atoi(strings.TrimSuffix(first[len(header)-3], "%"))
	if raw, _ := f.GetCellValue(sheet, percent, excelize.Options{RawCellValue: true}); raw != strconv.FormatFloat(float64(pct)/100, 'f', -1, 64) {
		t.Errorf("the completion is stored as %q, want the fraction of %d%%", raw, pct)
	}
	if panes, err := f.GetPanes(sheet); err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("panes: %+v %v", panes, err)
	}
	// The filter spans the header and the people, not the total row.
	lastCol, _ := excelize.ColumnNumberToName(len(header))
	if names := f.GetDefinedName(); !slices.ContainsFunc(names, func(d excelize.DefinedName) bool {
		return d.Name == "_xlnm._FilterDatabase" && strings.HasSuffix(d.RefersTo, "!$A$1:$"+lastCol+"$2")
	}) {
		t.Errorf("no auto-filter over A1:%s2: %+v", lastCol, names)
	}
	// Columns are as wide as their text: the lesson's status header is
	// wider than a default column (8.43 characters).
	statusCol, _ := excelize.ColumnNumberToName(col + 1)
	if w, err := f.GetColWidth(sheet, statusCol); err != nil || w <= 9 {
		t.Errorf("column %s is %v wide (%v)", statusCol, w, err)
	}
	if w, _ := f.GetColWidth(sheet, "A"); w < 8 || w > 40 {
		t.Errorf("the name column is %v wide", w)
	}
	// A date cell carries a date format; 赵磊's completion of the dress
	// lesson is a date in its own column.
	if id, err := f.GetCellStyle(sheet, due); err != nil {
		t.Error(err)
	} else if st, err := f.GetStyle(id); err != nil || st.CustomNumFmt == nil || *st.CustomNumFmt != "yyyy-mm-dd" {
		t.Errorf("the due date's style: %+v %v", st, err)
	}
	wb, err := excelize.OpenReader(strings.NewReader(m.get("/team/export.xlsx").body))
	if err != nil {
		t.Fatal(err)
	}
	allRows, _ := wb.GetRows(wb.GetSheetName(0))
	zl := slices.IndexFunc(allRows, func(r []string) bool { return len(r) > 1 && r[1] == "zhao.lei" })
	completed, _ := excelize.CoordinatesToCellName(col+3, zl+1)
	if raw, _ := wb.GetCellValue(wb.GetSheetName(0), completed, excelize.Options{RawCellValue: true}); zl < 0 || !regexp.MustCompile(`^\d{5}$`).MatchString(raw) {
		t.Errorf("zhao.lei's dress completion %s is stored as %q, want a date serial number", completed, raw)
	}
	if v, _ := wb.GetCellValue(wb.GetSheetName(0), completed); !regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`).MatchString(v) {
		t.Errorf("zhao.lei's dress completion shows as %q", v)
	}
	// An English workbook, asked for explicitly, has English headers.
	enx, err := excelize.OpenReader(strings.NewReader(m.get("/team/export.xlsx?overdue=1&lang=en").body))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := enx.GetCellValue(enx.GetSheetName(0), "A1"); v != "Name" {
		t.Errorf("english workbook header: %q", v)
	}

	// Remind 李娜 from the matrix: once today, not twice.
	r := m.post("/team", "/people/li.na/remind", url.Values{"back": {"/team?overdue=1"}})
	expect(t, r, http.StatusSeeOther, "/team?")
	if !strings.Contains(r.location, "m=remind.sent") || !strings.Contains(r.location, "overdue=1") {
		t.Errorf("after remind: %q", r.location)
	}
	again := m.post("/team", "/people/li.na/remind", nil)
	if !strings.Contains(again.location, "m=remind.already") {
		t.Errorf("second remind: %q", again.location)
	}
	// "Remind everyone overdue" finds only 李娜, already reminded today.
	all := m.post("/team", "/team/remind", url.Values{"back": {"/team"}})
	if !strings.Contains(all.location, "m=remind.already") {
		t.Errorf("remind all overdue: %q", all.location)
	}

	// 李娜 sees the bell with one, and the reminder.
	e := loggedIn(t, p, "li.na")
	home := e.get("/")
	if !strings.Contains(home.body, `<span class="count"`) || !strings.Contains(home.body, ">1</span>") {
		t.Errorf("no bell count on 李娜's page: %.1500s", home.body)
	}
	inbox := e.get("/notifications")
	if !strings.Contains(inbox.body, "王强") && !strings.Contains(inbox.body, "wang.qiang 提醒你完成以下课程") {
		t.Errorf("inbox: %.2000s", inbox.body)
	}
	expect(t, e.post("/notifications", "/notifications/read", nil), http.StatusSeeOther, "/notifications")
	if home := e.get("/"); strings.Contains(home.body, `<span class="count"`) {
		t.Errorf("the bell still counts after reading")
	}

	// The person page shows the reminder, lessons, attempts and receipts.
	zp := m.get("/people/zhao.lei")
	for _, s := range []string{"赵磊", "测验记录", "通过：答对 ", " 题（100%）", "确认回执", "着装规范"} {
		if !strings.Contains(zp.body, s) {
			t.Errorf("zhao.lei's page lacks %q", s)
		}
	}
	lp := m.get("/people/li.na")
	if !strings.Contains(lp.body, "已发送的提醒") || !strings.Contains(lp.body, "发送人：王强") {
		t.Errorf("li.na's page shows no reminder: %.3000s", lp.body)
	}

	// The API answers the same rows as the screen.
	api := m.get("/api/v1/reports/team?manager=wang.qiang&overdue=1")
	var got struct {
		Rows []struct {
			Login   string `json:"login"`
			Overdue int    `json:"overdue"`
			Lessons []struct {
				Lesson string `json:"lesson"`
				Status string `json:"status"`
			} `json:"lessons"`
		} `json:"rows"`
		Lessons []struct{ Slug string } `json:"lessons"`
	}
	if err := json.Unmarshal([]byte(api.body), &got); err != nil {
		t.Fatalf("api: %v %s", err, api.body)
	}
	if len(got.Rows) != 1 || got.Rows[0].Login != "li.na" || got.Rows[0].Overdue == 0 || len(got.Lessons) != 6 {
		t.Errorf("api team rows: %s", api.body)
	}

	// HR: the organisation, and the drill-down to a department.
	h := loggedIn(t, p, "hr.xu")
	org := h.get("/organisation")
	if !strings.Contains(org.body, `href="/team?department=%e5%ae%a2%e6%9c%8d%e9%83%a8"`) && !strings.Contains(org.body, `href="/team?department=%E5%AE%A2%E6%9C%8D%E9%83%A8"`) {
		t.Errorf("organisation has no drill-down to 客服部: %.3000s", org.body)
	}
	dept := h.get("/team?department=" + url.QueryEscape("客服部"))
	if !strings.Contains(dept.body, "部门：客服部") || !strings.Contains(dept.body, "李娜") {
		t.Errorf("department view: %.1500s", dept.body)
	}
	// A department's export is named after it (in UTF-8) and the filter.
	dx := h.get("/team/export.xlsx?overdue=1&department=" + url.QueryEscape("客服部"))
	if _, params, err := mime.ParseMediaType(dx.header.Get("Content-Disposition")); err != nil ||
		!regexp.MustCompile(`^team-客服部-overdue-\d{4}-\d{2}-\d{2}\.xlsx$`).MatchString(params["filename"]) {
		t.Errorf("department file name: %q %v", dx.header.Get("Content-Disposition"), err)
	}
	if cd := dx.header.Get("Content-Disposition"); !strings.Contains(cd, `filename="team-overdue-`) ||
		!strings.Contains(cd, "filename*=UTF-8''team-%E5%AE%A2%E6%9C%8D%E9%83%A8-overdue-") {
		t.Errorf("department Content-Disposition: %q", cd)
	}
	ocsv := h.get("/organisation/export.csv")
	if !strings.HasPrefix(ocsv.body, "\uFEFF部门,人数,") || !strings.Contains(ocsv.body, "客服部,3,") {
		t.Errorf("organisation csv: %q", ocsv.body)
	}
	// The by-lesson table as a workbook: that sheet first, in English when
	// asked, lesson titles in the first column, counts as numbers.
	ox := h.get("/organisation/export.xlsx?by=lesson&lang=en")
	if _, params, err := mime.ParseMediaType(ox.header.Get("Content-Disposition")); err != nil ||
		!regexp.MustCompile(`^organisation-by_lesson-\d{4}-\d{2}-\d{2}\.xlsx$`).MatchString(params["filename"]) {
		t.Errorf("by-lesson file name: %q", ox.header.Get("Content-Disposition"))
	}
	of, err := excelize.OpenReader(strings.NewReader(ox.body))
	if err != nil {
		t.Fatalf("organisation xlsx: %v", err)
	}
	if sheets := of.GetSheetList(); len(sheets) != 2 {
		t.Fatalf("organisation sheets: %q", sheets)
	}
	ls := of.GetSheetName(0)
	orows, _ := of.GetRows(ls)
	if len(orows) < 3 || orows[0][0] != "Lesson" || orows[0][1] != "People" || !slices.ContainsFunc(orows, func(r []string) bool { return len(r) > 0 && r[0] == "Dress code" }) {
		t.Errorf("by-lesson sheet %q: %q", ls, orows)
	}
	if typ, err := of.GetCellType(ls, "B2"); err != nil || typ != excelize.CellTypeUnset {
		t.Errorf("people B2 has type %v (%v), want a number", typ, err)
	}
	if raw, _ := of.GetCellValue(ls, "E2", excelize.Options{RawCellValue: true}); !regexp.MustCompile(`^(0|1|0\.\d+)$`).MatchString(raw) {
		t.Errorf("the completion E2 is stored as %q, want a fraction", raw)
	}
	if panes, err := of.GetPanes(ls); err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("by-lesson panes: %+v %v", panes, err)
	}
	var orgJSON struct {
		Departments []struct {
			Key    string `json:"key"`
			People int    `json:"people"`
		} `json:"departments"`
	}
	if err := json.Unmarshal([]byte(h.get("/api/v1/reports/organisation").body), &orgJSON); err != nil || len(orgJSON.Departments) == 0 {
		t.Errorf("api organisation: %v %+v", err, orgJSON)
	}
	_ = users
	if n := p.LoggedErrors(); n > 0 {
		t.Errorf("the server logged %d errors", n)
	}
}

// TestTeamEmptyStates: a manager without reports, and a filter nobody
// matches, both get a page that says so.
func TestTeamEmptyStates(t *testing.T) {
	p, _ := teamFixture(t)
	if _, err := p.Auth.CreateUser(context.Background(), auth.NewUser{Login: "new.boss", Name: "新经理",
		Roles: []string{model.RoleManager}, Password: teamPass}); err != nil {
		t.Fatal(err)
	}
	b := loggedIn(t, p, "new.boss")
	if a := b.get("/team"); a.status != 200 || !strings.Contains(a.body, "这个团队还没有成员。") {
		t.Errorf("empty team: %d %.1000s", a.status, a.body)
	}
	if a := b.get("/team/export.csv"); a.status != 200 || !strings.HasPrefix(a.body, "\uFEFF姓名") {
		t.Errorf("empty team export: %d %q", a.status, a.body)
	}
	m := loggedIn(t, p, "wang.qiang")
	if a := m.get("/team?status=needs_reack"); !strings.Contains(a.body, "没有符合筛选条件的人员。") {
		t.Errorf("no match: %.1000s", a.body)
	}
	// A hand-made filter value is ignored, not an error.
	if a := m.get("/team?status=bogus&sort=bogus&lesson=nope"); a.status != 200 || !strings.Contains(a.body, "李娜") {
		t.Errorf("bogus filter: %d", a.status)
	}
}

// TestTeamFollowsHREdits: moving a person to another manager, or turning
// them off, shows in the team views at once (the reports keep a directory
// of people in memory).
func TestTeamFollowsHREdits(t *testing.T) {
	p, users := teamFixture(t)
	ctx := context.Background()
	hr := users["hr.xu"]
	count := func(manager string) int {
		t.Helper()
		team, err := p.Reports.Team(ctx, report.Scope{Manager: manager}, report.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		return len(team.Rows)
	}
	var member *model.User
	for _, u := range users {
		if u.Manager == "wang.qiang" {
			member = u
			break
		}
	}
	if member == nil {
		t.Fatal("the fixture has nobody reporting to wang.qiang")
	}
	before := count("wang.qiang")
	if _, err := p.Auth.UpdatePerson(ctx, hr, model.Origin{}, member, auth.Person{Login: member.Login, Name: member.Name, Roles: member.Roles,
		Department: member.Department, Manager: "liu.yang", Hired: member.Hired}); err != nil {
		t.Fatal(err)
	}
	if got := count("wang.qiang"); got != before-1 {
		t.Fatalf("after moving a person away: %d rows, want %d", got, before-1)
	}
	moved, _ := p.Store.User(ctx, member.ID)
	if err := p.Auth.Deactivate(ctx, moved); err != nil {
		t.Fatal(err)
	}
	for _, row := range mustTeam(t, p, "liu.yang").Rows {
		if row.Login == member.Login {
			t.Fatal("a deactivated person is still in the team view")
		}
	}
}

func mustTeam(t *testing.T, p *testkit.Portal, manager string) *report.Team {
	t.Helper()
	team, err := p.Reports.Team(context.Background(), report.Scope{Manager: manager}, report.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return team
}
