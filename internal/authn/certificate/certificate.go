package certificate

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/authn/certificate/trust"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// Store is the slice of storage certificate login needs.
type Store interface {
	store.Citizens
	store.CertificateBindings
}

// Options configures certificate login. Zero values take defaults where
// one is named.
type Options struct {
	Trust   *trust.Set
	Profile Profile
	// Attribute and Pattern map a certificate to a citizen number (see
	// NewMapper); explicit bindings are always consulted first.
	Attribute, Pattern string
	Revocation         RevocationOptions
	// HTTPClient fetches OCSP answers and CRLs; nil means one with the
	// configured timeouts.
	HTTPClient *http.Client
	Store      Store
	Sessions   *session.Store
	Audit      *audit.Logger
	Renderer   *server.Renderer
	Log        *slog.Logger
	// Issuer is the server's base URL: challenges are bound to its origin,
	// and the TLS listener sends the browser back to its login pages.
	Issuer string
	// ChallengeTTL is how long a nonce may be signed (5m).
	ChallengeTTL time.Duration
	TLS          TLSOptions
	Now          func() time.Time
}

// Authenticator is certificate login: the login.Method, the TLS
// client-certificate listener and explicit bindings.
type Authenticator struct {
	o         Options
	origin    string
	mapper    *Mapper
	validator *Validator
	rev       *Revocation
}

// New checks the options and returns the authenticator. Call Start to
// begin background CRL downloads and Close to end them.
func New(o Options) (*Authenticator, error) {
	if o.Trust == nil || o.Store == nil || o.Sessions == nil || o.Audit == nil || o.Log == nil {
		return nil, errors.New("certificate: trust, store, sessions, audit and log are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ChallengeTTL <= 0 {
		o.ChallengeTTL = 5 * time.Minute
	}
	if len(o.Profile.KeyUsage) == 0 && o.Profile.MinRSABits == 0 && len(o.Profile.Curves) == 0 {
		o.Profile = DefaultProfile()
	}
	u, err := url.Parse(o.Issuer)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("certificate: issuer %q is not a URL", o.Issuer)
	}
	m, err := NewMapper(o.Attribute, o.Pattern)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	a := &Authenticator{o: o, origin: u.Scheme + "://" + u.Host, mapper: m}
	a.rev = NewRevocation(o.Revocation, o.HTTPClient, o.Sessions, o.Now, o.Log)
	a.validator = &Validator{Trust: o.Trust, Profile: o.Profile, Revocation: a.rev, Now: o.Now}
	return a, nil
}

// Start begins downloading the configured CAs' CRLs in the background.
func (a *Authenticator) Start() { a.rev.Start(a.o.Trust) }

// Close stops the background downloads.
func (a *Authenticator) Close() { a.rev.Close() }

// RefreshCRLs downloads every known CRL now.
func (a *Authenticator) RefreshCRLs(ctx context.Context) { a.rev.RefreshCRLs(ctx) }

// Origin is the origin challenges are bound to.
func (a *Authenticator) Origin() string { return a.origin }

// AMR of the two ways to present a certificate.
var (
	amrChallenge = []string{assurance.AMRSmart, assurance.AMRHardware, assurance.AMRPIN, assurance.AMRMFA}
	amrTLS       = []string{assurance.AMRSmart, assurance.AMRHardware, assurance.AMRMFA}
)

// attempt is one presentation of a certificate, for checking and audit.
type attempt struct {
	mode      string // challenge, tls
	purpose   string // login, bind
	client    string
	leaf      *x509.Certificate
	presented []*x509.Certificate
	citizen   string // the citizen it must belong to, if known
}

// outcome is a checked attempt.
type outcome struct {
	citizenID string
	mappedBy  string // binding, subject
	binding   string
	v         *Validated
}

