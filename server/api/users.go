package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"conductportal/server/auth"
	"conductportal/server/fault"
	"conductportal/server/model"

	"github.com/gofiber/fiber/v2"
)

// personRequest is a person as an HR system sends it.
type personRequest struct {
	Login      string   `json:"login"`
	Name       string   `json:"name"`
	Roles      []string `json:"roles"`
	Department string   `json:"department"`
	Manager    string   `json:"manager"`
	Hired      string   `json:"hired"` // YYYY-MM-DD
	Email      string   `json:"email"` // empty keeps the stored one
	// The ids that mention the person in WeCom and DingTalk groups. All
	// three absent: the stored ones stay; any present: they replace them.
	Mobile     *string `json:"mobile"`
	WeComID    *string `json:"wecom_id"`
	DingTalkID *string `json:"dingtalk_id"`
}

// errHired is a hire date that is not one.
var errHired = errors.New("hired must be a date like 2024-03-01")

// fields turns a request into an auth.Person, unchecked; a bad date is
// errHired (the person is then without it).
func (r personRequest) fields() (auth.Person, error) {
	p := auth.Person{Login: r.Login, Name: r.Name, Roles: r.Roles, Department: r.Department, Manager: r.Manager, Email: r.Email, Contacts: r.contacts()}
	if r.Hired != "" {
		t, err := time.Parse(time.DateOnly, r.Hired)
		if err != nil {
			return p, errHired
		}
		p.Hired = t
	}
	return p, nil
}

// person turns a request into a checked auth.Person; a bad one is a field error.
func (r personRequest) person() (auth.Person, error) {
	p, err := r.fields()
	if err != nil {
		return p, fail(fiber.StatusUnprocessableEntity, "invalid", err.Error(), "hired")
	}
	if err := p.Check(); err != nil {
		return p, fail(fiber.StatusUnprocessableEntity, "invalid", strings.TrimPrefix(err.Error(), "auth: "), auth.PersonField(err))
	}
	return p, nil
}

// contacts are the request's chat ids, nil when it names none (the
// stored ones then stay).
func (r personRequest) contacts() *auth.Contacts {
	if r.Mobile == nil && r.WeComID == nil && r.DingTalkID == nil {
		return nil
	}
	deref := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	return &auth.Contacts{Mobile: deref(r.Mobile), WeComID: deref(r.WeComID), DingTalkID: deref(r.DingTalkID)}
}

// userOut is an account as the API shows it: never its password or MFA.
type userOut struct {
	Login      string   `json:"login"`
	Name       string   `json:"name"`
	Roles      []string `json:"roles"`
	Department string   `json:"department"`
	Manager    string   `json:"manager"`
	Manages    string   `json:"manages"`
	Email      string   `json:"email"`
	Hired      string   `json:"hired"`
	Active     bool     `json:"active"`
	Mobile     string   `json:"mobile"`
	WeComID    string   `json:"wecom_id"`
	DingTalkID string   `json:"dingtalk_id"`
}

func userJSONOf(u *model.User) userOut {
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	return userOut{Login: u.Login, Name: u.Name, Roles: roles, Department: u.Department, Manager: u.Manager,
		Manages: u.Manages, Email: u.Email, Hired: u.Hired.UTC().Format(time.DateOnly), Active: u.Active,
		Mobile: u.Mobile, WeComID: u.WeComID, DingTalkID: u.DingTalkID}
}

// users answers GET /users, optionally ?department=D and ?active=true|false.
// With q, after or limit it answers one page by login (50 people unless
// limit says otherwise) and, when more follow, a Link header to the next
// page (after = the page's last login); without them, everyone selected.
// Both come from storage's directory, not a read of every account.
func (a *API) users(c *fiber.Ctx) error {
	q := model.UserSearch{Q: c.Query("q"), Department: c.Query("department"), After: c.Query("after"), Limit: model.SearchAll}
	switch active := c.Query("active"); active {
	case "":
	case "true", "false":
		on := active == "true"
		q.Active = &on
	default:
		return fail(fiber.StatusBadRequest, "invalid", "active must be true or false", "active")
	}
	if len(q.Q) > 200 {
		return fail(fiber.StatusBadRequest, "invalid", "q is at most 200 characters", "q")
	}
	if s := c.Query("limit"); s != "" || q.Q != "" || q.After != "" {
		q.Limit = 50
		if s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > model.MaxSearchLimit {
				return fail(fiber.StatusBadRequest, "invalid", fmt.Sprintf("limit is a number from 1 to %d", model.MaxSearchLimit), "limit")
			}
			q.Limit = n
		}
	}
	page, more, err := a.Auth.SearchUsers(c.UserContext(), q)
	if err != nil {
		return err
	}
	out := make([]userOut, 0, len(page))
	for i := range page {
		out = append(out, userJSONOf(&page[i]))
	}
	if more && len(page) > 0 {
		next := url.Values{"after": {page[len(page)-1].Login}, "limit": {strconv.Itoa(q.Limit)}}
		for _, k := range []string{"q", "department", "active"} {
			if v := c.Query(k); v != "" {
				next.Set(k, v)
			}
		}
		c.Set(fiber.HeaderLink, `</api/v1/users?`+next.Encode()+`>; rel="next"`)
	}
	return c.JSON(out)
}

