package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"conductportal/server/authoring"
	"conductportal/server/lesson"
	"conductportal/server/locale"
	"conductportal/server/model"

	"github.com/gofiber/fiber/v2"
)

//go:embed templates
var templateFS embed.FS

// templates holds every page, each parsed once with the layout.
type templates struct {
	pages map[string]*template.Template
}

var funcs = template.FuncMap{
	"add": func(a, b int) int { return a + b },
	"pct": percent,
	// html marks lesson HTML as safe: it was sanitized by bluemonday when
	// the version was published (see lesson.Renderer).
	"html":      func(s string) template.HTML { return template.HTML(s) }, // #nosec G203 -- sanitized before storing
	"sub":       func(a, b int) int { return a - b },
	"has":       func(list []string, s string) bool { return slices.Contains(list, s) },
	"hasPrefix": strings.HasPrefix,
	"short": func(s string) string {
		if len(s) > 16 {
			return s[:16] + "…"
		}
		return s
	},
}

// percent is a of b in whole percent, 0 of nothing.
func percent(a, b int) int {
	if b == 0 {
		return 0
	}
	return a * 100 / b
}

func loadTemplates() (*templates, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	t := &templates{pages: map[string]*template.Template{}}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		p, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", base, err)
		}
		t.pages[base] = p
	}
	for _, want := range []string{"login", "password", "training", "lesson", "quiz", "result", "acknowledge", "receipts", "receipt", "certificate", "verify", "error",
		"mfa_login", "mfa_setup", "team", "team_remind", "person", "organisation", "notifications", "tokens",
		// The HR area.
		"hr_home", "hr_lessons", "hr_edit", "hr_quiz", "hr_publish", "hr_history", "hr_diff", "hr_audit", "hr_people", "hr_person", "hr_onetime", "hr_import", "hr_analytics",
		"hr_channels", "hr_channel", "hr_deliveries", "hr_bulk", "admin_settings"} {
		if t.pages[want] == nil {
			return nil, fmt.Errorf("web: template %s.html is missing", want)
		}
	}
	return t, nil
}

// page is the data every template gets: who is logged in, the language,
// the CSRF token, a message, and the page's own data.
type page struct {
	Lang   string
	User   *model.User
	CSRF   string
	Title  string
	Notice string
	Error  string
	Path   string
	query  string // the request's query, for Here
	Static func(string) string
	Data   any

	Company string // the configured company name
	Logo    string // URL of the company's logo, or ""
	Demo    bool   // the database holds "portal demo"'s sample company
	// Tokens: the user may have API tokens (not an employee alone, unless
	// PORTAL_EMPLOYEE_TOKENS allows it).
	Tokens bool
}

// T translates a UI string into the page's language.
func (p *page) T(key string, args ...any) string { return locale.T(p.Lang, key, args...) }

// Date formats a day for the page's language.
func (p *page) Date(t time.Time) string { return p.format(t, "2006年1月2日", "2 Jan 2006") }

// ScopeText says in words what an API token's scope lets it do.
func (p *page) ScopeText(scope string) string {
	return locale.T(p.Lang, "tokens.scope."+strings.ReplaceAll(scope, ":", "_"))
}

// ShortDate formats a day briefly, for tables.
func (p *page) ShortDate(t time.Time) string { return p.format(t, "1月2日", "2 Jan") }

// Time formats a moment for the page's language.
func (p *page) Time(t time.Time) string {
	return p.format(t, "2006年1月2日 15:04:05 MST", "2 Jan 2006 15:04:05 MST")
}

func (p *page) format(t time.Time, zh, en string) string {
	if t.IsZero() {
		return ""
	}
	if p.Lang == model.LangZH {
		return t.In(displayZone).Format(zh)
	}
	return t.In(displayZone).Format(en)
}

// OtherLang is the language the switch offers.
func (p *page) OtherLang() string {
	if p.Lang == model.LangZH {
		return model.LangEN
	}
	return model.LangZH
}

// Langs lists the languages the account menu offers.
func (p *page) Langs() []string { return model.Languages }

