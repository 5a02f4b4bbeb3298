package account

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/login"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// CertificateBinder links signature certificates whose subject does not
// carry the citizen number to the citizen's account
// (internal/authn/certificate).
type CertificateBinder interface {
	// BeginBinding returns a nonce for the citizen's signing component,
	// single use and bound to the SSO session sid.
	BeginBinding(ctx context.Context, citizenID, sid string) (string, error)
	// Bind verifies the signed token against that nonce and the
	// certificate as at login, then stores the binding named name. A
	// refusal returns a message key and a nil error; an error is the
	// server's failure.
	Bind(ctx context.Context, citizenID, sid, token, name string) (*store.CertificateBinding, string, error)
	// Bindings lists the citizen's bindings.
	Bindings(ctx context.Context, citizenID string) ([]store.CertificateBinding, error)
	// Unbind removes one; store.ErrNotFound when the citizen has no such binding.
	Unbind(ctx context.Context, citizenID, id string) error
}

const certificatesPath = securityPath + "/certificates"

// certificateLevel is what linking a certificate takes: a strong,
// fresh login (DESIGN.md: explicit bindings at level ≥ 3).
const certificateLevel = assurance.High

func (a *Account) mountCertificates(post func(string, http.HandlerFunc), mux *http.ServeMux) {
	if a.o.Certificates == nil {
		return
	}
	mux.HandleFunc("GET "+certificatesPath, a.certificates)
	post(certificatesPath, a.bindCertificate)
	post(certificatesPath+"/remove", a.unbindCertificate)
}

// certificatesPage is the view model of account_certificates.html.
type certificatesPage struct {
	Bindings []bindingView
	Nonce    string
	Message  string
	Error    string
}

type bindingView struct {
	ID, Name, Issuer, Serial, Created, LastUsed string
}

// requireCertificates is require for the certificates page: back there
// after the login.
func (a *Account) requireCertificates(w http.ResponseWriter, r *http.Request) *session.Session {
	fresh := a.o.Fresh
	req := login.Request{Protocol: Protocol, RequestID: certificatesPath, MinLevel: certificateLevel, MaxAge: &fresh}
	if sess := a.o.Login.Session(r); sess != nil && a.o.Login.Evaluate(sess, req).Satisfied {
		return sess
	}
	a.o.Login.Begin(w, r, req)
	return nil
}

func (a *Account) certificates(w http.ResponseWriter, r *http.Request) {
	sess := a.requireCertificates(w, r)
	if sess == nil {
		return
	}
	pg := certificatesPage{}
	switch r.URL.Query().Get("done") {
	case "bound":
		pg.Message = "msg_cert_bound"
	case "removed":
		pg.Message = "msg_cert_removed"
	}
	a.renderCertificates(w, r, sess, http.StatusOK, pg)
}

func (a *Account) renderCertificates(w http.ResponseWriter, r *http.Request, sess *session.Session, status int, pg certificatesPage) {
	ctx := r.Context()
	lang := server.Locale(r, nil)
	list, err := a.o.Certificates.Bindings(ctx, sess.CitizenID)
	if err == nil {
		pg.Nonce, err = a.o.Certificates.BeginBinding(ctx, sess.CitizenID, sess.SID)
	}
	if err != nil {
		a.o.Log.ErrorContext(ctx, "certificate bindings", "err", err)
		a.o.Renderer.Error(w, r, http.StatusServiceUnavailable, lang, "err_generic")
		return
	}
	for _, b := range list {
		v := bindingView{ID: b.ID, Name: b.Name, Issuer: b.Issuer, Serial: b.Serial, Created: b.CreatedAt.Format(time.DateOnly)}
		if !b.LastUsedAt.IsZero() {
			v.LastUsed = b.LastUsedAt.Format(time.DateOnly)
		}
		pg.Bindings = append(pg.Bindings, v)
	}
	if pg.Message != "" {
		pg.Message = a.o.Renderer.T(lang, pg.Message)
	}
	if pg.Error != "" {
		pg.Error = a.o.Renderer.T(lang, pg.Error)
	}
	a.o.Renderer.Render(w, r, status, "account_certificates", lang, "certs_title", pg)
}

func (a *Account) bindCertificate(w http.ResponseWriter, r *http.Request) {
	sess := a.requireCertificates(w, r)
	if sess == nil {
		return
	}
	ctx := r.Context()
	if err := r.ParseForm(); err != nil || len(r.PostForm["token"]) != 1 {
		a.renderCertificates(w, r, sess, http.StatusBadRequest, certificatesPage{Error: "err_form"})
		return
	}
	_, msg, err := a.o.Certificates.Bind(ctx, sess.CitizenID, sess.SID, r.PostForm.Get("token"), r.PostForm.Get("name"))
	switch {
	case err != nil:
		a.o.Log.ErrorContext(ctx, "bind certificate", "err", err)
		a.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, nil), "err_generic")
		return
	case msg != "":
		a.renderCertificates(w, r, sess, http.StatusUnprocessableEntity, certificatesPage{Error: msg})
		return
	}
	a.record(ctx, sess, "certificate.bind")
	http.Redirect(w, r, certificatesPath+"?done=bound", http.StatusSeeOther)
}

func (a *Account) unbindCertificate(w http.ResponseWriter, r *http.Request) {
	sess := a.requireCertificates(w, r)
	if sess == nil {
		return
	}
	ctx := r.Context()
	err := a.o.Certificates.Unbind(ctx, sess.CitizenID, r.PostFormValue("id"))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		a.o.Log.ErrorContext(ctx, "unbind certificate", "err", err)
		a.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, nil), "err_generic")
		return
	}
	if err == nil {
		a.record(ctx, sess, "certificate.unbind")
	}
	http.Redirect(w, r, certificatesPath+"?done=removed", http.StatusSeeOther)
}
