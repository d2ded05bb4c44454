package web

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"conductportal/server/auth"
	"conductportal/server/fault"
	"conductportal/server/locale"
	"conductportal/server/model"

	"github.com/gofiber/fiber/v2"
)

type peoplePage struct {
	Users []model.User
	Q     string // the search
	Next  string // the next page's address; empty on the last
}

// peoplePageSize is how many people one page of the list shows.
const peoplePageSize = 50

// hrPeople lists people 50 at a time by login, optionally those a search
// finds (?q=, words found in the login, name, department or manager), from
// storage's in-memory directory: a page costs the same at 100,000 people.
func (h *handler) hrPeople(c *fiber.Ctx) error {
	q := strings.TrimSpace(c.Query("q"))
	if r := []rune(q); len(r) > 200 {
		q = string(r[:200])
	}
	users, more, err := h.Auth.SearchUsers(ctx(c), model.UserSearch{Q: q, After: c.Query("after"), Limit: peoplePageSize})
	if err != nil {
		return err
	}
	pp := peoplePage{Users: users, Q: q}
	if more && len(users) > 0 {
		v := url.Values{"after": {users[len(users)-1].Login}}
		if q != "" {
			v.Set("q", q)
		}
		pp.Next = "/hr/people?" + v.Encode()
	}
	return h.render(c, "hr_people", locale.T(langOf(c), "hr.people.title"), pp)
}

// accountPage is the form of a new or existing account.
type accountPage struct {
	Person   *model.User // nil for a new account
	Login    string
	Name     string
	Roles    []string
	Dept     string
	Manager  string
	Email    string
	Hired    string
	AllRoles []string
	Message  string
	Lessons  []model.Lesson // for the exceptions of an existing person
	// Choices are the departments and managers in use, offered as lists.
	Choices model.DirectoryChoices

	// The ids that mention the person in WeCom and DingTalk groups.
	Mobile, WeComID, DingTalkID string
}

func (h *handler) hrPersonNew(c *fiber.Ctx) error {
	choices, err := h.Auth.DirectoryChoices(ctx(c))
	if err != nil {
		return err
	}
	return h.render(c, "hr_person", locale.T(langOf(c), "hr.person.new"), accountPage{AllRoles: model.AllRoles, Roles: []string{model.RoleEmployee}, Choices: choices})
}

// askNewValues asks before an account names a department or a manager
// that no one has yet (a typo makes a team of one): it answers with the
// confirmation page, carrying the form, and reports whether it did.
func (h *handler) askNewValues(c *fiber.Ctx, pp accountPage, action, back string) (bool, error) {
	if confirmed(c) || (pp.Dept == "" && pp.Manager == "") {
		return false, nil
	}
	choices, err := h.Auth.DirectoryChoices(ctx(c))
	if err != nil {
		return false, err
	}
	lang := langOf(c)
	var items []string
	if pp.Dept != "" && !slices.Contains(choices.Departments, pp.Dept) {
		items = append(items, locale.T(lang, "hr.person.new_value.department", pp.Dept))
	}
	if pp.Manager != "" && !slices.ContainsFunc(choices.Managers, func(m model.PersonChoice) bool { return m.Login == pp.Manager }) {
		items = append(items, locale.T(lang, "hr.person.new_value.manager", pp.Manager))
	}
	if len(items) == 0 {
		return false, nil
	}
	fields := map[string]string{}
	for _, k := range []string{"login", "name", "department", "manager", "email", "hired", "mobile", "wecom_id", "dingtalk_id"} {
		fields[k] = c.FormValue(k)
	}
	fields["roles"] = strings.Join(pp.Roles, ",")
	return true, h.askConfirm(c, confirmPage{
		Title: locale.T(lang, "hr.person.new_value.title"), Intro: locale.T(lang, "hr.person.new_value.intro"),
		Caption: locale.T(lang, "hr.person.new_value.caption"), Items: items, Action: action, Fields: fields,
		Button: locale.T(lang, "hr.person.new_value.yes"), Back: back,
	})
}

