package api

import "github.com/gofiber/fiber/v2"

type optionStatJSON struct {
	ID     string `json:"id"`
	Text   string `json:"text"`
	Keyed  bool   `json:"keyed"`
	Chosen int    `json:"chosen"`
}

type itemStatJSON struct {
	ID       string `json:"id"`
	Clause   string `json:"clause"`
	Prompt   string `json:"prompt"`
	Answered int    `json:"answered"`
	Right    int    `json:"right"`
	Blank    int    `json:"blank"`
	Facility int    `json:"facility"`
	// Discrimination is null when undefined (no variation to correlate).
	Discrimination    *float64         `json:"discrimination"`
	Flagged           bool             `json:"flagged"`
	Easy              bool             `json:"easy"`
	LowDiscrimination bool             `json:"low_discrimination"`
	Options           []optionStatJSON `json:"options"`
}

type clauseStatJSON struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Answered int    `json:"answered"`
	Missed   int    `json:"missed"`
	MissRate int    `json:"miss_rate"`
}

type analyticsJSON struct {
	Lesson            string           `json:"lesson"`
	Version           int              `json:"version"`
	Attempts          int              `json:"attempts"`
	People            int              `json:"people"`
	Passed            int              `json:"passed"`
	AvgToPass         float64          `json:"avg_attempts_to_pass"`
	Method            string           `json:"discrimination_method"`
	MinAnswers        int              `json:"min_answers"`
	EasyFacility      int              `json:"easy_facility"`
	MinDiscrimination float64          `json:"min_discrimination"`
	Questions         []itemStatJSON   `json:"questions"`
	Clauses           []clauseStatJSON `json:"clauses"`
}

// analytics answers HR's item statistics of a lesson's current pool.
func (a *API) analytics(c *fiber.Ctx) error {
	an, err := a.Authoring.Analytics(c.UserContext(), c.Params("slug"), langOf(c, user(c)))
	if err != nil {
		return err
	}
	out := analyticsJSON{Lesson: an.Lesson.Slug, Version: an.Lesson.Current, Attempts: an.Attempts, People: an.People, Passed: an.Passed,
		AvgToPass: an.AvgToPass, Method: "point_biserial_rest", MinAnswers: an.MinAnswers, EasyFacility: an.EasyFacility,
		MinDiscrimination: an.MinDiscrimination, Questions: []itemStatJSON{}, Clauses: []clauseStatJSON{}}
	for _, q := range an.Questions {
		j := itemStatJSON{ID: q.ID, Clause: q.Clause, Prompt: q.Prompt, Answered: q.Asked, Right: q.Asked - q.Missed, Blank: q.Blank,
			Facility: q.Facility, Flagged: q.Flagged, Easy: q.Easy, LowDiscrimination: q.Weak, Options: []optionStatJSON{}}
		if q.HasDiscrimination {
			d := q.Discrimination
			j.Discrimination = &d
		}
		for _, o := range q.Options {
			j.Options = append(j.Options, optionStatJSON{ID: o.ID, Text: o.Text, Keyed: o.Keyed, Chosen: o.Chosen})
		}
		out.Questions = append(out.Questions, j)
	}
	for _, cl := range an.Clauses {
		out.Clauses = append(out.Clauses, clauseStatJSON{ID: cl.ID, Title: cl.Title, Answered: cl.Asked, Missed: cl.Missed, MissRate: cl.MissRate})
	}
	return c.JSON(out)
}
