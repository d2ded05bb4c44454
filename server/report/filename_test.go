package report

import (
	"mime"
	"testing"
	"time"
)

func TestFileNameAndAttachment(t *testing.T) {
	day := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		parts      []string
		name, disp string
	}{
		{[]string{"team", "wang.qiang", "overdue"}, "team-wang.qiang-overdue-2026-12-03.xlsx",
			`attachment; filename="team-wang.qiang-overdue-2026-12-03.xlsx"`},
		{[]string{"team", "客服部", "overdue"}, "team-客服部-overdue-2026-12-03.xlsx",
			`attachment; filename="team-overdue-2026-12-03.xlsx"; filename*=UTF-8''team-%E5%AE%A2%E6%9C%8D%E9%83%A8-overdue-2026-12-03.xlsx`},
		{[]string{"team", "../x y", `a"b;c`}, "team-x-y-a-b-c-2026-12-03.xlsx",
			`attachment; filename="team-x-y-a-b-c-2026-12-03.xlsx"`},
		{[]string{"客服部"}, "客服部-2026-12-03.xlsx",
			`attachment; filename="2026-12-03.xlsx"; filename*=UTF-8''%E5%AE%A2%E6%9C%8D%E9%83%A8-2026-12-03.xlsx`},
	} {
		name := FileName(c.parts, day, "xlsx")
		if name != c.name {
			t.Errorf("FileName(%q) = %q, want %q", c.parts, name, c.name)
		}
		disp := Attachment(name)
		if disp != c.disp {
			t.Errorf("Attachment(%q) = %q, want %q", name, disp, c.disp)
		}
		// A standard parser reads back the UTF-8 name.
		if _, params, err := mime.ParseMediaType(disp); err != nil || params["filename"] != name {
			t.Errorf("parsed %q: %q %v", disp, params, err)
		}
	}
}
