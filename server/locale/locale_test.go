package locale

import (
	"regexp"
	"sort"
	"testing"

	"conductportal/server/model"
)

// Every key exists in every language, with the same format verbs.
func TestLanguagesComplete(t *testing.T) {
	verbs := regexp.MustCompile(`%[dsv%]`)
	for _, lang := range model.Languages {
		for _, other := range model.Languages {
			for _, k := range Keys(lang) {
				if !Has(other, k) {
					t.Errorf("%s has %q but %s does not", lang, k, other)
					continue
				}
				a, b := verbs.FindAllString(messages[lang][k], -1), verbs.FindAllString(messages[other][k], -1)
				sort.Strings(a)
				sort.Strings(b)
				if len(a) != len(b) {
					t.Errorf("%q: %s has verbs %v, %s has %v", k, lang, a, other, b)
				}
			}
		}
	}
}

func TestMatch(t *testing.T) {
	for in, want := range map[string]string{
		"": "zh-CN", "en-US,en;q=0.9": "en", "zh-TW": "zh-CN", "fr, en;q=0.5": "en", "de": "zh-CN",
	} {
		if got := Match(in); got != want {
			t.Errorf("Match(%q) = %q, want %q", in, got, want)
		}
	}
}
