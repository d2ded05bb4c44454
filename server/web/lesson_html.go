package web

import (
	"html/template"

	"conductportal/server/training"
)

// writeLesson writes the "content" of templates/lesson.html, as executing
// it would (TestLessonPageMatchesTemplate compares them in every state of
// the page): the hottest page, written without reflection. lesson.html
// stays the readable source; change both.
func writeLesson(w htmlWriter, p *page) error {
	d := p.Data.(lessonPage)
	st, slug, version := d.Standing, d.Lesson.Slug, d.Version.Version
	unread := st.Progress.ReadVersion < version
	w.raw("\n\n")
	writeJourney(w, p, d.Journey)
	w.raw("\n<article class=\"lesson\">\n  <header>\n    <h1 lang=\"")
	w.text(d.TextLang)
	w.raw("\">")
	w.text(d.Text.Title)
	w.raw("</h1>\n    <p class=\"muted\">")
	w.text(p.T("lesson.version", version, p.Date(d.Version.Published)))
	w.raw("\n      · <span class=\"badge status-")
	w.text(st.Code)
	w.raw("\" id=\"status-badge\"")
	if st.Code == training.StatusNotStarted {
		w.raw(" data-read-label=\"")
		w.text(p.T("status.reading"))
		w.raw("\"")
	}
	w.raw(">")
	w.text(p.T("status." + st.Code))
	w.raw("</span></p>\n  </header>\n  ")
	if st.Renewal {
		w.raw("<p class=\"notice\">")
		w.text(p.T("lesson.renewal", p.Date(st.Expires)))
		w.raw("</p>")
	}
	w.raw("\n  ")
	if d.Outdated {
		w.raw("\n  <p class=\"notice outdated\" role=\"note\">")
		w.text(p.T("lesson.outdated"))
		w.raw(" <a href=\"/lessons/")
		w.url(slug)
		w.raw("?lang=zh-CN\" lang=\"zh-CN\">")
		w.text(p.T("lesson.outdated.link"))
		w.raw("</a></p>\n  ")
	} else if d.Other != "" {
		w.raw("\n  <p class=\"notice\"><a href=\"/lessons/")
		w.url(slug)
		w.raw("\">")
		w.text(p.T("lang." + d.Other))
		w.raw("</a></p>\n  ")
	}
	w.raw("\n  ")
	if d.Diff != "" {
		w.raw("\n  <section class=\"card changed\" aria-labelledby=\"changed-title\">\n    <h2 id=\"changed-title\">")
		w.text(p.T("lesson.changed.title", d.SignedVersion, version))
		w.raw("</h2>\n    <p class=\"muted\">")
		w.text(p.T("lesson.changed.legend"))
		w.raw("</p>\n    <div class=\"diff\">")
		writeHTML(w, d.Diff)
		w.raw("</div>\n  </section>\n  ")
	}
	w.raw("\n  <div lang=\"")
	w.text(d.TextLang)
	w.raw("\">\n  <aside class=\"summary\">\n    <h2>")
	w.text(p.T("lesson.summary"))
	w.raw("</h2>\n    <p>")
	w.text(d.Text.Summary)
	w.raw("</p>\n  </aside>\n  <nav class=\"toc\" aria-label=\"")
	w.text(p.T("lesson.toc"))
	w.raw("\">\n    <h2>")
	w.text(p.T("lesson.toc"))
	w.raw("</h2>\n    <ol>")
	for _, cl := range d.Text.Clauses {
		w.raw("<li><a href=\"#")
		w.urlPart(cl.ID)
		w.raw("\">")
		w.text(cl.Title)
		w.raw("</a></li>")
	}
	// The lesson's HTML was sanitized when the version was published (see
	// lesson.Renderer), as the template's "html" function assumes.
	w.raw("</ol>\n  </nav>\n  <div class=\"prose\">")
	w.raw(d.Text.HTML)
	w.raw("</div>\n  </div>\n  ")
	if unread {
		w.raw("<div id=\"end-of-text\" data-read-url=\"/api/v1/lessons/")
		w.url(slug)
		w.raw("/read\"></div>")
	}
	w.raw("\n  <section id=\"actions\" class=\"card actions\">\n  ")
	switch {
	case st.Code == training.StatusDone:
		w.raw("\n    <p class=\"success\">")
		w.text(p.T("lesson.done", st.Progress.AckVersion))
		w.raw("</p>\n    <p><a class=\"button primary\" href=\"/lessons/")
		w.url(slug)
		w.raw("/done\">")
		w.text(p.T("lesson.done.next"))
		w.raw("</a>\n    ")
		if d.ReceiptID != "" {
			w.raw("<a class=\"button\" href=\"/receipts/")
			w.url(d.ReceiptID)
			w.raw("\">")
			w.text(p.T("lesson.receipt.view"))
			w.raw("</a>")
		}
		w.raw("</p>\n  ")
	case st.QuizDone:
		w.raw("\n    <p>")
		w.text(p.T("lesson.quiz.passed"))
		w.raw("</p>\n    <p><a class=\"button primary\" href=\"/lessons/")
		w.url(slug)
		w.raw("/acknowledge")
		if d.Other != "" {
			w.raw("?lang=")
			w.urlPart(d.TextLang)
		}
		w.raw("\">")
		w.text(p.T("lesson.ack.go"))
		w.raw("</a></p>\n  ")
	default:
		w.raw("\n    \n    ")
		if d.CooldownUntil.IsZero() {
			w.raw("\n    <form method=\"post\" action=\"/lessons/")
			w.url(slug)
			w.raw("/attempts\" class=\"inline\">\n      <input type=\"hidden\" name=\"_csrf\" value=\"")
			w.text(p.CSRF)
			w.raw("\">\n      <button type=\"submit\" class=\"primary\">")
			w.text(p.T("lesson.quiz.start"))
			w.raw("</button>\n    </form>\n    ")
		} else {
			w.raw("\n    <p class=\"notice\" id=\"cooldown\">")
			w.text(p.T("quiz.cooldown.until", p.Time(d.CooldownUntil)))
			w.raw("</p>\n    ")
		}
		w.raw("\n    ")
		if unread {
			w.raw("\n    <form method=\"post\" action=\"/lessons/")
			w.url(slug)
			w.raw("/read\" class=\"inline\" id=\"read-form\">\n      <input type=\"hidden\" name=\"_csrf\" value=\"")
			w.text(p.CSRF)
			w.raw("\">\n      <button type=\"submit\">")
			w.text(p.T("lesson.read"))
			w.raw("</button>\n    </form>\n    ")
		}
		w.raw("\n    <p id=\"read-status\" class=\"success\"")
		if unread {
			w.raw(" hidden")
		}
		w.raw(">")
		w.text(p.T("lesson.read.done"))
		w.raw("</p>\n  ")
	}
	w.raw("\n  </section>\n</article>\n\n")
	return nil
}

