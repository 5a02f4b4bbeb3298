package account

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"math/big"
	"time"

	"github.com/citizenid/citizenid/internal/notify"
	"github.com/citizenid/citizenid/internal/session"
)

// Verification codes: the 6-digit codes sent to a contact to prove the
// citizen receives messages there (registration, a new contact) or to
// start a password recovery. One rule for all three:
//
//   - a code is valid codeValidity (10 minutes) and for codeTries (5)
//     wrong entries; after either, only a new code helps;
//   - a new code ("send again") may be asked resendGap after the last one,
//     at most codeSends times per verification; the verification itself
//     lives verificationTTL, so a citizen whose message was late (the mail
//     server was down; the outbox delivers it when it is back) can still
//     finish or ask again;
//   - a verification is single use: the step it unlocks takes it from
//     Redis (GETDEL), so two concurrent submissions act once;
//   - only the SHA-256 of the verification id and the code is kept.
//
// When there is nobody to send to (the number of a registration already
// has an account; a recovery's number has none), a code is drawn and kept
// all the same and nothing is sent: every later step runs the same code
// and answers the same page, so the answers tell an attacker nothing.
const (
	codeValidity    = 10 * time.Minute
	codeTries       = 5
	codeSends       = 5
	resendGap       = time.Minute
	verificationTTL = time.Hour
)

// verification is one in progress, in Redis under its random id.
type verification struct {
	ID      string `json:"id"`
	Purpose string `json:"purpose"` // "register", "recover", "contact"
	Browser string `json:"browser"` // the browser it started in (login.SSO.Browser)
	// To is where the code goes; Send false: nowhere (see above).
	To   notify.Contact `json:"to"`
	Send bool           `json:"send"`
	Code codeState      `json:"code"`
	// Lang is the language the citizen reads messages in.
	Lang string `json:"lang"`

	Registration *registration `json:"registration,omitempty"` // register
	Recovery     *recovery     `json:"recovery,omitempty"`     // recover
	// Login is the login transaction the journey started from, to go
	// back to at its end ("" when none).
	Login string `json:"login,omitempty"`
	// CitizenID is the account a recovery or a new contact is for ("" for
	// a recovery of a number without one).
	CitizenID string `json:"citizen_id,omitempty"`
}

type codeState struct {
	Hash     string    `json:"hash"`
	Expires  time.Time `json:"expires"`
	Tries    int       `json:"tries"`
	Sends    int       `json:"sends"`
	LastSent time.Time `json:"last_sent"`
}

var verifications = session.NewBucket[verification]("verify")

// newCode draws a uniformly random 6-digit code.
func newCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return fmt.Sprintf("%06d", n.Int64())
}

func codeHash(id, code string) string {
	h := sha256.Sum256([]byte(id + ":" + code))
	return hex.EncodeToString(h[:])
}

// issue draws a new code for v at now and returns it.
func (v *verification) issue(now time.Time) string {
	code := newCode()
	v.Code = codeState{Hash: codeHash(v.ID, code), Expires: now.Add(codeValidity), Sends: v.Code.Sends + 1, LastSent: now}
	return code
}

// Outcomes of check, as message ids of the code field.
const (
	codeOK      = ""
	codeWrong   = "acct_err_code"
	codeExpired = "acct_err_code_expired"
	codeSpent   = "acct_err_code_tries"
)

// check compares code with v's, counting a wrong one; the caller writes v
// back whatever the outcome (bucket Update).
func (v *verification) check(code string, now time.Time) string {
	switch {
	case v.Code.Tries >= codeTries:
		return codeSpent
	case !now.Before(v.Code.Expires):
		return codeExpired
	}
	if subtle.ConstantTimeCompare([]byte(codeHash(v.ID, code)), []byte(v.Code.Hash)) == 1 {
		return codeOK
	}
	v.Code.Tries++
	if v.Code.Tries >= codeTries {
		return codeSpent
	}
	return codeWrong
}

// canResend reports whether a new code may be sent at now, and if not how
// long to wait (0 with false: no more codes for this verification).
func (v *verification) canResend(now time.Time) (bool, time.Duration) {
	if v.Code.Sends >= codeSends {
		return false, 0
	}
	if wait := v.Code.LastSent.Add(resendGap).Sub(now); wait > 0 {
		return false, wait
	}
	return true, 0
}
