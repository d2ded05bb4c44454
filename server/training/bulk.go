package training

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"conductportal/server/fault"
	"conductportal/server/lesson"
	"conductportal/server/model"
)

// Kinds of bulk action.
const (
	BulkAssign = "assign" // the lesson becomes due for the group (an exemption lifted, or beyond its audience)
	BulkExempt = "exempt" // the group is freed from the lesson
	BulkExtend = "extend" // the group's due date moves later
)

// Limits of a bulk action.
const (
	MaxBulkPeople  = 100_000 // logins in one list
	MaxBulkDays    = 3650
	maxReasonRunes = 300
)

// BulkError is a bulk request's bad field: Field names it (as the form and
// the API call it), Code says what is wrong (a message key's last part).
type BulkError struct{ Field, Code string }

func (e *BulkError) Error() string { return "training: bulk " + e.Field + ": " + e.Code }

// Unwrap makes a BulkError invalid input in fault's vocabulary, with its
// field and message key, for a caller that does not look at it closer.
func (e *BulkError) Unwrap() error {
	return &fault.Error{Kind: fault.Invalid, Text: e.Error(), Field: e.Field, Key: "hr.bulk.error." + e.Code}
}

func bulkErr(field, code string) error { return &BulkError{Field: field, Code: code} }

// ErrBulkUndone is returned for an undo of an action already undone.
var ErrBulkUndone error = &fault.Error{Kind: fault.Conflict, Text: "training: the bulk action was already undone",
	Code: "already_undone", Message: "the bulk action was already undone"}

// BulkRequest is one bulk action on a lesson for a group: a department or
// a list of logins (exactly one of them).
type BulkRequest struct {
	Lesson     string
	Kind       string
	Department string
	Logins     []string
	// Extend: Days after each person's due date (after today for someone
	// already overdue), or Until, a moment in the future.
	Days   int
	Until  time.Time
	Reason string
}

// Skip reasons: why a person of the group is left as they are.
const (
	SkipUnknown         = "unknown"          // no account has the login
	SkipInactive        = "inactive"         // the account is turned off
	SkipAlreadyExempt   = "already_exempt"   // exempt: nothing to do
	SkipAlreadyAssigned = "already_assigned" // assign: already has to take it
	SkipNotAssigned     = "not_assigned"     // exempt, extend: the lesson is not theirs
	SkipExempt          = "exempt"           // extend: exempted from it
	SkipDone            = "done"             // extend: already done
	SkipDueLater        = "due_later"        // extend: already due on or after the new date
)

// BulkTarget is a person a bulk action changes.
type BulkTarget struct {
	User          *model.User
	Before, After *model.Exception
}

// BulkSkip is a person of the group the action leaves alone, and why.
type BulkSkip struct {
	Login, Name, Reason string
}

// BulkPlan is what a bulk action would do: who is affected, who is
// skipped. Planning changes nothing.
type BulkPlan struct {
	Request  BulkRequest
	Lesson   *model.Lesson
	Affected []BulkTarget
	Skipped  []BulkSkip
}

// ParseLogins splits pasted text into logins: one per line or separated
// by commas, semicolons or blanks; duplicates dropped, order kept.
func ParseLogins(text string) []string {
	fields := strings.FieldsFunc(text, func(r rune) bool {
		return r == ',' || r == ';' || r == '，' || r == '；' || r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\u3000'
	})
	return dedupe(fields)
}

// LoginsCSV reads logins from a CSV file: the column headed "login" when
// there is one (an export of the people list), else the first column.
func LoginsCSV(r io.Reader) ([]string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, bulkErr("file", "csv")
	}
	col := 0
	if len(rows) > 0 {
		for i, h := range rows[0] {
			if strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")), "login") {
				col = i
				rows = rows[1:]
				break
			}
		}
	}
	var out []string
	for _, row := range rows {
		if col < len(row) {
			out = append(out, strings.TrimSpace(strings.TrimPrefix(row[col], "\ufeff")))
		}
	}
	return dedupe(out), nil
}

