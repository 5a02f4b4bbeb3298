package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
