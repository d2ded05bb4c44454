package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/storage"
)

func userAdd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("user add", "user add --login L --name N --role R [--department D] [--manager M] [--manages D] [--email E] [--mobile M] [--wecom-id ID] [--dingtalk-id ID] [--hired YYYY-MM-DD] [--password-stdin]", stdout, stderr)
	login := fs.String("login", "", "login name (required)")
	name := fs.String("name", "", "full name, as the person signs (required)")
	roles := fs.String("role", "employee", "roles, comma separated: employee, manager, hr, admin")
	dept := fs.String("department", "", "department")
	manager := fs.String("manager", "", "the manager's login")
	manages := fs.String("manages", "", "for a manager: the department they answer for as a whole (they see all its people)")
	email := fs.String("email", "", "email address for reminders (optional)")
	mobile := fs.String("mobile", "", "mobile number, to mention the person in DingTalk group messages (optional)")
	wecomID := fs.String("wecom-id", "", "WeCom user id, to mention the person in WeCom group messages (optional)")
	dingtalkID := fs.String("dingtalk-id", "", "DingTalk user id, to mention the person in DingTalk group messages (optional)")
	hired := fs.String("hired", "", "hire date, YYYY-MM-DD (default today)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input; without it a one-time password is printed")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := fs.noArgs(); err != nil {
		return err
	}
	if *login == "" || *name == "" {
		return fs.usageError("--login and --name are required")
	}
	nu := auth.NewUser{Login: *login, Name: *name, Department: *dept, Manager: *manager, Manages: *manages, Email: *email,
		Contacts: auth.Contacts{Mobile: *mobile, WeComID: *wecomID, DingTalkID: *dingtalkID}}
	for _, r := range strings.Split(*roles, ",") {
		if r = strings.TrimSpace(r); r != "" {
			nu.Roles = append(nu.Roles, r)
		}
	}
	if *hired != "" {
		t, err := time.ParseInLocation("2006-01-02", *hired, time.Local)
		if err != nil {
			return fmt.Errorf("cli: --hired %q: want YYYY-MM-DD", *hired)
		}
		nu.Hired = t
	}
	if *fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("cli: read password: %w", err)
		}
		nu.Password = strings.TrimRight(line, "\r\n")
	} else {
		nu.Password, nu.MustChangePassword = auth.RandomPassword(), true
	}
	return withStore(ctx, stderr, func(store *storage.Storage, log *slog.Logger) error {
		u, err := newAuth(store).CreateUser(ctx, nu)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created user %s (%s) with roles %s\n", u.Login, u.Name, strings.Join(u.Roles, ","))
		if !*fromStdin {
			fmt.Fprintf(stdout, "one-time password: %s (to be changed at first login)\n", nu.Password)
		}
		return nil
	})
}

func tokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token create", "token create --login L [--name N] [--scope s,...] [--expires 90d]", stdout, stderr)
	login := fs.String("login", "", "the user the token acts as (required)")
	name := fs.String("name", "cli", "what the token is for")
	scopes := fs.String("scope", "", "scopes, comma separated: "+strings.Join(auth.Scopes, ", ")+" (default: all the user's roles allow)")
	expires := fs.String("expires", "never", "how long it works: e.g. 90d, 12h, or never")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := fs.noArgs(); err != nil {
		return err
	}
	if *login == "" {
		return fs.usageError("--login is required")
	}
	ttl, err := auth.ParseTTL(*expires)
	if err != nil {
		return err
	}
	return withStore(ctx, stderr, func(store *storage.Storage, log *slog.Logger) error {
		u, err := store.UserByLogin(ctx, *login)
		if err != nil {
			return fmt.Errorf("cli: no user %q: %w", *login, err)
		}
		tok, _, err := newAuth(store).CreateToken(ctx, nil, u, auth.TokenSpec{Name: *name, Scopes: strings.Split(*scopes, ","), TTL: ttl})
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, tok)
		return nil
	})
}

