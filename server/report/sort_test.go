package report

import (
	"slices"
	"testing"
)

// Names sort as a Chinese reader expects (by pinyin), not by code point
// (which puts 刘 周 张 李 陈 in that order).
func TestSortRowsByPinyin(t *testing.T) {
	var rows []Row
	for _, n := range []string{"刘洋", "周杰", "张伟", "李娜", "陈静", "Anna"} {
		rows = append(rows, Row{Name: n, Login: n, Department: map[bool]string{true: "前台", false: "客服部"}[n < "李"]})
	}
	sortRows(rows, Filter{Sort: "name"})
	var got []string
	for _, r := range rows {
		got = append(got, r.Name)
	}
	if want := []string{"Anna", "陈静", "李娜", "刘洋", "张伟", "周杰"}; !slices.Equal(got, want) {
		t.Errorf("by name: %v, want %v", got, want)
	}
	// Departments too: 客服部 (kefubu) before 前台 (qiantai).
	sortRows(rows, Filter{Sort: "department"})
	if rows[0].Department != "客服部" || rows[len(rows)-1].Department != "前台" {
		t.Errorf("by department: first %s, last %s", rows[0].Department, rows[len(rows)-1].Department)
	}
}

// The reader's language orders names: pinyin for zh-CN, the language's
// own rules otherwise (for English, Han characters by code point).
func TestSortRowsByReaderLanguage(t *testing.T) {
	for lang, want := range map[string][]string{
		"zh-CN": {"阿强", "李娜", "王芳", "张伟"},
		"":      {"阿强", "李娜", "王芳", "张伟"},
		"en":    {"张伟", "李娜", "王芳", "阿强"},
	} {
		var rows []Row
		for _, n := range []string{"张伟", "李娜", "王芳", "阿强"} {
			rows = append(rows, Row{Name: n, Login: n})
		}
		sortRows(rows, Filter{Lang: lang})
		var got []string
		for _, r := range rows {
			got = append(got, r.Name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q: %v, want %v", lang, got, want)
		}
	}
}
