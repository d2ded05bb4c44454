package web

import (
	"testing"
	"time"

	"conductportal/server/report"
)

// The chart starts at the first week anything was asked of anyone: no flat
// line before the team existed, the shown weeks spread over the width, and
// the summary counts the weeks shown.
func TestChartStartsAtFirstAssignment(t *testing.T) {
	end := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	var weeks []report.WeekPoint
	for i := 11; i >= 0; i-- {
		weeks = append(weeks, report.WeekPoint{End: end.AddDate(0, 0, -7*i), Percent: 50, Known: i <= 2})
	}
	ch := newChart(weeks, "en")
	if len(ch.Points) != 3 {
		t.Fatalf("%d points, want the 3 weeks with people in them", len(ch.Points))
	}
	if ch.Points[0].X != ch.Left || ch.Points[2].X != ch.Right {
		t.Errorf("the points run from x=%d to %d, want the plot's width %d..%d", ch.Points[0].X, ch.Points[2].X, ch.Left, ch.Right)
	}
	if want := "Completion over the last 3 weeks: from 50% to 50%."; ch.Summary != want {
		t.Errorf("summary %q, want %q", ch.Summary, want)
	}
	if ch.Points[2].Label == "" {
		t.Error("the last week has no date under it")
	}
	// Room for a centred "12月31日" under the last point and for "100%" at
	// the phone's font (30 px in a 640-wide drawing).
	if ch.Width-ch.Right < 70 || ch.Left < 92 {
		t.Errorf("margins left %d, right %d: the labels are clipped", ch.Left, ch.Width-ch.Right)
	}
	one := newChart(weeks[11:], "zh-CN")
	if want := "本周的完成率：50%。"; one.Summary != want {
		t.Errorf("one week: %q, want %q", one.Summary, want)
	}
	if x := one.Points[0].X; x != (one.Left+one.Right)/2 {
		t.Errorf("a single week at x=%d, want the middle", x)
	}
	if newChart(weeks[:9], "en") != nil {
		t.Error("a chart of weeks before anyone was asked anything")
	}
}
