package auth

import (
	"errors"

	"conductportal/server/fault"
	"conductportal/server/locale"
	"conductportal/server/model"
)

// FieldError is invalid input about one field of an account. It carries a
// locale key, so a page shows it in the reader's language and the API names
// the field; Error is the English text for logs and API messages.
type FieldError struct {
	Field string // login, name, roles, department, manager, hired, mobile, wecom_id, dingtalk_id
	Key   string // locale key of the message
	Args  []any
}

func (e *FieldError) Error() string { return "auth: " + e.Message(model.LangEN) }

// Unwrap makes a FieldError a fault.Invalid that names its field, key and
// message, so fault's table answers it like any invalid input.
func (e *FieldError) Unwrap() error {
	return &fault.Error{Kind: fault.Invalid, Text: e.Error(), Key: e.Key, Args: e.Args, Message: e.Message(model.LangEN), Field: e.Field}
}

// Message is the error in lang.
func (e *FieldError) Message(lang string) string { return locale.T(lang, e.Key, e.Args...) }

func fieldErr(field, key string, args ...any) error {
	return &FieldError{Field: field, Key: key, Args: args}
}

// PersonField names the field an account error is about, "" if none.
func PersonField(err error) string {
	if fe, ok := errors.AsType[*FieldError](err); ok {
		return fe.Field
	}
	return ""
}

// ErrorIn is err's message in lang: a FieldError translated, any other
// error's own text without the package prefix.
func ErrorIn(lang string, err error) string {
	if fe, ok := errors.AsType[*FieldError](err); ok {
		return fe.Message(lang)
	}
	msg := err.Error()
	if len(msg) > 6 && msg[:6] == "auth: " {
		return msg[6:]
	}
	return msg
}
