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

// profileFile is folder/<backend>-<name><ext>, with name made safe.
func profileFile(folder, backend, name, ext string) string {
	return filepath.Join(folder, backend+"-"+strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(name), "-"), "-")+ext)
}

// heapProfile saves the server's heap profile after a line into
// folder/<backend>-<name>.heap.pprof: in-use space is what the heap holds
// then (after a collection: what is live), and the difference of two
// lines' alloc_space (pprof -base) what the second allocated. With no
// profiler address it does nothing.
func heapProfile(addr, folder, backend, name string) {
	if addr == "" {
		return
	}
	if err := save(fmt.Sprintf("http://%s/debug/pprof/heap?gc=1", addr), profileFile(folder, backend, name, ".heap.pprof"), 30*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "bench: heap profile:", err)
	}
}

// save writes what url answers into file.
func save(url, file string, timeout time.Duration) error {
	c := &http.Client{Timeout: timeout}
	res, err := c.Get(url) // #nosec G107 -- the server's loopback profiler
	if err != nil {
		return err
	}
	defer res.Body.Close()
	f, err := os.Create(file) // #nosec G304 -- a folder the bench's user named
	if err != nil {
		return err
	}
	_, err = io.Copy(f, res.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

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
		url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, secs)
		if err := save(url, profileFile(folder, backend, name, ".pprof"), d+30*time.Second); err != nil {
			fmt.Fprintln(os.Stderr, "bench: profile:", err)
		}
	}()
	return func() { <-done }
}
