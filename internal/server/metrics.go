package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Metrics collects process metrics and serves them in the Prometheus text
// format, on a listener of the operator's choosing (server.metrics_addr),
// never on the public one. Counters and one latency histogram are kept in
// memory per node; gauges are read when scraped.
type Metrics struct {
	mu       sync.Mutex
	counters map[string]uint64 // series "name{labels}" → value
	// httpSeries is the requests counter's series per status code.
	httpSeries map[int]string
	help       map[string]string // name → help
	buckets    []float64         // seconds
	hist       map[string]*histogram
	gauges     []gauge
	start      time.Time
	log        *slog.Logger
}

type histogram struct {
	counts []uint64 // per bucket, cumulative at render time
	sum    float64
	n      uint64
}

type gauge struct {
	name, help string
	fn         func(ctx context.Context) (float64, error)
}

// NewMetrics returns an empty registry.
func NewMetrics(log *slog.Logger) *Metrics {
	return &Metrics{
		counters:   map[string]uint64{},
		httpSeries: map[int]string{},
		help: map[string]string{
			"citizenid_http_requests_total":           "HTTP requests served, by status code.",
			"citizenid_http_request_duration_seconds": "HTTP request latency.",
			"citizenid_audit_events_total":            "Audit events written, by action and outcome (logins, changes).",
		},
		buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		hist:    map[string]*histogram{},
		start:   time.Now(),
		log:     log,
	}
}

// Inc adds one to the counter name with label pairs (key, value, ...).
func (m *Metrics) Inc(name string, labels ...string) {
	if m == nil {
		return
	}
	key := series(name, labels)
	m.mu.Lock()
	m.counters[key]++
	m.mu.Unlock()
}

// ObserveHTTP records one served request.
func (m *Metrics) ObserveHTTP(code int, d time.Duration) {
	if m == nil {
		return
	}
	s := d.Seconds()
	m.mu.Lock()
	defer m.mu.Unlock()
	// Every request comes here: its series is built once per status code
	// (at most 900 of them: net/http refuses any other).
	key, ok := m.httpSeries[code]
	if !ok {
		key = series("citizenid_http_requests_total", []string{"code", strconv.Itoa(code)})
		m.httpSeries[code] = key
	}
	m.counters[key]++
	h := m.hist["citizenid_http_request_duration_seconds"]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(m.buckets))}
		m.hist["citizenid_http_request_duration_seconds"] = h
	}
	for i, b := range m.buckets {
		if s <= b {
			h.counts[i]++
			break
		}
	}
	h.sum += s
	h.n++
}

// Gauge registers a value read at each scrape (live sessions, database up).
func (m *Metrics) Gauge(name, help string, fn func(ctx context.Context) (float64, error)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gauges = append(m.gauges, gauge{name, help, fn})
}

// series renders name{k="v",...}; label values are escaped.
func series(name string, labels []string) string {
	if len(labels) == 0 {
		return name
	}
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('{')
	for i := 0; i+1 < len(labels); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", labels[i], labels[i+1])
	}
	b.WriteByte('}')
	return b.String()
}

// Handler serves the metrics.
func (m *Metrics) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		m.write(r.Context(), w)
	})
}

func (m *Metrics) write(ctx context.Context, w io.Writer) {
	m.mu.Lock()
	counters := maps.Clone(m.counters)
	gauges := slices.Clone(m.gauges)
	type hsnap struct {
		counts []uint64
		sum    float64
		n      uint64
	}
	hists := map[string]hsnap{}
	for k, h := range m.hist {
		hists[k] = hsnap{slices.Clone(h.counts), h.sum, h.n}
	}
	m.mu.Unlock()

	byName := map[string][]string{}
	for key := range counters {
		name, _, _ := strings.Cut(key, "{")
		byName[name] = append(byName[name], key)
	}
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", name, m.help[name], name)
		keys := byName[name]
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "%s %d\n", k, counters[k])
		}
	}
	for _, name := range slices.Sorted(maps.Keys(hists)) {
		h := hists[name]
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s histogram\n", name, m.help[name], name)
		var cum uint64
		for i, b := range m.buckets {
			cum += h.counts[i]
			fmt.Fprintf(w, "%s_bucket{le=\"%g\"} %d\n", name, b, cum)
		}
		fmt.Fprintf(w, "%s_bucket{le=\"+Inf\"} %d\n%s_sum %g\n%s_count %d\n", name, h.n, name, h.sum, name, h.n)
	}
	gctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	for _, g := range gauges {
		v, err := g.fn(gctx)
		if err != nil {
			m.log.WarnContext(ctx, "metrics gauge", "gauge", g.name, "err", err)
			continue
		}
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %g\n", g.name, g.help, g.name, g.name, v)
	}
	fmt.Fprintf(w, "# HELP citizenid_uptime_seconds Seconds since the process started.\n# TYPE citizenid_uptime_seconds gauge\ncitizenid_uptime_seconds %g\n", time.Since(m.start).Seconds())
}
