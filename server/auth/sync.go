package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"conductportal/server/audit"
	"conductportal/server/model"
)

// Outcomes of one row of a sync.
const (
	SyncCreated     = "created"
	SyncUpdated     = "updated"
	SyncUnchanged   = "unchanged"
	SyncReactivated = "reactivated"
	SyncInvalid     = "invalid"
	SyncDeactivated = "deactivated"
)

// MaxSyncRows bounds one sync.
const MaxSyncRows = maxImportRows

// SyncRow is one person an HR system sends. Err is a problem the caller
// found while reading the row (a bad date); the row is then left alone.
type SyncRow struct {
	Person Person
	Err    error
	Field  string
}

// SyncResult says what a sync did with one row, or with one account absent
// from the list (Index -1).
type SyncResult struct {
	Index  int
	Login  string
	Status string
	Detail string // the change, or what is wrong
	change audit.Detail
	Field  string // for an invalid row: the field at fault
	// Invited says how a new account's invitation went out: "email", "sso"
	// (none needed), or "" (stored; no channel reaches the person).
	Invited string
}

// SyncReport is the outcome of a sync.
type SyncReport struct {
	Results []SyncResult
	// Invalid counts rows left alone; when any, nobody was deactivated.
	Invalid int
}

// Sync makes the accounts match rows, matched by login, so sending the same
// list again changes nothing. An invalid row changes nothing and is
// reported with its field; the others go ahead. A person in the list whose
// account was turned off is turned on again. With deactivateMissing,
// active accounts absent from the list are turned off, but only when every
// row was valid (a typo must not lock people out), never the caller's own
// account and never an admin's.
//
// What was done is audited, from o, even when a later row failed: one
// entry for the run with its counts, and each change by name (the new
// people are in the log by name in their invite.send entries), in one
// write: a thousand changes are a thousand entries, not a thousand round
// trips. When the entries cannot be stored the sync fails.
func (s *Service) Sync(ctx context.Context, by *model.User, o model.Origin, rows []SyncRow, deactivateMissing bool) (*SyncReport, error) {
	if len(rows) > MaxSyncRows {
		return nil, fmt.Errorf("auth: sync: more than %d rows", MaxSyncRows)
	}
	rep, err := s.sync(ctx, by, rows, deactivateMissing)
	if rep == nil {
		return nil, err
	}
	return rep, errors.Join(err, s.auditChanges(ctx, "user.sync", syncEntries(o.As(by.Login), rep)))
}

// syncEntries are the audit entries of what a sync did.
func syncEntries(by model.Actor, rep *SyncReport) []model.AuditEntry {
	counts := map[string]int{}
	for _, r := range rep.Results {
		counts[r.Status]++
	}
	kv := []string{}
	for _, k := range []string{SyncCreated, SyncUpdated, SyncUnchanged, SyncReactivated, SyncDeactivated, SyncInvalid} {
		kv = append(kv, k, strconv.Itoa(counts[k]))
	}
	out := []model.AuditEntry{*audit.Entry(by, "user.sync", "", audit.Counts(kv...))}
	for _, r := range rep.Results {
		switch r.Status {
		case SyncUpdated:
			out = append(out, *audit.Entry(by, "user.update", r.Login, r.change))
		case SyncReactivated:
			d := audit.Changes(strings.TrimSuffix("reactivated; "+r.change.Text, "; "),
				append([]string{"active", "false", "true"}, r.change.Args...))
			out = append(out, *audit.Entry(by, "user.update", r.Login, d))
		case SyncDeactivated:
			out = append(out, *audit.Entry(by, "user.deactivate", r.Login, deactivated))
		}
	}
	return out
}

func (s *Service) sync(ctx context.Context, by *model.User, rows []SyncRow, deactivateMissing bool) (*SyncReport, error) {
	// The rows' accounts only, from the storage's directory: a read of
	// every account per request would grow with the company.
	logins := make([]string, len(rows))
	for i := range rows {
		logins[i] = strings.TrimSpace(rows[i].Person.Login)
	}
	byLogin, err := s.store.UsersByLogin(ctx, logins)
	if err != nil {
		return nil, err
	}
	rep := &SyncReport{}
	seen := map[string]int{}
	// New people are stored after the loop in batched writes: their
	// results wait here, by place in rep.Results.
	var fresh []Person
	var freshAt []int
	for i, row := range rows {
		res := SyncResult{Index: i, Login: strings.TrimSpace(row.Person.Login)}
		invalid := func(field string, err error) {
			res.Status, res.Field, res.Detail = SyncInvalid, field, strings.TrimPrefix(err.Error(), "auth: ")
			rep.Invalid++
			rep.Results = append(rep.Results, res)
		}
		p := row.Person
		if row.Err != nil {
			invalid(row.Field, row.Err)
			continue
		}
		if err := p.Check(); err != nil {
			invalid(PersonField(err), err)
			continue
		}
		res.Login = p.Login
		if first, dup := seen[p.Login]; dup {
			invalid("login", fmt.Errorf("login %q is also in row %d", p.Login, first))
			continue
		}
		seen[p.Login] = i
		u := byLogin[p.Login]
		if u != nil && u.Active && PersonDiff(u, p) == "" {
			// Nothing to change, so nothing to refuse: an HR system's full
			// list names the admins too, exactly as they are, and must not
			// count as invalid (which would stop deactivate_missing).
			res.Status = SyncUnchanged
			rep.Results = append(rep.Results, res)
			continue
		}
		if err := mayChange(by, u, p.Roles); err != nil {
			invalid("roles", err)
			continue
		}
		if u == nil {
			res.Status, res.Detail = SyncCreated, "roles="+strings.Join(p.Roles, ",")
			fresh, freshAt = append(fresh, p), append(freshAt, len(rep.Results))
			rep.Results = append(rep.Results, res)
			continue
		}
		d, err := s.updatePerson(ctx, by, u, p)
		if err != nil {
			return rep, err
		}
		res.Status, res.Detail, res.change = SyncUnchanged, d.Text, d
		if d.Text != "" {
			res.Status = SyncUpdated
		}
		if !u.Active {
			if err := s.store.SetUserActive(ctx, u.ID, true); err != nil {
				return rep, err
			}
			res.Status = SyncReactivated
		}
		rep.Results = append(rep.Results, res)
	}
	for start := 0; start < len(fresh); start += inviteBatch {
		end := min(start+inviteBatch, len(fresh))
		invited, errs, err := s.createInvitedBatch(ctx, by, fresh[start:end])
		if err != nil {
			return rep, err
		}
		for i := range invited {
			r := &rep.Results[freshAt[start+i]]
			if errs[i] != nil {
				r.Status, r.Field, r.Detail = SyncInvalid, "login", fmt.Sprintf("login %q was created meanwhile; send the row again", r.Login)
				rep.Invalid++
				continue
			}
			r.Invited = invited[i].How()
		}
	}
	if !deactivateMissing || rep.Invalid > 0 {
		return rep, nil
	}
	users, err := s.store.UserDirectory(ctx)
	if err != nil {
		return rep, err
	}
	for i := range users {
		u := &users[i]
		if _, listed := seen[u.Login]; listed || !u.Active || u.ID == by.ID || u.HasRole(model.RoleAdmin) {
			continue
		}
		if err := MayDeactivate(by, u); err != nil {
			return rep, err
		}
		if err := s.Deactivate(ctx, u); err != nil {
			return rep, err
		}
		rep.Results = append(rep.Results, SyncResult{Index: -1, Login: u.Login, Status: SyncDeactivated})
	}
	return rep, nil
}
