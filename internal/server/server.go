package server

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Mounter is a feature that registers its routes.
type Mounter interface {
	Mount(mux *http.ServeMux)
}

// Check is a readiness probe (database, Redis).
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

// Options configures New.
type Options struct {
	Log      *slog.Logger
	Renderer *Renderer
	Proxies  Proxies
	HTTPS    bool
	Static   fs.FS
	Web      fs.FS
	Ready    []Check
	Features []Mounter
	// Metrics, when set, counts every request (served elsewhere, see Metrics).
	Metrics *Metrics
	// Trace, when set, wraps the whole handler (internal/telemetry): the
	// request's span is in every record logged for it.
	Trace func(http.Handler) http.Handler
}

// New builds the whole HTTP handler.
func New(o Options) http.Handler {
	mux := http.NewServeMux()
	for _, f := range o.Features {
		f.Mount(mux)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		// The checks run side by side, each bounded by the same 2 s: a
		// hung dependency never makes the answer late.
		errs := make([]error, len(o.Ready))
		var wg sync.WaitGroup
		for i, c := range o.Ready {
			wg.Go(func() { errs[i] = c.Fn(ctx) })
		}
		wg.Wait()
		var failed []string
		for i, c := range o.Ready {
			if errs[i] != nil {
				o.Log.WarnContext(ctx, "readiness check failed", "check", c.Name, "err", errs[i])
				failed = append(failed, c.Name)
			}
		}
		if len(failed) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("not ready: " + strings.Join(failed, ", ") + "\n"))
			return
		}
		w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /static/", cacheFor(24*time.Hour, http.StripPrefix("/static/", http.FileServerFS(o.Static))))
	webFiles := http.StripPrefix("/web/", http.FileServerFS(o.Web))
	mux.Handle("GET /web/", cacheFor(time.Hour, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".test.js") {
			http.NotFound(w, r)
			return
		}
		webFiles.ServeHTTP(w, r)
	})))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		o.Renderer.Render(w, r, http.StatusOK, "home", Locale(r, nil), "home_title", nil)
	})
	mux.Handle("POST /lang", http.NewCrossOriginProtection().Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setLang(w, r, o.HTTPS)
	})))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		o.Renderer.Error(w, r, http.StatusNotFound, Locale(r, nil), "err_not_found")
	})
	h := Common(mux, o.Log, o.Proxies, o.HTTPS, o.Metrics)
	if o.Trace != nil {
		h = o.Trace(h)
	}
	return h
}

// setLang stores the switcher's choice and returns to the page it came from
// (a same-site path only).
func setLang(w http.ResponseWriter, r *http.Request, https bool) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if l, ok := supported(r.PostForm.Get("lang")); ok {
		http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600, Secure: https, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	http.Redirect(w, r, LocalPath(r.PostForm.Get("back")), http.StatusSeeOther)
}

// LocalPath returns back when it is a path on this origin — it starts
// with one slash, holds no backslash, no control or space character
// (browsers drop tabs and newlines, so "/\t/evil.example" would become
// "//evil.example") and parses to a path with neither scheme nor host —
// and "/" otherwise.
func LocalPath(back string) string {
	if len(back) > 2048 || !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") {
		return "/"
	}
	for _, c := range back {
		if c <= ' ' || c == 0x7f || c == '\\' || (c >= 0x80 && c <= 0x9f) || !utf8.ValidRune(c) || c == utf8.RuneError {
			return "/"
		}
	}
	u, err := url.Parse(back)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return back
}

func cacheFor(d time.Duration, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(d.Seconds())))
		h.ServeHTTP(w, r)
	})
}

// Serve runs h on ln until ctx is cancelled, then shuts down gracefully:
// no new connections, in-flight requests (a login being submitted) finish
// within timeout.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, timeout time.Duration, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests", "timeout", timeout)
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