func dedupe(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// check validates r; nothing is read.
func (r *BulkRequest) check(now time.Time) error {
	switch r.Kind {
	case BulkAssign, BulkExempt, BulkExtend:
	default:
		return bulkErr("kind", "kind")
	}
	r.Department = strings.TrimSpace(r.Department)
	switch {
	case r.Department == "" && len(r.Logins) == 0:
		return bulkErr("logins", "empty")
	case r.Department != "" && len(r.Logins) > 0:
		return bulkErr("department", "both")
	case len(r.Logins) > MaxBulkPeople:
		return bulkErr("logins", "too_many")
	}
	if r.Kind == BulkExtend {
		switch {
		case r.Days == 0 && r.Until.IsZero():
			return bulkErr("days", "extend")
		case r.Days != 0 && !r.Until.IsZero():
			return bulkErr("days", "extend_both")
		case r.Days < 0 || r.Days > MaxBulkDays:
			return bulkErr("days", "days")
		case !r.Until.IsZero() && !r.Until.After(now):
			return bulkErr("until", "until")
		}
		r.Until = r.Until.UTC().Truncate(time.Millisecond) // as stored, so an undo compares equal
	} else {
		r.Days, r.Until = 0, time.Time{}
	}
	r.Reason = strings.TrimSpace(r.Reason)
	if r.Reason == "" || len([]rune(r.Reason)) > maxReasonRunes {
		return bulkErr("reason", "reason")
	}
	return nil
}

// PlanBulk says what r would do, changing nothing: the preview. The group
// comes from the in-memory directory (one read of the users, not a scan
// per person); an extension also reads the group's progress.
func (s *Service) PlanBulk(ctx context.Context, by *model.User, r BulkRequest) (*BulkPlan, error) {
	now := s.Now()
	if err := r.check(now); err != nil {
		return nil, err
	}
	if !lesson.ValidID(r.Lesson) {
		return nil, bulkErr("lesson", "lesson")
	}
	l, err := s.store.Lesson(ctx, r.Lesson)
	if errors.Is(err, model.ErrNotFound) {
		return nil, bulkErr("lesson", "lesson")
	}
	if err != nil {
		return nil, err
	}
	plan := &BulkPlan{Request: r, Lesson: l}
	var group []*model.User
	if r.Department != "" {
		users, _, err := s.store.SearchUsers(ctx, model.UserSearch{Department: r.Department, Limit: model.SearchAll})
		if err != nil {
			return nil, err
		}
		if len(users) == 0 {
			return nil, bulkErr("department", "department")
		}
		for i := range users {
			group = append(group, &users[i])
		}
	} else {
		found, err := s.store.UsersByLogin(ctx, r.Logins)
		if err != nil {
			return nil, err
		}
		for _, login := range r.Logins {
			if u := found[login]; u != nil {
				group = append(group, u)
			} else {
				plan.Skipped = append(plan.Skipped, BulkSkip{Login: login, Reason: SkipUnknown})
			}
		}
	}
	var prog map[string]model.Progress
	if r.Kind == BulkExtend {
		ids := make([]string, len(group))
		for i, u := range group {
			ids[i] = u.ID
		}
		if prog, err = s.store.ProgressOf(ctx, ids); err != nil {
			return nil, err
		}
	}
	for _, u := range group {
		after, skip := bulkChange(l, u, r, by, prog[u.ID], now)
		if skip != "" {
			plan.Skipped = append(plan.Skipped, BulkSkip{Login: u.Login, Name: u.Name, Reason: skip})
			continue
		}
		plan.Affected = append(plan.Affected, BulkTarget{User: u, Before: exceptionOf(u, l.Slug), After: after})
	}
	return plan, nil
}

// exceptionOf returns a copy of u's exception for slug, nil when none.
func exceptionOf(u *model.User, slug string) *model.Exception {
	ex, ok := u.Exceptions[slug]
	if !ok {
		return nil
	}
	return &ex
}

// bulkChange returns u's exception after r, or why u is skipped.
func bulkChange(l *model.Lesson, u *model.User, r BulkRequest, by *model.User, p model.Progress, now time.Time) (*model.Exception, string) {
	if !u.Active {
		return nil, SkipInactive
	}
	ex := model.Exception{}
	if before := exceptionOf(u, l.Slug); before != nil {
		ex = *before
	}
	ex.Reason, ex.By, ex.At = r.Reason, by.Login, now
	switch r.Kind {
	case BulkAssign:
		if Assigned(l, u) {
			return nil, SkipAlreadyAssigned
		}
		ex.Exempt = false
		ex.Assigned = !Assigned(l, &model.User{Roles: u.Roles, Department: u.Department}) // beyond the audience
		if !ex.Assigned && ex.Until.IsZero() {
			return nil, "" // the exemption lifted, nothing left of it
		}
	case BulkExempt:
		switch {
		case ex.Exempt:
			return nil, SkipAlreadyExempt
		case !Assigned(l, u):
			return nil, SkipNotAssigned
		}
		ex.Exempt, ex.Assigned = true, false
	case BulkExtend:
		switch {
		case ex.Exempt:
			return nil, SkipExempt
		case !Assigned(l, u):
			return nil, SkipNotAssigned
		}
		st := StandingFor(*l, p.Lessons[l.Slug], u, now)
		if st.Code == StatusDone {
			return nil, SkipDone
		}
		until := r.Until
		if r.Days > 0 {
			until = st.Due
			if until.Before(now) {
				until = now
			}
			until = until.AddDate(0, 0, r.Days).UTC().Truncate(time.Millisecond)
		}
		if !until.After(st.Due) {
			return nil, SkipDueLater
		}
		ex.Until = until
	}
	return &ex, ""
}

// ApplyBulk plans r again (the group may have changed since the preview)
// and applies it: the action with every person's exception before and
// after is stored first (so it can be undone even if the writes stop
// halfway), then the exceptions in one batch, then one audit entry with
// the count and the logins. Nobody to change: nothing is stored.
func (s *Service) ApplyBulk(ctx context.Context, by *model.User, r BulkRequest, client string) (*model.BulkAction, *BulkPlan, error) {
	s.bulk.Lock()
	defer s.bulk.Unlock()
	plan, err := s.PlanBulk(ctx, by, r)
	if err != nil {
		return nil, nil, err
	}
	r = plan.Request
	a := &model.BulkAction{At: s.Now(), Actor: by.Login, Lesson: plan.Lesson.Slug, Kind: r.Kind, Department: r.Department,
		Days: r.Days, Until: r.Until, Reason: r.Reason, Count: len(plan.Affected)}
	if a.Count == 0 {
		return a, plan, nil
	}
	exs := make(map[string]*model.Exception, a.Count)
	logins := make([]string, 0, a.Count)
	for _, t := range plan.Affected {
		a.Changes = append(a.Changes, model.BulkChange{UserID: t.User.ID, Login: t.User.Login, Before: t.Before, After: t.After})
		exs[t.User.ID] = t.After
		logins = append(logins, t.User.Login)
	}
	if err := s.store.AddBulkAction(ctx, a); err != nil {
		return nil, nil, err
	}
	detail := fmt.Sprintf("bulk %s: %d people (%s); reason: %s; logins: %s", a.ID, a.Count, bulkGroup(a), a.Reason, strings.Join(logins, ","))
	werr := s.store.SetExceptions(ctx, a.Lesson, exs)
	if werr != nil {
		// Some may be changed: the log says so, and the undo puts back
		// those that were (the others are "changed since" and left alone).
		detail = "incomplete (" + werr.Error() + "): " + detail
	}
	if err := s.store.Audit(ctx, &model.AuditEntry{At: a.At, Actor: by.Login, Action: "bulk." + a.Kind, Target: a.Lesson, Detail: detail, Client: client}); err != nil && werr == nil {
		return nil, nil, err
	}
	if werr != nil {
		return nil, nil, fmt.Errorf("training: bulk %s: %w", a.ID, werr)
	}
	return a, plan, nil
}

// bulkGroup describes an action's group and extension for the audit log.
func bulkGroup(a *model.BulkAction) string {
	g := "list"
	if a.Department != "" {
		g = "department " + a.Department
	}
	switch {
	case a.Days > 0:
		g += fmt.Sprintf(", %d days later", a.Days)
	case !a.Until.IsZero():
		g += ", until " + a.Until.Format(time.DateOnly)
	}
	return g
}

// BulkUndo is what undoing an action did.
type BulkUndo struct {
	Action   *model.BulkAction
	Restored []string // logins put back as they were
	Changed  []string // logins whose exception changed since: left alone
}

// UndoBulk puts back each person's exception as it was before action id,
// except for those changed since (they are left as they are and named).
// An action is undone once, even by two instances at the same moment.
func (s *Service) UndoBulk(ctx context.Context, by *model.User, id, client string) (*BulkUndo, error) {
	if !lesson.ValidID(id) {
		return nil, ErrNotFound
	}
	a, err := s.store.BulkAction(ctx, id)
	if err != nil {
		return nil, notFound(err)
	}
	if !a.Undone.IsZero() {
		return nil, ErrBulkUndone
	}
	s.bulk.Lock()
	defer s.bulk.Unlock()
	now := s.Now()
	if err := s.store.ClaimBulkUndo(ctx, id, by.Login, now); errors.Is(err, model.ErrDuplicate) {
		return nil, ErrBulkUndone
	} else if err != nil {
		return nil, err
	}
	logins := make([]string, len(a.Changes))
	for i, ch := range a.Changes {
		logins[i] = ch.Login
	}
	users, err := s.store.UsersByLogin(ctx, logins)
	if err != nil {
		return nil, err
	}
	res := &BulkUndo{Action: a}
	exs := map[string]*model.Exception{}
	for _, ch := range a.Changes {
		u := users[ch.Login]
		if u == nil || u.ID != ch.UserID {
			// The login was renamed since: read the person by _id.
			if u, err = s.store.User(ctx, ch.UserID); err != nil {
				res.Changed = append(res.Changed, ch.Login)
				continue
			}
		}
		if !sameException(exceptionOf(u, a.Lesson), ch.After) {
			res.Changed = append(res.Changed, ch.Login)
			continue
		}
		exs[ch.UserID] = ch.Before
		res.Restored = append(res.Restored, ch.Login)
	}
	if err := s.store.SetExceptions(ctx, a.Lesson, exs); err != nil {
		return nil, fmt.Errorf("training: undo bulk %s: %w", id, err)
	}
	if err := s.store.MarkBulkUndone(ctx, id, by.Login, now); err != nil {
		return nil, err
	}
	a.Undone, a.UndoneBy = now, by.Login
	detail := fmt.Sprintf("undo bulk %s (%s %s): %d restored, %d changed since; logins: %s", id, a.Kind, a.Lesson,
		len(res.Restored), len(res.Changed), strings.Join(res.Restored, ","))
	if len(res.Changed) > 0 {
		detail += "; left as they are: " + strings.Join(res.Changed, ",")
	}
	if err := s.store.Audit(ctx, &model.AuditEntry{At: now, Actor: by.Login, Action: "bulk.undo", Target: a.Lesson, Detail: detail, Client: client}); err != nil {
		return nil, err
	}
	return res, nil
}

// sameException reports whether two exceptions are the same decision.
func sameException(a, b *model.Exception) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Exempt == b.Exempt && a.Assigned == b.Assigned && a.Until.Equal(b.Until) &&
		a.Reason == b.Reason && a.By == b.By && a.At.Equal(b.At)
}

// BulkActions returns the latest bulk actions, newest first.
func (s *Service) BulkActions(ctx context.Context, limit int64) ([]model.BulkAction, error) {
	return s.store.BulkActions(ctx, limit)
}

// BulkAction returns one bulk action with its changes.
func (s *Service) BulkAction(ctx context.Context, id string) (*model.BulkAction, error) {
	if !lesson.ValidID(id) {
		return nil, ErrNotFound
	}
	a, err := s.store.BulkAction(ctx, id)
	return a, notFound(err)
}
