package web

import (
	"github.com/gofiber/fiber/v2"
)

// confirmPage asks before a consequential action (revoke, deactivate,
// reset, discard...). The action's own form posts without "confirm"; the
// handler answers with this page, whose form posts the same fields again
// with confirm=1. It needs no script, so it works for keyboards, screen
// readers and phones alike, and the server never acts on the first click.
type confirmPage struct {
	Title   string            // the question, translated: "Revoke the token 我的脚本?"
	Intro   string            // what will happen, translated
	Items   []string          // who or what is affected, one line each (may be empty)
	Action  string            // the URL the confirmed form posts to
	Fields  map[string]string // fields to carry to the confirmed post
	Button  string            // the confirming button's label, translated
	Danger  bool              // a destructive action: the button looks it
	Back    string            // where "cancel" leads (a local path)
	Caption string            // the Items list's label, translated (when Items)
	// Skipped lists who or what the action leaves alone and why (a bulk
	// action's preview), under SkippedCaption.
	Skipped        []string
	SkippedCaption string
}

// confirmed reports whether a post is the second, confirmed one.
func confirmed(c *fiber.Ctx) bool { return c.FormValue("confirm") == "1" }

// askConfirm answers with the confirmation page for p.
func (h *handler) askConfirm(c *fiber.Ctx, p confirmPage) error {
	p.Back = safeNext(p.Back)
	return h.render(c, "confirm", p.Title, p)
}
