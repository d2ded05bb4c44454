package main

import "testing"

// BENCH_ONLY picks lines by words of their names, and brings along the
// lines whose load the chosen ones need and the ceiling.
func TestBenchOnly(t *testing.T) {
	cases := []struct {
		only string
		want map[string]bool
	}{
		{"", map[string]bool{"lesson page": true, "quiz submit": true, "team view (30)": true}},
		{"quiz", map[string]bool{ceilingLine: true, "quiz start": true, "quiz submit": true, "acknowledgement": false,
			"lesson page": false, "organisation view (10000)": false}},
		{"Submit", map[string]bool{"quiz start": true, "quiz submit": true, "acknowledgement": false}},
		{"acknowledgement", map[string]bool{"quiz start": true, "quiz submit": true, "acknowledgement": true, "My training": false}},
		{"api", map[string]bool{apiLine: true, cssLine: true, "lesson page": false, oneUserLine: false}},
		{" half peak ,team", map[string]bool{"lesson page": true, "My training": true, "lesson page at half peak": true,
			"team view (30)": true, "quiz start": false}},
	}
	for _, c := range cases {
		o := options{only: words(c.only)}
		for name, want := range c.want {
			if got := o.wants(name); got != want {
				t.Errorf("BENCH_ONLY=%q: wants(%q) = %v, want %v", c.only, name, got, want)
			}
		}
	}
}
