package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"

	"github.com/chromedp/chromedp"
)

// bulkDepartments are the seeded company's departments, 60 people each.
var bulkDepartments = []string{"客服部", "销售部", "前台", "后勤", "安保"}

// TestBrowserBulkExemptDepartment: on a company of 300, HR exempts a
// department from a lesson on /hr/bulk: the preview names the people and
// changes nothing, the confirmation reports the count, and the
// organisation view's figures for that department and lesson drop by
// exactly its people; the undo brings them back. The page, its preview
// and its result pass axe at 375 and 1280 px in both languages.
func TestBrowserBulkExemptDepartment(t *testing.T) {
	needChromium(t)
	s, base := startPortal(t)
	ctx := context.Background()
	if _, err := s.Auth.CreateUser(ctx, auth.NewUser{Login: "wang.fang", Name: "王人事", Roles: []string{model.RoleHR}, Password: firstPass}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	var people []model.User
	for d, dep := range bulkDepartments {
		for i := range 60 {
			people = append(people, model.User{ID: model.NewID(), Login: fmt.Sprintf("p%d.%02d", d, i), Name: fmt.Sprintf("%s员工%02d", dep, i),
				Roles: []string{model.RoleEmployee}, Department: dep, Active: true, Hired: now.AddDate(0, 0, -5), Created: now})
		}
	}
	if err := s.Store.ImportUsers(ctx, people); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, base)
	b.acceptLanguage("zh-CN")
	b.do("desktop screen", chromedp.EmulateViewport(1280, 900))
	b.login("wang.fang")
	// The figures: 60 people x 6 lessons in 客服部, and grooming's.
	orgFigures := func() (string, string) {
		b.t.Helper()
		b.open("/organisation")
		b.wait("#departments")
		dep := run(b, "客服部 row", chromedp.Evaluate[string](`[...document.querySelectorAll('#departments tbody tr')]
			.find(tr => tr.querySelector('th').textContent.trim() === '客服部').querySelectorAll('td')[1].textContent.trim()`))
		les := run(b, "grooming row", chromedp.Evaluate[string](`[...document.querySelectorAll('#lessons tbody tr')]
			.find(tr => tr.querySelector('th').textContent.includes('仪容')).querySelectorAll('td')[0].textContent.trim()`))
		return dep, les
	}
	// HR and the first admin hold no learning role: not counted, 300 on grooming.
	dep, les := orgFigures()
	if dep != "0/360" || les != "0/300" {
		t.Fatalf("before: 客服部 %s, grooming %s; want 0/360 and 0/300", dep, les)
	}

	// The page, reached from the HR menu, used with the keyboard's fields.
	b.open("/hr")
	b.submit(`nav a[href="/hr/bulk"]`, 200)
	b.axeCheck("hr-bulk")
	b.setField("#bulk-lesson", "grooming")
	b.click("#bulk-kind-exempt")
	b.setField("#bulk-department", "客服部")
	b.typeInto("#bulk-reason", "客服部由外包公司统一培训仪容仪表")
	b.submit("#bulk-preview", 200)
	b.wantText("#confirm-title", "让 60 人免修“仪容仪表规范”？")
	if items := b.texts("#confirm-items li"); len(items) != 21 || items[0] != "客服部员工00 (p0.00)" || !strings.Contains(items[20], "另有 40 人") {
		b.fail("the preview lists %d: %v", len(items), items)
	}
	b.axeCheck("hr-bulk-confirm")
	b.snap("hr-bulk-confirm")
	// Nothing changed yet.
	b.open("/hr/bulk")
	if dep, les := orgFigures(); dep != "0/360" || les != "0/300" {
		b.fail("the preview changed the figures: %s %s", dep, les)
	}
	b.open("/hr/bulk")
	b.setField("#bulk-lesson", "grooming")
	b.click("#bulk-kind-exempt")
	b.setField("#bulk-department", "客服部")
	b.typeInto("#bulk-reason", "客服部由外包公司统一培训仪容仪表")
	b.submit("#bulk-preview", 200)
	b.submit("#confirm-yes", 200)
	b.wantText(".notice", "已让 60 人免修。")
	b.wantText("#bulk-count", "60")
	b.axeCheck("hr-bulk-result")
	b.snap("hr-bulk-result")
	result := b.location().Path

	if dep, les := orgFigures(); dep != "0/300" || les != "0/240" {
		b.fail("after the exemption: 客服部 %s, grooming %s; want 0/300 and 0/240", dep, les)
	}

	// Undo from the result page: asked, then the figures are back.
	b.open(result)
	b.submit("#bulk-undo", 200)
	b.submit("#confirm-yes", 200)
	b.wantText(".notice", "已撤销：60 人恢复原状；0 人此后已有变动，保持不变。")
	b.wait("#bulk-undone")
	if dep, les := orgFigures(); dep != "0/360" || les != "0/300" {
		b.fail("after undo: 客服部 %s, grooming %s; want 0/360 and 0/300", dep, les)
	}

	// axe and fit on a phone and a desktop, in both languages.
	for _, lang := range []string{"zh-CN", "en"} {
		b.acceptLanguage(lang)
		for _, w := range []int64{375, 1280} {
			b.do(fmt.Sprintf("%d px", w), chromedp.EmulateViewport(w, 900))
			for _, path := range []string{"/hr/bulk", result} {
				b.open(path)
				b.wait("main")
				b.fitsWidth(w)
				if key := rawKey.FindString(b.text("main")); key != "" {
					b.fail("%s shows the raw locale key %q", path, key)
				}
				b.axeCheck(fmt.Sprintf("%s %s %d", path, lang, w))
			}
		}
	}
	b.do("phone", chromedp.EmulateViewport(375, 900))
	b.open("/hr/bulk")
	b.snap("hr-bulk-375-en")
	checkLog(t, s)
}
