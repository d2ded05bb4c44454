package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// cpuRead is one look at who used the machine's CPU, in clock ticks since
// each started: the whole machine (busy and all), the server, this
// process (the load generator) and the database (this process's other
// descendants: FerretDB; and PostgreSQL, which pg_ctl detaches, found by
// its postmaster.pid under the bench's folder).
type cpuRead struct {
	busy, all                   uint64
	server, generator, database uint64
}

// readCPU reads the ticks of the machine and of the bench's processes.
func readCPU(serverPID int, dir string) cpuRead {
	var r cpuRead
	if raw, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(raw), "\n")
		f := strings.Fields(line)
		for i, v := range f[1:] {
			n, _ := strconv.ParseUint(v, 10, 64)
			r.all += n
			if i != 3 && i != 4 { // idle, iowait
				r.busy += n
			}
		}
		// guest and guest_nice are already in user and nice
		if len(f) > 10 {
			g, _ := strconv.ParseUint(f[9], 10, 64)
			gn, _ := strconv.ParseUint(f[10], 10, 64)
			r.all, r.busy = r.all-g-gn, r.busy-g-gn
		}
	}
	procs := readProcs()
	self := os.Getpid()
	r.generator = procs[self].ticks
	roots := map[int]bool{}
	for pid, p := range procs {
		if p.ppid == self && pid != serverPID {
			roots[pid] = true
		}
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*", "*", "postmaster.pid")); len(files) > 0 {
		for _, f := range files {
			if raw, err := os.ReadFile(f); err == nil { // #nosec G304 -- the bench's own folder
				first, _, _ := strings.Cut(string(raw), "\n")
				if pid, err := strconv.Atoi(strings.TrimSpace(first)); err == nil {
					roots[pid] = true
				}
			}
		}
	}
	for pid, p := range procs {
		switch {
		case pid == serverPID:
			r.server += p.ticks
		case under(procs, pid, roots):
			r.database += p.ticks
		}
	}
	return r
}

type procTicks struct {
	ppid  int
	ticks uint64 // utime + stime
}

// readProcs reads every process's parent and CPU ticks from /proc.
func readProcs() map[int]procTicks {
	out := map[int]procTicks{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")) // #nosec G304 -- /proc
		if err != nil {
			continue
		}
		// after "pid (comm) ": state ppid ... utime (14th field) stime (15th)
		s := string(raw)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		ut, _ := strconv.ParseUint(f[11], 10, 64)
		st, _ := strconv.ParseUint(f[12], 10, 64)
		out[pid] = procTicks{ppid: ppid, ticks: ut + st}
	}
	return out
}

// under tells whether pid is one of roots or descends from one.
func under(procs map[int]procTicks, pid int, roots map[int]bool) bool {
	for range 64 {
		if roots[pid] {
			return true
		}
		p, ok := procs[pid]
		if !ok || p.ppid <= 1 {
			return false
		}
		pid = p.ppid
	}
	return false
}

// cpuShare says, in cores, what the server, the generator, the database
// and the rest of the machine (the other engineers' work, say) used
// between two reads: a line whose "rest" is large ran on a machine that
// was not the bench's. A process that ended between the reads is missed.
func cpuShare(a, b cpuRead) string {
	all := float64(b.all - a.all)
	if all <= 0 {
		return ""
	}
	cores := float64(runtime.NumCPU())
	share := func(x, y uint64) float64 { // a process that ended takes its ticks away: 0, not a wrap
		if y < x {
			return 0
		}
		return cores * float64(y-x) / all
	}
	busy := share(a.busy, b.busy)
	server, gen, db := share(a.server, b.server), share(a.generator, b.generator), share(a.database, b.database)
	return fmt.Sprintf("CPU cores used: server %.2f, generator %.2f, database %.2f, rest of the machine %.2f; idle %.2f of %.0f",
		server, gen, db, max(0, busy-server-gen-db), cores-busy, cores)
}

// plus adds what was used between two reads to r (a count that went down,
// a process that ended, adds nothing).
func (r cpuRead) plus(a, b cpuRead) cpuRead {
	d := func(x, y uint64) uint64 {
		if y < x {
			return 0
		}
		return y - x
	}
	r.busy += d(a.busy, b.busy)
	r.all += d(a.all, b.all)
	r.server += d(a.server, b.server)
	r.generator += d(a.generator, b.generator)
	r.database += d(a.database, b.database)
	return r
}
