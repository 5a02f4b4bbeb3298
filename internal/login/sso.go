package login

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
)

// SSO owns the single sign-on session of a browser: its cookie, reading
// it (recording level decay), creating and extending it, ending it.
type SSO struct {
	sessions *session.Store
	cookie   CookieOptions
	limits   assurance.Limits
	log      *slog.Logger
}

// CookieOptions says how the SSO cookie is set.
type CookieOptions struct {
	Name   string // "__Host-citizenid" on HTTPS, "citizenid" on a plain-HTTP localhost issuer
	Secure bool
}

// CookieFor returns the cookie settings for an issuer scheme.
func CookieFor(https bool) CookieOptions {
	if https {
		return CookieOptions{Name: "__Host-citizenid", Secure: true}
	}
	return CookieOptions{Name: "citizenid", Secure: false}
}

// touchEvery is how stale the recorded last activity of a session may
// get before a read records it again. Reads in between write nothing; the
// idle limits (minutes to hours) then count from up to this much earlier,
// so a level decays at most this much sooner, never later.
const touchEvery = time.Minute

// Session returns the live SSO session of the request, or nil. Reading it
// records activity when the recorded one is older than touchEvery, and
// levels whose idle limit lapsed before this request are written down for
// good first: activity must not revive them. Otherwise a read writes
// nothing.
func (s *SSO) Session(r *http.Request) *session.Session {
	sess, _ := s.Current(r)
	return sess
}

// Current is Session that tells a session that is not there (nil, nil)
// from one that could not be read (nil and the error: Redis is down or
// slow). A caller that would send the citizen to log in answers 503 on an
// error instead: a failure of the server is never "no session".
func (s *SSO) Current(r *http.Request) (*session.Session, error) {
	c, err := r.Cookie(s.cookie.Name)
	if err != nil {
		return nil, nil
	}
	sess, err := s.sessions.Peek(r.Context(), c.Value)
	if errors.Is(err, session.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		s.log.ErrorContext(r.Context(), "read session", "err", err)
		return nil, err
	}
	decayed, changed := s.decay(sess)
	if !changed && s.sessions.Now().Sub(sess.LastSeen) < touchEvery {
		return sess, nil
	}
	prev := sess.PrevSeen
	updated, err := s.sessions.Update(r.Context(), sess, func(x *session.Session) error {
		if changed {
			x.Events = decayed
		}
		return nil
	})
	if errors.Is(err, session.ErrNotFound) {
		return nil, nil // ended meanwhile
	} else if err != nil {
		s.log.ErrorContext(r.Context(), "record session activity", "err", err)
		return nil, err
	}
	updated.PrevSeen = prev
	return updated, nil
}

// decay lowers each event to what it still proves after the idle time
// before this request (assurance.Decayed); a second factor that no longer
// raises anything above level 1 is dropped.
func (s *SSO) decay(sess *session.Session) ([]session.AuthEvent, bool) {
	last := sess.PrevSeen
	for _, ev := range sess.Events {
		if ev.Time.After(last) {
			last = ev.Time
		}
	}
	idle := s.sessions.Now().Sub(last)
	out := make([]session.AuthEvent, 0, len(sess.Events))
	changed := false
	for _, ev := range sess.Events {
		level := int(assurance.Decayed(assurance.Level(ev.Level), idle, s.limits))
		if level < ev.Level {
			changed = true
			if level == 0 || (ev.SecondFactor && level < int(assurance.Substantial)) {
				continue
			}
			ev.Level = level
		}
		out = append(out, ev)
	}
	return out, changed
}

// Peek returns the request's live SSO session without recording activity, or nil.
func (s *SSO) Peek(r *http.Request) *session.Session {
	c, err := r.Cookie(s.cookie.Name)
	if err != nil {
		return nil
	}
	sess, err := s.sessions.Peek(r.Context(), c.Value)
	if err != nil {
		return nil
	}
	return sess
}

// Evaluate says what sess proves for req now.
func (s *SSO) Evaluate(sess *session.Session, req Request) assurance.Result {
	return s.evaluate(sess.Events, sess.PrevSeen, req)
}

func (s *SSO) evaluate(events []session.AuthEvent, prevSeen time.Time, req Request) assurance.Result {
	evs := make([]assurance.Event, len(events))
	last := prevSeen
	for i, ev := range events {
		evs[i] = assurance.Event{Method: ev.Method, AMR: ev.AMR, Level: assurance.Level(ev.Level), SecondFactor: ev.SecondFactor, Time: ev.Time}
		if ev.Time.After(last) {
			last = ev.Time
		}
	}
	now := s.sessions.Now()
	maxAge := req.MaxAge
	if maxAge != nil && !req.Since.IsZero() {
		m := max(*maxAge, now.Sub(req.Since))
		maxAge = &m
	}
	return assurance.Evaluate(evs, last, assurance.Request{MinLevel: req.MinLevel, MaxAge: maxAge, ClientMaxAge: req.ClientMaxAge},
		s.limits, now)
}

// record puts a login's events in the browser's session: a session of the
// same citizen is extended, never replaced, so step-up keeps it; any other
// session in this browser is ended and a new one started.
func (s *SSO) record(ctx context.Context, w http.ResponseWriter, r *http.Request, citizenID string, events []session.AuthEvent, sess *session.Session) (*session.Session, error) {
	if sess != nil && sess.CitizenID == citizenID {
		updated, err := s.sessions.Update(ctx, sess, func(x *session.Session) error {
			x.Events = mergeEvents(x.Events, events)
			return nil
		})
		if err == nil {
			return updated, nil
		}
		s.log.WarnContext(ctx, "extend session failed, starting a new one", "err", err)
	}
	if sess != nil {
		s.sessions.Delete(ctx, sess)
	}
	dev := session.DeviceOf(r.UserAgent(), server.ClientIP(ctx))
	cookie, created, err := s.sessions.Create(ctx, citizenID, events, dev)
	if err != nil {
		return nil, err
	}
	s.setCookie(w, cookie)
	return created, nil
}

// mergeEvents appends new events, keeping only the latest event of each
// method so a long session does not grow without bound.
func mergeEvents(old, add []session.AuthEvent) []session.AuthEvent {
	out := slices.Clone(old)
	for _, ev := range add {
		out = slices.DeleteFunc(out, func(o session.AuthEvent) bool { return o.Method == ev.Method })
		out = append(out, ev)
	}
	return out
}

func (s *SSO) setCookie(w http.ResponseWriter, value string) {
	http.SetCookie(w, &http.Cookie{
		Name:     s.cookie.Name,
		Value:    value,
		Path:     "/",
		Secure:   s.cookie.Secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
}

// clearCookie removes the SSO cookie from the browser.
func (s *SSO) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.cookie.Name, Value: "", Path: "/", MaxAge: -1, Secure: s.cookie.Secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}
