package report

import (
	"context"
	"errors"
	"fmt"

	"conductportal/server/model"
	"conductportal/server/training"
)

// Person is one person's training record as their manager or HR sees it.
type Person struct {
	User      *model.User
	Standings []training.Standing
	Attempts  []model.Attempt
	Receipts  []model.Receipt
	Notices   []model.Notification // reminders and escalations about them
	Done      int
}

// personNotices bounds the reminders listed on a person's page.
const personNotices = 100

// Person returns the record of the user with login, if viewer may see it.
// Someone viewer may not see is reported as not found to a manager, so
// logins of other teams cannot be probed, and as forbidden to others.
func (s *Service) Person(ctx context.Context, viewer *model.User, login string) (*Person, error) {
	if !CanSeeReports(viewer) {
		return nil, ErrForbidden
	}
	dir, err := s.Directory(ctx)
	if err != nil {
		return nil, err
	}
	u := dir.ByLogin(login)
	if u == nil || !CanSeePerson(viewer, u) {
		return nil, ErrForbidden
	}
	lessons, err := s.publishedLessons(ctx)
	if err != nil {
		return nil, err
	}
	prog, err := s.store.Progress(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("report: person: %w", err)
	}
	p := &Person{User: u}
	now := s.Now()
	for _, l := range lessons {
		if !training.Assigned(&l, u) {
			continue
		}
		st := training.StandingFor(l, prog.Lessons[l.Slug], u, now)
		if st.Code == training.StatusDone {
			p.Done++
		}
		p.Standings = append(p.Standings, st)
	}
	if p.Attempts, err = s.store.AttemptHistory(ctx, u.ID); err != nil {
		return nil, fmt.Errorf("report: person: %w", err)
	}
	if p.Receipts, err = s.store.UserReceipts(ctx, u.ID); err != nil && !errors.Is(err, model.ErrNotFound) {
		return nil, fmt.Errorf("report: person: %w", err)
	}
	if p.Notices, err = s.store.NotificationsAbout(ctx, u.ID, personNotices); err != nil {
		return nil, fmt.Errorf("report: person: %w", err)
	}
	return p, nil
}
