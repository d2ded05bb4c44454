package lesson

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// apply rebuilds both texts from ops, which must give back the inputs.
func apply(ops []Op) (string, string) {
	var a, b strings.Builder
	for _, o := range ops {
		if o.Kind != Insert {
			a.WriteString(o.Text)
		}
		if o.Kind != Delete {
			b.WriteString(o.Text)
		}
	}
	return a.String(), b.String()
}

func TestDiffChineseByCharacter(t *testing.T) {
	old := "## 鞋 {#shoes}\n\n女士以半高跟鞋为宜。\n男士袜子以近深色为宜。\n"
	nw := "## 鞋 {#shoes}\n\n女士以平跟鞋为宜。\n男士袜子以近深色为宜。\n"
	ops := Diff(old, nw, "zh-CN")
	a, b := apply(ops)
	if a != old || b != nw {
		t.Fatalf("diff does not rebuild the texts: %+v", ops)
	}
	got := HTML(ops)
	if !strings.Contains(got, "女士以<del>半高</del><ins>平</ins>跟鞋") || !strings.Contains(got, "男士袜子以近深色为宜。") {
		t.Fatalf("html: %s", got)
	}
}

func TestDiffEnglishByWord(t *testing.T) {
	ops := Diff("Wear the uniform at work.\n", "Wear the company uniform at all times.\n", "en")
	got := HTML(ops)
	if !strings.Contains(got, "Wear the <ins>company </ins>uniform at <del>work</del><ins>all times</ins>.") {
		t.Fatalf("html: %s", got)
	}
	if HTML(Diff("<b>x</b>\n", "<b>y</b>\n", "en")) != "&lt;b&gt;<del>x</del><ins>y</ins>&lt;/b&gt;\n" {
		t.Fatalf("diff output must be escaped: %s", HTML(Diff("<b>x</b>\n", "<b>y</b>\n", "en")))
	}
	if Changed(Diff("same\n", "same\n", "en")) || !Changed(Diff("", "new\n", "en")) {
		t.Fatal("Changed")
	}
}

func TestDiffRebuildsRandomTexts(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	alphabet := []rune("着装规范\n ab")
	gen := func() string {
		n := r.IntN(60)
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteRune(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	for i := 0; i < 300; i++ {
		x, y := gen(), gen()
		for _, lang := range []string{"zh-CN", "en"} {
			if a, b := apply(Diff(x, y, lang)); a != x || b != y {
				t.Fatalf("%q -> %q (%s): rebuilt %q -> %q", x, y, lang, a, b)
			}
		}
	}
}

func TestCollapseAndReadable(t *testing.T) {
	var old, nw strings.Builder
	for i := 0; i < 20; i++ {
		line := "第" + string(rune('A'+i)) + "行。\n"
		old.WriteString(line)
		if i == 10 {
			line = "第K行，已修改。\n"
		}
		nw.WriteString(line)
	}
	got := HTML(Collapse(Diff(old.String(), nw.String(), "zh-CN"), 2))
	want := "<span class=\"skip\">⋯</span>\n第I行。\n第J行。\n第K行<ins>，已修改</ins>。\n第L行。\n第M行。\n<span class=\"skip\">⋯</span>\n"
	if got != want {
		t.Fatalf("collapsed:\n%s\nwant:\n%s", got, want)
	}
	if r := Readable("## 着装 {#dress}\n\n- **上班**时穿制服。\n"); r != "着装\n\n- 上班时穿制服。\n" {
		t.Fatalf("readable: %q", r)
	}
}