// check validates the certificate and finds its citizen, and audits the
// result whatever it is. A refusal is a *Refusal.
func (a *Authenticator) check(ctx context.Context, at attempt, pre *Refusal) (*outcome, error) {
	details := map[string]string{"mode": at.mode, "purpose": at.purpose}
	if at.client != "" {
		details["client"] = at.client
	}
	if at.leaf != nil {
		details["cert_serial"] = SerialHex(at.leaf)
		details["cert_issuer"] = at.leaf.Issuer.String()
		details["cert_thumbprint"] = Thumbprint(at.leaf)
	}
	ev := audit.Event{Actor: "anonymous", Action: "certificate.validate", ClientIP: server.ClientIP(ctx), Details: details}
	if at.citizen != "" {
		ev.Actor, ev.Target = "citizen:"+at.citizen, "citizen:"+at.citizen
	}
	out, err := a.checkAttempt(ctx, at, pre, details)
	var r *Refusal
	switch {
	case errors.As(err, &r):
		ev.Outcome, details["reason"] = "failure", r.Reason
	case err != nil:
		ev.Outcome, details["reason"] = "error", "server error"
	default:
		ev.Outcome, details["mapped_by"] = "success", out.mappedBy
		ev.Actor, ev.Target = "citizen:"+out.citizenID, "citizen:"+out.citizenID
	}
	a.o.Audit.Record(ctx, ev)
	return out, err
}

func (a *Authenticator) checkAttempt(ctx context.Context, at attempt, pre *Refusal, details map[string]string) (*outcome, error) {
	if pre != nil {
		return nil, pre
	}
	v, err := a.validator.Validate(ctx, at.leaf, at.presented)
	if v != nil {
		v.Evidence.Details(details)
	}
	if err != nil {
		return nil, err
	}
	out := &outcome{v: v}
	number, numErr := a.mapper.Number(at.leaf)
	if numErr == nil {
		details["citizen_number"] = audit.MaskNumber(number)
	}
	var byNumber *store.Citizen
	if numErr == nil {
		c, err := a.o.Store.CitizenByNumber(ctx, number)
		switch {
		case err == nil:
			byNumber = c
		case !errors.Is(err, store.ErrNotFound):
			return nil, fmt.Errorf("look up citizen: %w", err)
		}
	}
	b, err := a.o.Store.FindCertificateBinding(ctx, at.leaf.Issuer.String(), SerialHex(at.leaf), SPKIThumbprint(at.leaf))
	switch {
	case err == nil:
		if byNumber != nil && byNumber.ID != b.CitizenID {
			return nil, refuse(msgUnmapped, "certificate bound to one citizen carries another citizen's number")
		}
		out.citizenID, out.mappedBy, out.binding = b.CitizenID, "binding", b.ID
	case !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("find certificate binding: %w", err)
	case at.purpose == "bind":
		// Binding a certificate that maps to nobody, or to this citizen.
		if byNumber != nil {
			out.citizenID, out.mappedBy = byNumber.ID, "subject"
		}
		return out, nil
	case errors.Is(numErr, errAmbiguous):
		return nil, refuse(msgUnmapped, "%v", numErr)
	case numErr != nil:
		return nil, refuse(msgUnmapped, "no citizen number in the certificate subject and no binding")
	case byNumber == nil:
		return nil, refuse(msgUnmapped, "no account has the certificate's citizen number")
	default:
		out.citizenID, out.mappedBy = byNumber.ID, "subject"
	}
	if at.citizen != "" && out.citizenID != at.citizen {
		return nil, refuse(msgOther, "certificate belongs to another citizen")
	}
	return out, nil
}

// event is the authentication event of an accepted certificate.
func event(mode string, out *outcome) session.AuthEvent {
	amr := amrChallenge
	if mode == "tls" {
		amr = amrTLS
	}
	return session.AuthEvent{Method: assurance.AMRSmart, AMR: amr, Level: int(assurance.VeryHigh),
		CertThumbprint: Thumbprint(out.v.Leaf), CertSerial: SerialHex(out.v.Leaf)}
}

// touch records the use of a binding; a failure is only logged.
func (a *Authenticator) touch(ctx context.Context, out *outcome) {
	if out.binding == "" {
		return
	}
	if err := a.o.Store.TouchCertificateBinding(ctx, out.binding, a.o.Now()); err != nil {
		a.o.Log.WarnContext(ctx, "record certificate binding use", "err", err)
	}
}

// tokenRefusal turns a ParseToken or Verify error into a refusal.
func tokenRefusal(err error) *Refusal {
	if errors.Is(err, errSignature) {
		return refuse(msgSignature, "%v", err)
	}
	if errors.Is(err, errToken) {
		return refuse(msgToken, "%v", err)
	}
	return refuse(msgToken, "token signature unusable: %v", err)
}

func cut(s string, n int) string {
	s = strings.TrimSpace(s)
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}
