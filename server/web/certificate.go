package web

import (
	"strings"

	"conductportal/server/locale"
	"conductportal/server/training"
)

// certificateState says in one sentence where a person's certificate
// stands: "Certificate status: valid; version 3 of “Dress code” awaits
// your signature." Pending are the lessons waiting for a new signature; a
// renewal among them (a signature aged out) means the certificate has
// expired.
func certificateState(lang string, expired bool, pending []training.Standing) string {
	parts := []string{locale.T(lang, "certificate.state.valid")}
	for _, st := range pending {
		if st.Renewal {
			expired = true
			parts = append(parts, locale.T(lang, "certificate.state.renewal", st.Lesson.Title(lang)))
		} else {
			parts = append(parts, locale.T(lang, "certificate.state.pending", st.Lesson.Title(lang), st.Lesson.Current))
		}
	}
	if expired {
		parts[0] = locale.T(lang, "certificate.state.expired")
	}
	return locale.T(lang, "certificate.state", strings.Join(parts, locale.T(lang, "certificate.state.sep")))
}
