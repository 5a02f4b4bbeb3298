package totp

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/pquerna/otp"
	libtotp "github.com/pquerna/otp/totp"
	"github.com/skip2/go-qrcode"

	"github.com/citizenid/citizenid/internal/keys"
	"github.com/citizenid/citizenid/internal/store"
)

// Errors a caller branches on; check them with errors.Is. None of them
// carries personal data or the code.
var (
	// ErrInvalidCode: the code is malformed or wrong (TOTP), or wrong or
	// already used (recovery code).
	ErrInvalidCode = errors.New("totp: invalid code")
	// ErrReplayed: the code is right but its time step, or a later one, was
	// already accepted.
	ErrReplayed = errors.New("totp: code already used")
	// ErrNotEnrolled: the citizen has no confirmed TOTP credential (or, for
	// ConfirmEnrolment, no enrolment in progress).
	ErrNotEnrolled = errors.New("totp: not enrolled")
	// ErrAlreadyEnrolled: the citizen already has a confirmed credential;
	// remove it before enrolling again.
	ErrAlreadyEnrolled = errors.New("totp: already enrolled")
)

// Parameters every authenticator app understands (Key URI format defaults).
const (
	period     = 30 // seconds per step
	digits     = otp.DigitsSix
	skew       = 1  // steps accepted either side of the current one
	secretSize = 20 // bytes: 160 bits, RFC 4226 §4 recommendation

	// DefaultIssuer is shown in authenticator apps when Options.Issuer is empty.
	DefaultIssuer = "CitizenID"

	// RecoveryCodeCount is how many recovery codes ConfirmEnrolment returns.
	RecoveryCodeCount = 10
	recoveryCodeLen   = 10
	// recoveryAlphabet has no 0/o, 1/l/i: nothing to misread on paper.
	recoveryAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"
	// maxRecoveryInput bounds the input normalised before it is refused.
	maxRecoveryInput = 64
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Store is the slice of storage this package needs; store.Store has it.
type Store interface {
	store.TOTPs
	store.RecoveryCodes
}

// Options configure an Authenticator.
type Options struct {
	Issuer      string       // shown in authenticator apps; DefaultIssuer when empty; no ':'
	Sealer      *keys.Sealer // seals secrets at rest; required
	Store       Store        // required
	RecoveryKey []byte       // HMAC key for recovery-code hashes, at least 16 bytes; the caller derives it from the master key
	Now         func() time.Time
}

// Authenticator enrols and verifies TOTP authenticators and recovery
// codes. It is safe for concurrent use.
type Authenticator struct {
	issuer      string
	sealer      *keys.Sealer
	store       Store
	recoveryKey []byte
	now         func() time.Time
}

// New returns an Authenticator. It panics when a required option is
// missing or invalid: that is a wiring mistake, found at start-up.
func New(o Options) *Authenticator {
	switch {
	case o.Sealer == nil:
		panic("totp.New: Options.Sealer is required")
	case o.Store == nil:
		panic("totp.New: Options.Store is required")
	case len(o.RecoveryKey) < 16:
		panic("totp.New: Options.RecoveryKey must be at least 16 bytes")
	case strings.Contains(o.Issuer, ":"):
		panic("totp.New: Options.Issuer must not contain ':'")
	}
	a := &Authenticator{
		issuer:      o.Issuer,
		sealer:      o.Sealer,
		store:       o.Store,
		recoveryKey: bytes.Clone(o.RecoveryKey),
		now:         o.Now,
	}
	if a.issuer == "" {
		a.issuer = DefaultIssuer
	}
	if a.now == nil {
		a.now = time.Now
	}
	return a
}

// Enrolment is what the citizen needs to add the authenticator to an app.
// Show it once, over the enrolment page only; it contains the secret.
type Enrolment struct {
	Secret    string // base32, no padding, for manual entry
	URL       string // otpauth://totp/<issuer>:<account>?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30
	QRCodePNG []byte // URL as a QR code, rendered on the server
}

// associatedData binds a sealed secret to its citizen: a sealed secret
// copied to another citizen's row does not open.
func associatedData(citizenID string) []byte {
	return []byte("citizenid totp:" + citizenID)
}

// BeginEnrolment creates a fresh, unconfirmed secret for the citizen,
// replacing any enrolment in progress, and returns it for display.
// ErrAlreadyEnrolled when a confirmed credential exists (Remove it first);
// an error wrapping store.ErrNotFound when the citizen does not exist.
func (a *Authenticator) BeginEnrolment(ctx context.Context, citizenID, accountName string) (*Enrolment, error) {
	if citizenID == "" {
		return nil, errors.New("begin totp enrolment: citizen id is required")
	}
	if strings.TrimSpace(accountName) == "" || strings.Contains(accountName, ":") {
		return nil, errors.New("begin totp enrolment: account name must be non-empty and contain no ':'")
	}
	cur, err := a.store.TOTP(ctx, citizenID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		cur = nil
	case err != nil:
		return nil, fmt.Errorf("begin totp enrolment: %w", err)
	case cur.Confirmed:
		return nil, ErrAlreadyEnrolled
	}

	// The sealed plaintext is the secret followed by the account name, so
	// that PendingEnrolment can show the same enrolment again.
	plain := make([]byte, secretSize, secretSize+len(accountName))
	rand.Read(plain) // never fails (crypto/rand since Go 1.24)
	plain = append(plain, accountName...)
	defer clear(plain)
	// Everything that can fail is done before the store changes.
	en, err := a.display(plain[:secretSize], accountName)
	if err != nil {
		return nil, fmt.Errorf("begin totp enrolment: %w", err)
	}
	sealed, err := a.sealer.Seal(plain, associatedData(citizenID))
	if err != nil {
		return nil, fmt.Errorf("begin totp enrolment: %w", err)
	}
	fresh := store.TOTPCredential{CitizenID: citizenID, Secret: sealed, CreatedAt: a.now()}

	if cur != nil {
		// Restart the enrolment in progress, unless it was confirmed since
		// it was read.
		err = a.store.UpdateTOTP(ctx, citizenID, func(c *store.TOTPCredential) error {
			if c.Confirmed {
				return ErrAlreadyEnrolled
			}
			*c = fresh
			return nil
		})
		if errors.Is(err, ErrAlreadyEnrolled) {
			return nil, ErrAlreadyEnrolled
		}
	}
	if cur == nil || errors.Is(err, store.ErrNotFound) { // none, or removed meanwhile
		err = a.store.PutTOTP(ctx, &fresh)
	}
	if err != nil {
		return nil, fmt.Errorf("begin totp enrolment: %w", err)
	}
	return en, nil
}

// PendingEnrolment shows the enrolment in progress again (the same secret,
// URL and QR code), for a citizen who mistyped the confirmation code.
// ErrNotEnrolled when none is in progress, ErrAlreadyEnrolled when it is
// confirmed: a confirmed secret is never shown again.
func (a *Authenticator) PendingEnrolment(ctx context.Context, citizenID string) (*Enrolment, error) {
	c, err := a.store.TOTP(ctx, citizenID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotEnrolled
	}
	if err != nil {
		return nil, fmt.Errorf("pending totp enrolment: %w", err)
	}
	if c.Confirmed {
		return nil, ErrAlreadyEnrolled
	}
	plain, err := a.open(c)
	if err != nil {
		return nil, fmt.Errorf("pending totp enrolment: %w", err)
	}
	defer clear(plain)
	en, err := a.display(plain[:secretSize], string(plain[secretSize:]))
	if err != nil {
		return nil, fmt.Errorf("pending totp enrolment: %w", err)
	}
	return en, nil
}

// display builds what the citizen's app needs from the raw secret.
func (a *Authenticator) display(secret []byte, accountName string) (*Enrolment, error) {
	key, err := libtotp.Generate(libtotp.GenerateOpts{
		Issuer:      a.issuer,
		AccountName: accountName,
		Period:      period,
		Secret:      secret,
		Digits:      digits,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return nil, fmt.Errorf("build key uri: %w", err)
	}
	png, err := qrcode.Encode(key.URL(), qrcode.Medium, 256)
	if err != nil {
		return nil, fmt.Errorf("render qr code: %w", err)
	}
	return &Enrolment{Secret: b32.EncodeToString(secret), URL: key.URL(), QRCodePNG: png}, nil
}

// open unseals c's secret: secretSize bytes of key, then the account name.
func (a *Authenticator) open(c *store.TOTPCredential) ([]byte, error) {
	plain, err := a.sealer.Open(c.Secret, associatedData(c.CitizenID))
	if err != nil {
		return nil, fmt.Errorf("open totp secret: %w", err)
	}
	if len(plain) < secretSize {
		clear(plain)
		return nil, fmt.Errorf("open totp secret: %d bytes, want at least %d", len(plain), secretSize)
	}
	return plain, nil
}

// ConfirmEnrolment checks code against the enrolment in progress (the same
// window and replay rule as Verify), marks the credential confirmed and
// returns RecoveryCodeCount fresh recovery codes, formatted "xxxxx-xxxxx".
// Show them once: only their hashes are kept, and they replace any earlier
// codes. ErrInvalidCode for a wrong or malformed code (the enrolment stays
// open), ErrNotEnrolled when no enrolment is in progress,
// ErrAlreadyEnrolled when it is already confirmed.
func (a *Authenticator) ConfirmEnrolment(ctx context.Context, citizenID, code string) (recovery []string, err error) {
	if !wellFormed(code) {
		return nil, ErrInvalidCode
	}
	code = strings.TrimSpace(code)
	now := a.now()
	var sealed []byte
	err = a.store.UpdateTOTP(ctx, citizenID, func(c *store.TOTPCredential) error {
		if c.Confirmed {
			return ErrAlreadyEnrolled
		}
		step, err := a.match(c, code, now)
		if err != nil {
			return err
		}
		c.Confirmed, c.ConfirmedAt = true, now
		c.LastStep, c.LastUsedAt = step, now
		sealed = c.Secret
		return nil
	})
	if err != nil {
		return nil, a.sentinel("confirm totp enrolment", err)
	}

	codes, hashes := a.newRecoveryCodes(citizenID)
	if err := a.store.ReplaceRecoveryCodes(ctx, citizenID, hashes); err != nil {
		// Without its recovery codes the confirmation must not stand: undo
		// it (if the credential is still the one confirmed above) so that the
		// citizen can confirm again and get codes.
		undo := a.store.UpdateTOTP(ctx, citizenID, func(c *store.TOTPCredential) error {
			if c.Confirmed && bytes.Equal(c.Secret, sealed) {
				c.Confirmed, c.ConfirmedAt = false, time.Time{}
			}
			return nil
		})
		return nil, fmt.Errorf("confirm totp enrolment: store recovery codes: %w", errors.Join(err, undo))
	}
	return codes, nil
}

// Verify checks a code of the citizen's confirmed credential: 6 digits
// (surrounding spaces are ignored), the current 30-second step or one
// either side. The matched step must be later than the last accepted one
// and is recorded in the same transaction, so of concurrent uses of one
// code exactly one succeeds. ErrInvalidCode for a malformed code (checked
// before the store is touched) or a wrong one, ErrReplayed for a code of an
// already accepted step or an earlier one, ErrNotEnrolled without a
// confirmed credential.
func (a *Authenticator) Verify(ctx context.Context, citizenID, code string) error {
	if !wellFormed(code) {
		return ErrInvalidCode
	}
	code = strings.TrimSpace(code)
	now := a.now()
	err := a.store.UpdateTOTP(ctx, citizenID, func(c *store.TOTPCredential) error {
		if !c.Confirmed {
			return ErrNotEnrolled
		}
		step, err := a.match(c, code, now)
		if err != nil {
			return err
		}
		c.LastStep, c.LastUsedAt = step, now
		return nil
	})
	if err != nil {
		return a.sentinel("verify totp", err)
	}
	return nil
}

// sentinel returns err itself when it is one of this package's errors,
// ErrNotEnrolled for a missing credential, else err with context.
func (a *Authenticator) sentinel(what string, err error) error {
	for _, s := range []error{ErrInvalidCode, ErrReplayed, ErrNotEnrolled, ErrAlreadyEnrolled} {
		if errors.Is(err, s) {
			return s
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotEnrolled
	}
	return fmt.Errorf("%s: %w", what, err)
}

// wellFormed reports whether code is exactly six ASCII digits once
// surrounding white space is trimmed.
func wellFormed(code string) bool {
	code = strings.TrimSpace(code)
	if len(code) != digits.Length() {
		return false
	}
	for i := range len(code) {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// match opens c's secret and returns the latest step in the window around
// now whose code is code. Every candidate is computed and compared in
// constant time, whatever matches. ErrInvalidCode when none matches,
// ErrReplayed when the match is not later than c.LastStep.
func (a *Authenticator) match(c *store.TOTPCredential, code string, now time.Time) (int64, error) {
	plain, err := a.open(c)
	if err != nil {
		return 0, err
	}
	encoded := b32.EncodeToString(plain[:secretSize])
	clear(plain)
	cur := stepAt(now)
	var best int64
	found := false
	for d := int64(-skew); d <= skew; d++ {
		step := cur + d
		if step < 0 {
			continue
		}
		want, err := Code(encoded, time.Unix(step*period, 0))
		if err != nil {
			return 0, fmt.Errorf("compute totp code: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			best, found = step, true // steps ascend: the last match is the latest
		}
	}
	if !found {
		return 0, ErrInvalidCode
	}
	if best <= c.LastStep {
		return 0, ErrReplayed
	}
	return best, nil
}

// stepAt is the RFC 6238 time step of t.
func stepAt(t time.Time) int64 {
	s := t.Unix()
	step := s / period
	if s < 0 && s%period != 0 {
		step-- // floor, not truncation
	}
	return step
}

// Code computes the 6-digit code of a base32 secret (padding optional,
// either case) at time t. Tests here and in other packages use it to act
// as the citizen's authenticator app.
func Code(secret string, t time.Time) (string, error) {
	if strings.TrimSpace(secret) == "" {
		return "", errors.New("totp code: empty secret")
	}
	code, err := libtotp.GenerateCodeCustom(secret, t, libtotp.ValidateOpts{
		Period:    period,
		Digits:    digits,
		Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return "", fmt.Errorf("totp code: %w", err)
	}
	return code, nil
}

// Enrolled reports whether the citizen has a confirmed credential.
func (a *Authenticator) Enrolled(ctx context.Context, citizenID string) (bool, error) {
	c, err := a.store.TOTP(ctx, citizenID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("totp enrolled: %w", err)
	}
	return c.Confirmed, nil
}

// CancelEnrolment deletes an enrolment in progress; a confirmed
// credential is kept (ErrAlreadyEnrolled), and no enrolment is no error.
// A confirmation racing the cancel may win; the citizen then has the app
// they just confirmed.
func (a *Authenticator) CancelEnrolment(ctx context.Context, citizenID string) error {
	c, err := a.store.TOTP(ctx, citizenID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("cancel totp enrolment: %w", err)
	case c.Confirmed:
		return ErrAlreadyEnrolled
	}
	if err := a.store.DeleteTOTP(ctx, citizenID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("cancel totp enrolment: %w", err)
	}
	return nil
}

// Remove deletes the citizen's credential, confirmed or in progress, and
// every recovery code. ErrNotEnrolled when there is none.
func (a *Authenticator) Remove(ctx context.Context, citizenID string) error {
	if err := a.store.DeleteTOTP(ctx, citizenID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return ErrNotEnrolled
		}
		return fmt.Errorf("remove totp: %w", err)
	}
	return nil
}

// UseRecoveryCode consumes one of the citizen's recovery codes. Case,
// spaces and dashes do not matter. ErrInvalidCode when the code is
// malformed (checked before the store is touched), wrong or already used;
// ErrNotEnrolled without a confirmed credential. Of concurrent uses of one
// code exactly one succeeds.
func (a *Authenticator) UseRecoveryCode(ctx context.Context, citizenID, code string) error {
	norm, ok := normaliseRecoveryCode(code)
	if !ok {
		return ErrInvalidCode
	}
	enrolled, err := a.Enrolled(ctx, citizenID)
	if err != nil {
		return fmt.Errorf("use recovery code: %w", err)
	}
	if !enrolled {
		return ErrNotEnrolled
	}
	err = a.store.UseRecoveryCode(ctx, citizenID, a.recoveryHash(citizenID, norm), a.now())
	if errors.Is(err, store.ErrNotFound) {
		return ErrInvalidCode
	}
	if err != nil {
		return fmt.Errorf("use recovery code: %w", err)
	}
	return nil
}

// RecoveryCodesLeft counts the citizen's unused recovery codes; 0 without
// a confirmed credential.
func (a *Authenticator) RecoveryCodesLeft(ctx context.Context, citizenID string) (int, error) {
	enrolled, err := a.Enrolled(ctx, citizenID)
	if err != nil || !enrolled {
		return 0, err
	}
	n, err := a.store.RecoveryCodesLeft(ctx, citizenID)
	if err != nil {
		return 0, fmt.Errorf("recovery codes left: %w", err)
	}
	return n, nil
}

// newRecoveryCodes returns RecoveryCodeCount distinct codes for display
// and their hashes for the store.
func (a *Authenticator) newRecoveryCodes(citizenID string) (codes, hashes []string) {
	seen := make(map[string]bool, RecoveryCodeCount)
	for len(codes) < RecoveryCodeCount {
		c := randomRecoveryCode()
		if seen[c] {
			continue
		}
		seen[c] = true
		codes = append(codes, c[:recoveryCodeLen/2]+"-"+c[recoveryCodeLen/2:])
		hashes = append(hashes, a.recoveryHash(citizenID, c))
	}
	return codes, hashes
}

// randomRecoveryCode draws recoveryCodeLen characters uniformly from
// recoveryAlphabet (about 49.5 bits).
func randomRecoveryCode() string {
	const n = len(recoveryAlphabet)
	const limit = 256 - 256%n // reject bytes that would bias the draw
	out := make([]byte, 0, recoveryCodeLen)
	var buf [32]byte
	for len(out) < recoveryCodeLen {
		rand.Read(buf[:])
		for _, b := range buf {
			if int(b) < limit && len(out) < recoveryCodeLen {
				out = append(out, recoveryAlphabet[int(b)%n])
			}
		}
	}
	return string(out)
}

// normaliseRecoveryCode strips white space and dashes and lowercases; the
// result must be recoveryCodeLen characters of recoveryAlphabet.
func normaliseRecoveryCode(code string) (string, bool) {
	if len(code) > maxRecoveryInput {
		return "", false
	}
	var b strings.Builder
	for _, r := range code {
		if r == '-' || unicode.IsSpace(r) {
			continue
		}
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		if r > unicode.MaxASCII || !strings.ContainsRune(recoveryAlphabet, r) {
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != recoveryCodeLen {
		return "", false
	}
	return b.String(), true
}

// recoveryHash is hex(HMAC-SHA256(recoveryKey, citizenID ‖ 0 ‖ code)) of a
// normalised code; the citizen ID makes one citizen's code useless for
// another.
func (a *Authenticator) recoveryHash(citizenID, normalised string) string {
	m := hmac.New(sha256.New, a.recoveryKey)
	m.Write([]byte(citizenID))
	m.Write([]byte{0})
	m.Write([]byte(normalised))
	return hex.EncodeToString(m.Sum(nil))
}
