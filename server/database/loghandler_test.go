package database

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestLevelHandlerAppliesAttributesWhenWriting: attributes and groups added
// before a record are written with it, in order, though they are applied
// only then; records below the level are dropped.
func TestLevelHandlerAppliesAttributesWhenWriting(t *testing.T) {
	var buf bytes.Buffer
	text := slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	log := slog.New(&levelHandler{min: slog.LevelWarn, next: text})
	l := log.With("a", 1).WithGroup("g").With("b", 2)
	other := log.With("z", 9) // a sibling does not see l's steps
	l.Info("dropped")
	l.Warn("kept", "c", 3)
	other.Warn("sibling")
	log.Warn("Response 1: dump") // FerretDB's response dumps stay out
	out := buf.String()
	if strings.Contains(out, "dropped") || strings.Contains(out, "dump") {
		t.Fatalf("a dropped record was written: %s", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "msg=kept a=1 g.b=2 g.c=3") ||
		!strings.Contains(lines[1], "msg=sibling z=9") || strings.Contains(lines[1], "a=1") {
		t.Fatalf("records:\n%s", out)
	}
}
