// Package telemetry exports OpenTelemetry traces over OTLP/HTTP, off by
// default (telemetry.otlp.endpoint): spans for HTTP handlers, database
// queries, Redis commands and outbound calls (OCSP and CRL fetches,
// back-channel deliveries, logo fetches). It owns the tracer provider and
// the small adapters that put spans on pgx and go-redis; it records no
// personal data: no query arguments, no Redis values, no URLs' queries.
package telemetry

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Options configures tracing.
type Options struct {
	// Endpoint is the collector's OTLP/HTTP base URL
	// (http://collector:4318); "" turns tracing off.
	Endpoint string
	Service  string
	Version  string
}

// Tracing is the tracer provider and its shutdown.
type Tracing struct {
	Provider trace.TracerProvider
	shutdown func(context.Context) error
	enabled  bool
}

// Enabled reports whether spans are exported; the adapters are only
// installed then. A nil Tracing is off.
func (t *Tracing) Enabled() bool { return t != nil && t.enabled }

// Setup starts exporting when an endpoint is set; otherwise every span is
// a no-op costing nothing.
func Setup(ctx context.Context, o Options) (*Tracing, error) {
	if o.Endpoint == "" {
		return &Tracing{Provider: noop.NewTracerProvider(), shutdown: func(context.Context) error { return nil }}, nil
	}
	u, err := url.Parse(o.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("telemetry.otlp.endpoint %q: want http(s)://host:port", o.Endpoint)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/traces"
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(u.String()), otlptracehttp.WithTimeout(5*time.Second))
	if err != nil {
		return nil, fmt.Errorf("otlp exporter: %w", err)
	}
	res := sdkresource.NewSchemaless(attribute.String("service.name", o.Service), attribute.String("service.version", o.Version))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(time.Second)), sdktrace.WithResource(res))
	return &Tracing{Provider: tp, shutdown: tp.Shutdown, enabled: true}, nil
}

// Shutdown flushes the spans not exported yet.
func (t *Tracing) Shutdown(ctx context.Context) error { return t.shutdown(ctx) }

// Handler traces every request h serves (a span per request, named by the
// route pattern once the mux matched it, trace context taken from the
// caller's traceparent).
func (t *Tracing) Handler(h http.Handler) http.Handler {
	return otelhttp.NewHandler(h, "http", otelhttp.WithTracerProvider(t.Provider),
		otelhttp.WithPropagators(propagation.TraceContext{}),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			if r.Pattern != "" {
				return r.Pattern
			}
			return r.Method
		}))
}

// Client returns a copy of c (a plain client when nil) whose requests are
// spans named what ("ocsp", "backchannel_logout", …).
func (t *Tracing) Client(c *http.Client, what string) *http.Client {
	if !t.Enabled() {
		return c
	}
	out := &http.Client{}
	if c != nil {
		cp := *c
		out = &cp
	}
	out.Transport = t.Transport(out.Transport, what)
	return out
}

// Transport wraps base (http.DefaultTransport when nil) so its requests
// are spans named what.
func (t *Tracing) Transport(base http.RoundTripper, what string) http.RoundTripper {
	if !t.Enabled() {
		return base
	}
	if base == nil {
		base = http.DefaultTransport
	}
	return otelhttp.NewTransport(base, otelhttp.WithTracerProvider(t.Provider),
		otelhttp.WithPropagators(propagation.TraceContext{}),
		otelhttp.WithSpanNameFormatter(func(string, *http.Request) string { return what }))
}

// PgxTracer is a pgx query tracer making a span of each query (its SQL
// verb and table, never its arguments).
func (t *Tracing) PgxTracer() pgx.QueryTracer {
	return pgxTracer{t.Provider.Tracer("citizenid/postgres")}
}

type pgxTracer struct{ tr trace.Tracer }

type spanKey struct{}

func (p pgxTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	ctx, span := p.tr.Start(ctx, "db "+verb(data.SQL), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system", "postgresql")))
	return context.WithValue(ctx, spanKey{}, span)
}

func (p pgxTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	span, ok := ctx.Value(spanKey{}).(trace.Span)
	if !ok {
		return
	}
	if data.Err != nil {
		span.SetStatus(codes.Error, "query failed")
	}
	span.End()
}

// verb is the first word of a statement: SELECT, INSERT, ….
func verb(sql string) string {
	f := strings.Fields(sql)
	if len(f) == 0 {
		return "query"
	}
	return strings.ToUpper(f[0])
}

// RedisHook is a go-redis hook making a span of each command and pipeline
// (the command's name, never its keys or values).
func (t *Tracing) RedisHook() redis.Hook { return redisHook{t.Provider.Tracer("citizenid/redis")} }

type redisHook struct{ tr trace.Tracer }

func (h redisHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		ctx, span := h.tr.Start(ctx, "redis dial", trace.WithSpanKind(trace.SpanKindClient))
		defer span.End()
		c, err := next(ctx, network, addr)
		if err != nil {
			span.SetStatus(codes.Error, "dial failed")
		}
		return c, err
	}
}

func (h redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		ctx, span := h.tr.Start(ctx, "redis "+cmd.Name(), trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("db.system", "redis")))
		defer span.End()
		err := next(ctx, cmd)
		if err != nil && err != redis.Nil {
			span.SetStatus(codes.Error, "command failed")
		}
		return err
	}
}

func (h redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		ctx, span := h.tr.Start(ctx, "redis pipeline", trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("db.system", "redis"), attribute.Int("redis.commands", len(cmds))))
		defer span.End()
		err := next(ctx, cmds)
		if err != nil && err != redis.Nil {
			span.SetStatus(codes.Error, "pipeline failed")
		}
		return err
	}
}