// personForm reads the account form.
func personForm(c *fiber.Ctx) (auth.Person, accountPage, error) {
	args := c.Request().PostArgs()
	var roles []string
	for _, r := range args.PeekMulti("roles") {
		// The confirmation page carries the roles as one list.
		for _, one := range strings.Split(string(r), ",") {
			if one != "" {
				roles = append(roles, one)
			}
		}
	}
	p := auth.Person{Login: c.FormValue("login"), Name: c.FormValue("name"), Roles: roles,
		Department: c.FormValue("department"), Manager: c.FormValue("manager"), Email: strings.TrimSpace(c.FormValue("email")),
		Contacts: &auth.Contacts{Mobile: c.FormValue("mobile"), WeComID: c.FormValue("wecom_id"), DingTalkID: c.FormValue("dingtalk_id")}}
	pp := accountPage{Login: p.Login, Name: p.Name, Roles: roles, Dept: p.Department, Manager: p.Manager, Email: p.Email,
		Hired: strings.TrimSpace(c.FormValue("hired")), AllRoles: model.AllRoles,
		Mobile: p.Contacts.Mobile, WeComID: p.Contacts.WeComID, DingTalkID: p.Contacts.DingTalkID}
	if pp.Hired != "" {
		t, err := time.Parse(time.DateOnly, pp.Hired)
		if err != nil {
			return p, pp, &auth.FieldError{Field: "hired", Key: "person.err.hired", Args: []any{pp.Hired}}
		}
		p.Hired = t
	}
	return p, pp, nil
}

func (h *handler) personFail(c *fiber.Ctx, pp accountPage, err error) error {
	if !errors.Is(err, fault.Invalid) && !errors.Is(err, fault.Conflict) {
		// Refused (403), or a server error such as a change made but not
		// audited: not something the form can fix.
		return err
	}
	lang := langOf(c)
	msg := auth.ErrorIn(lang, err)
	if errors.Is(err, fault.Conflict) {
		msg = locale.T(lang, "hr.person.taken", pp.Login)
	}
	if pp.Choices, err = h.Auth.DirectoryChoices(ctx(c)); err != nil {
		return err
	}
	c.Status(fiber.StatusUnprocessableEntity)
	title := locale.T(lang, "hr.person.new")
	if pp.Person != nil {
		title = pp.Person.Name
	}
	return h.renderPage(c, "hr_person", &page{Title: title, Error: msg, Data: pp})
}

func (h *handler) hrPersonCreate(c *fiber.Ctx) error {
	by, _ := currentSession(c)
	p, pp, err := personForm(c)
	if err != nil {
		return h.personFail(c, pp, err)
	}
	if asked, err := h.askNewValues(c, pp, "/hr/people", "/hr/people/new"); asked || err != nil {
		return err
	}
	u, pw, err := h.Auth.CreatePerson(ctx(c), by, originOf(c), p)
	if err != nil {
		return h.personFail(c, pp, err)
	}
	return h.render(c, "hr_onetime", locale.T(langOf(c), "hr.onetime.title"), oneTimePage{User: u, Password: pw})
}

type oneTimePage struct {
	User     *model.User
	Password string
}

// person loads the account named in the path.
func (h *handler) person(c *fiber.Ctx) (*model.User, error) {
	login := c.Params("login")
	if login == "" || len(login) > 64 {
		return nil, fiber.ErrNotFound
	}
	return h.Auth.UserByLogin(ctx(c), login) // none: 404, by fault's table
}

func (h *handler) hrPersonShow(c *fiber.Ctx) error {
	u, err := h.person(c)
	if err != nil {
		return err
	}
	lessons, err := h.Training.Lessons(ctx(c))
	if err != nil {
		return err
	}
	choices, err := h.Auth.DirectoryChoices(ctx(c))
	if err != nil {
		return err
	}
	pg := &page{Title: u.Name, Data: accountPage{Choices: choices, Person: u, Login: u.Login, Name: u.Name, Roles: u.Roles,
		Dept: u.Department, Manager: u.Manager, Email: u.Email, Hired: u.Hired.In(displayZone).Format(time.DateOnly), AllRoles: model.AllRoles,
		Mobile: u.Mobile, WeComID: u.WeComID, DingTalkID: u.DingTalkID, Lessons: lessons}}
	if m := c.Query("m"); personNotices[m] {
		pg.Notice = locale.T(langOf(c), m, u.Name)
	}
	return h.renderPage(c, "hr_person", pg)
}

