package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestStartupTimes: the bench reads each start-up job's time from the
// lines of the server's latest start only, and knows they ended only at
// "start-up jobs done".
func TestStartupTimes(t *testing.T) {
	file := filepath.Join(t.TempDir(), "server.log")
	first := `time=x level=INFO msg="start-up jobs done" took=1s` + "\n"
	second := `time=x level=INFO msg="directory loaded" users=10 took=2s` + "\n" +
		`time=x level=INFO msg="report cache loaded" took=12.5s` + "\n" +
		`time=x level=INFO msg="users and sessions loaded" users=0 sessions=10 took=3s` + "\n" +
		`time=x level=WARN msg="progress drift found" users_checked=250 fields=3 users_repaired=0 took=40ms` + "\n"
	if err := os.WriteFile(file, []byte(first+second), 0o600); err != nil {
		t.Fatal(err)
	}
	times, done := startupTimes(file, int64(len(first)))
	if done {
		t.Fatal("an earlier start's end counted for this one")
	}
	if times["report cache"] != 12500*time.Millisecond || times["users and sessions"] != 3*time.Second ||
		times["progress check"] != 40*time.Millisecond {
		t.Fatalf("times: %v", times)
	}
	if got, want := jobList(times), "directory 2s, report cache 12.5s, users and sessions 3s, progress check 40ms"; got != want {
		t.Fatalf("jobList: %q, want %q", got, want)
	}
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(`time=x level=INFO msg="start-up jobs done" took=15.1s` + "\n")
	_ = f.Close()
	if times, done = startupTimes(file, int64(len(first))); !done || times["all"] != 15100*time.Millisecond {
		t.Fatalf("after the end: %v %v", times, done)
	}
}
