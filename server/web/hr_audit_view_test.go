package web_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"html"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"conductportal/server/auth"
	"conductportal/server/locale"
	"conductportal/server/model"
	"conductportal/server/testkit"
	"conductportal/server/training"
)

// actionLike is the shape of an audit action: "user.create", "login".
var actionLike = regexp.MustCompile(`^[a-z]+(\.[a-z_]+)?$`)

// writtenActions finds every action the portal's code writes to the audit
// log: string literals given to a function whose name says audit (or
// audit.Entry, or training's Exported), set as an AuditEntry's Action, or assigned to a
// variable named action. A prefix completed at run time ("bulk." + kind)
// is expanded from dynamic.
func writtenActions(t *testing.T, dynamic map[string][]string) map[string]string {
	t.Helper()
	found := map[string]string{} // action -> where
	fset := token.NewFileSet()
	add := func(e ast.Expr) {
		switch e := e.(type) {
		case *ast.BasicLit:
			if s, err := strconv.Unquote(e.Value); err == nil && e.Kind == token.STRING && actionLike.MatchString(s) {
				found[s] = fset.Position(e.Pos()).String()
			}
		case *ast.BinaryExpr:
			if lit, ok := e.X.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				prefix, _ := strconv.Unquote(lit.Value)
				if !regexp.MustCompile(`^[a-z]+\.$`).MatchString(prefix) {
					return // not an action: a detail built from parts
				}
				kinds, ok := dynamic[prefix]
				if !ok {
					t.Errorf("%s: an action built from %q, whose completions the test does not know", fset.Position(e.Pos()), prefix)
				}
				for _, k := range kinds {
					found[prefix+k] = fset.Position(e.Pos()).String()
				}
			}
		}
	}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				name := ""
				switch fn := n.Fun.(type) {
				case *ast.Ident:
					name = fn.Name
				case *ast.SelectorExpr:
					name = fn.Sel.Name
				}
				if strings.Contains(strings.ToLower(name), "audit") || name == "entry" || name == "Entry" || name == "Exported" {
					for _, a := range n.Args {
						add(a)
					}
				}
			case *ast.KeyValueExpr:
				if k, ok := n.Key.(*ast.Ident); ok && k.Name == "Action" {
					add(n.Value)
				}
			case *ast.AssignStmt:
				for i, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok && id.Name == "action" && i < len(n.Rhs) {
						add(n.Rhs[i])
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestAuditActionsNamed: every action the code writes has a name in both
// languages, and the audit log's action filter offers it by that name.
func TestAuditActionsNamed(t *testing.T) {
	actions := writtenActions(t, map[string][]string{"bulk.": {training.BulkAssign, training.BulkExempt, training.BulkExtend}})
	for _, must := range []string{"user.create", "bulk.extend", "login.failed", "token.use", "channel.update", "invite.accept", "person.exception"} {
		if actions[must] == "" {
			t.Fatalf("the scan missed %s: it finds %d actions", must, len(actions))
		}
	}
	p, hr := startAsHR(t)
	_, zh := hr.get(t, p.Base+"/hr/audit")
	hr.useLang(t, p.Base, model.LangEN)
	_, en := hr.get(t, p.Base+"/hr/audit")
	for a, where := range actions {
		for lang, body := range map[string]string{model.LangZH: zh, model.LangEN: en} {
			key := "audit.action." + a
			if !locale.Has(lang, key) {
				t.Errorf("%s writes %s, which has no %s name (%s)", where, a, lang, key)
				continue
			}
			if opt := `<option value="` + a + `">` + html.EscapeString(locale.T(lang, key)) + `</option>`; !strings.Contains(body, opt) {
				t.Errorf("the %s action filter lacks %s", lang, opt)
			}
		}
	}
}

// TestAuditReadable: the log names actions and says details in the
// reader's language (counts, a person's changes, fixed sentences), keeps
// an unknown detail as written, and filters by an actor from a list and an
// action from a select, both kept in the form.
func TestAuditReadable(t *testing.T) {
	p, hr := startAsHR(t)
	ctx := context.Background()
	if st, body := hr.post(t, p.Base+"/hr/people", url.Values{"login": {"li.na"}, "name": {"李娜"}, "roles": {"employee"}, "department": {"前台"}, "confirm": {"1"}}); st != http.StatusOK {
		t.Fatalf("create: %d\n%s", st, body)
	}
	if st, _ := hr.post(t, p.Base+"/hr/people/li.na", url.Values{"name": {"李娜"}, "roles": {"employee"}, "department": {"后勤"}, "confirm": {"1"}}); st != http.StatusSeeOther {
		t.Fatalf("update: %d", st)
	}
	if st, _ := hr.post(t, p.Base+"/hr/people/li.na/deactivate", url.Values{"confirm": {"1"}}); st != http.StatusSeeOther {
		t.Fatalf("deactivate: %d", st)
	}
	for _, e := range []model.AuditEntry{
		{Actor: "boss", Action: "remind.overdue", Target: "boss/", Detail: "stored=3 already=1"},
		{Actor: "boss", Action: "old.thing", Detail: "free text x=1"},
	} {
		if err := p.Audit.Write(ctx, &e); err != nil {
			t.Fatal(err)
		}
	}
	cell := func(s string) string { return "<td>" + s + "</td>" }
	detail := func(s string) string { return `<td class="detail">` + s }
	_, zh := hr.get(t, p.Base+"/hr/audit")
	for _, want := range []string{
		cell("创建账号"), detail("角色：员工，部门：前台，直属经理：—"),
		cell("修改账号"), detail("部门：前台 → 后勤"),
		cell("停用账号"), detail("账号已停用，其登录会话已结束。"),
		cell("提醒逾期人员"), detail("已发送：3，此前已提醒：1"),
		cell("old.thing"), detail("free text x=1"), cell("登录"),
		`<option value="boss"></option>`, `<option value="hr"></option>`,
	} {
		if !strings.Contains(zh, want) {
			t.Errorf("the Chinese log lacks %s\n%s", want, zh[strings.Index(zh, "<tbody>"):])
		}
	}
	hr.useLang(t, p.Base, model.LangEN)
	_, en := hr.get(t, p.Base+"/hr/audit")
	for _, want := range []string{
		cell("Account created"), detail("Roles: Employee, Department: 前台, Manager: —"),
		cell("Account changed"), detail("Department: 前台 → 后勤"),
		detail("Stored: 3, Already reminded: 1"),
	} {
		if !strings.Contains(en, want) {
			t.Errorf("the English log lacks %s", want)
		}
	}
	if strings.Contains(en, "stored=3") || strings.Contains(en, `-&gt; &#34;`) {
		t.Error("the English log shows a raw detail")
	}

	// The filter: an actor and an action, both kept in the form.
	_, body := hr.get(t, p.Base+"/hr/audit?actor=hr&action=user.update")
	if !strings.Contains(body, cell("Account changed")) || strings.Contains(body, cell("Account created")) || strings.Contains(body, cell("Overdue people reminded")) {
		t.Errorf("the filter let other rows through")
	}
	if !strings.Contains(body, `<option value="user.update" selected>`) || !strings.Contains(body, `id="actor" name="actor" value="hr" list="audit-actors"`) {
		t.Errorf("the filter is not kept in the form")
	}
	// A prefix from a link is kept as a choice of its own.
	_, body = hr.get(t, p.Base+"/hr/audit?action=user.")
	if !strings.Contains(body, `<option value="user." selected>user.</option>`) || strings.Contains(body, cell("Overdue people reminded")) {
		t.Errorf("the prefix filter is lost")
	}
	if n := strings.Count(body, `<option value="user.update">`); n != 1 {
		t.Errorf("%d user.update choices", n)
	}
	if !slices.Contains([]int{200}, func() int { st, _ := hr.get(t, p.Base+"/hr/audit?action=nonsense"); return st }()) {
		t.Error("an unknown action is refused")
	}
}

// TestAuditDetailsByChannel: a person created through the form, the API
// and the CSV import, and changed through the API, shows on /hr/audit a
// detail in the reader's language that says the channel, from the
// entry's data (no English text parsed); the CSV export keeps the plain
// English detail.
func TestAuditDetailsByChannel(t *testing.T) {
	p, hr := startAsHR(t)
	ctx := context.Background()
	if st, body := hr.post(t, p.Base+"/hr/people", url.Values{"login": {"li.na"}, "name": {"李娜"}, "roles": {"employee"}, "department": {"前台"}, "confirm": {"1"}}); st != http.StatusOK {
		t.Fatalf("create by form: %d\n%s", st, body)
	}
	me, err := p.Auth.UserByLogin(ctx, "hr")
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := p.Auth.CreateToken(ctx, me, me, auth.TokenSpec{Name: "hris", Scopes: []string{auth.ScopeUsersWrite}, Client: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	api := func(method, path, body string) {
		t.Helper()
		req, _ := http.NewRequest(method, p.Base+"/api/v1"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
		}
	}
	api(http.MethodPost, "/users", `{"login":"wang.fang","name":"王芳","roles":["manager"],"department":"后勤"}`)
	api(http.MethodPut, "/users/wang.fang", `{"name":"王芳","roles":["manager"],"department":"仓库"}`)
	csv := "login,name,roles,department\nzhao.lei,赵磊,employee,仓库\n"
	if st, body := hr.post(t, p.Base+"/hr/people/import", url.Values{"csv": {csv}, "do": {"confirm"}}); st != http.StatusOK {
		t.Fatalf("import: %d\n%s", st, body)
	}
	es, err := p.Audit.Search(ctx, model.AuditFilter{Action: "user."}, 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.DetailKey == "" {
			t.Errorf("%s %s has no detail data: %q", e.Action, e.Target, e.Detail)
		}
	}
	// Each of these was written with the client's address, shown after it.
	detail := func(s string) string { return `<td class="detail">` + s + ` <span class="muted">(` }
	_, zh := hr.get(t, p.Base+"/hr/audit")
	for _, want := range []string{
		detail("角色：员工，部门：前台，直属经理：—"),
		detail("角色：经理，部门：后勤，直属经理：—（通过 API）"),
		detail("部门：后勤 → 仓库（通过 API）"),
		detail("角色：员工，部门：仓库，直属经理：—（通过 CSV 导入）"),
		detail("新建：1，更新：0，行数：1"),
	} {
		if !strings.Contains(zh, want) {
			t.Errorf("the Chinese log lacks %s", want)
		}
	}
	hr.useLang(t, p.Base, model.LangEN)
	_, en := hr.get(t, p.Base+"/hr/audit")
	for _, want := range []string{
		detail("Roles: Employee, Department: 前台, Manager: —"),
		detail("Roles: Manager, Department: 后勤, Manager: — (by API)"),
		detail("Department: 后勤 → 仓库 (by API)"),
		detail("Roles: Employee, Department: 仓库, Manager: — (CSV import)"),
		detail("Created: 1, Updated: 0, Rows: 1"),
	} {
		if !strings.Contains(en, want) {
			t.Errorf("the English log lacks %s", want)
		}
	}
	_, out := hr.get(t, p.Base+"/hr/audit.csv")
	for _, want := range []string{
		"roles=employee department=前台 manager=,",
		"roles=manager department=后勤 manager= (by API)",
		`department: ""后勤"" -> ""仓库"" (by API)`,
		"roles=employee department=仓库 manager= (CSV import)",
		"created=1 updated=0 rows=1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the CSV export lacks %s\n%s", want, out)
		}
	}
}

// TestPersonFormWhenAuditRefuses: a person made while the audit log
// refuses is a server error, not a form error showing internal text; the
// account exists (the error says the change is made), with no password
// handed out.
func TestPersonFormWhenAuditRefuses(t *testing.T) {
	p, hr := startAsHR(t)
	testkit.RefuseAudit(t, p.DB)
	st, body := hr.post(t, p.Base+"/hr/people", url.Values{"login": {"li.na"}, "name": {"李娜"}, "roles": {"employee"}, "department": {"前台"}, "confirm": {"1"}})
	if st != http.StatusInternalServerError || strings.Contains(body, "audit entry") || strings.Contains(body, "li.na") {
		t.Fatalf("create with the audit log refusing: %d %s", st, errorLine(body))
	}
	if u, err := p.Auth.UserByLogin(context.Background(), "li.na"); err != nil || u.Name != "李娜" {
		t.Fatalf("the account should exist as the error says: %+v %v", u, err)
	}
}