// writeJourney writes layout.html's "journey" block.
func writeJourney(w htmlWriter, p *page, j journey) {
	w.raw("<nav class=\"journey\" aria-label=\"")
	w.text(p.T("journey.label"))
	w.raw("\">\n  <p class=\"journey-top\"><a href=\"/\" id=\"back-training\">")
	w.text(p.T("journey.back"))
	w.raw("</a>")
	if j.N != 0 {
		w.raw(" <span class=\"journey-pos\">")
		w.text(p.T("journey.position", j.N, j.M))
		w.raw("</span>")
	}
	w.raw("</p>\n  <ol class=\"steps\">")
	for _, s := range j.Steps {
		w.raw("<li class=\"step")
		if s.Done {
			w.raw(" step-done")
		}
		if s.Current {
			w.raw(" step-current")
		}
		w.raw("\"")
		if s.Current {
			w.raw(" aria-current=\"step\"")
		}
		w.raw("><span class=\"step-mark\" aria-hidden=\"true\">")
		if s.Done {
			w.raw("✓")
		}
		w.raw("</span> ")
		w.text(p.T("journey.step." + s.Key))
		if s.Done {
			w.raw("<span class=\"visually-hidden\"> ")
			w.text(p.T("journey.step.done"))
			w.raw("</span>")
		}
		w.raw("</li>")
	}
	w.raw("</ol>\n</nav>")
}

// writeHTML writes HTML made safe before (lesson.HTML escapes every
// character of a diff's texts), as html/template writes template.HTML.
func writeHTML(w htmlWriter, h template.HTML) { w.raw(string(h)) }
