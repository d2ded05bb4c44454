package web

import (
	"html/template"

	"conductportal/server/training"
)

// writeTraining writes the "content" of templates/training.html, as
// executing it would (TestTrainingPageMatchesTemplate compares them): the
// learner's home page without reflection. A manager's team summary, on
// fewer pages, still comes from the template's "team-summary" block.
func writeTraining(w htmlWriter, t *template.Template, p *page) error {
	d := p.Data.(trainingPage)
	w.raw("\n<h1>")
	w.text(p.T("training.title"))
	w.raw("</h1>\n")
	if d.Team != nil {
		if err := t.ExecuteTemplate(w.b, "team-summary", p); err != nil {
			return err
		}
	}
	w.raw("\n\n")
	if len(d.Rows) == 0 {
		w.raw("\n<p class=\"card\">")
		w.text(p.T("training.empty"))
		w.raw("</p>\n\n\n")
		return nil
	}
	w.raw("\n<section class=\"card\">\n  <p class=\"muted\">")
	w.text(p.T("training.intro"))
	w.raw("</p>\n  <label class=\"progress-label\" for=\"programme\">")
	w.text(p.T("training.progress", d.Done, d.Total))
	w.raw("</label>\n  <progress id=\"programme\" value=\"")
	w.int(d.Done)
	w.raw("\" max=\"")
	w.int(d.Total)
	w.raw("\">")
	w.int(percent(d.Done, d.Total))
	w.raw("%</progress>\n  ")
	if d.Next != nil {
		w.raw("\n  <p><a class=\"button primary\" id=\"home-next\" href=\"/lessons/")
		w.url(d.Next.Lesson.Slug)
		w.raw("\">")
		w.text(p.T("training.next", d.Next.Title))
		w.raw("</a></p>\n  ")
		if d.Certificate != "" {
			w.raw("<p id=\"home-certificate\"><a href=\"/certificate\">")
			w.text(p.T("certificate.view"))
			w.raw("</a> · ")
			w.text(d.Certificate)
			w.raw("</p>")
		}
		w.raw("\n  ")
	} else {
		w.raw("\n  <p class=\"success\">")
		w.text(p.T("training.alldone"))
		w.raw("</p>\n  <p><a class=\"button primary\" href=\"/certificate\">")
		w.text(p.T("certificate.view"))
		w.raw("</a></p>\n  ")
	}
	w.raw("\n</section>\n<ol class=\"lessons\">\n")
	for _, r := range d.Rows {
		w.raw("\n  <li class=\"lesson-row")
		if r.Overdue {
			w.raw(" overdue")
		}
		w.raw("\">\n    <a href=\"/lessons/")
		w.url(r.Lesson.Slug)
		w.raw("\" class=\"lesson-link\">")
		w.text(r.Title)
		w.raw("</a>\n    <span class=\"badge status-")
		w.text(r.Code)
		w.raw("\">")
		if r.Renewal {
			w.text(p.T("status.renewal"))
		} else {
			w.text(p.T("status." + r.Code))
		}
		w.raw("</span>\n    ")
		if r.Code != training.StatusDone {
			w.raw("<span class=\"due\">")
			w.text(p.T("training.due", p.Date(r.Due)))
			w.raw("</span>")
		}
		w.raw("\n    ")
		if r.Overdue {
			w.raw("<span class=\"badge overdue\">")
			w.text(p.T("training.overdue"))
			w.raw("</span>")
		}
		w.raw("\n  </li>\n")
	}
	w.raw("\n</ol>\n\n\n")
	return nil
}
