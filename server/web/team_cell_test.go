package web

import (
	"html/template"
	"strings"
	"testing"
	"time"

	"conductportal/server/model"
	"conductportal/server/report"
	"conductportal/server/training"
)

// cellTemplate is the team matrix's cell as the template wrote it before
// TeamCell: TeamCell must write the same HTML, escaped the same way.
const cellTemplate = `{{$row := .Row}}{{$ := .Page}}{{with .Cell}}{{if .Assigned}}<td class="cell status-{{.Code}}{{if .Overdue}} late{{end}}" data-lesson="{{.Slug}}"><a href="/people/{{$row.Login}}#lesson-{{.Slug}}"><span class="word">{{if .Renewal}}{{$.T "status.renewal"}}{{else}}{{$.T (print "status." .Code)}}{{end}}</span>{{if .Expiring}}<span class="due">{{$.T "team.expires" ($.ShortDate .Expires)}}</span>{{end}}{{if .Open}}<span class="due">{{$.T "team.due" ($.ShortDate .Due)}}</span>{{end}}{{if .Overdue}}<span class="late-tag">{{$.T "training.overdue"}}</span>{{end}}</a></td>{{else}}<td class="cell na" data-lesson="{{.Slug}}">{{$.T "team.not_assigned"}}</td>{{end}}{{end}}`

// rowTemplate is a row of the team matrix as the template wrote it before
// TeamRow (its cells as cellTemplate).
const rowTemplate = `{{$row := .Row}}{{$ := .Page}}{{$back := .Back}}{{with .Row}}
    <tr>
      <th scope="row" class="person"><a href="/people/{{.Login}}">{{.Name}}</a><span class="who">{{.Login}}{{if .Department}} · {{.Department}}{{end}}</span></th>
      {{range .Cells}}{{$.TeamCell $row .}}{{end}}
      <td class="num">{{.Done}}/{{.Assigned}} <span class="muted">({{.Percent}}%)</span></td>
      <td class="num">{{if .Overdue}}<span class="badge overdue">{{.Overdue}}</span>{{else}}0{{end}}</td>
      <td class="num">{{.Expiring}}</td>
      <td class="act">
        {{if lt .Done .Assigned}}
        <form method="post" action="/people/{{.Login}}/remind" class="inline">
          <input type="hidden" name="_csrf" value="{{$.CSRF}}">
          <input type="hidden" name="back" value="{{$back}}">
          <button type="submit" class="small">{{$.T "team.remind"}}<span class="sr"> {{.Name}}</span></button>
        </form>
        {{end}}
      </td>
    </tr>{{end}}`

func TestTeamRowMatchesTemplate(t *testing.T) {
	tpl := template.Must(template.New("row").Parse(rowTemplate))
	day := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	cells := []report.Cell{
		{Slug: "attendance", Assigned: true, Code: training.StatusDone},
		{Slug: "dress", Assigned: true, Code: training.StatusNotStarted, Due: day, Overdue: true},
		{Slug: "ethics"},
	}
	rows := []report.Row{
		{Login: "wang.li", Name: "王丽", Department: "前厅", Cells: cells, Assigned: 2, Done: 1, Overdue: 1, Percent: 50},
		{Login: "a@b", Name: "Ann Bell", Cells: cells[:1], Assigned: 1, Done: 1, Percent: 100, Expiring: 1},
		{Login: "x", Name: `<script>alert(1)</script>`, Department: `"><img src=x onerror=alert(1)>`, Cells: cells, Assigned: 2},
	}
	for _, lang := range model.Languages {
		p := &page{Lang: lang, CSRF: "tok-123"}
		for _, back := range []string{"/team", "/team?department=%E5%89%8D&status=done", `/team?x="><script>`} {
			for _, r := range rows {
				var want strings.Builder
				if err := tpl.Execute(&want, map[string]any{"Page": p, "Row": r, "Back": back}); err != nil {
					t.Fatal(err)
				}
				got := string(p.TeamRow(r, back))
				if strings.Contains(got, "<script") || strings.Contains(got, "<img") {
					t.Fatalf("unescaped: %s", got)
				}
				if strings.ContainsAny(r.Name+r.Department+back, `"<>+`) {
					continue // html/template escapes more characters in attributes; escaped is what matters
				}
				if got != want.String() {
					t.Errorf("%s %s %s:\n got %s\nwant %s", lang, r.Login, back, got, want.String())
				}
			}
		}
	}
}

func TestTeamCellMatchesTemplate(t *testing.T) {
	tpl := template.Must(template.New("cell").Parse(cellTemplate))
	day := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	rows := []report.Row{{Login: "wang.li"}, {Login: "a@b-c_d"}, {Login: `x"><script>alert(1)</script>`}}
	cells := []report.Cell{
		{Slug: "attendance"},
		{Slug: "attendance", Assigned: true, Code: training.StatusReading, Due: day},
		{Slug: "dress", Assigned: true, Code: training.StatusNotStarted, Due: day, Overdue: true},
		{Slug: "dress", Assigned: true, Code: training.StatusDone, Expires: day, Expiring: true},
		{Slug: "ethics", Assigned: true, Code: training.StatusNeedsReack, Renewal: true, Due: day, Overdue: true},
		{Slug: `e"<b>&'`, Assigned: true, Code: `q"<i>`, Due: day},
	}
	for _, lang := range model.Languages {
		p := &page{Lang: lang}
		for _, r := range rows {
			for _, c := range cells {
				var want strings.Builder
				if err := tpl.Execute(&want, map[string]any{"Page": p, "Row": r, "Cell": c}); err != nil {
					t.Fatal(err)
				}
				got := string(p.TeamCell(r, c))
				if strings.Contains(got, "<script") || strings.Contains(got, "<b>") || strings.Contains(got, "<i>") {
					t.Fatalf("unescaped: %s", got)
				}
				if strings.ContainsAny(r.Login+c.Slug+c.Code, `"<>&'`) {
					continue // html/template's URL escaping differs for such text; escaped is what matters
				}
				if got != want.String() {
					t.Errorf("%s %s %+v:\n got %s\nwant %s", lang, r.Login, c, got, want.String())
				}
			}
		}
	}
}
