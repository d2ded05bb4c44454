package web

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"conductportal/server/locale"
	"conductportal/server/report"
)

// chart is the team's progress chart, drawn as inline SVG by the template:
// completion % at the end of each week. Styling is by class (app.css); the
// page's CSP forbids inline styles.
type chart struct {
	Width, Height int
	Left, Right   int // plot area, x
	Top, Bottom   int // plot area, y
	Line          string
	Points        []chartPoint
	Grid          []chartTick
	Summary       string
}

type chartPoint struct {
	X, Y    int
	Label   string // the week's date, shown under some points
	Percent int
	Title   string
}

type chartTick struct {
	Y     int
	Label string
	Minor bool // 25% and 75%: hidden on a phone
}

// newChart draws the weeks from the first one in which anything was asked
// of anyone (earlier weeks would be a flat line before the team existed).
// The margins leave room for the labels at the phone's larger font (30 px:
// the chart is drawn at about a third of its size there, measured by the
// manager's browser test): "100%" (about 86 px) on the left, a centred
// "12月31日" (about 136 px) under the last point on the right.
func newChart(weeks []report.WeekPoint, lang string) *chart {
	ch := &chart{Width: 640, Height: 236, Left: 96, Right: 566, Top: 24, Bottom: 188}
	for _, pct := range []int{0, 25, 50, 75, 100} {
		ch.Grid = append(ch.Grid, chartTick{Y: ch.y(pct), Label: fmt.Sprintf("%d%%", pct), Minor: pct%50 != 0})
	}
	if start := slices.IndexFunc(weeks, func(w report.WeekPoint) bool { return w.Known }); start > 0 {
		weeks = weeks[start:]
	}
	var pts []string
	n := len(weeks)
	first, last := -1, -1
	for i, w := range weeks {
		if !w.Known {
			continue
		}
		x := (ch.Left + ch.Right) / 2 // a single week stands in the middle
		if n > 1 {
			x = ch.Left + i*(ch.Right-ch.Left)/(n-1)
		}
		p := chartPoint{X: x, Y: ch.y(w.Percent), Percent: w.Percent,
			Title: locale.T(lang, "team.chart.point", dayLabel(w.End, lang), w.Percent)}
		if i%2 == (n-1)%2 { // every other week, always the last
			p.Label = dayLabel(w.End, lang)
		}
		ch.Points = append(ch.Points, p)
		pts = append(pts, fmt.Sprintf("%d,%d", p.X, p.Y))
		if first < 0 {
			first = w.Percent
		}
		last = w.Percent
	}
	ch.Line = strings.Join(pts, " ")
	if len(ch.Points) == 0 {
		return nil
	}
	ch.Summary = locale.T(lang, "team.chart.summary", len(weeks), first, last)
	if len(weeks) == 1 {
		ch.Summary = locale.T(lang, "team.chart.summary.week", last)
	}
	return ch
}

func (ch *chart) y(pct int) int { return ch.Bottom - pct*(ch.Bottom-ch.Top)/100 }

func dayLabel(t time.Time, lang string) string {
	if lang == "zh-CN" {
		return t.In(displayZone).Format("1月2日")
	}
	return t.In(displayZone).Format("2 Jan")
}
