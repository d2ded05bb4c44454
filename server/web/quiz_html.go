package web

import "strconv"

// writeQuiz writes the "content" of templates/quiz.html, as executing it
// would (TestQuizPageMatchesTemplate compares them): the quiz form, shown
// at each attempt's start and again when a submit left a question blank.
func writeQuiz(w htmlWriter, p *page) error {
	d := p.Data.(quizPage)
	n := len(d.Questions)
	w.raw("\n\n")
	writeJourney(w, p, d.Journey)
	w.raw("\n<h1>")
	w.text(p.Title)
	w.raw("</h1>\n<p class=\"muted\">")
	w.text(p.T("quiz.intro", n, d.Attempt.PassMark))
	w.raw("</p>\n<form method=\"post\" action=\"/attempts/")
	w.url(d.Attempt.ID)
	w.raw("\" class=\"quiz\" id=\"quiz-form\" novalidate>\n  <input type=\"hidden\" name=\"_csrf\" value=\"")
	w.text(p.CSRF)
	w.raw("\">\n  ")
	for _, q := range d.Questions {
		w.raw("\n  <fieldset class=\"card question")
		if q.Unanswered {
			w.raw(" unanswered")
		}
		w.raw("\" id=\"q-")
		w.text(q.ID)
		w.raw("\"")
		if q.Unanswered {
			w.raw(" aria-describedby=\"q-")
			w.text(q.ID)
			w.raw("-blank\"")
		}
		w.raw(">\n    <legend><span class=\"qn\">")
		w.text(p.T("quiz.question", q.N))
		w.raw("</span> ")
		w.text(q.Prompt)
		w.raw(" ")
		if q.Multiple {
			w.raw("<span class=\"muted\">")
			w.text(p.T("quiz.multiple"))
			w.raw("</span>")
		}
		w.raw("</legend>\n    ")
		if q.Unanswered {
			w.raw("<p class=\"blank\" id=\"q-")
			w.text(q.ID)
			w.raw("-blank\">")
			w.text(p.T("quiz.blank"))
			w.raw("</p>")
		}
		w.raw("\n    \n    ")
		kind := "radio"
		if q.Multiple {
			kind = "checkbox"
		}
		for _, o := range q.Options {
			w.raw("\n    <label class=\"option\"><input type=\"")
			w.raw(kind)
			w.raw("\" name=\"q_")
			w.text(q.ID)
			w.raw("\" value=\"")
			w.text(o.ID)
			w.raw("\"")
			if o.Chosen {
				w.raw(" checked")
			}
			w.raw("> <span>")
			w.text(o.Text)
			w.raw("</span></label>\n    ")
		}
		w.raw("\n  </fieldset>\n  ")
	}
	w.raw("\n  <div class=\"quiz-submit\">\n    <p id=\"answered\" class=\"answered\" aria-live=\"polite\"")
	if len(d.Unanswered) == 0 {
		w.raw(" hidden")
	}
	w.raw(" data-template=\"")
	w.text(p.T("quiz.answered", answeredSlot, n))
	w.raw("\">")
	if len(d.Unanswered) > 0 {
		w.text(p.T("quiz.answered", strconv.Itoa(d.Answered), n))
	}
	w.raw("</p>\n    <button type=\"submit\" class=\"primary\" id=\"quiz-submit\">")
	w.text(p.T("quiz.submit"))
	w.raw("</button>\n    ")
	if len(d.Unanswered) > 0 {
		w.raw("<button type=\"submit\" name=\"confirm\" value=\"1\" id=\"quiz-submit-anyway\">")
		w.text(p.T("quiz.submit.anyway", len(d.Unanswered)))
		w.raw("</button>")
	}
	w.raw("\n  </div>\n</form>\n\n")
	return nil
}

// answeredSlot is what app.js replaces with the count answered so far.
const answeredSlot = "{n}"
