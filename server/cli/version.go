package cli

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
)

// Set by "make build" (and the Dockerfile) with -ldflags -X where the Go
// toolchain cannot stamp the build from git itself (a git worktree, a
// container build without .git, GOFLAGS=-buildvcs=false). Empty: taken
// from debug.ReadBuildInfo.
var (
	version   string
	commit    string
	modified  string // "true": built with uncommitted changes
	buildDate string
)

// BuildInfo is what "portal version" prints.
type BuildInfo struct {
	Version, Commit, Date, Go string
	Modified                  bool
}

// Build returns the binary's version, commit and build date: the linker's
// values when set, else the toolchain's (vcs.revision, vcs.time).
func Build() BuildInfo {
	b := BuildInfo{Version: "(devel)", Commit: "unknown", Date: "unknown"}
	if info, ok := debug.ReadBuildInfo(); ok {
		b.Go = info.GoVersion
		if info.Main.Version != "" {
			b.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Commit = s.Value
			case "vcs.time":
				b.Date = s.Value
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	if modified != "" {
		b.Modified = modified == "true"
	}
	for _, v := range []struct{ from, to *string }{{&version, &b.Version}, {&commit, &b.Commit}, {&buildDate, &b.Date}} {
		if *v.from != "" {
			*v.to = *v.from
		}
	}
	return b
}

func versionCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", "version\n\nPrints the version, the commit it was built from and the build date.", stdout, stderr)
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := fs.noArgs(); err != nil {
		return err
	}
	b := Build()
	modified := ""
	if b.Modified {
		modified = " (with uncommitted changes)"
	}
	fmt.Fprintf(stdout, "Conduct Portal %s\ncommit: %s%s\nbuilt:  %s\ngo:     %s\n", b.Version, b.Commit, modified, b.Date, b.Go)
	return nil
}
