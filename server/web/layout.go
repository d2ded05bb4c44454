package web

import "strings"

// writeLayout writes templates/layout.html around content, as executing
// that template would (TestLayoutMatchesTemplate compares them): every
// page's header, navigation and language switch without html/template's
// reflection. layout.html stays the readable source; change both.
func writeLayout(w htmlWriter, p *page, content func() error) error {
	here := p.Here() // the page with its query, for both language forms
	w.raw("<!doctype html>\n<html lang=\"")
	w.text(p.Lang)
	w.raw("\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>")
	w.text(p.Title)
	w.raw(" · ")
	if p.Company != "" {
		w.text(p.Company)
		w.raw(" ")
	}
	w.text(p.T("app.name"))
	w.raw("</title>\n<link rel=\"stylesheet\" href=\"")
	w.urlStart(p.Static("app.css"))
	w.raw("\">\n<link rel=\"icon\" href=\"")
	w.urlStart(p.Static("favicon.svg"))
	w.raw("\" type=\"image/svg+xml\">\n<meta name=\"csrf-token\" content=\"")
	w.text(p.CSRF)
	w.raw("\">\n<script src=\"")
	w.urlStart(p.Static("app.js"))
	w.raw("\" defer></script>\n</head>\n<body>\n<a class=\"skip\" href=\"#main\">")
	w.text(p.T("nav.skip"))
	w.raw("</a>\n<header class=\"top\">\n  <div class=\"bar\">\n    <a class=\"brand\" href=\"/\">")
	if p.Logo != "" {
		w.raw("<img src=\"")
		w.urlStart(p.Logo)
		w.raw("\" alt=\"\" class=\"logo\" height=\"28\">")
	} else {
		w.raw("<img src=\"")
		w.urlStart(p.Static("favicon.svg"))
		w.raw("\" alt=\"\" width=\"28\" height=\"28\">")
	}
	w.raw("\n      ")
	if p.Company != "" {
		w.raw("<span class=\"company\">")
		w.text(p.Company)
		w.raw("</span>")
	}
	w.raw(" <span>")
	w.text(p.T("app.name"))
	w.raw("</span></a>\n    <nav aria-label=\"main\">\n      ")
	if u := p.User; u != nil {
		if !u.MustChangePassword {
			w.raw("\n      <a href=\"/\"")
			current(w, p.Path == "/" || strings.HasPrefix(p.Path, "/lessons/") || strings.HasPrefix(p.Path, "/attempts/"))
			w.raw(">")
			w.text(p.T("nav.training"))
			w.raw("</a>\n      <a href=\"/receipts\"")
			current(w, strings.HasPrefix(p.Path, "/receipts"))
			w.raw(">")
			w.text(p.T("nav.receipts"))
			w.raw("</a>\n      ")
			if p.SeesTeam() {
				w.raw("<a href=\"/team\"")
				current(w, strings.HasPrefix(p.Path, "/team") || strings.HasPrefix(p.Path, "/people/"))
				w.raw(">")
				w.text(p.T("nav.team"))
				w.raw("</a>")
			}
			w.raw("\n      ")
			if p.SeesOrganisation() {
				w.raw("<a href=\"/organisation\"")
				current(w, strings.HasPrefix(p.Path, "/organisation"))
				w.raw(">")
				w.text(p.T("nav.organisation"))
				w.raw("</a>")
			}
			w.raw("\n      <a href=\"/notifications\" class=\"bell\" id=\"bell\"")
			current(w, p.Path == "/notifications")
			w.raw(">")
			w.text(p.T("nav.notifications"))
			if u.Unread > 0 {
				w.raw(" <span class=\"count\" aria-label=\"")
				w.text(p.T("nav.unread", u.Unread))
				w.raw("\">")
				w.int(u.Unread)
				w.raw("</span>")
			}
			w.raw("</a>\n      ")
			if p.IsHR() {
				w.raw("<a href=\"/hr\"")
				current(w, strings.HasPrefix(p.Path, "/hr") || strings.HasPrefix(p.Path, "/admin/"))
				w.raw(">")
				w.text(p.T("nav.hr"))
				w.raw("</a>")
			}
			w.raw("\n      ")
		}
	}
	w.raw("\n      <form method=\"post\" action=\"/lang\" class=\"inline\" id=\"lang-switch\">\n        <input type=\"hidden\" name=\"_csrf\" value=\"")
	w.text(p.CSRF)
	w.raw("\">\n        <input type=\"hidden\" name=\"next\" value=\"")
	w.text(here)
	w.raw("\">\n        <input type=\"hidden\" name=\"lang\" value=\"")
	w.text(p.OtherLang())
	w.raw("\">\n        <button type=\"submit\" class=\"link\" lang=\"")
	w.text(p.OtherLang())
	w.raw("\">")
	w.text(p.T("nav.lang"))
	w.raw("</button>\n      </form>\n      ")
	if u := p.User; u != nil {
		w.raw("\n      \n      <details class=\"account-menu\" id=\"account-menu\"")
		if p.InAccount() {
			w.raw(" data-current=\"true\"")
		}
		w.raw(">\n        <summary>")
		w.text(p.T("nav.account"))
		w.raw("<span class=\"visually-hidden\">: ")
		w.text(u.Name)
		w.raw("</span></summary>\n        <ul>\n          <li><a href=\"/password\"")
		current(w, p.Path == "/password")
		w.raw(">")
		w.text(p.T("nav.password"))
		w.raw("</a></li>\n          ")
		if !u.MustChangePassword {
			w.raw("\n          <li><a href=\"/mfa/setup\"")
			current(w, strings.HasPrefix(p.Path, "/mfa/"))
			w.raw(">")
			w.text(p.T("nav.mfa"))
			w.raw("</a></li>\n          <li><a href=\"/certificate\"")
			current(w, p.Path == "/certificate")
			w.raw(">")
			w.text(p.T("nav.certificate"))
			w.raw("</a></li>\n          ")
			if p.Tokens {
				w.raw("<li><a href=\"/tokens\"")
				current(w, p.Path == "/tokens")
				w.raw(">")
				w.text(p.T("nav.tokens"))
				w.raw("</a></li>")
			}
			w.raw("\n          ")
		}
		w.raw("\n          \n          <li class=\"menu-lang\"><form method=\"post\" action=\"/lang\" id=\"menu-lang\" role=\"group\" aria-labelledby=\"menu-lang-label\">\n            <input type=\"hidden\" name=\"_csrf\" value=\"")
		w.text(p.CSRF)
		w.raw("\">\n            <input type=\"hidden\" name=\"next\" value=\"")
		w.text(here)
		w.raw("\">\n            <span id=\"menu-lang-label\" class=\"menu-label\">")
		w.text(p.T("nav.language"))
		w.raw("</span>\n            ")
		for _, l := range p.Langs() {
			w.raw("<button type=\"submit\" name=\"lang\" value=\"")
			w.text(l)
			w.raw("\" lang=\"")
			w.text(l)
			w.raw("\" id=\"menu-lang-")
			w.text(l)
			w.raw("\" aria-pressed=\"")
			if l == p.Lang {
				w.raw("true\">")
				w.raw("<span aria-hidden=\"true\">✓ </span>")
			} else {
				w.raw("false\">")
			}
			w.text(p.T("lang." + l))
			w.raw("</button>")
		}
		w.raw("\n          </form></li>\n        </ul>\n      </details>\n      ")
	}
	w.raw("\n      ")
	if p.User != nil {
		w.raw("\n      <form method=\"post\" action=\"/logout\" class=\"inline\">\n        <input type=\"hidden\" name=\"_csrf\" value=\"")
		w.text(p.CSRF)
		w.raw("\">\n        <button type=\"submit\" class=\"link\">")
		w.text(p.T("nav.logout"))
		w.raw("</button>\n      </form>\n      ")
	}
	w.raw("\n    </nav>\n  </div>\n  ")
	if p.Demo {
		w.raw("<p class=\"demo-banner\" id=\"demo-banner\"><strong>")
		w.text(p.T("demo.banner"))
		w.raw("</strong></p>")
	}
	w.raw("\n</header>\n<main id=\"main\">\n")
	if p.Notice != "" {
		w.raw("<p class=\"notice\" role=\"status\">")
		w.text(p.Notice)
		w.raw("</p>")
	}
	w.raw("\n")
	if p.Error != "" {
		w.raw("<p class=\"error\" role=\"alert\">")
		w.text(p.Error)
		w.raw("</p>")
	}
	w.raw("\n")
	if err := content(); err != nil {
		return err
	}
	// The eight newlines are those between layout.html's define blocks,
	// which executing the template writes after </html> too.
	w.raw("\n</main>\n</body>\n</html>\n\n\n\n\n\n\n\n\n")
	return nil
}

// current marks the navigation link of the page shown.
func current(w htmlWriter, on bool) {
	if on {
		w.raw(" aria-current=\"page\"")
	}
}
