package auth

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"conductportal/server/audit"
	"conductportal/server/fault"
	"conductportal/server/model"
)

// ErrForbidden is an account change the acting user may not make: only an
// admin may touch an admin account or give the admin role.
var ErrForbidden error = &fault.Error{Kind: fault.Forbidden, Text: "auth: only an admin may change admin accounts or give the admin role", Field: "roles"}

// Person is the editable part of an account, as HR forms and CSV rows give it.
type Person struct {
	Login      string
	Name       string
	Roles      []string
	Department string
	Manager    string
	Hired      time.Time
	// Email is where invitations and reminders are mailed; empty leaves
	// the stored one.
	Email string
	// Contacts, when set, are the ids that mention the person in group
	// chats; nil leaves the stored ones (a CSV without those columns).
	Contacts *Contacts
}

// Contacts are how WeCom and DingTalk robots mention a person.
type Contacts struct {
	Mobile     string
	WeComID    string
	DingTalkID string
}

var (
	mobileRe = regexp.MustCompile(`^\+?[0-9]{6,20}$`)
	chatIDRe = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,64}$`)
)

// Check validates c and tidies it.
func (c *Contacts) Check() error {
	c.Mobile = strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(c.Mobile))
	c.WeComID, c.DingTalkID = strings.TrimSpace(c.WeComID), strings.TrimSpace(c.DingTalkID)
	if c.Mobile != "" && !mobileRe.MatchString(c.Mobile) {
		return fieldErr("mobile", "person.err.mobile", c.Mobile)
	}
	if c.WeComID != "" && !chatIDRe.MatchString(c.WeComID) {
		return fieldErr("wecom_id", "person.err.chat_id", "WeCom", c.WeComID)
	}
	if c.DingTalkID != "" && !chatIDRe.MatchString(c.DingTalkID) {
		return fieldErr("dingtalk_id", "person.err.chat_id", "DingTalk", c.DingTalkID)
	}
	return nil
}

// Check validates p and tidies it.
func (p *Person) Check() error {
	p.Login, p.Name = strings.TrimSpace(p.Login), strings.TrimSpace(p.Name)
	p.Department, p.Manager = strings.TrimSpace(p.Department), strings.TrimSpace(p.Manager)
	if err := CheckLogin(p.Login); err != nil {
		return err
	}
	if p.Name == "" || len([]rune(p.Name)) > 100 {
		return fieldErr("name", "person.err.name")
	}
	if len(p.Roles) == 0 {
		p.Roles = []string{model.RoleEmployee}
	}
	for _, r := range p.Roles {
		if !slices.Contains(model.AllRoles, r) {
			return fieldErr("roles", "person.err.role", r, strings.Join(model.AllRoles, ", "))
		}
	}
	if len([]rune(p.Department)) > 100 {
		return fieldErr("department", "person.err.department")
	}
	if len(p.Manager) > 64 {
		return fieldErr("manager", "person.err.manager")
	}
	if p.Email = strings.TrimSpace(p.Email); p.Email != "" && CheckEmail(p.Email) != nil {
		return fieldErr("email", "person.err.email", p.Email)
	}
	if p.Contacts != nil {
		return p.Contacts.Check()
	}
	return nil
}

// mayChange reports whether by may give u (nil: a new account) the roles.
func mayChange(by *model.User, u *model.User, roles []string) error {
	if by.HasRole(model.RoleAdmin) {
		return nil
	}
	if (u != nil && u.HasRole(model.RoleAdmin)) || slices.Contains(roles, model.RoleAdmin) {
		return ErrForbidden
	}
	return nil
}

// CreatePerson makes an account with a one-time password, returned once:
// the person must choose their own at first login. Audited, from o; when
// the entry cannot be stored the password is not returned.
func (s *Service) CreatePerson(ctx context.Context, by *model.User, o model.Origin, p Person) (*model.User, string, error) {
	if err := p.Check(); err != nil {
		return nil, "", err
	}
	if err := mayChange(by, nil, p.Roles); err != nil {
		return nil, "", err
	}
	pw := RandomPassword()
	nu := NewUser{Login: p.Login, Name: p.Name, Roles: p.Roles, Department: p.Department,
		Manager: p.Manager, Hired: p.Hired, Email: p.Email, Password: pw, MustChangePassword: true}
	if p.Contacts != nil {
		nu.Contacts = *p.Contacts
	}
	u, err := s.CreateUser(ctx, nu)
	if err != nil {
		return nil, "", err
	}
	if err := s.auditChange(ctx, o.As(by.Login), "user.create", u.Login, audit.Person(u.Roles, u.Department, u.Manager)); err != nil {
		return nil, "", err
	}
	return u, pw, nil
}

// UpdatePerson stores p's fields on the account u and says what changed;
// a change is audited, from o.
func (s *Service) UpdatePerson(ctx context.Context, by *model.User, o model.Origin, u *model.User, p Person) (string, error) {
	d, err := s.updatePerson(ctx, by, u, p)
	if err != nil || d.Text == "" {
		return "", err
	}
	return d.Text, s.auditChange(ctx, o.As(by.Login), "user.update", u.Login, d)
}

// updatePerson is UpdatePerson without its audit entry, for the callers
// that write many entries in one go; the detail is empty when nothing
// changed.
func (s *Service) updatePerson(ctx context.Context, by *model.User, u *model.User, p Person) (audit.Detail, error) {
	p.Login = u.Login
	if err := p.Check(); err != nil {
		return audit.Detail{}, err
	}
	if err := mayChange(by, u, p.Roles); err != nil {
		return audit.Detail{}, err
	}
	if p.Hired.IsZero() {
		p.Hired = u.Hired
	}
	d := personChanges(u, p)
	if d.Text == "" {
		return d, nil
	}
	next := *u
	next.Name, next.Roles, next.Department, next.Manager, next.Hired = p.Name, p.Roles, p.Department, p.Manager, p.Hired.UTC()
	if p.Email != "" {
		next.Email = p.Email
	}
	if c := p.Contacts; c != nil {
		next.Mobile, next.WeComID, next.DingTalkID = c.Mobile, c.WeComID, c.DingTalkID
	}
	if err := s.store.UpdateUser(ctx, &next); err != nil {
		return audit.Detail{}, err
	}
	// A change of roles ends the person's sessions: the next login starts
	// a fresh session with the new powers (and, if a role now requires it,
	// the second factor).
	if strings.Join(u.Roles, ",") != strings.Join(p.Roles, ",") {
		if err := s.store.DeleteUserSessions(ctx, u.ID, ""); err != nil {
			return audit.Detail{}, err
		}
	}
	return d, nil
}

// PersonDiff describes how p differs from u, "field: before -> after; ...",
// empty when it does not.
func PersonDiff(u *model.User, p Person) string { return personChanges(u, p).Text }

// personChanges is how p differs from u, as an audit detail: (field,
// before, after) triples, and PersonDiff's text.
func personChanges(u *model.User, p Person) audit.Detail {
	var out, triples []string
	add := func(field, a, b string) {
		if a != b {
			out = append(out, fmt.Sprintf("%s: %q -> %q", field, a, b))
			triples = append(triples, field, a, b)
		}
	}
	add("name", u.Name, p.Name)
	add("roles", strings.Join(u.Roles, ","), strings.Join(p.Roles, ","))
	add("department", u.Department, p.Department)
	add("manager", u.Manager, p.Manager)
	if p.Email != "" {
		add("email", u.Email, p.Email)
	}
	if !p.Hired.IsZero() {
		add("hired", u.Hired.UTC().Format(time.DateOnly), p.Hired.UTC().Format(time.DateOnly))
	}
	if c := p.Contacts; c != nil {
		add("mobile", u.Mobile, c.Mobile)
		add("wecom_id", u.WeComID, c.WeComID)
		add("dingtalk_id", u.DingTalkID, c.DingTalkID)
	}
	return audit.Changes(strings.Join(out, "; "), triples)
}

// MayDeactivate reports (ErrForbidden) whether by may turn u off or on
// again: HR anyone but an admin, an admin anyone, nobody their own account.
// Pages ask it before they ask "are you sure?".
func MayDeactivate(by, u *model.User) error {
	if err := mayChange(by, u, nil); err != nil {
		return err
	}
	if by.ID == u.ID {
		return fmt.Errorf("%w (not your own account)", ErrForbidden)
	}
	return nil
}

// MayResetPassword reports (ErrForbidden) whether by may give u a new
// one-time password.
func MayResetPassword(by, u *model.User) error { return mayChange(by, u, nil) }

// MayResetMFA reports (ErrForbidden) whether by may turn u's second step
// off. Only an admin may: HR can already issue a one-time password, and
// with the second step off too they could sign in as the person.
func MayResetMFA(by, u *model.User) error {
	if !by.HasRole(model.RoleAdmin) {
		return fmt.Errorf("%w (an admin turns a second step off)", ErrForbidden)
	}
	return nil
}

// DeactivateBy turns u off on by's request (see Deactivate), audited
// from o.
func (s *Service) DeactivateBy(ctx context.Context, by *model.User, o model.Origin, u *model.User) error {
	if err := MayDeactivate(by, u); err != nil {
		return err
	}
	if err := s.Deactivate(ctx, u); err != nil {
		return err
	}
	return s.auditChange(ctx, o.As(by.Login), "user.deactivate", u.Login, deactivated)
}

// deactivated is the detail of a deactivation.
var deactivated = audit.Detail{Key: "audit.detail.deactivated", Text: "active: true -> false; sessions ended"}

// ReactivateBy turns u on again on by's request (see Reactivate),
// audited from o.
func (s *Service) ReactivateBy(ctx context.Context, by *model.User, o model.Origin, u *model.User) error {
	if err := MayDeactivate(by, u); err != nil {
		return err
	}
	if err := s.Reactivate(ctx, u); err != nil {
		return err
	}
	return s.auditChange(ctx, o.As(by.Login), "user.reactivate", u.Login,
		audit.Detail{Key: "audit.detail.reactivated", Text: "active: false -> true"})
}

// ResetMFABy turns u's second step off on by's request (see ResetMFA),
// audited from o.
func (s *Service) ResetMFABy(ctx context.Context, by *model.User, o model.Origin, u *model.User) error {
	if err := MayResetMFA(by, u); err != nil {
		return err
	}
	if err := s.ResetMFA(ctx, u); err != nil {
		return err
	}
	return s.auditChange(ctx, o.As(by.Login), "user.mfa_off", u.Login,
		audit.Detail{Key: "audit.detail.mfa_off", Text: "second step off; sessions ended"})
}

// ResetPassword gives u a new one-time password, returned once, and ends
// their sessions: they must choose their own at the next login. Audited
// from o; when the entry cannot be stored the password is not returned
// (HR resets it again), so no reset goes unrecorded.
func (s *Service) ResetPassword(ctx context.Context, by *model.User, o model.Origin, u *model.User) (string, error) {
	if err := MayResetPassword(by, u); err != nil {
		return "", err
	}
	pw := RandomPassword()
	hash, err := HashPassword(pw)
	if err != nil {
		return "", err
	}
	if err := s.store.SetPassword(ctx, u.ID, hash, true); err != nil {
		return "", err
	}
	if err := s.store.DeleteUserSessions(ctx, u.ID, ""); err != nil {
		return "", err
	}
	if err := s.auditChange(ctx, o.As(by.Login), "user.password_reset", u.Login,
		audit.Detail{Key: "audit.detail.password_reset", Text: "one-time password issued; sessions ended"}); err != nil {
		return "", err
	}
	return pw, nil
}

// auditChange records a change already made. It is written after the
// change, not before: an entry for a change that then failed would be
// false. Its failure is the caller's error, saying the change is made.
func (s *Service) auditChange(ctx context.Context, by model.Actor, action, target string, d audit.Detail) error {
	e := audit.Entry(by, action, target, d)
	e.At = s.clock()
	if err := s.store.Audit(ctx, e); err != nil {
		return fmt.Errorf("auth: %s is done but its audit entry is not stored: %w", strings.TrimSpace(action+" "+target), err)
	}
	return nil
}

// auditChanges writes the entries of changes already made in one go.
func (s *Service) auditChanges(ctx context.Context, what string, es []model.AuditEntry) error {
	if len(es) == 0 {
		return nil
	}
	now := s.clock()
	for i := range es {
		es[i].At = now
	}
	if err := s.store.AuditMany(ctx, es); err != nil {
		return fmt.Errorf("auth: %s is done but its audit entries are not stored: %w", what, err)
	}
	return nil
}

// Import actions of one CSV row.
const (
	ImportCreate    = "create"
	ImportUpdate    = "update"
	ImportUnchanged = "unchanged"
	ImportError     = "error"
)

// ImportRow is one row of a people CSV and what importing it does.
type ImportRow struct {
	Line   int
	Person Person
	Action string
	Detail string // the change, or the error
	Err    error  // the error, for a message in the reader's language
}

// maxImportRows bounds one import.
const maxImportRows = 5000

// usersByLogin returns every user without secrets, and each by login
// (pointing into the list).
func (s *Service) usersByLogin(ctx context.Context) ([]model.User, map[string]*model.User, error) {
	users, err := s.store.UserDirectory(ctx)
	if err != nil {
		return nil, nil, err
	}
	byLogin := make(map[string]*model.User, len(users))
	for i := range users {
		byLogin[users[i].Login] = &users[i]
	}
	return users, byLogin, nil
}

// PlanImport reads a people CSV (header: login,name,roles,department,
// manager,hired, optionally mobile,wecom_id,dingtalk_id; roles separated
// by ';', hired as YYYY-MM-DD) and says
// what importing it would do, row by row. It writes nothing. Rows are
// matched by login, so importing the same file twice changes nothing.
func (s *Service) PlanImport(ctx context.Context, by *model.User, r io.Reader) ([]ImportRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cols, err := readColumns(cr)
	if err != nil {
		return nil, err
	}
	_, byLogin, err := s.usersByLogin(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]int{} // login -> its first line
	var out []ImportRow
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			out = append(out, ImportRow{Line: line, Action: ImportError, Detail: err.Error()})
			continue
		}
		if len(out) >= maxImportRows {
			return nil, fieldErr("csv", "import.err.rows", maxImportRows)
		}
		row := ImportRow{Line: line}
		if err := planRow(&row, cols, rec, by, byLogin, seen); err != nil {
			row.Action, row.Detail, row.Err = ImportError, strings.TrimPrefix(err.Error(), "auth: "), err
		}
		out = append(out, row)
	}
	return out, nil
}

// csvColumns is where each column of a people CSV is, by lower-case name.
type csvColumns struct {
	at map[string]int
	// contacts: the file has a chat id column, so the chat ids change.
	contacts bool
}

// readColumns reads the header; login and name are required.
func readColumns(cr *csv.Reader) (csvColumns, error) {
	header, err := cr.Read()
	if err != nil {
		return csvColumns{}, fmt.Errorf("%w: %w", fieldErr("csv", "import.err.no_header"), err)
	}
	c := csvColumns{at: map[string]int{}}
	for i, h := range header {
		c.at[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, need := range []string{"login", "name"} {
		if _, ok := c.at[need]; !ok {
			return csvColumns{}, fieldErr("csv", "import.err.column", need)
		}
	}
	for _, name := range []string{"mobile", "wecom_id", "dingtalk_id"} {
		_, ok := c.at[name]
		c.contacts = c.contacts || ok
	}
	return c, nil
}

// get is rec's value in the named column, trimmed ("" without it).
func (c csvColumns) get(rec []string, name string) string {
	if i, ok := c.at[name]; ok && i < len(rec) {
		return strings.TrimSpace(rec[i])
	}
	return ""
}

// person is the Person a record describes, roles split on ';'.
func (c csvColumns) person(rec []string) (Person, error) {
	get := func(name string) string { return c.get(rec, name) }
	p := Person{Login: get("login"), Name: get("name"), Department: get("department"), Manager: get("manager"), Email: get("email")}
	if c.contacts {
		p.Contacts = &Contacts{Mobile: get("mobile"), WeComID: get("wecom_id"), DingTalkID: get("dingtalk_id")}
	}
	for _, r := range strings.Split(get("roles"), ";") {
		if r = strings.TrimSpace(r); r != "" {
			p.Roles = append(p.Roles, r)
		}
	}
	if h := get("hired"); h != "" {
		t, err := time.Parse(time.DateOnly, h)
		if err != nil {
			return p, fieldErr("hired", "person.err.hired", h)
		}
		p.Hired = t
	}
	return p, nil
}

// planRow fills row from rec and says what importing it would do: create,
// update or nothing; an error makes it an error row. seen holds the lines
// of the logins before it.
func planRow(row *ImportRow, cols csvColumns, rec []string, by *model.User, byLogin map[string]*model.User, seen map[string]int) error {
	p, err := cols.person(rec)
	row.Person = p
	if err != nil {
		return err
	}
	if err := p.Check(); err != nil {
		return err
	}
	if first, dup := seen[p.Login]; dup {
		return fieldErr("login", "person.err.dup_line", p.Login, first)
	}
	seen[p.Login] = row.Line
	u := byLogin[p.Login]
	if err := mayChange(by, u, p.Roles); err != nil {
		return err
	}
	if u == nil {
		row.Action = ImportCreate
		return nil
	}
	if diff := PersonDiff(u, p); diff != "" {
		row.Action, row.Detail = ImportUpdate, diff
	} else {
		row.Action = ImportUnchanged
	}
	return nil
}

// ImportResult is one account an import created, and how its invitation
// went out (see SyncResult.Invited).
type ImportResult struct {
	Login, Invited string
}

// ApplyImport carries out a plan without errors: it creates and updates
// accounts. Running it again on the same file creates nothing new.
func (s *Service) ApplyImport(ctx context.Context, by *model.User, o model.Origin, rows []ImportRow) ([]ImportResult, int, error) {
	for _, r := range rows {
		if r.Action == ImportError {
			return nil, 0, fmt.Errorf("auth: import: line %d has an error; fix the file first", r.Line)
		}
	}
	created, updated, changes, err := s.applyImport(ctx, by, o, rows)
	// What was done is audited even when a later row failed: each change
	// by name (the new people by CreateInvited), then the run's counts.
	changes = append(changes, *audit.Entry(o.As(by.Login), "user.import", "",
		audit.Counts("created", strconv.Itoa(len(created)), "updated", strconv.Itoa(updated), "rows", strconv.Itoa(len(rows)))))
	return created, updated, errors.Join(err, s.auditChanges(ctx, "user.import", changes))
}

func (s *Service) applyImport(ctx context.Context, by *model.User, o model.Origin, rows []ImportRow) ([]ImportResult, int, []model.AuditEntry, error) {
	var created []ImportResult
	var changes []model.AuditEntry
	updated := 0
	row := model.Origin{Client: o.Client, Via: model.ViaImport}
	for _, r := range rows {
		switch r.Action {
		case ImportCreate:
			_, inv, err := s.CreateInvited(ctx, by, row, r.Person, "")
			if errors.Is(err, model.ErrDuplicate) {
				continue // created meanwhile: idempotent by login
			}
			if err != nil {
				return created, updated, changes, err
			}
			created = append(created, ImportResult{Login: r.Person.Login, Invited: inv.How()})
		case ImportUpdate:
			u, err := s.store.UserByLogin(ctx, r.Person.Login)
			if err != nil {
				return created, updated, changes, err
			}
			d, err := s.updatePerson(ctx, by, u, r.Person)
			if err != nil {
				return created, updated, changes, err
			}
			if d.Text != "" {
				changes = append(changes, *audit.Entry(row.As(by.Login), "user.update", u.Login, d))
			}
			updated++
		}
	}
	return created, updated, changes, nil
}