func (a *API) userByLogin(c *fiber.Ctx) (*model.User, error) {
	u, err := a.Auth.UserByLogin(c.UserContext(), c.Params("login"))
	if errors.Is(err, fault.NotFound) {
		return nil, fail(fiber.StatusNotFound, "not_found", "no such user", "login")
	}
	return u, err
}

func (a *API) userShow(c *fiber.Ctx) error {
	u, err := a.userByLogin(c)
	if err != nil {
		return err
	}
	return c.JSON(userJSONOf(u))
}

type upsertOut struct {
	Login   string `json:"login"`
	Created bool   `json:"created"`
	Changed string `json:"changed,omitempty"`
	// OneTimePassword is given once, for a new account created with
	// ?one_time_password=true: it must be changed at the first login.
	OneTimePassword string `json:"one_time_password,omitempty"`
	// Invited says how a new account's invitation went out (see auth.SyncResult).
	Invited string `json:"invited,omitempty"`
}

// upsertUser answers POST /users: creates the person, or updates them by login.
func (a *API) upsertUser(c *fiber.Ctx) error {
	var req personRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	p, err := req.person()
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	existing, err := a.Auth.UserByLogin(ctx, p.Login)
	switch {
	case errors.Is(err, fault.NotFound):
		// A one-time password only when asked for, for a company with no
		// channel; otherwise the person is invited and no secret is answered.
		if c.QueryBool("one_time_password") {
			u, pw, err := a.Auth.CreatePerson(ctx, user(c), a.origin(c), p)
			if err != nil {
				return accountError(err)
			}
			return c.Status(fiber.StatusCreated).JSON(upsertOut{Login: u.Login, Created: true, OneTimePassword: pw})
		}
		u, inv, err := a.Auth.CreateInvited(ctx, user(c), a.origin(c), p, "")
		if err != nil {
			return accountError(err)
		}
		return c.Status(fiber.StatusCreated).JSON(upsertOut{Login: u.Login, Created: true, Invited: inv.How()})
	case err != nil:
		return err
	}
	diff, err := a.Auth.UpdatePerson(ctx, user(c), a.origin(c), existing, p)
	if err != nil {
		return accountError(err)
	}
	return c.JSON(upsertOut{Login: existing.Login, Changed: diff})
}

// userUpdate answers PUT /users/{login}: the person's fields replaced.
func (a *API) userUpdate(c *fiber.Ctx) error {
	var req personRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	u, err := a.userByLogin(c)
	if err != nil {
		return err
	}
	if req.Login != "" && req.Login != u.Login {
		return fail(fiber.StatusUnprocessableEntity, "invalid", "a login cannot be changed", "login")
	}
	req.Login = u.Login
	p, err := req.person()
	if err != nil {
		return err
	}
	if _, err := a.Auth.UpdatePerson(c.UserContext(), user(c), a.origin(c), u, p); err != nil {
		return accountError(err)
	}
	if u, err = a.Auth.UserByLogin(c.UserContext(), u.Login); err != nil {
		return err
	}
	return c.JSON(userJSONOf(u))
}

// userDeactivate answers POST /users/{login}/deactivate; again is harmless.
func (a *API) userDeactivate(c *fiber.Ctx) error {
	u, err := a.userByLogin(c)
	if err != nil {
		return err
	}
	if u.Active {
		if err := a.Auth.DeactivateBy(c.UserContext(), user(c), a.origin(c), u); err != nil {
			return accountError(err)
		}
		u.Active = false
	}
	return c.JSON(userJSONOf(u))
}

// syncTimeout bounds one sync of up to auth.MaxSyncRows people.
const syncTimeout = 5 * time.Minute

// syncRequest is an HR system's list of people.
type syncRequest struct {
	Users []personRequest `json:"users"`
	// DeactivateMissing turns off active accounts absent from Users (not
	// admins, not the caller), and only when every row is valid.
	DeactivateMissing bool `json:"deactivate_missing"`
}

type syncRowOut struct {
	Index   int    `json:"index"`
	Login   string `json:"login"`
	Status  string `json:"status"`
	Changed string `json:"changed,omitempty"`
	Invited string `json:"invited,omitempty"`
	Error   *Error `json:"error,omitempty"`
}

