package logging_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"conductportal/server/logging"
)

// lockedBuffer is a writer the test reads while lines are written.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

// Every line of many loggers at once arrives whole, each goroutine's in
// its order, by Close; Flush waits for what was handed over.
func TestWriterKeepsLines(t *testing.T) {
	var out lockedBuffer
	w := logging.NewWriter(&out)
	log := logging.New("text", w)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				log.Info("request", "g", g, "i", i)
			}
		}()
	}
	wg.Wait()
	w.Flush()
	out.mu.Lock()
	flushed := strings.Count(out.b.String(), "\n")
	out.mu.Unlock()
	if flushed != 8*500 {
		t.Fatalf("after Flush: %d lines written, want %d", flushed, 8*500)
	}
	log.Info("last")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	log.Info("after close")
	lines := strings.Split(strings.TrimSuffix(out.b.String(), "\n"), "\n")
	if len(lines) != 8*500+2 || !strings.Contains(lines[len(lines)-2], "msg=last") || !strings.Contains(lines[len(lines)-1], "after close") {
		t.Fatalf("%d lines, ending %q", len(lines), lines[len(lines)-2:])
	}
	next := map[string]int{}
	for _, l := range lines[:8*500] {
		f := strings.Fields(l)
		if len(f) != 5 || !strings.HasPrefix(f[3], "g=") || !strings.HasPrefix(f[4], "i=") {
			t.Fatalf("a broken line %q", l)
		}
		g, i := f[3], f[4][2:]
		if want := fmt.Sprint(next[g]); i != want {
			t.Fatalf("%s: line %s came when %s was due", g, i, want)
		}
		next[g]++
	}
}

// blockedWriter blocks every write until released.
type blockedWriter struct {
	entered chan struct{}
	release chan struct{}
	lockedBuffer
}

func (b *blockedWriter) Write(p []byte) (int, error) {
	b.entered <- struct{}{}
	<-b.release
	return b.lockedBuffer.Write(p)
}

// A line is handed over while the write before it is stuck in the
// kernel: the logger's caller does not wait for the disk.
func TestWriterDoesNotWaitForTheDisk(t *testing.T) {
	bw := &blockedWriter{entered: make(chan struct{}, 16), release: make(chan struct{})}
	w := logging.NewWriter(bw)
	if _, err := w.Write([]byte("one\n")); err != nil {
		t.Fatal(err)
	}
	<-bw.entered // the goroutine is in the write of "one"
	for i := range 100 {
		if _, err := fmt.Fprintf(w, "line %d\n", i); err != nil { // a wait here would hang the test
			t.Fatal(err)
		}
	}
	close(bw.release)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := bw.b.String()
	if !strings.HasPrefix(got, "one\nline 0\n") || !strings.HasSuffix(got, "line 99\n") || bw.writes != 2 {
		t.Fatalf("%d writes: %q", bw.writes, got)
	}
}
