package certificate

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/login"
	"github.com/citizenid/citizenid/internal/session"
)

// Redis buckets of the short-lived values.
var (
	kindChallenge = session.NewBucket[challenge]("certchal") // login transaction → nonce to sign
	kindTicket    = session.NewBucket[ticket]("certticket")  // ticket in the TLS listener's URL → login transaction
	kindPresented = session.NewBucket[presented]("certtls")  // handle the TLS listener returns → certificate it received
	kindBind      = session.NewBucket[challenge]("certbind") // SSO session → nonce to sign for a binding
)

// MethodName is the login step's name; its page is login_certificate.html.
const MethodName = "certificate"

type challenge struct {
	Nonce   string `json:"nonce"`
	Citizen string `json:"citizen,omitempty"`
}

type ticket struct {
	Txn string `json:"txn"`
}

type presented struct {
	Txn   string   `json:"txn"`
	Chain [][]byte `json:"chain"`
}

// Page is what login_certificate.html receives as StepPage.Method.
type Page struct {
	// Nonce is the challenge the signing component signs (single use,
	// bound to the login transaction and the server's origin).
	Nonce string
	// TLSURL sends the browser to the client-certificate listener; empty
	// when there is none.
	TLSURL string
	// TLSHandle is set when the browser came back from that listener with
	// a certificate: the page posts it back.
	TLSHandle string
}

// Method returns certificate login as a login step.
func (a *Authenticator) Method() login.Method { return method{a} }

type method struct{ a *Authenticator }

var _ login.Discarder = method{}

func (m method) Name() string { return MethodName }

// Offer: any citizen may hold a certificate from a trusted CA (the
// mapping is by the number in its subject), so the method is always
// available, alone reaches level 4, and identifies the citizen.
func (m method) Offer(context.Context, string) (login.Offer, error) {
	return login.Offer{Available: true, Level: assurance.VeryHigh, Identifies: true}, nil
}

// Prepare issues a fresh nonce for the transaction (replacing any earlier
// one) and, with a TLS listener, a single-use ticket to it.
func (m method) Prepare(ctx context.Context, r *http.Request, txn *login.Txn) (any, error) {
	a := m.a
	p := &Page{Nonce: session.RandomToken(32)}
	if err := kindChallenge.Put(ctx, a.o.Sessions, txn.ID, challenge{Nonce: p.Nonce}, a.o.ChallengeTTL); err != nil {
		return nil, err
	}
	if a.o.TLS.URL != "" {
		t := session.RandomToken(24)
		if err := kindTicket.Put(ctx, a.o.Sessions, t, ticket{Txn: txn.ID}, a.o.ChallengeTTL); err != nil {
			return nil, err
		}
		p.TLSURL = a.o.TLS.URL + "/tls/" + t
	}
	if h := r.URL.Query().Get("certificate"); validHandle(h) {
		p.TLSHandle = h
	}
	return p, nil
}

// Discards names the transaction's nonce. Its tickets stay until their
// TTL: they are keyed by themselves, and lead only to the ended
// transaction.
func (m method) Discards(txnID string) []session.Ref {
	return []session.Ref{kindChallenge.Ref(txnID)}
}

// validHandle: RandomToken(24) is 32 base64url characters.
func validHandle(h string) bool {
	if len(h) != 32 {
		return false
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Verify checks a signed challenge (mode=challenge, token=<JSON>) or a
// certificate the TLS listener received (mode=tls, handle=<handle>).
func (m method) Verify(ctx context.Context, r *http.Request, txn *login.Txn) (string, session.AuthEvent, error) {
	a := m.a
	f := r.PostForm
	if len(f["mode"]) != 1 {
		return "", session.AuthEvent{}, &login.StepError{Message: "err_form", Reason: "malformed form"}
	}
	at := attempt{mode: f.Get("mode"), purpose: "login", client: txn.Request.ClientID, citizen: txn.CitizenID}
	var pre *Refusal
	switch at.mode {
	case "challenge":
		if len(f["token"]) != 1 {
			return "", session.AuthEvent{}, &login.StepError{Message: "err_form", Reason: "malformed form"}
		}
		at.leaf, pre = a.verifyToken(ctx, f.Get("token"), kindChallenge, txn.ID, "")
	case "tls":
		at.leaf, at.presented, pre = a.takePresented(ctx, f.Get("handle"), txn.ID)
	default:
		return "", session.AuthEvent{}, &login.StepError{Message: "err_form", Reason: "malformed form"}
	}
	out, err := a.check(ctx, at, pre)
	var ref *Refusal
	if errors.As(err, &ref) {
		return "", session.AuthEvent{}, &login.StepError{Message: ref.Message, Reason: "certificate: " + ref.Reason, Throttle: ref.Citizen}
	} else if err != nil {
		return "", session.AuthEvent{}, err
	}
	a.touch(ctx, out)
	return out.citizenID, event(at.mode, out), nil
}

// verifyToken parses the token, takes the single-use nonce kind/id (it is
// spent whatever happens next) and checks the signature over the server's
// origin and that nonce. citizen, when set, must be the nonce's citizen.
func (a *Authenticator) verifyToken(ctx context.Context, raw string, kind session.Bucket[challenge], id, citizen string) (*x509.Certificate, *Refusal) {
	var ch challenge
	err := kind.Take(ctx, a.o.Sessions, id, &ch)
	tok, perr := ParseToken([]byte(raw))
	var leaf *x509.Certificate
	if perr == nil {
		leaf = tok.Certificate
	}
	switch {
	case err != nil:
		return leaf, refuse(msgChallenge, "challenge missing, expired or already used")
	case citizen != "" && ch.Citizen != citizen:
		return leaf, refuse(msgChallenge, "challenge issued to another citizen")
	case perr != nil:
		return nil, tokenRefusal(perr)
	}
	if err := tok.Verify(a.origin, ch.Nonce); err != nil {
		return leaf, tokenRefusal(err)
	}
	return leaf, nil
}

// takePresented takes what the TLS listener received for the transaction.
func (a *Authenticator) takePresented(ctx context.Context, handle, txnID string) (*x509.Certificate, []*x509.Certificate, *Refusal) {
	var p presented
	if !validHandle(handle) || kindPresented.Take(ctx, a.o.Sessions, handle, &p) != nil {
		return nil, nil, refuse(msgChallenge, "TLS client certificate handle missing, expired or already used")
	}
	if p.Txn != txnID || len(p.Chain) == 0 {
		return nil, nil, refuse(msgChallenge, "TLS client certificate handle of another login")
	}
	var certs []*x509.Certificate
	for _, der := range p.Chain {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, nil, refuse(msgToken, "TLS client certificate unparsable")
		}
		certs = append(certs, c)
	}
	return certs[0], certs[1:], nil
}
