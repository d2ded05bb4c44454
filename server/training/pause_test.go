package training

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Acknowledge's wait between tries on a busy chain ends with the request:
// a pause of an hour on an ended context answers at once, with its error.
func TestPauseEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := pause(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("pause on an ended context: %v, want context.Canceled", err)
	}
	if err := pause(context.Background(), time.Microsecond); err != nil {
		t.Fatalf("a pause that runs out: %v", err)
	}
}