func tokenList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token list", "token list [--login L]", stdout, stderr)
	login := fs.String("login", "", "only this user's tokens")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := fs.noArgs(); err != nil {
		return err
	}
	return withStore(ctx, stderr, func(store *storage.Storage, log *slog.Logger) error {
		users, err := store.Users(ctx)
		if err != nil {
			return err
		}
		logins := map[string]string{}
		var only *model.User
		for i := range users {
			logins[users[i].ID] = users[i].Login
			if users[i].Login == *login {
				only = &users[i]
			}
		}
		if *login != "" && only == nil {
			return fmt.Errorf("cli: no user %q", *login)
		}
		ts, err := newAuth(store).Tokens(ctx, only)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tLOGIN\tNAME\tSCOPES\tCREATED\tEXPIRES\tLAST USED\tSTATE")
		day := func(t time.Time) string {
			if t.IsZero() {
				return "-"
			}
			return t.UTC().Format("2006-01-02 15:04")
		}
		for _, t := range ts {
			state := "active"
			switch {
			case t.Revoked:
				state = "revoked"
			case !t.Expires.IsZero() && time.Now().After(t.Expires):
				state = "expired"
			}
			sc := strings.Join(t.Scopes, ",")
			if t.Scopes == nil {
				sc = "(all of the roles)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Ref(), logins[t.UserID], t.Name, sc, day(t.Created), day(t.Expires), day(t.LastUsed), state)
		}
		return tw.Flush()
	})
}

func tokenRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token revoke", "token revoke ID\n\nRevokes the API token whose ID (the first 12 hex digits of its hash) token list shows.", stdout, stderr)
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fs.usageError("want exactly one token ID")
	}
	return withStore(ctx, stderr, func(store *storage.Storage, log *slog.Logger) error {
		t, err := newAuth(store).RevokeToken(ctx, nil, fs.Arg(0), "")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked token %s (%s)\n", t.Ref(), t.Name)
		return nil
	})
}

func userResetMFA(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return withUserByLogin(ctx, "user reset-mfa", "the person whose second factor to reset (required)", args, stdout, stderr,
		func(store *storage.Storage, u *model.User) error {
			if err := newAuth(store).ResetMFA(ctx, u); err != nil {
				return err
			}
			if err := store.Audit(ctx, &model.AuditEntry{At: time.Now().UTC(), Actor: "cli", Action: "mfa.reset", Target: u.Login}); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "second factor of %s reset; their sessions are ended\n", u.Login)
			return nil
		})
}

// withUserByLogin runs a command whose one flag, --login, names a person:
// it parses the arguments, opens the store and finds the account.
func withUserByLogin(ctx context.Context, name, help string, args []string, stdout, stderr io.Writer,
	fn func(store *storage.Storage, u *model.User) error) error {
	fs := newFlags(name, name+" --login L", stdout, stderr)
	login := fs.String("login", "", help)
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := fs.noArgs(); err != nil {
		return err
	}
	if *login == "" {
		return fs.usageError("--login is required")
	}
	return withStore(ctx, stderr, func(store *storage.Storage, _ *slog.Logger) error {
		u, err := store.UserByLogin(ctx, *login)
		if err != nil {
			return fmt.Errorf("cli: no user %q: %w", *login, err)
		}
		return fn(store, u)
	})
}

// userResetSSO unbinds an account from the provider account it was bound
// to at its first sign-on, for a person whose provider account was
// replaced: the next sign-on finds the account by its login and binds it
// to the new one.
func userResetSSO(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return withUserByLogin(ctx, "user reset-sso", "the person to unbind from their sign-on account (required)", args, stdout, stderr,
		func(store *storage.Storage, u *model.User) error {
			link, err := store.SSOLinkOfUser(ctx, u.ID)
			if errors.Is(err, model.ErrNotFound) {
				fmt.Fprintf(stdout, "%s is not bound to a sign-on account; nothing changed\n", u.Login)
				return nil
			}
			if err != nil {
				return err
			}
			if _, err := store.UnlinkSSO(ctx, u.ID); err != nil {
				return err
			}
			if err := store.Audit(ctx, &model.AuditEntry{At: time.Now().UTC(), Actor: "cli", Action: "sso.unbind", Target: u.Login,
				Detail: link.Issuer + " sub " + link.Sub}); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s is no longer bound to %s sub %s; their next sign-on binds by login\n", u.Login, link.Issuer, link.Sub)
			return nil
		})
}
