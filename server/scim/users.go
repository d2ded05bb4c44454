package scim

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/storage"

	"github.com/elimity-com/scim"
	scimerr "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	filter "github.com/scim2/filter-parser/v2"
)

// users maps SCIM Users onto the portal's accounts. The SCIM id is the
// account's _id, so reads by id are _id reads; userName is the login,
// found through the storage's by-login path; externalId through a key
// document whose _id is the externalId. No read here scans the users,
// except a list without one of those two filters.
type users struct {
	auth  *auth.Service
	store *storage.Storage
	log   *slog.Logger
}

// resource is u as SCIM shows it.
func (h *users) resource(r *http.Request, u *model.User) scim.Resource {
	attrs := scim.ResourceAttributes{
		"userName": u.Login, "displayName": u.Name, "active": u.Active,
		"name": map[string]interface{}{"formatted": u.Name},
	}
	if u.Email != "" {
		attrs["emails"] = []interface{}{map[string]interface{}{"value": u.Email, "type": "work", "primary": true}}
	}
	ext := map[string]interface{}{}
	if u.Department != "" {
		ext["department"] = u.Department
	}
	if u.Manager != "" {
		// The manager by their SCIM id, as providers send it; their login
		// when they are not known here.
		id := u.Manager
		if m, err := h.store.UserByLogin(r.Context(), u.Manager); err == nil {
			id = m.ID
		}
		ext["manager"] = map[string]interface{}{"value": id}
	}
	if len(ext) > 0 {
		attrs[enterprise] = ext
	}
	res := scim.Resource{ID: u.ID, Attributes: attrs, Meta: scim.Meta{Created: &u.Created}}
	if u.ExternalID != "" {
		res.ExternalID = optional.NewString(u.ExternalID)
	}
	return res
}

// fields is what the portal keeps of a SCIM User.
type fields struct {
	login, name, email, department, manager, externalID string
	active                                              bool
}

// fieldsOf reads validated attributes. The name is displayName, else
// name.formatted, else given and family name, else the userName.
func (h *users) fieldsOf(r *http.Request, a scim.ResourceAttributes) fields {
	f := fields{login: str(a["userName"]), name: str(a["displayName"]), active: true}
	if v, ok := a["active"].(bool); ok {
		f.active = v
	}
	if n, ok := a["name"].(map[string]interface{}); ok {
		if f.name == "" {
			f.name = str(n["formatted"])
		}
		if f.name == "" {
			f.name = strings.TrimSpace(str(n["givenName"]) + " " + str(n["familyName"]))
		}
	}
	if f.name == "" {
		f.name = f.login
	}
	if emails, ok := a["emails"].([]interface{}); ok {
		for _, e := range emails {
			m, _ := e.(map[string]interface{})
			if v := str(m["value"]); v != "" && (f.email == "" || m["primary"] == true) {
				f.email = v
			}
		}
	}
	f.externalID = str(a["externalId"])
	if ext, ok := a[enterprise].(map[string]interface{}); ok {
		f.department = str(ext["department"])
		if m, ok := ext["manager"].(map[string]interface{}); ok {
			f.manager = h.managerLogin(r, str(m["value"]))
		}
	}
	return f
}

// managerLogin turns the manager's SCIM id (or login) into a login; an
// unknown one is dropped, since a provider may send the manager later.
func (h *users) managerLogin(r *http.Request, v string) string {
	if v == "" {
		return ""
	}
	if m, err := h.store.User(r.Context(), v); err == nil {
		return m.Login
	}
	if m, err := h.store.UserByLogin(r.Context(), v); err == nil {
		return m.Login
	}
	return ""
}

func str(v interface{}) string {
	s, _ := v.(string)
	return strings.TrimSpace(s)
}

