// Package metrics keeps the portal's Prometheus metrics in a registry of its
// own and writes them in the text exposition format. Every method is safe on
// a nil *Metrics, so code and tests without metrics need no checks.
package metrics

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// Metrics is one portal's set of metrics.
type Metrics struct {
	reg           *prometheus.Registry
	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	db            *prometheus.HistogramVec
	attempts      *prometheus.CounterVec
	receipts      prometheus.Counter
	notifications *prometheus.CounterVec
	logins        *prometheus.CounterVec
	// routes holds each (route, method, status)'s counter and histogram
	// once looked up: WithLabelValues hashes the labels and takes a lock
	// on every request. It holds no more than the vectors themselves.
	mu     sync.RWMutex
	routes map[routeKey]routeMetrics
}

type routeKey struct {
	route, method string
	status        int
}

type routeMetrics struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

// New returns the metrics, with the Go runtime's and the process's.
func New() *Metrics {
	m := &Metrics{
		reg:    prometheus.NewRegistry(),
		routes: map[routeKey]routeMetrics{},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_http_requests_total", Help: "HTTP requests answered, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "portal_http_request_duration_seconds", Help: "Time to answer an HTTP request, by route pattern and method.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
		db: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "portal_db_command_duration_seconds", Help: "Time of a database command, by command, collection and outcome.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"command", "collection", "outcome"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_quiz_attempts_total", Help: "Quiz attempts graded, by result (passed or failed).",
		}, []string{"result"}),
		receipts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portal_receipts_total", Help: "Acknowledgement receipts recorded.",
		}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_notifications_total", Help: "Reminders and escalations sent, by kind.",
		}, []string{"kind"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_logins_total", Help: "Logins, by method (password or sso) and result (ok or refused).",
		}, []string{"method", "result"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.db, m.attempts, m.receipts, m.notifications, m.logins,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// WatchSessions publishes portal_sessions, asking count at each scrape
// (with a short deadline: a slow database must not hang the scrape).
func (m *Metrics) WatchSessions(count func(ctx context.Context) (int64, error)) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "portal_sessions", Help: "Sessions stored (expired ones stay until the sweep, at most 10 minutes).",
	}, func() float64 {
		cx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := count(cx)
		if err != nil {
			return -1
		}
		return float64(n)
	}))
}

// WatchProgressHeld publishes portal_progress_held, asking held at each
// scrape: the users whose progress is held in memory, not yet written.
func (m *Metrics) WatchProgressHeld(held func() int) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "portal_progress_held", Help: "Users whose progress changes are held in memory, not yet written (each within 2 s).",
	}, func() float64 { return float64(held()) }))
}

// Request counts one answered request. route is the matched pattern
// (never the raw path, which would make the labels unbounded).
func (m *Metrics) Request(route, method string, status int, took time.Duration) {
	if m == nil {
		return
	}
	k := routeKey{route, method, status}
	m.mu.RLock()
	rm, ok := m.routes[k]
	m.mu.RUnlock()
	if !ok {
		rm = routeMetrics{
			requests: m.requests.WithLabelValues(route, method, strconv.Itoa(status)),
			latency:  m.latency.WithLabelValues(route, method),
		}
		m.mu.Lock()
		m.routes[k] = rm
		m.mu.Unlock()
	}
	rm.requests.Inc()
	rm.latency.Observe(took.Seconds())
}

// DBCommand records one database command.
func (m *Metrics) DBCommand(command, collection string, took time.Duration, failed bool) {
	if m == nil {
		return
	}
	outcome := "ok"
	if failed {
		outcome = "error"
	}
	m.db.WithLabelValues(command, collection, outcome).Observe(took.Seconds())
}

// QuizAttempt counts a graded attempt.
func (m *Metrics) QuizAttempt(passed bool) {
	if m == nil {
		return
	}
	if passed {
		m.attempts.WithLabelValues("passed").Inc()
	} else {
		m.attempts.WithLabelValues("failed").Inc()
	}
}

// Receipt counts a recorded receipt.
func (m *Metrics) Receipt() {
	if m != nil {
		m.receipts.Inc()
	}
}

// Notification counts a reminder or escalation stored for delivery.
func (m *Metrics) Notification(kind string) {
	if m != nil {
		m.notifications.WithLabelValues(kind).Inc()
	}
}

// Login counts a login by method ("password", "sso") and whether it was let in.
func (m *Metrics) Login(method string, ok bool) {
	if m == nil {
		return
	}
	result := "refused"
	if ok {
		result = "ok"
	}
	m.logins.WithLabelValues(method, result).Inc()
}

// ContentType is the type of what Write writes.
var ContentType = string(expfmt.NewFormat(expfmt.TypeTextPlain))

// Write returns every metric in the Prometheus text format.
func (m *Metrics) Write() ([]byte, error) {
	families, err := m.reg.Gather()
	if err != nil {
		return nil, fmt.Errorf("metrics: gather: %w", err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			return nil, fmt.Errorf("metrics: encode: %w", err)
		}
	}
	return buf.Bytes(), nil
}

// DBCommands is how many database commands were recorded, by "command
// collection" (all outcomes together): a test reads it to prove a page
// asked the database nothing. Only the commands' histogram is collected:
// a scrape's gauges would ask the database themselves.
func (m *Metrics) DBCommands() (map[string]uint64, error) {
	out := map[string]uint64{}
	if m == nil {
		return out, nil
	}
	ch := make(chan prometheus.Metric, 64)
	go func() { m.db.Collect(ch); close(ch) }()
	var err error
	for pm := range ch {
		var mt dto.Metric
		if werr := pm.Write(&mt); werr != nil {
			err = fmt.Errorf("metrics: read a database command: %w", werr)
			continue
		}
		var cmd, coll string
		for _, l := range mt.GetLabel() {
			switch l.GetName() {
			case "command":
				cmd = l.GetValue()
			case "collection":
				coll = l.GetValue()
			}
		}
		out[cmd+" "+coll] += mt.GetHistogram().GetSampleCount()
	}
	return out, err
}