// Here is the page's address to come back to (after a language switch):
// the path with its query, a filter or a page of a list kept, but not the
// notice a redirect asked for, shown once.
func (p *page) Here() string {
	if p.query == "" {
		return p.Path
	}
	q, err := url.ParseQuery(p.query)
	if err != nil {
		return p.Path
	}
	if countNotices[q.Get("m")] > 0 {
		for _, k := range countArgs {
			q.Del(k)
		}
	}
	q.Del("m")
	if len(q) == 0 {
		return p.Path
	}
	return p.Path + "?" + q.Encode()
}

// displayZone is the zone dates are shown in: the machine's local zone.
var displayZone = time.Local

// notices are the messages a redirect may ask the next page to show.
var notices = map[string]bool{
	"password.saved": true, "mfa.off.done": true, "lesson.read.done": true, "ack.recorded": true,
	"ack.quiz_first": true, "quiz.cooldown": true, "quiz.nomore": true, "ack.not_current": true,
	"remind.sent": true, "remind.already": true, "remind.none": true, "notifications.read": true,
	"hr.draft.saved": true, "hr.draft.none": true, "hr.draft.restored": true,
	"hr.published": true, "hr.published.unchanged": true, "hr.person.saved": true, "hr.person.created": true,
	"hr.import.done":    true,
	"hr.channels.saved": true, "hr.channels.deleted": true, "hr.channels.test_queued": true,
	"tokens.revoked": true, "hr.bulk.already_undone": true,
	"invite.done": true, "invite.sent": true, "invite.sso": true, "invite.unsent": true, "invite.revoked": true, "invite.inactive": true,
}

// countNotices are the notices that say numbers, with how many: taken from
// the query's countArgs in order (integers only, so nothing else can be
// formatted into the text).
var countNotices = map[string]int{"remind.count": 1, "remind.count.already": 2,
	"hr.bulk.done.assign": 1, "hr.bulk.done.exempt": 1, "hr.bulk.done.extend": 1, "hr.bulk.undone": 2,
	"hr.draft.saved_blocked": 1, "hr.published.sign_again": 2}

var countArgs = []string{"n", "a"}

// SeesTeam reports whether the header offers the team view.
func (p *page) SeesTeam() bool { return p.User != nil && p.User.HasRole(model.RoleManager) }

// SeesOrganisation reports whether the header offers the organisation view.
func (p *page) SeesOrganisation() bool { return p.User != nil && p.User.HasRole(model.RoleHR) }

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render executes a page into a pooled buffer, so a template error gives a
// clean error page rather than half a page.
func (h *handler) render(c *fiber.Ctx, name, title string, data any) error {
	return h.renderPage(c, name, &page{Title: title, Data: data})
}

