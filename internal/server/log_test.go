package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

// The request ID a citizen reads on an error page finds the cause in the
// log: every record logged with the request's context carries it, not
// only the access-log line.
func TestRequestIDInEveryRecord(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(&buf, "json", "info")
	h := Common(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.ErrorContext(r.Context(), "load login transaction", "err", io.ErrUnexpectedEOF)
		log.With("component", "store").WarnContext(r.Context(), "slow query")
		w.Write([]byte(RequestID(r.Context())))
	}), log, Proxies{}, false, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/login/x", nil))
	id := rec.Body.String()
	if id == "" || rec.Header().Get("X-Request-Id") != id {
		t.Fatalf("request id: got %q, header %q", id, rec.Header().Get("X-Request-Id"))
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d records, want 3: %s", len(lines), buf.String())
	}
	for _, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatal(err)
		}
		if rec["request_id"] != id {
			t.Errorf("record %q: got request_id %v, want %s", rec["msg"], rec["request_id"], id)
		}
	}
}

// With tracing on, every record of a request carries its trace id too, so
// a trace and its log lines find each other.
func TestTraceIDInEveryRecord(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(&buf, "json", "info")
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))
	log.ErrorContext(ctx, "render page", "trace_id", "forged")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["trace_id"] != tid.String() {
		t.Errorf("trace_id: got %v, want %s", rec["trace_id"], tid)
	}
}
