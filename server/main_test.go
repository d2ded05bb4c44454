package main

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestTimeZoneFromTZ runs this binary again with TZ=Asia/Shanghai: the
// portal's days (due dates, "today", reminder days) are time.Local's, so
// a company in UTC+8 on a UTC host sets TZ (main links the zone database
// in, for hosts without one).
func TestTimeZoneFromTZ(t *testing.T) {
	if os.Getenv("PORTAL_TZ_CHILD") == "1" {
		at := time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC).In(time.Local)
		if _, off := at.Zone(); off != 8*3600 || at.Day() != 28 {
			t.Fatalf("TZ=Asia/Shanghai: %s is %v (offset %d)", time.Local, at, off)
		}
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestTimeZoneFromTZ$") // #nosec G204 -- this test binary itself
	cmd.Env = append(os.Environ(), "PORTAL_TZ_CHILD=1", "TZ=Asia/Shanghai")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the child with TZ=Asia/Shanghai: %v\n%s", err, out)
	}
}
