package testkit

import (
	"fmt"
	"strings"
)

// GuessablePool is a valid quiz for lesson slug, every question on clause,
// whose key is always the longest option: a form-only guesser passes it
// every time, so import and the editor warn about it.
func GuessablePool(slug, clause string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "lesson: %s\npass_mark: 80\ndraw: 6\ncooldown_minutes: 0\nmax_attempts: 0\nquestions:\n", slug)
	for i := 1; i <= 8; i++ {
		fmt.Fprintf(&b, `  - id: %s-q%02d
    clause: %s
    type: single
    prompt: {zh-CN: "这条规定要求什么？", en: "What does the rule ask?"}
    options:
      - {id: a, zh-CN: "端庄、大方、整洁、得体、便于工作", en: "Dignified, decorous, neat, appropriate and practical"}
      - {id: b, zh-CN: "随意", en: "Casual"}
      - {id: c, zh-CN: "时尚", en: "Trendy"}
    answer: [a]
    explanation: {zh-CN: "见条款。", en: "See the clause."}
`, slug, i, clause)
	}
	return b.String()
}
