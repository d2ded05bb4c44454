package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

var unsafeName = regexp.MustCompile(`[^a-z0-9]+`)

// profile starts taking a CPU profile of the server for about d, into
// folder/<backend>-<name>.pprof, and returns a function that waits for it.
// With no profiler address it does nothing.
func profile(addr, folder, backend, name string, d time.Duration) func() {
	if addr == "" {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		secs := max(1, int(d/time.Second))
		c := &http.Client{Timeout: d + 30*time.Second}
		res, err := c.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, secs))
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench: profile:", err)
			return
		}
		defer res.Body.Close()
		file := filepath.Join(folder, backend+"-"+strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(name), "-"), "-")+".pprof")
		if err := saveTo(file, res.Body); err != nil {
			fmt.Fprintln(os.Stderr, "bench: profile:", err)
		}
	}()
	return func() { <-done }
}

// heapProfile saves the server's live heap (after a GC) into
// folder/<backend>-heap-<name>.pprof: what the start-up loads keep, by
// type (go tool pprof -sample_index=inuse_space). With no profiler
// address it does nothing.
func heapProfile(addr, folder, backend, name string) {
	if addr == "" {
		return
	}
	c := &http.Client{Timeout: time.Minute}
	res, err := c.Get(fmt.Sprintf("http://%s/debug/pprof/heap?gc=1", addr))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: heap profile:", err)
		return
	}
	defer res.Body.Close()
	if err := saveTo(filepath.Join(folder, backend+"-heap-"+name+".pprof"), res.Body); err != nil {
		fmt.Fprintln(os.Stderr, "bench: heap profile:", err)
	}
}

// saveTo writes what r gives into file.
func saveTo(file string, r io.Reader) error {
	f, err := os.Create(file) // #nosec G304 -- a folder the bench's user named
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
