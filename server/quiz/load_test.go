package quiz

import (
	"strings"
	"testing"
	"testing/fstest"

	portal "conductportal"
)

func TestLoadDir(t *testing.T) {
	qs, err := LoadDir(portal.Assets, "quizzes")
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 6 || qs["dress"] == nil || qs["attendance"] == nil {
		t.Fatalf("shipped quizzes by slug: %v", len(qs))
	}
	bad := fstest.MapFS{"q/broken.yaml": {Data: []byte("questions: [")}}
	if _, err := LoadDir(bad, "q"); err == nil || !strings.Contains(err.Error(), "q/broken.yaml") {
		t.Fatalf("a broken file: %v", err)
	}
}