type syncOut struct {
	Created     int          `json:"created"`
	Updated     int          `json:"updated"`
	Unchanged   int          `json:"unchanged"`
	Reactivated int          `json:"reactivated"`
	Deactivated int          `json:"deactivated"`
	Invalid     int          `json:"invalid"`
	Results     []syncRowOut `json:"results"`
}

// syncUsers answers POST /users/sync: every row created, updated or left
// as it is, matched by login, with a result per row.
func (a *API) syncUsers(c *fiber.Ctx) error {
	// A new account costs a password hash (tens of milliseconds): a large
	// first sync outlives the request's usual deadline, which exists to
	// answer quickly when the database is out, not to cut work short.
	// The request's own context comes back on return: the token's audit
	// line is written after this handler, and must not meet a cancelled one.
	orig := c.UserContext()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(orig), syncTimeout)
	defer func() { cancel(); c.SetUserContext(orig) }()
	c.SetUserContext(ctx)
	var req syncRequest
	if strings.HasPrefix(c.Get(fiber.HeaderContentType), "text/csv") {
		users, err := peopleCSV(c.Body())
		if err != nil {
			return err
		}
		req = syncRequest{Users: users, DeactivateMissing: c.QueryBool("deactivate_missing")}
	} else if err := decode(c, &req); err != nil {
		return err
	}
	if req.Users == nil {
		return fail(fiber.StatusUnprocessableEntity, "invalid", "send users: a list of people", "users")
	}
	if len(req.Users) == 0 && req.DeactivateMissing {
		// An empty list (a failed export upstream) would turn off everyone.
		return fail(fiber.StatusUnprocessableEntity, "invalid", "deactivate_missing needs a list of at least one person", "users")
	}
	if len(req.Users) > auth.MaxSyncRows {
		return fail(fiber.StatusRequestEntityTooLarge, "too_many_rows", "send at most 5000 people at a time", "users")
	}
	rows := make([]auth.SyncRow, len(req.Users))
	for i, r := range req.Users {
		var err error
		if rows[i].Person, err = r.fields(); err != nil {
			rows[i].Err, rows[i].Field = err, "hired"
		}
	}
	rep, err := a.Auth.Sync(c.UserContext(), user(c), model.Origin{Client: a.Client(c), Via: model.ViaSync}, rows, req.DeactivateMissing)
	if err != nil {
		return err
	}
	out := syncOut{Results: make([]syncRowOut, 0, len(rep.Results))}
	for _, r := range rep.Results {
		row := syncRowOut{Index: r.Index, Login: r.Login, Status: r.Status, Invited: r.Invited}
		switch r.Status {
		case auth.SyncCreated:
			out.Created++
		case auth.SyncUpdated:
			out.Updated++
			row.Changed = r.Detail
		case auth.SyncUnchanged:
			out.Unchanged++
		case auth.SyncReactivated:
			out.Reactivated++
			row.Changed = r.Detail
		case auth.SyncDeactivated:
			out.Deactivated++
		case auth.SyncInvalid:
			out.Invalid++
			row.Error = &Error{Code: "invalid", Message: r.Detail, Field: r.Field}
		}
		out.Results = append(out.Results, row)
	}
	return c.JSON(out)
}

// peopleCSV reads the people CSV HR's import takes (header: login, name,
// and any of roles, department, manager, hired, mobile, wecom_id,
// dingtalk_id; roles separated by ';'). Without the three contact columns
// the stored contacts stay.
func peopleCSV(body []byte) ([]personRequest, error) {
	bad := func(msg string) error { return fail(fiber.StatusBadRequest, "invalid_csv", msg, "body") }
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\ufeff"))))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, bad("no header line: login,name,roles,department,manager,hired")
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	if _, ok := col["login"]; !ok {
		return nil, bad("the header needs a login column")
	}
	if _, ok := col["name"]; !ok {
		return nil, bad("the header needs a name column")
	}
	_, m := col["mobile"]
	_, w := col["wecom_id"]
	_, d := col["dingtalk_id"]
	contacts := m || w || d
	users := []personRequest{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return users, nil
		}
		if err != nil {
			return nil, bad(err.Error())
		}
		if len(users) >= auth.MaxSyncRows {
			return nil, fail(fiber.StatusRequestEntityTooLarge, "too_many_rows", "send at most 5000 people at a time", "body")
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		r := personRequest{Login: get("login"), Name: get("name"), Department: get("department"), Manager: get("manager"), Hired: get("hired"), Email: get("email")}
		if contacts {
			m, w, d := get("mobile"), get("wecom_id"), get("dingtalk_id")
			r.Mobile, r.WeComID, r.DingTalkID = &m, &w, &d
		}
		for _, role := range strings.Split(get("roles"), ";") {
			if role = strings.TrimSpace(role); role != "" {
				r.Roles = append(r.Roles, role)
			}
		}
		users = append(users, r)
	}
}
