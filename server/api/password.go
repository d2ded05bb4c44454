package api

import (
	"errors"
	"strconv"

	"conductportal/server/auth"
	"conductportal/server/locale"

	"github.com/gofiber/fiber/v2"
)

type passwordJSON struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

// passwordRefusals are the new password's refusals: the code, and the
// password page's message in the caller's language.
var passwordRefusals = []struct {
	err       error
	code, key string
}{
	{auth.ErrPasswordShort, "password_short", "password.short"},
	{auth.ErrPasswordLong, "password_long", "password.long"},
	{auth.ErrPasswordCommon, "password_common", "password.common"},
	{auth.ErrPasswordPersonal, "password_personal", "password.personal"},
	{auth.ErrPasswordGuessable, "password_guessable", "password.guessable"},
}

// changePassword sets the caller's new password after checking the
// current one, with the password page's rules and words; guessing the
// current password is throttled like logging in. The caller's other
// sessions end.
func (a *API) changePassword(c *fiber.Ctx) error {
	var body passwordJSON
	if err := decode(c, &body); err != nil {
		return err
	}
	u := user(c)
	lang := langOf(c, u)
	refuse := func(err error) error {
		for _, r := range passwordRefusals {
			if errors.Is(err, r.err) {
				var args []any
				switch r.err {
				case auth.ErrPasswordShort:
					args = []any{auth.MinPasswordLen}
				case auth.ErrPasswordLong:
					args = []any{auth.MaxPasswordLen}
				}
				return fail(fiber.StatusUnprocessableEntity, r.code, locale.T(lang, r.key, args...), "new")
			}
		}
		return nil
	}
	if err := refuse(auth.CheckNewPassword(body.New, u, a.Auth.Company())); err != nil {
		return err
	}
	if body.New == body.Current {
		return fail(fiber.StatusUnprocessableEntity, "password_same", locale.T(lang, "password.same"), "new")
	}
	try, err := a.Auth.BeginLogin(c.UserContext(), u.Login, a.Client(c))
	switch {
	case errors.Is(err, auth.ErrThrottled):
		wait := auth.RetryAfter(err)
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(wait))
		return fail(fiber.StatusTooManyRequests, "throttled", locale.T(lang, "login.throttled", (wait+59)/60), "current")
	case errors.Is(err, auth.ErrBusy):
		c.Set(fiber.HeaderRetryAfter, "1")
		return fail(fiber.StatusServiceUnavailable, "busy", locale.T(lang, "login.busy"), "")
	case err != nil:
		return err
	}
	keep := ""
	if _, s := a.Session(c); s != nil && token(c) == nil {
		keep = s.ID
	}
	err = a.Auth.ChangePassword(c.UserContext(), u, body.Current, body.New, keep, a.Client(c)) // audits itself
	if errors.Is(err, auth.ErrInvalid) {
		if err := try.Failed(c.UserContext()); err != nil {
			return err
		}
		return fail(fiber.StatusUnprocessableEntity, "wrong_password", locale.T(lang, "password.wrong"), "current")
	}
	if err != nil {
		_ = try.Abandon(c.UserContext())
		return err
	}
	if err := try.Succeeded(c.UserContext()); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"changed": true})
}
