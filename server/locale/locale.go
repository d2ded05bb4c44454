// Package locale holds the UI strings in every supported language.
package locale

import (
	"fmt"
	"strings"

	"conductportal/server/model"
)

// T returns the string for key in lang, formatted with args. A missing key
// shows as the key itself, which the locale test refuses.
func T(lang, key string, args ...any) string {
	s, ok := messages[lang][key]
	if !ok {
		s, ok = messages[model.LangZH][key]
	}
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Has reports whether key exists in lang.
func Has(lang, key string) bool {
	_, ok := messages[lang][key]
	return ok
}

// Keys returns every key of lang.
func Keys(lang string) []string {
	var out []string
	for k := range messages[lang] {
		out = append(out, k)
	}
	return out
}

// Match picks a supported language from an Accept-Language header.
func Match(accept string) string {
	for _, part := range strings.Split(accept, ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "zh"):
			return model.LangZH
		case strings.HasPrefix(tag, "en"):
			return model.LangEN
		}
	}
	return model.LangZH
}

// Supported reports whether lang is one of the portal's languages.
func Supported(lang string) bool {
	_, ok := messages[lang]
	return ok
}

// messages holds UI text; keys such as "password.new" name fields, they are
// not credentials.
var messages = map[string]map[string]string{
	model.LangZH: { // #nosec G101 -- UI strings, not credentials
		"app.name":              "行为规范培训",
		"nav.training":          "我的培训",
		"nav.receipts":          "我的确认回执",
		"nav.logout":            "退出登录",
		"nav.skip":              "跳到正文",
		"nav.lang":              "English",
		"login.title":           "登录",
		"login.login":           "账号",
		"login.password":        "密码",
		"login.submit":          "登录",
		"login.invalid":         "账号或密码不正确。",
		"login.throttled":       "尝试次数过多，请 %d 分钟后再试。",
		"login.intro":           "请使用公司发给你的账号登录。",
		"password.title":        "设置新密码",
		"password.must":         "首次登录需要设置你自己的新密码。",
		"password.current":      "当前密码",
		"password.new":          "新密码",
		"password.confirm":      "再次输入新密码",
		"password.submit":       "保存新密码",
		"password.short":        "新密码至少需要 %d 个字符。",
		"password.long":         "新密码最多 %d 个字符。",
		"password.common":       "这个密码太常见，很容易被猜到，请换一个。",
		"password.mismatch":     "两次输入的新密码不一致。",
		"password.wrong":        "当前密码不正确。",
		"password.same":         "新密码不能与当前密码相同。",
		"password.saved":        "新密码已保存。",
		"training.title":        "我的培训",
		"training.intro":        "请按顺序学习以下课程：阅读全文、通过测验，然后签字确认。",
		"training.progress":     "已完成 %d / %d 门课程",
		"training.next":         "下一步：%s",
		"training.alldone":      "全部完成，感谢你的认真学习！",
		"training.empty":        "目前没有分配给你的课程。",
		"training.due":          "截止 %s",
		"training.overdue":      "已逾期",
		"training.col.lesson":   "课程",
		"training.col.status":   "状态",
		"training.col.due":      "截止日期",
		"status.not_started":    "未开始",
		"status.reading":        "学习中",
		"status.quiz_passed":    "测验已通过，待确认",
		"status.done":           "已完成",
		"status.needs_reack":    "需重新确认",
		"lesson.version":        "第 %d 版，发布于 %s",
		"lesson.toc":            "本课目录",
		"lesson.summary":        "本课要求",
		"lesson.read":           "我已阅读全文",
		"lesson.read.done":      "已记录你读完了本课。",
		"lesson.quiz.start":     "开始测验",
		"lesson.quiz.passed":    "你已通过本课测验。",
		"lesson.ack.go":         "签字确认",
		"lesson.done":           "你已确认本课第 %d 版。",
		"lesson.receipt.view":   "查看回执",
		"lesson.notfound":       "找不到这门课程。",
		"quiz.title":            "测验：%s",
		"quiz.intro":            "共 %d 题，答对 %d%% 即可通过。可以随时重考。",
		"quiz.question":         "第 %d 题",
		"quiz.multiple":         "（多选）",
		"quiz.submit":           "提交答案",
		"quiz.cooldown":         "请稍后再试下一次测验。",
		"quiz.nomore":           "你已用完本测验的作答次数，请联系人事部。",
		"quiz.notfound":         "找不到这次测验。",
		"result.title":          "测验结果：%s",
		"result.passed":         "通过！得分 %d%%（及格线 %d%%）。",
		"result.failed":         "未通过：得分 %d%%（及格线 %d%%）。请复习相关条款后重考。",
		"result.correct":        "回答正确",
		"result.wrong":          "回答错误",
		"result.answer":         "正确答案：",
		"result.chosen":         "你的选择：",
		"result.none":           "（未作答）",
		"result.clause":         "查看条款：%s",
		"result.retry":          "重新测验",
		"result.back":           "返回课程",
		"ack.title":             "签字确认：%s",
		"ack.statement":         "本人已阅读并将遵守《%s》第 %d 版。",
		"ack.signature":         "请输入你的全名作为签名",
		"ack.signature.hint":    "须与你的账号姓名一致：%s",
		"ack.submit":            "确认并签字",
		"ack.bad_signature":     "签名须与你的全名一致。",
		"ack.quiz_first":        "请先通过本课测验。",
		"ack.not_current":       "课程已更新，请阅读最新版本后再确认。",
		"ack.recorded":          "已记录你的确认回执。",
		"receipts.title":        "我的确认回执",
		"receipts.empty":        "你还没有确认过任何课程。",
		"receipt.title":         "确认回执",
		"receipt.lesson":        "课程",
		"receipt.version":       "版本",
		"receipt.lang":          "语言",
		"receipt.at":            "时间",
		"receipt.signature":     "签名",
		"receipt.person":        "账号",
		"receipt.text_hash":     "正文哈希 （SHA-256）",
		"receipt.hash":          "回执链哈希",
		"receipt.prev_hash":     "上一张回执哈希",
		"receipt.print":         "打印本页即可留存。",
		"error.title":           "出错了",
		"error.notfound":        "页面不存在。",
		"error.forbidden":       "你没有权限查看此页面。",
		"error.server":          "服务器出了点问题，请稍后再试。",
		"error.unavailable":     "数据库暂时无法访问，请稍后再试。",
		"error.csrf":            "表单已过期，请返回后重试。",
		"error.back":            "返回首页",
		"error.reference":       "如需联系管理员，请提供此编号：%s",
		"lesson.changed.title":  "自你签字确认第 %d 版以来的修改（当前为第 %d 版）",
		"lesson.changed.legend": "绿色下划线为新增内容，红色删除线为删去的内容。请阅读后重新确认。",
		"certificate.view":      "查看结业证书",
		"certificate.title":     "结业证书",
		"certificate.heading":   "结业证书",
		"certificate.body":      "已学习并签字确认以下全部课程：",
		"certificate.issued":    "颁发日期：%s",
		"certificate.code":      "验证码：",
		"certificate.check":     "任何人都可以在 %s 核验本证书。",
		"certificate.notyet":    "完成全部课程后即可获得结业证书。",
		"verify.title":          "核验结业证书",
		"verify.code":           "证书验证码",
		"verify.submit":         "核验",
		"verify.valid":          "证书有效。",
		"verify.unknown":        "找不到该验证码对应的证书，请检查后重试。",
		"verify.name":           "姓名",
		"verify.date":           "颁发日期",
		"verify.lessons":        "课程",
		"verify.version":        "第 %d 版",
		"lang.zh-CN":            "中文",
		"lang.en":               "English",
	},
	model.LangEN: { // #nosec G101 -- UI strings, not credentials
		"app.name":              "Conduct Training",
		"nav.training":          "My training",
		"nav.receipts":          "My receipts",
		"nav.logout":            "Log out",
		"nav.skip":              "Skip to content",
		"nav.lang":              "中文",
		"login.title":           "Log in",
		"login.login":           "Login",
		"login.password":        "Password",
		"login.submit":          "Log in",
		"login.invalid":         "The login or password is not correct.",
		"login.throttled":       "Too many attempts. Please try again in %d minute(s).",
		"login.intro":           "Log in with the account your company gave you.",
		"password.title":        "Set a new password",
		"password.must":         "Before you start, choose your own new password.",
		"password.current":      "Current password",
		"password.new":          "New password",
		"password.confirm":      "New password again",
		"password.submit":       "Save new password",
		"password.short":        "The new password needs at least %d characters.",
		"password.long":         "The new password can have at most %d characters.",
		"password.common":       "This password is too common and easy to guess; please choose another.",
		"password.mismatch":     "The two new passwords do not match.",
		"password.wrong":        "The current password is not correct.",
		"password.same":         "The new password must differ from the current one.",
		"password.saved":        "Your new password is saved.",
		"training.title":        "My training",
		"training.intro":        "Take these lessons in order: read each one, pass its quiz, then sign it.",
		"training.progress":     "%d of %d lessons done",
		"training.next":         "Next: %s",
		"training.alldone":      "All done. Thank you for learning the rules!",
		"training.empty":        "No lessons are assigned to you yet.",
		"training.due":          "Due %s",
		"training.overdue":      "Overdue",
		"training.col.lesson":   "Lesson",
		"training.col.status":   "Status",
		"training.col.due":      "Due",
		"status.not_started":    "Not started",
		"status.reading":        "Reading",
		"status.quiz_passed":    "Quiz passed, sign next",
		"status.done":           "Done",
		"status.needs_reack":    "Sign again",
		"lesson.version":        "Version %d, published %s",
		"lesson.toc":            "In this lesson",
		"lesson.summary":        "What this lesson asks of you",
		"lesson.read":           "I have read this",
		"lesson.read.done":      "Recorded: you have read this lesson.",
		"lesson.quiz.start":     "Start the quiz",
		"lesson.quiz.passed":    "You passed this lesson's quiz.",
		"lesson.ack.go":         "Sign the acknowledgement",
		"lesson.done":           "You acknowledged version %d of this lesson.",
		"lesson.receipt.view":   "View receipt",
		"lesson.notfound":       "This lesson does not exist.",
		"quiz.title":            "Quiz: %s",
		"quiz.intro":            "%d questions; %d%% right passes. You may retake it at once.",
		"quiz.question":         "Question %d",
		"quiz.multiple":         "(choose all that apply)",
		"quiz.submit":           "Submit answers",
		"quiz.cooldown":         "Please wait a little before the next attempt.",
		"quiz.nomore":           "You have used all attempts at this quiz; please contact HR.",
		"quiz.notfound":         "This quiz attempt does not exist.",
		"result.title":          "Quiz result: %s",
		"result.passed":         "Passed! You scored %d%% (pass mark %d%%).",
		"result.failed":         "Not passed: you scored %d%% (pass mark %d%%). Review the rules below and try again.",
		"result.correct":        "Correct",
		"result.wrong":          "Wrong",
		"result.answer":         "Right answer:",
		"result.chosen":         "Your answer:",
		"result.none":           "(no answer)",
		"result.clause":         "Read the rule: %s",
		"result.retry":          "Take the quiz again",
		"result.back":           "Back to the lesson",
		"ack.title":             "Acknowledge: %s",
		"ack.statement":         "I have read \u201c%s\u201d, version %d, and will comply with it.",
		"ack.signature":         "Type your full name as your signature",
		"ack.signature.hint":    "It must match the name on your account: %s",
		"ack.submit":            "Sign and acknowledge",
		"ack.bad_signature":     "The signature must be your full name.",
		"ack.quiz_first":        "Pass this lesson's quiz first.",
		"ack.not_current":       "The lesson has changed; read the current version before signing.",
		"ack.recorded":          "Your acknowledgement is recorded.",
		"receipts.title":        "My receipts",
		"receipts.empty":        "You have not acknowledged any lesson yet.",
		"receipt.title":         "Acknowledgement receipt",
		"receipt.lesson":        "Lesson",
		"receipt.version":       "Version",
		"receipt.lang":          "Language",
		"receipt.at":            "Time",
		"receipt.signature":     "Signature",
		"receipt.person":        "Account",
		"receipt.text_hash":     "Text hash (SHA-256)",
		"receipt.hash":          "Chain hash",
		"receipt.prev_hash":     "Previous receipt's hash",
		"receipt.print":         "Print this page to keep a copy.",
		"error.title":           "Something went wrong",
		"error.notfound":        "This page does not exist.",
		"error.forbidden":       "You may not see this page.",
		"error.server":          "The server had a problem. Please try again later.",
		"error.unavailable":     "The database cannot be reached right now. Please try again shortly.",
		"error.csrf":            "This form has expired. Go back and try again.",
		"error.back":            "Back to the start page",
		"error.reference":       "If you contact the administrator, quote this reference: %s",
		"lesson.changed.title":  "What changed since you signed version %d (now version %d)",
		"lesson.changed.legend": "Green underlined text is new; red struck-through text was removed. Read it, then acknowledge again.",
		"certificate.view":      "View your certificate",
		"certificate.title":     "Certificate of completion",
		"certificate.heading":   "Certificate of completion",
		"certificate.body":      "has studied and signed every one of these lessons:",
		"certificate.issued":    "Issued on %s",
		"certificate.code":      "Verification code:",
		"certificate.check":     "Anyone can check this certificate at %s.",
		"certificate.notyet":    "Your certificate is ready once every lesson is done.",
		"verify.title":          "Check a certificate",
		"verify.code":           "Verification code",
		"verify.submit":         "Check",
		"verify.valid":          "This certificate is valid.",
		"verify.unknown":        "No certificate has this code. Check it and try again.",
		"verify.name":           "Name",
		"verify.date":           "Issued on",
		"verify.lessons":        "Lessons",
		"verify.version":        "version %d",
		"lang.zh-CN":            "中文",
		"lang.en":               "English",
	},
}