// Create makes the person, without a password: they are invited, or sign
// in by SSO. A userName or externalId already taken is a uniqueness error.
func (h *users) Create(r *http.Request, a scim.ResourceAttributes) (scim.Resource, error) {
	ctx := r.Context()
	f := h.fieldsOf(r, a)
	if _, err := h.store.UserByLogin(ctx, f.login); err == nil {
		return scim.Resource{}, conflict("userName %q is taken", f.login)
	} else if !errors.Is(err, model.ErrNotFound) {
		return scim.Resource{}, err
	}
	if f.externalID != "" {
		if _, err := h.store.UserByExternalID(ctx, f.externalID); err == nil {
			return scim.Resource{}, conflict("externalId %q is taken", f.externalID)
		}
	}
	p := auth.Person{Login: f.login, Name: f.name, Email: f.email, Department: f.department, Manager: f.manager}
	u, _, err := h.auth.CreateInvited(ctx, caller(r), bySCIM, p, f.externalID)
	if err != nil {
		return scim.Resource{}, scimError(err)
	}
	if f.externalID != "" {
		if err := h.store.LinkExternalID(ctx, f.externalID, u.ID); err != nil {
			return scim.Resource{}, scimError(err)
		}
	}
	if !f.active {
		if err := h.auth.DeactivateBy(ctx, caller(r), bySCIM, u); err != nil {
			return scim.Resource{}, scimError(err)
		}
	}
	u, err = h.store.User(ctx, u.ID)
	if err != nil {
		return scim.Resource{}, err
	}
	return h.resource(r, u), nil
}

// Get returns one person by SCIM id.
func (h *users) Get(r *http.Request, id string) (scim.Resource, error) {
	u, err := h.user(r, id)
	if err != nil {
		return scim.Resource{}, err
	}
	return h.resource(r, u), nil
}

func (h *users) user(r *http.Request, id string) (*model.User, error) {
	u, err := h.store.User(r.Context(), id)
	if errors.Is(err, model.ErrNotFound) {
		return nil, scimerr.ScimErrorResourceNotFound(id)
	}
	return u, err
}

// GetAll lists people. `userName eq` and `externalId eq` are answered by
// an _id read each; any other filter reads every account and lets the
// library's filter decide.
func (h *users) GetAll(r *http.Request, params scim.ListRequestParams) (scim.Page, error) {
	ctx := r.Context()
	var found []model.User
	if v := params.FilterValidator; v != nil {
		if e, ok := v.GetFilter().(*filter.AttributeExpression); ok && e.Operator == filter.EQ && e.AttributePath.SubAttribute == nil && e.AttributePath.URIPrefix == nil {
			value, _ := e.CompareValue.(string)
			var u *model.User
			var err error
			switch strings.ToLower(e.AttributePath.AttributeName) {
			case "username":
				u, err = h.store.UserByLogin(ctx, value)
			case "externalid":
				u, err = h.store.UserByExternalID(ctx, value)
			default:
				goto scan
			}
			switch {
			case errors.Is(err, model.ErrNotFound):
				return scim.Page{Resources: []scim.Resource{}}, nil
			case err != nil:
				return scim.Page{}, err
			}
			return h.page([]scim.Resource{h.resource(r, u)}, params), nil
		}
	}
scan:
	// The directory (in memory on the embedded database), not a read of
	// every account with its secrets.
	all, err := h.store.UserDirectory(ctx)
	if err != nil {
		return scim.Page{}, err
	}
	found = all
	if params.FilterValidator == nil {
		// No filter: only the page's people become resources (each may
		// look its manager up).
		start := min(max(params.StartIndex, 1)-1, len(found))
		end := min(start+params.Count, len(found))
		out := make([]scim.Resource, 0, end-start)
		for i := start; i < end; i++ {
			out = append(out, h.resource(r, &found[i]))
		}
		return scim.Page{TotalResults: len(found), Resources: out}, nil
	}
	out := make([]scim.Resource, 0, len(found))
	for i := range found {
		res := h.resource(r, &found[i])
		if params.FilterValidator != nil {
			attrs := map[string]interface{}{"id": res.ID, "externalId": found[i].ExternalID}
			for k, v := range res.Attributes {
				attrs[k] = v
			}
			if params.FilterValidator.PassesFilter(attrs) != nil {
				continue
			}
		}
		out = append(out, res)
	}
	return h.page(out, params), nil
}

// page cuts one page: startIndex counts from 1.
func (h *users) page(all []scim.Resource, params scim.ListRequestParams) scim.Page {
	start := max(params.StartIndex, 1) - 1
	if start > len(all) {
		start = len(all)
	}
	end := min(start+params.Count, len(all))
	return scim.Page{TotalResults: len(all), Resources: all[start:end]}
}

// Replace stores every field the portal keeps (PUT, and what PATCH
// arrives at). The roles and hire date are the portal's: SCIM leaves them.
func (h *users) Replace(r *http.Request, id string, a scim.ResourceAttributes) (scim.Resource, error) {
	u, err := h.user(r, id)
	if err != nil {
		return scim.Resource{}, err
	}
	return h.apply(r, u, h.fieldsOf(r, a))
}

