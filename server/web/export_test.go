package web

import (
	"bytes"
	"context"
	"fmt"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// ChainStep is one middleware of the chain a learner's page passes.
type ChainStep struct {
	Name string
	App  *fiber.App // serves GET /bench with the chain up to and including this step
}

// MiddlewareChain returns, for each middleware of a learner's page in
// order, an app whose GET /bench passes the chain up to it and answers
// "ok": the differences between neighbours are each middleware's cost.
func MiddlewareChain(d Deps) ([]ChainStep, error) {
	h, err := newHandler(d)
	if err != nil {
		return nil, err
	}
	type step struct {
		name string
		fn   fiber.Handler
	}
	var all []step
	names := []string{"requestID", "resolveClient", "accessLog", "countRequest", "recoverPanics", "securityHeaders", "withDeadline",
		"failFastWhenDown", "loadSession", "language", "checkCSRF", "requireLogin", "requirePasswordSet", "requireSecondFactor"}
	chain := append(append(h.outerChain(), h.sessionChain()...), h.requireLogin)
	chain = append(chain, h.learnerChain()...)
	if len(chain) != len(names) {
		return nil, fmt.Errorf("web: the chain has %d steps, the benchmark names %d", len(chain), len(names))
	}
	for i, fn := range chain {
		all = append(all, step{names[i], fn})
	}
	ok := func(c *fiber.Ctx) error { return c.SendString("ok") }
	out := []ChainStep{{Name: "00-none", App: h.newApp()}}
	out[0].App.Get("/bench", ok)
	for i := range all {
		app := h.newApp()
		for _, s := range all[:i+1] {
			app.Use(s.fn)
		}
		app.Get("/bench", ok)
		out = append(out, ChainStep{Name: fmt.Sprintf("%02d-%s", i+1, all[i].name), App: app})
	}
	return out, nil
}

// PageRender gathers the page of path (a lesson, or the home page "/")
// once, as the session tok sees it in language lang, and returns a
// function that renders it again: the rendering step alone, without the
// database. With template true it executes the page's whole template
// (layout.html around it) instead, as the portal did before, to compare.
func PageRender(d Deps, tok, path, lang string, template bool) (func() ([]byte, error), error) {
	h, err := newHandler(d)
	if err != nil {
		return nil, err
	}
	sess, u, err := d.Auth.Session(context.Background(), tok)
	if err != nil {
		return nil, err
	}
	signedIn := func(c *fiber.Ctx) {
		c.Locals(localUser, u)
		c.Locals(localSession, sess)
		c.Locals(localLang, lang)
	}
	app := h.newApp()
	var pg *page
	name := "lesson"
	app.Get("/lessons/:slug", func(c *fiber.Ctx) error {
		signedIn(c)
		pg, err = h.lessonPageOf(c)
		return err
	})
	if path == "/" {
		name = "training"
		app.Get("/", func(c *fiber.Ctx) error {
			signedIn(c)
			pg, err = h.trainingPageOf(c)
			return err
		})
	}
	var fctx fasthttp.RequestCtx
	fctx.Request.SetRequestURI(path)
	app.Handler()(&fctx)
	if err != nil || pg == nil {
		return nil, fmt.Errorf("web: page %s: %w (status %d)", path, err, fctx.Response.StatusCode())
	}
	c := app.AcquireCtx(&fctx)
	signedIn(c)
	return func() ([]byte, error) {
		c.Response().Reset()
		if template {
			h.fillPage(c, pg)
			var buf bytes.Buffer
			if err := h.tpl.pages[name].Execute(&buf, pg); err != nil {
				return nil, err
			}
			c.Response().SetBody(buf.Bytes())
			return c.Response().Body(), nil
		}
		if err := h.renderPage(c, name, pg); err != nil {
			return nil, err
		}
		return c.Response().Body(), nil
	}, nil
}