// hrPersonException exempts a person from a lesson, extends their due date,
// or puts them back to normal, with a reason; audited.
func (h *handler) hrPersonException(c *fiber.Ctx) error {
	by, _ := currentSession(c)
	u, err := h.person(c)
	if err != nil {
		return err
	}
	var until time.Time
	if d := c.FormValue("until"); d != "" {
		// The end of the chosen day, in the portal's zone.
		t, perr := time.ParseInLocation(time.DateOnly, d, displayZone)
		if perr != nil {
			return h.exceptionFail(c, u, "hr.exceptions.bad_date")
		}
		until = t.Add(24*time.Hour - time.Second)
	}
	err = h.Training.SetException(ctx(c), by, u, c.FormValue("lesson"), c.FormValue("kind"), until, c.FormValue("reason"))
	switch {
	case errors.Is(err, fault.Invalid): // no reason, or a date not in the future
		return h.exceptionFail(c, u, messageKey(err))
	case err != nil:
		return err
	}
	return c.Redirect("/hr/people/"+u.Login+"?m=hr.person.saved#exceptions-title", fiber.StatusSeeOther)
}

func (h *handler) exceptionFail(c *fiber.Ctx, u *model.User, key string) error {
	lessons, err := h.Training.Lessons(ctx(c))
	if err != nil {
		return err
	}
	choices, err := h.Auth.DirectoryChoices(ctx(c))
	if err != nil {
		return err
	}
	c.Status(fiber.StatusUnprocessableEntity)
	return h.renderPage(c, "hr_person", &page{Title: u.Name, Error: locale.T(langOf(c), key), Data: accountPage{Choices: choices, Person: u, Login: u.Login,
		Name: u.Name, Roles: u.Roles, Dept: u.Department, Manager: u.Manager, Email: u.Email, Hired: u.Hired.In(displayZone).Format(time.DateOnly),
		AllRoles: model.AllRoles, Mobile: u.Mobile, WeComID: u.WeComID, DingTalkID: u.DingTalkID, Lessons: lessons}})
}

func (h *handler) hrPersonUpdate(c *fiber.Ctx) error {
	by, _ := currentSession(c)
	u, err := h.person(c)
	if err != nil {
		return err
	}
	p, pp, err := personForm(c)
	pp.Person, pp.Login = u, u.Login
	if err != nil {
		return h.personFail(c, pp, err)
	}
	if asked, err := h.askNewValues(c, pp, "/hr/people/"+url.PathEscape(u.Login), "/hr/people/"+url.PathEscape(u.Login)); asked || err != nil {
		return err
	}
	if _, err := h.Auth.UpdatePerson(ctx(c), by, originOf(c), u, p); err != nil {
		return h.personFail(c, pp, err)
	}
	return c.Redirect("/hr/people/"+u.Login+"?m=hr.person.saved", fiber.StatusSeeOther)
}

// hrPersonDeactivate turns an account off, after asking (naming the
// person and what ends with it).
func (h *handler) hrPersonDeactivate(c *fiber.Ctx) error {
	return h.actOnPerson(c, askDeactivate, auth.MayDeactivate, func(u *model.User) bool { return u.Active },
		func(by, u *model.User) error { return h.Auth.DeactivateBy(ctx(c), by, originOf(c), u) })
}

// hrPersonReactivate turns a deactivated account on again, after asking.
func (h *handler) hrPersonReactivate(c *fiber.Ctx) error {
	return h.actOnPerson(c, askReactivate, auth.MayDeactivate, func(u *model.User) bool { return !u.Active },
		func(by, u *model.User) error { return h.Auth.ReactivateBy(ctx(c), by, originOf(c), u) })
}

// hrPersonPassword gives the person a one-time password, after asking,
// and shows it once.
func (h *handler) hrPersonPassword(c *fiber.Ctx) error {
	return h.actOnPerson(c, askReset, auth.MayResetPassword, nil, func(by, u *model.User) error {
		pw, err := h.Auth.ResetPassword(ctx(c), by, originOf(c), u)
		if err != nil {
			return err
		}
		return h.render(c, "hr_onetime", locale.T(langOf(c), "hr.onetime.title"), oneTimePage{User: u, Password: pw})
	})
}