func (h *users) apply(r *http.Request, u *model.User, f fields) (scim.Resource, error) {
	ctx, by := r.Context(), caller(r)
	if f.login != "" && f.login != u.Login {
		return scim.Resource{}, scimerr.ScimError{ScimType: scimerr.ScimTypeMutability, Status: http.StatusBadRequest,
			Detail: "userName is the portal's login and cannot change; deactivate this user and create a new one"}
	}
	if f.email == "" {
		f.email = u.Email
	}
	p := auth.Person{Login: u.Login, Name: f.name, Roles: u.Roles, Email: f.email, Department: f.department, Manager: f.manager, Hired: u.Hired}
	if _, err := h.auth.UpdatePerson(ctx, by, bySCIM, u, p); err != nil {
		return scim.Resource{}, scimError(err)
	}
	if f.externalID != u.ExternalID {
		if err := h.relink(r, u, f.externalID); err != nil {
			return scim.Resource{}, err
		}
	}
	switch {
	case !f.active && u.Active:
		if err := h.deactivate(r, u); err != nil {
			return scim.Resource{}, err
		}
	case f.active && !u.Active:
		if err := h.auth.Reactivate(ctx, u); err != nil {
			return scim.Resource{}, err
		}
		if err := h.audit(r, "user.update", u.Login, "active: false -> true (by SCIM)"); err != nil {
			return scim.Resource{}, err
		}
	}
	u, err := h.store.User(ctx, u.ID)
	if err != nil {
		return scim.Resource{}, err
	}
	return h.resource(r, u), nil
}

func (h *users) relink(r *http.Request, u *model.User, externalID string) error {
	ctx := r.Context()
	if externalID != "" {
		if err := h.store.LinkExternalID(ctx, externalID, u.ID); err != nil {
			return scimError(err)
		}
	}
	if u.ExternalID != "" {
		if err := h.store.UnlinkExternalID(ctx, u.ExternalID); err != nil {
			return err
		}
	}
	return h.store.SetUserExternalID(ctx, u.ID, externalID)
}

// deactivate turns the person off at once: sessions ended, tokens
// revoked. Receipts and certificates stay, and stay verifiable.
func (h *users) deactivate(r *http.Request, u *model.User) error {
	return scimError(h.auth.DeactivateBy(r.Context(), caller(r), bySCIM, u))
}

// bySCIM is the origin of SCIM's changes, which auth audits.
var bySCIM = model.Origin{Via: model.ViaSCIM}

// Delete deactivates: the portal never deletes a person, whose receipts
// are evidence. Deleting twice is harmless.
func (h *users) Delete(r *http.Request, id string) error {
	u, err := h.user(r, id)
	if err != nil {
		return err
	}
	if !u.Active {
		return nil
	}
	return h.deactivate(r, u)
}

// Patch applies the operations to the person's SCIM attributes and stores
// the result as Replace does.
func (h *users) Patch(r *http.Request, id string, ops []scim.PatchOperation) (scim.Resource, error) {
	u, err := h.user(r, id)
	if err != nil {
		return scim.Resource{}, err
	}
	res := h.resource(r, u)
	attrs := res.Attributes
	attrs["externalId"] = u.ExternalID
	for _, op := range ops {
		if err := applyOp(attrs, op); err != nil {
			return scim.Resource{}, err
		}
	}
	return h.apply(r, u, h.fieldsOf(r, attrs))
}

func (h *users) audit(r *http.Request, action, target, detail string) error {
	return h.store.Audit(r.Context(), &model.AuditEntry{At: nowUTC(), Actor: caller(r).Login, Action: action, Target: target, Detail: detail})
}

func conflict(format string, args ...any) error {
	return scimerr.ScimError{ScimType: scimerr.ScimTypeUniqueness, Status: http.StatusConflict, Detail: fmt.Sprintf(format, args...)}
}

// scimError turns the portal's refusals into SCIM errors; anything else
// stays an internal error (the library answers 500 without its text).
func scimError(err error) error {
	switch {
	case errors.Is(err, model.ErrDuplicate):
		return conflict("%s", strings.TrimPrefix(err.Error(), "auth: "))
	case errors.Is(err, auth.ErrForbidden):
		return scimerr.ScimError{Status: http.StatusForbidden, Detail: strings.TrimPrefix(err.Error(), "auth: ")}
	case auth.PersonField(err) != "":
		return scimerr.ScimError{ScimType: scimerr.ScimTypeInvalidValue, Status: http.StatusBadRequest, Detail: strings.TrimPrefix(err.Error(), "auth: ")}
	}
	return err
}
