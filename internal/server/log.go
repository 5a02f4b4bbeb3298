package server

import (
	"context"
	"io"
	"log/slog"
	"slices"

	"go.opentelemetry.io/otel/trace"
)

// personalKeys are attribute keys that must never reach a log line.
var personalKeys = []string{"password", "citizen_number", "number", "code", "token", "refresh_token", "access_token", "id_token", "secret", "client_secret", "cookie", "otp"}

// excluding drops attributes whose key names personal data or secrets, so
// a careless log call cannot leak them, and adds the request ID of the
// record's context (Common puts it there): the ID a citizen reads on an
// error page finds every record of that request.
type excluding struct{ slog.Handler }

func (h excluding) Handle(ctx context.Context, r slog.Record) error {
	nr := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	if id := RequestID(ctx); id != "" {
		nr.AddAttrs(slog.String("request_id", id))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		nr.AddAttrs(slog.String("trace_id", sc.TraceID().String()))
	}
	r.Attrs(func(a slog.Attr) bool {
		if !slices.Contains(personalKeys, a.Key) && a.Key != "request_id" && a.Key != "trace_id" {
			nr.AddAttrs(a)
		}
		return true
	})
	return h.Handler.Handle(ctx, nr)
}

func (h excluding) WithAttrs(attrs []slog.Attr) slog.Handler {
	kept := slices.DeleteFunc(slices.Clone(attrs), func(a slog.Attr) bool { return slices.Contains(personalKeys, a.Key) })
	return excluding{h.Handler.WithAttrs(kept)}
}

func (h excluding) WithGroup(name string) slog.Handler { return excluding{h.Handler.WithGroup(name)} }

// NewLogger returns the process logger: JSON or text, at level, with
// personal-data keys dropped.
func NewLogger(w io.Writer, format, level string) *slog.Logger {
	var lv slog.Level
	lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(excluding{h})
}
