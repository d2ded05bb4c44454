package web_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"testing"

	portal "conductportal"
	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"
	"conductportal/server/web"

	"github.com/valyala/fasthttp"
)

// benchPortal is a running portal with one signed-in employee: its
// services for an app of the benchmark's own, whose log is discarded (the
// test's log would keep every access line in memory), and the session.
type benchPortal struct {
	p    *testkit.Portal
	deps web.Deps
	tok  string
}

func startBenchPortal(b *testing.B) *benchPortal {
	b.Helper()
	p := testkit.Start(b, filepath.Join(b.TempDir(), "data"), io.Discard)
	ctx := context.Background()
	u, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "bench", Name: "读者<b>", Roles: []string{model.RoleEmployee}, Password: firstPass})
	if err != nil {
		b.Fatal(err)
	}
	tok, _, err := p.Auth.StartSession(ctx, u, "127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	// As serve builds it, with a log that formats every line and drops it.
	d := web.Deps{Config: p.Config, Auth: p.Auth, Training: p.Training, Reports: p.Reports, Notify: p.Notify,
		Authoring: p.Authoring, DB: p.DB, Assets: portal.Assets, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Metrics: p.Metrics, SSO: p.SSO, Channels: p.Channels}
	return &benchPortal{p: p, deps: d, tok: tok}
}

// request is a GET of path with the session's cookie, from loopback.
func (bp *benchPortal) request(path string) *fasthttp.RequestCtx {
	var req fasthttp.Request
	req.SetRequestURI(path)
	req.Header.SetCookie("portal_session", bp.tok)
	req.Header.Set("Accept-Language", "zh-CN,zh;q=0.9")
	var fctx fasthttp.RequestCtx
	fctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
	return &fctx
}

// serve answers fctx through handle, as the server would, and fails
// unless the answer is 200 and holds want.
func serve(b *testing.B, handle fasthttp.RequestHandler, fctx *fasthttp.RequestCtx, want string) {
	fctx.Response.Reset()
	handle(fctx)
	if fctx.Response.StatusCode() != 200 || !bytes.Contains(fctx.Response.Body(), []byte(want)) {
		b.Fatalf("status %d, want 200 with %q: %.300s", fctx.Response.StatusCode(), want, fctx.Response.Body())
	}
}

// BenchmarkLessonPage renders the lesson page for a signed-in employee:
// "route" through the real app and every middleware (database reads
// included: the session, the user, the progress), "render" the rendering
// step alone from data gathered once, "render-html-template" that step as
// html/template did it before.
//
//	go test -run '^$' -bench BenchmarkLessonPage -benchmem -cpuprofile cpu.out ./server/web/
func BenchmarkLessonPage(b *testing.B) {
	bp := startBenchPortal(b)
	const slug, title = "attendance", "考勤"
	b.Run("route", func(b *testing.B) {
		app, err := web.New(bp.deps)
		if err != nil {
			b.Fatal(err)
		}
		handle := app.Handler()
		fctx := bp.request("/lessons/" + slug)
		serve(b, handle, fctx, title)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			serve(b, handle, fctx, title)
		}
	})
	for _, how := range []struct {
		name     string
		template bool
	}{{"render", false}, {"render-html-template", true}} {
		b.Run(how.name, func(b *testing.B) {
			render, err := web.PageRender(bp.deps, bp.tok, "/lessons/"+slug, model.LangZH, how.template)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				body, err := render()
				if err != nil || !bytes.Contains(body, []byte(title)) {
					b.Fatalf("%v: %.300s", err, body)
				}
			}
			b.SetBytes(int64(len(must(render()))))
		})
	}
}

// BenchmarkHomePage renders the learner's home page ("My training") from
// data gathered once: in Go, and as html/template did it before.
func BenchmarkHomePage(b *testing.B) {
	bp := startBenchPortal(b)
	const want = "attendance"
	for _, how := range []struct {
		name     string
		template bool
	}{{"render", false}, {"render-html-template", true}} {
		b.Run(how.name, func(b *testing.B) {
			render, err := web.PageRender(bp.deps, bp.tok, "/", model.LangZH, how.template)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				body, err := render()
				if err != nil || !bytes.Contains(body, []byte(want)) {
					b.Fatalf("%v: %.300s", err, body)
				}
			}
			b.SetBytes(int64(len(must(render()))))
		})
	}
}

// BenchmarkMiddlewareChain answers "ok" behind the first n middlewares of
// a learner's page, for each n: the step from one line to the next is
// what that middleware costs (loadSession includes its database reads).
func BenchmarkMiddlewareChain(b *testing.B) {
	bp := startBenchPortal(b)
	steps, err := web.MiddlewareChain(bp.deps)
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range steps {
		b.Run(s.Name, func(b *testing.B) {
			handle := s.App.Handler()
			fctx := bp.request("/bench")
			serve(b, handle, fctx, "ok")
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				serve(b, handle, fctx, "ok")
			}
		})
	}
}

func must(body []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return body
}
