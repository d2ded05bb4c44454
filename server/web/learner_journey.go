package web

import (
	"conductportal/server/locale"
	"conductportal/server/model"
	"conductportal/server/training"

	"github.com/gofiber/fiber/v2"
)

// The steps of a lesson, in order.
const (
	stepRead = "read"
	stepQuiz = "quiz"
	stepSign = "sign"
)

// journey is where a lesson stands in the learner's programme: "lesson N
// of M" and the read -> quiz -> sign steps, shown on every page of a
// lesson with a way back to the training page.
type journey struct {
	N, M  int // N is 0 when the lesson is not among the user's lessons
	Steps []journeyStep
}

type journeyStep struct {
	Key     string // read, quiz, sign
	Done    bool
	Current bool
}

// journeyOption changes what journeyOf builds.
type journeyOption func(*journeyOptions)

type journeyOptions struct {
	noPosition bool
	standings  []training.Standing // nil: journeyOf reads them
}

// withoutPosition leaves "lesson N of M" out (N is 0).
func withoutPosition() journeyOption { return func(o *journeyOptions) { o.noPosition = true } }

// amongStandings places the lesson among sts, the user's lessons the
// caller has read already, instead of reading them again.
func amongStandings(sts []training.Standing) journeyOption {
	return func(o *journeyOptions) { o.standings = sts }
}

// journeyOf places st among u's lessons. current names the step the page
// is about; empty: the first step not done.
func (h *handler) journeyOf(c *fiber.Ctx, u *model.User, st *training.Standing, current string, opts ...journeyOption) (journey, error) {
	var o journeyOptions
	for _, opt := range opts {
		opt(&o)
	}
	sts := o.standings
	if sts == nil {
		var err error
		if sts, err = h.Training.Standings(ctx(c), u); err != nil {
			return journey{}, err
		}
	}
	j := journey{M: len(sts)}
	for i := range sts {
		if sts[i].Lesson.Slug == st.Lesson.Slug && !o.noPosition {
			j.N = i + 1
		}
	}
	// The three steps in an array, not a map: every lesson page places one.
	steps := [3]string{stepRead, stepQuiz, stepSign}
	done := [3]bool{
		st.Code == training.StatusDone || st.QuizDone || st.Progress.ReadVersion >= st.Lesson.Current,
		st.Code == training.StatusDone || st.QuizDone,
		st.Code == training.StatusDone,
	}
	j.Steps = make([]journeyStep, 0, len(steps))
	for i, k := range steps {
		if current == "" && !done[i] {
			current = k
		}
		j.Steps = append(j.Steps, journeyStep{Key: k, Done: done[i], Current: k == current})
	}
	return j, nil
}

// donePage is what a learner sees after signing: the programme's progress,
// the next lesson (or the certificate) and the receipt one link away.
type donePage struct {
	Title string
	// ReceiptID names the receipt of the version done ("" if none found).
	ReceiptID string
	Done      int
	Total     int
	Next      *trainingRow
	Journey   journey
}

func (h *handler) lessonDone(c *fiber.Ctx) error {
	u, _ := currentSession(c)
	lang := langOf(c)
	slug := c.Params("slug")
	st, err := h.Training.Standing(ctx(c), u, slug)
	if err != nil {
		return err
	}
	if st.Code != training.StatusDone {
		return c.Redirect("/lessons/"+slug+"#actions", fiber.StatusSeeOther)
	}
	sts, err := h.Training.Standings(ctx(c), u)
	if err != nil {
		return err
	}
	p := donePage{Title: st.Lesson.Title(lang), Total: len(sts)}
	p.ReceiptID, _ = h.Training.ReceiptIDOf(ctx(c), u, st)
	// The next lesson is the first one not done after this one, else the
	// first one not done before it.
	pos := 0
	for i := range sts {
		if sts[i].Lesson.Slug == slug {
			pos = i
		}
	}
	for k := range sts {
		i := (pos + 1 + k) % len(sts)
		if sts[i].Code == training.StatusDone {
			continue
		}
		if p.Next == nil {
			p.Next = &trainingRow{Standing: sts[i], Title: sts[i].Lesson.Title(lang)}
		}
	}
	for i := range sts {
		if sts[i].Code == training.StatusDone {
			p.Done++
		}
	}
	// The progress bar says how far the programme is; "lesson N of M" next
	// to it would read as a second, different count.
	if p.Journey, err = h.journeyOf(c, u, st, "", withoutPosition(), amongStandings(sts)); err != nil {
		return err
	}
	return h.render(c, "done", locale.T(lang, "done.title", p.Title), p)
}
