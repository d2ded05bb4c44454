package auth

import (
	"context"

	"conductportal/server/model"
)

// The reads and the one setting of accounts that pages and the API ask
// for: auth owns the accounts, so they ask it rather than training.

// UserByLogin returns the account with login.
func (s *Service) UserByLogin(ctx context.Context, login string) (*model.User, error) {
	return s.store.UserByLogin(ctx, login)
}

// Users returns every account, by login (for HR).
func (s *Service) Users(ctx context.Context) ([]model.User, error) { return s.store.Users(ctx) }

// SearchUsers returns a page of people, by login, without secrets, and
// whether more follow (see model.UserSearch).
func (s *Service) SearchUsers(ctx context.Context, q model.UserSearch) ([]model.User, bool, error) {
	return s.store.SearchUsers(ctx, q)
}

// DirectoryChoices returns the departments and managers in use, for the
// account form to offer.
func (s *Service) DirectoryChoices(ctx context.Context) (model.DirectoryChoices, error) {
	return s.store.DirectoryChoices(ctx)
}

// SetLanguage remembers the user's language.
func (s *Service) SetLanguage(ctx context.Context, u *model.User, lang string) error {
	return s.store.SetUserLang(ctx, u.ID, lang)
}