// hrPersonMFAOff turns a person's second step off (they lost their phone
// and their recovery codes), after asking; an admin's action only.
func (h *handler) hrPersonMFAOff(c *fiber.Ctx) error {
	return h.actOnPerson(c, askMFAOff, auth.MayResetMFA, func(u *model.User) bool { return u.MFA.Enabled || u.MFA.Pending != "" },
		func(by, u *model.User) error { return h.Auth.ResetMFABy(ctx(c), by, originOf(c), u) })
}

// actOnPerson is the steps every consequential action on an account
// takes: the person by login, whether by may (403 before any question),
// back to their page when there is nothing to do (needed false; nil: always
// needed), the question, then do, and the person's page with a.done's
// notice (do may answer itself: a.done empty).
func (h *handler) actOnPerson(c *fiber.Ctx, a personAction, may func(by, u *model.User) error,
	needed func(*model.User) bool, do func(by, u *model.User) error) error {
	by, _ := currentSession(c)
	u, err := h.person(c)
	if err != nil {
		return err
	}
	if may(by, u) != nil {
		return fiber.ErrForbidden
	}
	page := "/hr/people/" + url.PathEscape(u.Login)
	if needed != nil && !needed(u) {
		return c.Redirect(page, fiber.StatusSeeOther)
	}
	if !confirmed(c) {
		return h.askPerson(c, u, a)
	}
	if err := do(by, u); err != nil || a.done == "" {
		return err // auth.ErrForbidden: 403, by fault's table
	}
	return c.Redirect(page+"?m="+a.done, fiber.StatusSeeOther)
}

// askPerson asks before an action on a person's account: the question
// and what will happen name them, and the page lists the account.
func (h *handler) askPerson(c *fiber.Ctx, u *model.User, a personAction) error {
	lang := langOf(c)
	who := u.Name + " (" + u.Login + ")"
	if u.Department != "" {
		who += " · " + u.Department
	}
	back := "/hr/people/" + url.PathEscape(u.Login)
	return h.askConfirm(c, confirmPage{
		Title: locale.T(lang, a.title, u.Name), Intro: locale.T(lang, a.intro, u.Name),
		Caption: locale.T(lang, "hr.person.confirm.who"), Items: []string{who},
		Action: back + "/" + a.path, Button: locale.T(lang, a.yes), Danger: a.danger, Back: back,
	})
}

// personAction is one consequential action on an account: where its
// confirmed form posts and what its question says.
type personAction struct {
	path, title, intro, yes string
	danger                  bool
	done                    string // the notice once done (a personNotices key), if the page is the person's
}

var (
	askDeactivate = personAction{"deactivate", "hr.person.deactivate.confirm.title", "hr.person.deactivate.confirm.intro", "hr.person.deactivate.confirm.yes", true, "hr.person.deactivated"}
	askReactivate = personAction{"reactivate", "hr.person.reactivate.confirm.title", "hr.person.reactivate.confirm.intro", "hr.person.reactivate.confirm.yes", false, "hr.person.reactivated"}
	askReset      = personAction{"password", "hr.person.reset.confirm.title", "hr.person.reset.confirm.intro", "hr.person.reset.confirm.yes", true, ""}
	askMFAOff     = personAction{"mfa/off", "hr.person.mfa_off.confirm.title", "hr.person.mfa_off.confirm.intro", "hr.person.mfa_off.confirm.yes", true, "hr.person.mfa_offed"}
)

// personNotices are the person page's notices that name the person
// ("李娜 deactivated."): the name comes from the record, not the query.
var personNotices = map[string]bool{"hr.person.deactivated": true, "hr.person.reactivated": true, "hr.person.mfa_offed": true}

type importPage struct {
	CSV     string
	Rows    []auth.ImportRow
	Errors  int
	Changes int
	Created []auth.ImportResult
	Updated int
	Done    bool
}

