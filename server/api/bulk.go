package api

import (
	"context"
	"errors"
	"time"

	"conductportal/server/locale"
	"conductportal/server/model"
	"conductportal/server/training"

	"github.com/gofiber/fiber/v2"
)

// bulkRequest is HR's bulk action as the API takes it (see the page at
// /hr/bulk): one lesson, one kind, a department or a list of logins.
type bulkRequest struct {
	Lesson     string   `json:"lesson"`
	Kind       string   `json:"kind"`
	Department string   `json:"department"`
	Logins     []string `json:"logins"`
	Days       int      `json:"days"`
	Until      string   `json:"until"` // YYYY-MM-DD: to the end of that day in the portal's zone
	Reason     string   `json:"reason"`
	DryRun     bool     `json:"dry_run"`
}

type bulkPerson struct {
	Login string `json:"login"`
	Name  string `json:"name"`
}

type bulkSkipJSON struct {
	Login  string `json:"login"`
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

type bulkJSON struct {
	ID       string         `json:"id"` // empty for a dry run or when nobody changes
	DryRun   bool           `json:"dry_run"`
	Lesson   string         `json:"lesson"`
	Kind     string         `json:"kind"`
	Count    int            `json:"count"`
	Affected []bulkPerson   `json:"affected"`
	Skipped  []bulkSkipJSON `json:"skipped"`
}

// bulk previews (dry_run) or applies a bulk action; 201 when it changed
// someone, 200 for a preview or when it changes nobody.
func (a *API) bulk(c *fiber.Ctx) error {
	var req bulkRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	r := training.BulkRequest{Lesson: req.Lesson, Kind: req.Kind, Department: req.Department, Days: req.Days, Reason: req.Reason}
	for _, l := range req.Logins {
		r.Logins = append(r.Logins, training.ParseLogins(l)...)
	}
	if len(req.Logins) > 0 && len(r.Logins) == 0 {
		return bulkError(&training.BulkError{Field: "logins", Code: "empty"})
	}
	if req.Until != "" {
		t, err := time.ParseInLocation(time.DateOnly, req.Until, time.Local)
		if err != nil {
			return bulkError(&training.BulkError{Field: "until", Code: "until"})
		}
		r.Until = t.Add(24*time.Hour - time.Second)
	}
	var plan *training.BulkPlan
	var act *model.BulkAction
	var err error
	if req.DryRun {
		plan, err = a.Training.PlanBulk(c.UserContext(), user(c), r)
	} else {
		// A department takes seconds on the embedded database (see
		// web's bulkTimeout); a closed connection must not stop it halfway.
		long, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), syncTimeout)
		defer cancel()
		act, plan, err = a.Training.ApplyBulk(long, user(c), r, a.Client(c))
	}
	if err != nil {
		return bulkError(err)
	}
	out := bulkJSON{DryRun: req.DryRun, Lesson: plan.Lesson.Slug, Kind: plan.Request.Kind, Count: len(plan.Affected),
		Affected: make([]bulkPerson, 0, len(plan.Affected)), Skipped: make([]bulkSkipJSON, 0, len(plan.Skipped))}
	for _, t := range plan.Affected {
		out.Affected = append(out.Affected, bulkPerson{Login: t.User.Login, Name: t.User.Name})
	}
	for _, s := range plan.Skipped {
		out.Skipped = append(out.Skipped, bulkSkipJSON{Login: s.Login, Name: s.Name, Reason: s.Reason})
	}
	if act != nil && act.ID != "" {
		out.ID = act.ID
		return c.Status(fiber.StatusCreated).JSON(out)
	}
	return c.JSON(out)
}

// bulkError answers a bad bulk request as 422 with its field, in English.
func bulkError(err error) error {
	var be *training.BulkError
	if errors.As(err, &be) {
		return fail(fiber.StatusUnprocessableEntity, "invalid", locale.T(model.LangEN, "hr.bulk.error."+be.Code), be.Field)
	}
	return err
}

type bulkUndoJSON struct {
	ID       string   `json:"id"`
	Restored []string `json:"restored"`
	Changed  []string `json:"changed"`
}

// bulkUndo undoes an action once: each person's exception as before it,
// except for those changed since (named in changed).
func (a *API) bulkUndo(c *fiber.Ctx) error {
	long, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), syncTimeout)
	defer cancel()
	res, err := a.Training.UndoBulk(long, user(c), c.Params("id"), a.Client(c))
	switch {
	case errors.Is(err, training.ErrNotFound):
		return fail(fiber.StatusNotFound, "not_found", "no such bulk action", "")
	case errors.Is(err, training.ErrBulkUndone):
		return fail(fiber.StatusConflict, "already_undone", "the bulk action was already undone", "")
	case err != nil:
		return err
	}
	out := bulkUndoJSON{ID: res.Action.ID, Restored: res.Restored, Changed: res.Changed}
	if out.Restored == nil {
		out.Restored = []string{}
	}
	if out.Changed == nil {
		out.Changed = []string{}
	}
	return c.JSON(out)
}