// renderBlock executes one named block of a page's template, for a
// script that replaces part of the page.
func (h *handler) renderBlock(c *fiber.Ctx, name, block string, p *page) error {
	t := h.tpl.pages[name]
	if t == nil {
		return fmt.Errorf("web: no template %q", name)
	}
	h.fillPage(c, p)
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, p); err != nil {
		return fmt.Errorf("web: render %s/%s: %w", name, block, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(buf.Bytes())
}

func (h *handler) fillPage(c *fiber.Ctx, p *page) {
	p.Lang = langOf(c)
	p.User, _ = currentSession(c)
	p.CSRF = h.csrfToken(c)
	p.Path = c.Path() // without the query: a notice shown once is not shown again
	if q := c.Request().URI().QueryString(); len(q) > 0 {
		p.query = string(q)
	}
	p.Static = h.static.URL
	p.Company, p.Logo = h.Config.CompanyName, h.static.logo
	p.Demo = h.Demo
	p.Tokens = p.User != nil && h.mayHaveTokens(p.User)
	if m := c.Query("m"); p.Notice == "" && notices[m] {
		p.Notice = locale.T(p.Lang, m)
	} else if n := countNotices[m]; p.Notice == "" && n > 0 {
		args := make([]any, n)
		for i, name := range countArgs[:n] {
			args[i] = max(0, c.QueryInt(name))
		}
		p.Notice = locale.T(p.Lang, m, args...)
	}
}

func (h *handler) renderPage(c *fiber.Ctx, name string, p *page) error {
	t := h.tpl.pages[name]
	if t == nil {
		return fmt.Errorf("web: no template %q", name)
	}
	h.fillPage(c, p)
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	if err := writePage(buf, t, name, p); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	// SetBody copies: c.Send would keep a reference to the pooled buffer
	// until the response is written, after the buffer is reused (a data
	// race the race detector found).
	c.Response().SetBody(buf.Bytes())
	return nil
}

// goPages are the pages whose content is written in Go (html_writer.go),
// given their template for the blocks they leave to it; the others'
// content comes from their template's "content".
var goPages = map[string]func(htmlWriter, *template.Template, *page) error{
	"lesson":   func(w htmlWriter, _ *template.Template, p *page) error { return writeLesson(w, p) },
	"training": writeTraining,
	"quiz":     func(w htmlWriter, _ *template.Template, p *page) error { return writeQuiz(w, p) },
}

// writePage writes page name into buf: the layout in Go around the
// content. It is what executing t (layout.html with the page's template)
// writes, at a fraction of the cost.
func writePage(buf *bytes.Buffer, t *template.Template, name string, p *page) error {
	w := htmlWriter{buf}
	if write := goPages[name]; write != nil {
		return writeLayout(w, p, func() error { return write(w, t, p) })
	}
	return writeLayout(w, p, func() error { return t.ExecuteTemplate(buf, "content", p) })
}

// InAccount says whether the page is one of the account menu's.
func (p *page) InAccount() bool {
	return p.Path == "/password" || p.Path == "/certificate" || p.Path == "/tokens" || strings.HasPrefix(p.Path, "/mfa/")
}

// IsAdmin says whether the page's user is an admin (for the menu).
func (p *page) IsAdmin() bool { return p.User != nil && p.User.HasRole(model.RoleAdmin) }

// IsHR says whether the page's user may use the HR area (for the menu).
func (p *page) IsHR() bool { return p.User != nil && isHR(p.User) }

// pager is what the shared "paging" block of layout.html renders: the
// links to a list's first page (when this is not it) and next page (when
// more follow), with ids ID-first and ID-next.
type pager struct {
	Page        *page
	ID          string
	First, Next string
	FirstKey    string // paging.first, or paging.newest for a list newest first
	Label       string // the links' name, for a screen reader
}

// Paging pairs a list's page links with the page for the "paging" block.
func (p *page) Paging(id, first, next string) pager {
	return pager{Page: p, ID: id, First: first, Next: next, FirstKey: "paging.first", Label: p.T("paging.label")}
}

// Newest words the first page as the newest (a log listed newest first).
func (g pager) Newest() pager {
	g.FirstKey = "paging.newest"
	return g
}

// Labelled names the links by what the page shows ("people 1-50 of 80").
func (g pager) Labelled(label string) pager {
	g.Label = label
	return g
}

// problemList is a list of content problems with the page, to translate
// "line N" in the shared "problems" block.
type problemList struct {
	Page  *page
	Items []lesson.Problem
}

// ProblemList pairs problems with the page for the "problems" block.
func (p *page) ProblemList(ps []lesson.Problem) problemList { return problemList{Page: p, Items: ps} }

// Problem words a content problem in the reader's language; a problem
// without a key (none of the editor's checks) keeps its English.
func (p *page) Problem(pr lesson.Problem) string { return problemText(p.Lang, pr) }

// PartName names a part of a draft (a language, or the quiz) in the
// reader's language.
func (p *page) PartName(part string) string {
	if part == authoring.QuizPart {
		return locale.T(p.Lang, "hr.part.quiz")
	}
	return locale.T(p.Lang, "lang."+part)
}

func problemText(ui string, pr lesson.Problem) string {
	if pr.Key == "" {
		return pr.Msg
	}
	args := make([]any, len(pr.Args))
	for i, a := range pr.Args {
		if l, ok := a.(lesson.LangName); ok {
			a = locale.T(ui, "lang."+string(l))
		}
		args[i] = a
	}
	return locale.T(ui, pr.Key, args...)
}
