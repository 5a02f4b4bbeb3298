package certificate

import "fmt"

// Refusal is why a certificate or a token was not accepted. Reason is
// specific and goes to the audit log (never a certificate subject);
// Message is a catalogue key for the citizen.
type Refusal struct {
	Reason  string
	Message string
	// Citizen is false when the refusal is not the presenter's doing (a
	// revocation service that does not answer): it is not throttled.
	Citizen bool
}

func (r *Refusal) Error() string { return r.Reason }

// Message keys (internal/server/i18n_certificate.go).
const (
	msgToken       = "cert_err_token"
	msgSignature   = "cert_err_signature"
	msgChallenge   = "cert_err_challenge"
	msgExpired     = "cert_err_expired"
	msgNotYetValid = "cert_err_not_yet_valid"
	msgUsage       = "cert_err_usage"
	msgKey         = "cert_err_key"
	msgUntrusted   = "cert_err_untrusted"
	msgRevoked     = "cert_err_revoked"
	msgUnavailable = "cert_err_revocation_unavailable"
	msgUnmapped    = "cert_err_unmapped"
	msgOther       = "cert_err_other_citizen"
	msgNoCert      = "cert_err_no_certificate"
	msgBound       = "cert_err_already_bound"
)

func refuse(msg, format string, args ...any) *Refusal {
	return &Refusal{Reason: fmt.Sprintf(format, args...), Message: msg, Citizen: true}
}
