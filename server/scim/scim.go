// Package scim is the portal's SCIM 2.0 service provider (RFC 7643, RFC
// 7644) at /scim/v2: identity providers (Okta, Microsoft Entra ID, ...)
// create, update and deactivate people. The protocol (discovery, schema
// validation, filters, PATCH parsing, the error schema) is
// github.com/elimity-com/scim's; this package maps its Users onto accounts.
// People made here get no password: an invitation, or SSO.
package scim

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"conductportal/server/auth"
	"conductportal/server/logging"
	"conductportal/server/model"
	"conductportal/server/storage"

	"github.com/elimity-com/scim"
	scimerr "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
)

// enterprise is the enterprise extension's schema URI.
const enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// maxPage bounds one list answer.
const maxPage = 200

// requestTimeout bounds one SCIM request.
const requestTimeout = time.Minute

type ctxKey struct{}

// Handler serves /scim/v2 for bearer tokens with the scim scope.
func Handler(a *auth.Service, store *storage.Storage, baseURL string, log *slog.Logger) (http.Handler, error) {
	users := &users{auth: a, store: store, log: log}
	srv, err := scim.NewServer(&scim.ServerArgs{
		ServiceProviderConfig: &scim.ServiceProviderConfig{
			DocumentationURI: optional.NewString("https://github.com/conductportal#connect-your-identity-provider"),
			MaxResults:       maxPage, SupportFiltering: true, SupportPatch: true,
			AuthenticationSchemes: []scim.AuthenticationScheme{{Type: scim.AuthenticationTypeOauthBearerToken,
				Name: "Bearer token", Description: "a portal API token with the scim scope (portal token create --scope scim)", Primary: true}},
		},
		ResourceTypes: []scim.ResourceType{{
			ID: optional.NewString("User"), Name: "User", Endpoint: "/Users", Description: optional.NewString("People who must learn the rules"),
			Schema:           schema.CoreUserSchema(),
			SchemaExtensions: []scim.SchemaExtension{{Schema: schema.ExtensionEnterpriseUser()}},
			Handler:          users,
		}},
	}, scim.WithBaseURL(strings.TrimRight(baseURL, "/")+"/scim/v2"), scim.WithLogger(slogLogger{log}))
	if err != nil {
		return nil, err
	}
	inner := http.StripPrefix("/scim", srv)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Behind Fiber's adaptor the request's context is fasthttp's
		// RequestCtx, whose Done races with the server's shutdown when a
		// derived context watches it, and whose values are reset for the
		// next request on that connection while work this request started
		// (an invitation's email) still reads them: this handler keeps only
		// the request id, on a context of its own with its own deadline.
		base := logging.WithRequestID(context.Background(), logging.RequestID(r.Context()))
		ctx, cancel := context.WithTimeout(base, requestTimeout)
		defer cancel()
		r = r.WithContext(ctx)
		u, status, detail := authenticate(r.Context(), a, r.Header.Get("Authorization"))
		if u == nil {
			w.Header().Set("Content-Type", "application/scim+json")
			if status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="scim"`)
			}
			w.WriteHeader(status)
			raw, _ := scimerr.ScimError{Status: status, Detail: detail}.MarshalJSON()
			_, _ = w.Write(raw)
			return
		}
		inner.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, u)))
	}), nil
}

// authenticate finds the token's user: a live token with the scim scope
// whose user may provision people (HR or admin).
func authenticate(ctx context.Context, a *auth.Service, header string) (*model.User, int, string) {
	tok, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		return nil, http.StatusUnauthorized, "send Authorization: Bearer <token with the scim scope>"
	}
	u, t, err := a.TokenUser(ctx, strings.TrimSpace(tok))
	switch {
	case errors.Is(err, auth.ErrTokenExpired), errors.Is(err, auth.ErrTokenRevoked), errors.Is(err, auth.ErrBadToken):
		return nil, http.StatusUnauthorized, "the token is not valid, revoked or expired"
	case err != nil:
		return nil, http.StatusServiceUnavailable, "try again"
	case !slices.Contains(t.Scopes, auth.ScopeSCIM):
		return nil, http.StatusForbidden, "the token lacks the scim scope"
	case !u.HasRole(model.RoleHR) && !u.HasRole(model.RoleAdmin):
		return nil, http.StatusForbidden, "the token's user may not provision people"
	}
	return u, 0, ""
}

func caller(r *http.Request) *model.User {
	u, _ := r.Context().Value(ctxKey{}).(*model.User)
	return u
}

// slogLogger adapts slog to the library's Logger.
type slogLogger struct{ log *slog.Logger }

func (l slogLogger) Error(args ...interface{}) { l.log.Error("scim", "detail", args) }
