package web

import "testing"

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/receipts":                "/receipts",
		"/lessons/dress?lang=en#x": "/lessons/dress?lang=en#x",
		"":                         "/",
		"https://evil.example/":    "/",
		"//evil.example/":          "/",
		"/\\evil.example":          "/",
		"/\t/evil.example":         "/",
		"/\n/evil.example":         "/",
		"/%09/evil.example":        "/%09/evil.example", // stays a path: the browser does not decode it into the host
		"javascript:alert(1)":      "/",
		"/ok\x7f":                  "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