// uploadedCSV reads the CSV file of a multipart import, if one was
// chosen: UTF-8 text (a leading byte-order mark dropped), newlines
// normalised. The request's body limit bounds its size.
func uploadedCSV(c *fiber.Ctx) (string, bool, error) {
	fh, err := c.FormFile("file")
	if err != nil || fh.Size == 0 {
		return "", false, nil // no file: the pasted text is the import
	}
	f, err := fh.Open()
	if err != nil {
		return "", false, fmt.Errorf("web: import file: %w", err)
	}
	defer f.Close()
	raw, err := io.ReadAll(f)
	if err != nil {
		return "", false, fmt.Errorf("web: import file: %w", err)
	}
	if !utf8.Valid(raw) {
		return "", false, errors.New("web: import file: not UTF-8")
	}
	return normalizeNewlines(strings.TrimPrefix(string(raw), "\ufeff")), true, nil
}

// hrImportTemplate downloads a CSV to fill in: the header the import
// reads (its column names are the same in every language) and one example
// row in the reader's language. A byte-order mark makes spreadsheets read
// it as UTF-8.
func (h *handler) hrImportTemplate(c *fiber.Ctx) error {
	lang := langOf(c)
	var b strings.Builder
	b.WriteString("\ufeff")
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"login", "name", "roles", "department", "manager", "hired", "email", "mobile", "wecom_id", "dingtalk_id"})
	_ = w.Write([]string{"zhang.wei", locale.T(lang, "hr.import.example.name"), model.RoleEmployee, locale.T(lang, "hr.import.example.department"),
		"li.na", "2026-03-01", "zhang.wei@example.com", "13800000000", "", ""})
	w.Flush()
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="people.csv"`)
	return c.SendString(b.String())
}

func (h *handler) hrImportShow(c *fiber.Ctx) error {
	return h.render(c, "hr_import", locale.T(langOf(c), "hr.import.title"), importPage{})
}

// hrImportSubmit previews a CSV (do=preview) or, once it has no errors,
// applies it (do=confirm). Nothing is written before the confirmation.
func (h *handler) hrImportSubmit(c *fiber.Ctx) error {
	by, _ := currentSession(c)
	lang := langOf(c)
	p := importPage{CSV: normalizeNewlines(c.FormValue("csv"))}
	fail := func(msg string) error {
		c.Status(fiber.StatusUnprocessableEntity)
		return h.renderPage(c, "hr_import", &page{Title: locale.T(lang, "hr.import.title"), Error: msg, Data: p})
	}
	// A chosen file replaces the pasted text; the preview shows it in the
	// text box, so the confirming post carries what was previewed.
	if text, ok, err := uploadedCSV(c); err != nil {
		return fail(locale.T(lang, "hr.import.bad_file"))
	} else if ok {
		p.CSV = text
	}
	if strings.TrimSpace(p.CSV) == "" {
		return fail(locale.T(lang, "hr.import.empty"))
	}
	rows, err := h.Auth.PlanImport(ctx(c), by, strings.NewReader(p.CSV))
	if err != nil {
		return fail(auth.ErrorIn(lang, err))
	}
	p.Rows = rows
	for i, r := range rows {
		if r.Err != nil {
			p.Rows[i].Detail = auth.ErrorIn(lang, r.Err)
		}
		switch r.Action {
		case auth.ImportError:
			p.Errors++
		case auth.ImportCreate, auth.ImportUpdate:
			p.Changes++
		}
	}
	if c.FormValue("do") != "confirm" || p.Errors > 0 {
		if p.Errors > 0 {
			return fail(locale.T(lang, "hr.import.has_errors", p.Errors))
		}
		return h.render(c, "hr_import", locale.T(lang, "hr.import.title"), p)
	}
	// Each new account costs a password hash (about 30 ms): a large import
	// outlives the 4 s request deadline, which is for noticing an outage.
	long, cancel := context.WithTimeout(context.WithoutCancel(ctx(c)), 5*time.Minute)
	defer cancel()
	c.SetUserContext(long)
	created, updated, err := h.Auth.ApplyImport(ctx(c), by, originOf(c), rows)
	if err != nil {
		return err
	}
	p.Created, p.Updated, p.Done = created, updated, true
	return h.renderPage(c, "hr_import", &page{Title: locale.T(lang, "hr.import.title"), Notice: locale.T(lang, "hr.import.done"), Data: p})
}
