// Package locale holds the UI strings in every supported language: one
// catalog per language, catalog/<lang>.json (a flat object of key to text,
// fmt verbs for arguments), embedded in the binary. A new string is a key in
// every catalog; the tests refuse a key missing in one language, a key no
// code or template uses, and verbs that differ between languages.
package locale

import (
	"embed"
	"encoding/json"
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
// It allocates nothing: it runs on every request of a visitor who has
// not chosen.
func Match(accept string) string {
	for part := range strings.SplitSeq(accept, ",") {
		tag, _, _ := strings.Cut(part, ";")
		tag = strings.TrimSpace(tag)
		if len(tag) < 2 {
			continue
		}
		switch {
		case strings.EqualFold(tag[:2], "zh"):
			return model.LangZH
		case strings.EqualFold(tag[:2], "en"):
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

//go:embed catalog/*.json
var catalogs embed.FS

// messages holds UI text by language and key; keys such as "password.new"
// name fields, they are not credentials.
var messages = mustLoad()

// mustLoad reads every language's catalog. The catalogs are part of the
// binary, so a broken one is a build defect: the tests catch it first.
func mustLoad() map[string]map[string]string {
	out := make(map[string]map[string]string, len(model.Languages))
	for _, lang := range model.Languages {
		m, err := load(lang)
		if err != nil {
			panic(err)
		}
		out[lang] = m
	}
	return out
}

func load(lang string) (map[string]string, error) {
	raw, err := catalogs.ReadFile("catalog/" + lang + ".json")
	if err != nil {
		return nil, fmt.Errorf("locale: catalog %s: %w", lang, err)
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("locale: catalog %s: %w", lang, err)
	}
	return m, nil
}
