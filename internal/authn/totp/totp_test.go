package totp_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"image/png"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"

	"github.com/citizenid/citizenid/internal/authn/totp"
	"github.com/citizenid/citizenid/internal/keys"
	"github.com/citizenid/citizenid/internal/store"
	"github.com/citizenid/citizenid/internal/store/sqlite"
)

// t0 is the start of a 30-second step; tests run mid-step unless they say
// otherwise.
var t0 = time.Date(2025, 9, 2, 9, 30, 0, 0, time.UTC)

const step = 30 * time.Second

// clock is the injected clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	auth        *totp.Authenticator
	store       *sqlite.Store
	sealer      *keys.Sealer
	clock       *clock
	recoveryKey []byte
	citizen     string // a citizen without a credential
}

var (
	masterKey   = bytes.Repeat([]byte{0x42}, keys.MasterKeySize)
	recoveryKey = []byte("recovery-key-derived-from-the-master-key")
)

func newEnv(tb testing.TB) *env {
	tb.Helper()
	ctx := tb.Context()
	st, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "db"))
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	sealer, err := keys.NewSealer(masterKey)
	if err != nil {
		tb.Fatal(err)
	}
	clk := &clock{t: t0.Add(10 * time.Second)}
	e := &env{
		auth: totp.New(totp.Options{
			Sealer:      sealer,
			Store:       st,
			RecoveryKey: recoveryKey,
			Now:         clk.Now,
		}),
		store:       st,
		sealer:      sealer,
		clock:       clk,
		recoveryKey: recoveryKey,
	}
	e.citizen = e.newCitizen(tb)
	return e
}

var citizenSeq struct {
	sync.Mutex
	n int
}

func (e *env) newCitizen(tb testing.TB) string {
	tb.Helper()
	citizenSeq.Lock()
	citizenSeq.n++
	n := citizenSeq.n
	citizenSeq.Unlock()
	c := &store.Citizen{ID: fmt.Sprintf("citizen-%d", n), Number: fmt.Sprintf("%012d", n), IdentityLevel: 1}
	if err := e.store.CreateCitizen(tb.Context(), c, ""); err != nil {
		tb.Fatalf("create citizen: %v", err)
	}
	return c.ID
}

// code is what the citizen's app shows now + offset steps.
func (e *env) code(tb testing.TB, secret string, offset int) string {
	tb.Helper()
	c, err := totp.Code(secret, e.clock.Now().Add(time.Duration(offset)*step))
	if err != nil {
		tb.Fatalf("code: %v", err)
	}
	return c
}

// enrol enrols and confirms e.citizen at the current time, then moves the
// clock one step on (the confirming step is used up). It returns the
// secret and the recovery codes.
func (e *env) enrol(tb testing.TB) (secret string, recovery []string) {
	tb.Helper()
	ctx := tb.Context()
	en, err := e.auth.BeginEnrolment(ctx, e.citizen, "an@example.vn")
	if err != nil {
		tb.Fatalf("begin enrolment: %v", err)
	}
	recovery, err = e.auth.ConfirmEnrolment(ctx, e.citizen, e.code(tb, en.Secret, 0))
	if err != nil {
		tb.Fatalf("confirm enrolment: %v", err)
	}
	e.clock.Add(step)
	return en.Secret, recovery
}

// wrongCode is six digits that no step of the window accepts now.
func (e *env) wrongCode(tb testing.TB, secret string) string {
	tb.Helper()
	window := map[string]bool{}
	for d := -1; d <= 1; d++ {
		window[e.code(tb, secret, d)] = true
	}
	for i := 0; ; i++ {
		if c := fmt.Sprintf("%06d", i); !window[c] {
			return c
		}
	}
}

func (e *env) lastStep(tb testing.TB) int64 {
	tb.Helper()
	c, err := e.store.TOTP(tb.Context(), e.citizen)
	if err != nil {
		tb.Fatalf("stored credential: %v", err)
	}
	return c.LastStep
}

func wantErr(t *testing.T, what string, got, want error) {
	t.Helper()
	if !errors.Is(got, want) {
		t.Errorf("%s: got error %v, want %v", what, got, want)
	}
}

func TestEnrolConfirmVerify(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()

	if ok, err := e.auth.Enrolled(ctx, e.citizen); err != nil || ok {
		t.Fatalf("enrolled before enrolment: got %v, %v, want false, nil", ok, err)
	}
	en, err := e.auth.BeginEnrolment(ctx, e.citizen, "an@example.vn")
	if err != nil {
		t.Fatalf("begin enrolment: %v", err)
	}
	if ok, _ := e.auth.Enrolled(ctx, e.citizen); ok {
		t.Errorf("enrolled before confirmation: got true, want false")
	}
	recovery, err := e.auth.ConfirmEnrolment(ctx, e.citizen, e.code(t, en.Secret, 0))
	if err != nil {
		t.Fatalf("confirm enrolment: %v", err)
	}
	if len(recovery) != 10 {
		t.Errorf("recovery codes: got %d, want 10", len(recovery))
	}
	if ok, err := e.auth.Enrolled(ctx, e.citizen); err != nil || !ok {
		t.Errorf("enrolled after confirmation: got %v, %v, want true, nil", ok, err)
	}
	stored, err := e.store.TOTP(ctx, e.citizen)
	if err != nil {
		t.Fatal(err)
	}
	confirmStep := t0.Unix() / 30
	if !stored.Confirmed || stored.LastStep != confirmStep || !stored.ConfirmedAt.Equal(e.clock.Now()) {
		t.Errorf("stored after confirmation: got confirmed %v step %d at %v, want true, %d, %v",
			stored.Confirmed, stored.LastStep, stored.ConfirmedAt, confirmStep, e.clock.Now())
	}

	// The confirming code is used up.
	wantErr(t, "verify the confirming code", e.auth.Verify(ctx, e.citizen, e.code(t, en.Secret, 0)), totp.ErrReplayed)

	e.clock.Add(step)
	code := e.code(t, en.Secret, 0)
	if err := e.auth.Verify(ctx, e.citizen, code); err != nil {
		t.Fatalf("verify current code: got %v, want nil", err)
	}
	if got := e.lastStep(t); got != confirmStep+1 {
		t.Errorf("LastStep: got %d, want %d", got, confirmStep+1)
	}
	wantErr(t, "same code again", e.auth.Verify(ctx, e.citizen, code), totp.ErrReplayed)
	e.clock.Add(step)
	wantErr(t, "same code in the next step (still in the window)", e.auth.Verify(ctx, e.citizen, code), totp.ErrReplayed)
	if err := e.auth.Verify(ctx, e.citizen, " "+e.code(t, en.Secret, 0)+"\t"); err != nil {
		t.Errorf("verify a code with surrounding spaces: got %v, want nil", err)
	}
	stored, err = e.store.TOTP(ctx, e.citizen)
	if err != nil {
		t.Fatal(err)
	}
	if !stored.LastUsedAt.Equal(e.clock.Now()) {
		t.Errorf("LastUsedAt: got %v, want %v", stored.LastUsedAt, e.clock.Now())
	}
}

func TestVerifyWindow(t *testing.T) {
	tests := []struct {
		name   string
		at     time.Duration // into the current step
		offset int           // steps from now of the code presented
		want   error
	}{
		{"current step", 10 * time.Second, 0, nil},
		{"previous step", 10 * time.Second, -1, nil},
		{"next step", 10 * time.Second, +1, nil},
		{"two steps back", 10 * time.Second, -2, totp.ErrInvalidCode},
		{"two steps ahead", 10 * time.Second, +2, totp.ErrInvalidCode},
		{"first second, previous step", 0, -1, nil},
		{"last second, next step", 29 * time.Second, +1, nil},
		{"last second, two steps back", 29 * time.Second, -2, totp.ErrInvalidCode},
		{"first second, two steps ahead", 0, +2, totp.ErrInvalidCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			secret, _ := e.enrol(t)
			// Well after the confirmation, so the last accepted step is out
			// of the window.
			e.clock.Set(t0.Add(100*step + tt.at))
			before := e.lastStep(t)
			code := e.code(t, secret, tt.offset)
			err := e.auth.Verify(t.Context(), e.citizen, code)
			wantErr(t, "verify", err, tt.want)
			want := before
			if tt.want == nil {
				want = t0.Add(100*step).Unix()/30 + int64(tt.offset)
			}
			if got := e.lastStep(t); got != want {
				t.Errorf("LastStep: got %d, want %d", got, want)
			}
		})
	}
}

func TestReplay(t *testing.T) {
	t.Run("previous step after a newer one", func(t *testing.T) {
		e := newEnv(t)
		secret, _ := e.enrol(t)
		ctx := t.Context()
		e.clock.Add(10 * step)
		prev, cur, next := e.code(t, secret, -1), e.code(t, secret, 0), e.code(t, secret, +1)
		if err := e.auth.Verify(ctx, e.citizen, cur); err != nil {
			t.Fatalf("verify current: %v", err)
		}
		wantErr(t, "previous step after current", e.auth.Verify(ctx, e.citizen, prev), totp.ErrReplayed)
		if err := e.auth.Verify(ctx, e.citizen, next); err != nil {
			t.Fatalf("verify next: %v", err)
		}
		wantErr(t, "current after next", e.auth.Verify(ctx, e.citizen, cur), totp.ErrReplayed)
		wantErr(t, "next again", e.auth.Verify(ctx, e.citizen, next), totp.ErrReplayed)
		// The clock catches up with the step used early: its code is still spent.
		e.clock.Add(step)
		wantErr(t, "next once current", e.auth.Verify(ctx, e.citizen, next), totp.ErrReplayed)
		e.clock.Add(step)
		if err := e.auth.Verify(ctx, e.citizen, e.code(t, secret, 0)); err != nil {
			t.Errorf("verify a fresh step: got %v, want nil", err)
		}
	})

	t.Run("wrong code leaves the state alone", func(t *testing.T) {
		e := newEnv(t)
		secret, _ := e.enrol(t)
		before := e.lastStep(t)
		wrong := e.wrongCode(t, secret)
		wantErr(t, "wrong code", e.auth.Verify(t.Context(), e.citizen, wrong), totp.ErrInvalidCode)
		if got := e.lastStep(t); got != before {
			t.Errorf("LastStep after a wrong code: got %d, want %d", got, before)
		}
		if err := e.auth.Verify(t.Context(), e.citizen, e.code(t, secret, 0)); err != nil {
			t.Errorf("right code after a wrong one: got %v, want nil", err)
		}
	})
}

func TestMalformedCode(t *testing.T) {
	e := newEnv(t)
	secret, _ := e.enrol(t)
	good := e.code(t, secret, 0)
	tests := []struct{ name, code string }{
		{"empty", ""},
		{"spaces", "      "},
		{"five digits", good[:5]},
		{"seven digits", good + "0"},
		{"letters", "12a456"},
		{"inner space", good[:3] + " " + good[3:]},
		{"sign", "+" + good[1:]},
		{"non-ASCII digits", "١٢٣٤٥٦"},
		{"fullwidth digits", "１２３４５６"},
		{"NUL", good[:5] + "\x00"},
		{"long", strings.Repeat("1", 1<<16)},
		{"trailing garbage", good + "x"},
	}
	other := e.newCitizen(t) // no credential: the store would say ErrNotEnrolled
	before := e.lastStep(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, "verify", e.auth.Verify(t.Context(), e.citizen, tt.code), totp.ErrInvalidCode)
			// ErrInvalidCode rather than ErrNotEnrolled: refused before the
			// store was asked.
			wantErr(t, "verify for a citizen without a credential", e.auth.Verify(t.Context(), other, tt.code), totp.ErrInvalidCode)
			_, err := e.auth.ConfirmEnrolment(t.Context(), other, tt.code)
			wantErr(t, "confirm for a citizen without a credential", err, totp.ErrInvalidCode)
		})
	}
	if got := e.lastStep(t); got != before {
		t.Errorf("LastStep after malformed codes: got %d, want %d", got, before)
	}
	if err := e.auth.Verify(t.Context(), e.citizen, good); err != nil {
		t.Errorf("the good code after malformed ones: got %v, want nil", err)
	}
}

func TestNotEnrolled(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	wantErr(t, "verify without credential", e.auth.Verify(ctx, e.citizen, "123456"), totp.ErrNotEnrolled)
	_, err := e.auth.ConfirmEnrolment(ctx, e.citizen, "123456")
	wantErr(t, "confirm without enrolment", err, totp.ErrNotEnrolled)
	wantErr(t, "remove without credential", e.auth.Remove(ctx, e.citizen), totp.ErrNotEnrolled)
	wantErr(t, "recovery code without credential", e.auth.UseRecoveryCode(ctx, e.citizen, "abcde-fghjk"), totp.ErrNotEnrolled)

	en, err := e.auth.BeginEnrolment(ctx, e.citizen, "an@example.vn")
	if err != nil {
		t.Fatalf("begin enrolment: %v", err)
	}
	// An unconfirmed credential does not verify, even with a right code.
	wantErr(t, "verify unconfirmed", e.auth.Verify(ctx, e.citizen, e.code(t, en.Secret, 0)), totp.ErrNotEnrolled)
	if stored, err := e.store.TOTP(ctx, e.citizen); err != nil || stored.LastStep != 0 {
		t.Errorf("unconfirmed credential after verify: got %+v, %v, want step 0", stored, err)
	}
	if n, err := e.auth.RecoveryCodesLeft(ctx, e.citizen); err != nil || n != 0 {
		t.Errorf("recovery codes left unconfirmed: got %d, %v, want 0, nil", n, err)
	}

	_, err = e.auth.BeginEnrolment(ctx, "no-such-citizen", "x")
	wantErr(t, "begin for an unknown citizen", err, store.ErrNotFound)
	for _, name := range []string{"", "  ", "a:b"} {
		if _, err := e.auth.BeginEnrolment(ctx, e.citizen, name); err == nil {
			t.Errorf("begin with account name %q: got nil error, want an error", name)
		}
	}
}

func TestEnrolmentLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()

	first, err := e.auth.BeginEnrolment(ctx, e.citizen, "an@example.vn")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.auth.ConfirmEnrolment(ctx, e.citizen, e.wrongCode(t, first.Secret))
	wantErr(t, "confirm with a wrong code", err, totp.ErrInvalidCode)
	if ok, _ := e.auth.Enrolled(ctx, e.citizen); ok {
		t.Errorf("enrolled after a wrong confirmation code: got true, want false")
	}

	// Beginning again replaces the secret: the first no longer confirms.
	second, err := e.auth.BeginEnrolment(ctx, e.citizen, "an@example.vn")
	if err != nil {
		t.Fatal(err)
	}
	if second.Secret == first.Secret {
		t.Fatalf("second enrolment: got the same secret, want a fresh one")
	}
	if c1, c2 := e.code(t, first.Secret, 0), e.code(t, second.Secret, 0); c1 != c2 {
		_, err = e.auth.ConfirmEnrolment(ctx, e.citizen, c1)
		wantErr(t, "confirm with the replaced secret", err, totp.ErrInvalidCode)
	}
	if _, err := e.auth.ConfirmEnrolment(ctx, e.citizen, e.code(t, second.Secret, 0)); err != nil {
		t.Fatalf("confirm with the second secret: %v", err)
	}

	_, err = e.auth.BeginEnrolment(ctx, e.citizen, "an@example.vn")
	wantErr(t, "begin when confirmed", err, totp.ErrAlreadyEnrolled)
	_, err = e.auth.ConfirmEnrolment(ctx, e.citizen, e.code(t, second.Secret, 1))
	wantErr(t, "confirm when confirmed", err, totp.ErrAlreadyEnrolled)
	e.clock.Add(step)
	if err := e.auth.Verify(ctx, e.citizen, e.code(t, second.Secret, 0)); err != nil {
		t.Errorf("verify after the refused begin: got %v, want nil (credential untouched)", err)
	}
}

func TestPendingEnrolment(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	_, err := e.auth.PendingEnrolment(ctx, e.citizen)
	wantErr(t, "pending without enrolment", err, totp.ErrNotEnrolled)

	en, err := e.auth.BeginEnrolment(ctx, e.citizen, "0010****0001")
	if err != nil {
		t.Fatal(err)
	}
	// A mistyped code, then the page shows the same enrolment again.
	_, err = e.auth.ConfirmEnrolment(ctx, e.citizen, e.wrongCode(t, en.Secret))
	wantErr(t, "confirm with a wrong code", err, totp.ErrInvalidCode)
	again, err := e.auth.PendingEnrolment(ctx, e.citizen)
	if err != nil {
		t.Fatalf("pending enrolment: %v", err)
	}
	if again.Secret != en.Secret || again.URL != en.URL || !bytes.Equal(again.QRCodePNG, en.QRCodePNG) {
		t.Errorf("pending enrolment: got secret %q url %q, want %q %q and the same QR code", again.Secret, again.URL, en.Secret, en.URL)
	}
	if _, err := e.auth.ConfirmEnrolment(ctx, e.citizen, e.code(t, again.Secret, 0)); err != nil {
		t.Fatalf("confirm: %v", err)
	}
	_, err = e.auth.PendingEnrolment(ctx, e.citizen)
	wantErr(t, "pending once confirmed", err, totp.ErrAlreadyEnrolled)
}

func TestSecretSealedAtRest(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	secret, _ := e.enrol(t)
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		t.Fatalf("secret is not unpadded base32: %v", err)
	}
	if len(raw) != 20 {
		t.Errorf("secret: got %d bytes, want 20 (160 bits)", len(raw))
	}
	stored, err := e.store.TOTP(ctx, e.citizen)
	if err != nil {
		t.Fatal(err)
	}
	for _, plain := range [][]byte{raw, []byte(secret), []byte(strings.ToLower(secret)), []byte("an@example.vn")} {
		if bytes.Contains(stored.Secret, plain) {
			t.Errorf("stored secret contains the clear secret %q", plain)
		}
	}
	opened, err := e.sealer.Open(stored.Secret, []byte("citizenid totp:"+e.citizen))
	if err != nil {
		t.Fatalf("open with the right associated data: %v", err)
	}
	// The plaintext is the key, then the account name.
	if want := append(bytes.Clone(raw), "an@example.vn"...); !bytes.Equal(opened, want) {
		t.Errorf("opened secret: got %q, want %q", opened, want)
	}
	for _, ad := range []string{"citizenid totp:someone-else", "citizenid totp:", e.citizen, ""} {
		if _, err := e.sealer.Open(stored.Secret, []byte(ad)); !errors.Is(err, keys.ErrUnseal) {
			t.Errorf("open with associated data %q: got %v, want %v", ad, err, keys.ErrUnseal)
		}
	}
	otherKey, _ := keys.NewSealer(bytes.Repeat([]byte{0x24}, keys.MasterKeySize))
	if _, err := otherKey.Open(stored.Secret, []byte("citizenid totp:"+e.citizen)); !errors.Is(err, keys.ErrUnseal) {
		t.Errorf("open under another master key: got %v, want %v", err, keys.ErrUnseal)
	}

	// A sealed secret copied to another citizen's row does not verify there.
	other := e.newCitizen(t)
	moved := *stored
	moved.CitizenID = other
	if err := e.store.PutTOTP(ctx, &moved); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(step)
	err = e.auth.Verify(ctx, other, e.code(t, secret, 0))
	if err == nil || errors.Is(err, totp.ErrInvalidCode) || errors.Is(err, totp.ErrReplayed) {
		t.Errorf("verify a secret moved to another citizen: got %v, want an unseal failure", err)
	}
	if !errors.Is(err, keys.ErrUnseal) {
		t.Errorf("verify a secret moved to another citizen: got %v, want it to wrap %v", err, keys.ErrUnseal)
	}
}

var recoveryFormat = regexp.MustCompile(`^[23456789abcdefghjkmnpqrstuvwxyz]{5}-[23456789abcdefghjkmnpqrstuvwxyz]{5}$`)

func TestRecoveryCodes(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	_, codes := e.enrol(t)

	left := func(want int) {
		t.Helper()
		n, err := e.auth.RecoveryCodesLeft(ctx, e.citizen)
		if err != nil || n != want {
			t.Errorf("recovery codes left: got %d, %v, want %d, nil", n, err, want)
		}
	}

	if len(codes) != 10 {
		t.Fatalf("recovery codes: got %d, want 10", len(codes))
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if !recoveryFormat.MatchString(c) {
			t.Errorf("recovery code %q: want 10 characters of the unambiguous alphabet as xxxxx-xxxxx", c)
		}
		seen[c] = true
	}
	if len(seen) != 10 {
		t.Errorf("distinct recovery codes: got %d, want 10", len(seen))
	}
	left(10)

	// Stored as HMAC-SHA256(key, citizen ‖ 0 ‖ normalised code), never in clear.
	if err := e.store.UseRecoveryCode(ctx, e.citizen, codes[9], t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("store lookup of a clear code: got %v, want %v", err, store.ErrNotFound)
	}
	m := hmac.New(sha256.New, e.recoveryKey)
	m.Write([]byte(e.citizen + "\x00" + strings.ReplaceAll(codes[9], "-", "")))
	if err := e.store.UseRecoveryCode(ctx, e.citizen, hex.EncodeToString(m.Sum(nil)), t0); err != nil {
		t.Errorf("store lookup of the expected hash: got %v, want nil", err)
	}
	left(9)
	wantErr(t, "code used through the store", e.auth.UseRecoveryCode(ctx, e.citizen, codes[9]), totp.ErrInvalidCode)

	// Each works once, however it is typed.
	forms := []func(string) string{
		func(c string) string { return c },
		strings.ToUpper,
		func(c string) string { return strings.ReplaceAll(c, "-", "") },
		func(c string) string { return " " + strings.ReplaceAll(c, "-", " ") + " " },
		func(c string) string { return strings.ToUpper(c[:3]) + c[3:7] + " - " + c[7:] },
		func(c string) string { return c[:2] + "-" + c[2:] + "\n" },
	}
	for i, c := range codes[:len(forms)] {
		typed := forms[i](c)
		if err := e.auth.UseRecoveryCode(ctx, e.citizen, typed); err != nil {
			t.Errorf("use recovery code typed %q: got %v, want nil", typed, err)
		}
		wantErr(t, "use again", e.auth.UseRecoveryCode(ctx, e.citizen, c), totp.ErrInvalidCode)
		wantErr(t, "use again typed differently", e.auth.UseRecoveryCode(ctx, e.citizen, strings.ToUpper(c)), totp.ErrInvalidCode)
	}
	left(9 - len(forms))

	for _, bad := range []string{"", "abcde", "abcde-fghjk-m", "abcde-fghj0", "abcde-fghjl", "ABCDE_FGHJK", "abcde-fghjǩ",
		strings.Repeat("a", 100), strings.Repeat(" ", 100) + "abcde-fghjk"} {
		wantErr(t, fmt.Sprintf("malformed recovery code %q", bad), e.auth.UseRecoveryCode(ctx, e.citizen, bad), totp.ErrInvalidCode)
	}
	wantErr(t, "well-formed wrong code", e.auth.UseRecoveryCode(ctx, e.citizen, "22222-22222"), totp.ErrInvalidCode)
	left(9 - len(forms))

	// One citizen's code is nothing to another.
	e2 := *e
	e2.citizen = e.newCitizen(t)
	e2.enrol(t)
	wantErr(t, "another citizen's code", e.auth.UseRecoveryCode(ctx, e2.citizen, codes[8]), totp.ErrInvalidCode)
	if err := e.auth.UseRecoveryCode(ctx, e.citizen, codes[8]); err != nil {
		t.Errorf("own code after another citizen tried it: got %v, want nil", err)
	}
	left(9 - len(forms) - 1)
}

func TestRemove(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	secret, codes := e.enrol(t)
	if err := e.auth.Remove(ctx, e.citizen); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if ok, err := e.auth.Enrolled(ctx, e.citizen); err != nil || ok {
		t.Errorf("enrolled after remove: got %v, %v, want false, nil", ok, err)
	}
	if _, err := e.store.TOTP(ctx, e.citizen); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("stored credential after remove: got %v, want %v", err, store.ErrNotFound)
	}
	if n, err := e.store.RecoveryCodesLeft(ctx, e.citizen); err != nil || n != 0 {
		t.Errorf("stored recovery codes after remove: got %d, %v, want 0, nil", n, err)
	}
	wantErr(t, "verify after remove", e.auth.Verify(ctx, e.citizen, e.code(t, secret, 0)), totp.ErrNotEnrolled)
	wantErr(t, "recovery code after remove", e.auth.UseRecoveryCode(ctx, e.citizen, codes[0]), totp.ErrNotEnrolled)
	wantErr(t, "remove again", e.auth.Remove(ctx, e.citizen), totp.ErrNotEnrolled)

	// Enrolling again gives a new secret and new codes; the old ones are dead.
	secret2, codes2 := e.enrol(t)
	if secret2 == secret {
		t.Errorf("secret after re-enrolment: got the old one, want a fresh one")
	}
	wantErr(t, "old recovery code after re-enrolment", e.auth.UseRecoveryCode(ctx, e.citizen, codes[0]), totp.ErrInvalidCode)
	if err := e.auth.UseRecoveryCode(ctx, e.citizen, codes2[0]); err != nil {
		t.Errorf("new recovery code: got %v, want nil", err)
	}

	// Remove also cancels an enrolment in progress.
	other := e.newCitizen(t)
	if _, err := e.auth.BeginEnrolment(ctx, other, "x@example.vn"); err != nil {
		t.Fatal(err)
	}
	if err := e.auth.Remove(ctx, other); err != nil {
		t.Errorf("remove an enrolment in progress: got %v, want nil", err)
	}
}

func TestConcurrentVerify(t *testing.T) {
	e := newEnv(t)
	secret, _ := e.enrol(t)
	code := e.code(t, secret, 0)
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = e.auth.Verify(t.Context(), e.citizen, code)
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, totp.ErrReplayed):
			t.Errorf("verify %d: got %v, want nil or %v", i, err, totp.ErrReplayed)
		}
	}
	if ok != 1 {
		t.Errorf("successful verifications of one code: got %d, want 1", ok)
	}
}

func TestConcurrentRecoveryCode(t *testing.T) {
	e := newEnv(t)
	_, codes := e.enrol(t)
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = e.auth.UseRecoveryCode(t.Context(), e.citizen, codes[0])
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, totp.ErrInvalidCode):
			t.Errorf("use %d: got %v, want nil or %v", i, err, totp.ErrInvalidCode)
		}
	}
	if ok != 1 {
		t.Errorf("successful uses of one recovery code: got %d, want 1", ok)
	}
}

func TestEnrolmentDisplay(t *testing.T) {
	tests := []struct {
		name, issuer, wantIssuer string
	}{
		{"default issuer", "", "CitizenID"},
		{"custom issuer", "Cổng Dịch vụ công", "Cổng Dịch vụ công"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			a := totp.New(totp.Options{Issuer: tt.issuer, Sealer: e.sealer, Store: e.store, RecoveryKey: recoveryKey, Now: e.clock.Now})
			en, err := a.BeginEnrolment(t.Context(), e.citizen, "an@example.vn")
			if err != nil {
				t.Fatal(err)
			}

			if strings.Contains(en.Secret, "=") || len(en.Secret) != 32 {
				t.Errorf("secret %q: want 32 base32 characters without padding", en.Secret)
			}

			if ct := http.DetectContentType(en.QRCodePNG); ct != "image/png" {
				t.Errorf("QR code content type: got %q, want image/png", ct)
			}
			img, err := png.Decode(bytes.NewReader(en.QRCodePNG))
			if err != nil {
				t.Fatalf("decode QR code PNG: %v", err)
			}
			if b := img.Bounds(); b.Dx() < 100 || b.Dx() != b.Dy() {
				t.Errorf("QR code size: got %v, want a square of at least 100 px", b)
			}

			u, err := url.Parse(en.URL)
			if err != nil {
				t.Fatalf("parse otpauth URL: %v", err)
			}
			q := u.Query()
			for _, c := range []struct{ what, got, want string }{
				{"scheme", u.Scheme, "otpauth"},
				{"type", u.Host, "totp"},
				{"label", u.Path, "/" + tt.wantIssuer + ":an@example.vn"},
				{"secret", q.Get("secret"), en.Secret},
				{"issuer", q.Get("issuer"), tt.wantIssuer},
				{"algorithm", q.Get("algorithm"), "SHA1"},
				{"digits", q.Get("digits"), "6"},
				{"period", q.Get("period"), "30"},
			} {
				if c.got != c.want {
					t.Errorf("otpauth URL %s: got %q, want %q", c.what, c.got, c.want)
				}
			}
			key, err := otp.NewKeyFromURL(en.URL)
			if err != nil {
				t.Fatalf("otp.NewKeyFromURL: %v", err)
			}
			if key.Issuer() != tt.wantIssuer || key.Secret() != en.Secret || key.Digits() != otp.DigitsSix || key.Period() != 30 {
				t.Errorf("key from URL: got issuer %q secret %q digits %v period %d", key.Issuer(), key.Secret(), key.Digits(), key.Period())
			}

			// The secret the app reads from the URL is the one that confirms.
			if _, err := a.ConfirmEnrolment(t.Context(), e.citizen, e.code(t, key.Secret(), 0)); err != nil {
				t.Errorf("confirm with the URL's secret: %v", err)
			}
		})
	}
}

// TestCode checks Code against RFC 6238 Appendix B (SHA-1), truncated to
// six digits.
func TestCode(t *testing.T) {
	secret := base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))
	tests := []struct {
		unix int64
		want string
	}{
		{59, "287082"},
		{1111111109, "081804"},
		{1111111111, "050471"},
		{1234567890, "005924"},
		{2000000000, "279037"},
		{20000000000, "353130"},
	}
	for _, tt := range tests {
		for _, s := range []string{secret, strings.TrimRight(secret, "="), strings.ToLower(secret)} {
			got, err := totp.Code(s, time.Unix(tt.unix, 0))
			if err != nil || got != tt.want {
				t.Errorf("Code(%q, %d): got %q, %v, want %q, nil", s, tt.unix, got, err, tt.want)
			}
		}
	}
	for _, bad := range []string{"", "  ", "not base32!", "AAAAAAA1"} {
		if _, err := totp.Code(bad, t0); err == nil {
			t.Errorf("Code(%q): got nil error, want an error", bad)
		}
	}
}

func TestNewPanicsOnMissingOptions(t *testing.T) {
	sealer, _ := keys.NewSealer(masterKey)
	st := &sqlite.Store{}
	tests := []struct {
		name string
		o    totp.Options
	}{
		{"no sealer", totp.Options{Store: st, RecoveryKey: recoveryKey}},
		{"no store", totp.Options{Sealer: sealer, RecoveryKey: recoveryKey}},
		{"short recovery key", totp.Options{Sealer: sealer, Store: st, RecoveryKey: []byte("short")}},
		{"colon in issuer", totp.Options{Issuer: "a:b", Sealer: sealer, Store: st, RecoveryKey: recoveryKey}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("New: got no panic, want one")
				}
			}()
			totp.New(tt.o)
		})
	}
}

// FuzzVerify feeds arbitrary input to Verify. In the input, "{code}"
// stands for the code the citizen's app shows now, so the corpus can reach
// the success path. Invariants: no panic; success only for input that is
// exactly six ASCII digits once trimmed; the right code, trimmed, is never
// refused as invalid. Each run moves the clock one step on, so every run
// has a fresh step to spend (three steps: a success one step ahead never
// spends the next run's step).
func FuzzVerify(f *testing.F) {
	for _, s := range []string{
		"{code}", " {code} ", "\t{code}\n", "{code}0", "0{code}", "{code}{code}", "{code}\x00",
		"", "123456", "12345", "1234567", "abcdef", "12 345", "١٢٣٤٥٦", "１２３４５６", "-12345", "+12345",
		"0x1234", "1e5", "\u00a0123456\u00a0", "{code}\u200b",
	} {
		f.Add(s)
	}
	e := newEnv(f)
	secret, _ := e.enrol(f)
	sixDigits := regexp.MustCompile(`^[0-9]{6}$`)
	f.Fuzz(func(t *testing.T, in string) {
		e.clock.Add(3 * step)
		code := e.code(t, secret, 0)
		input := strings.ReplaceAll(in, "{code}", code)
		err := e.auth.Verify(context.Background(), e.citizen, input)
		trimmed := strings.TrimSpace(input)
		if err == nil && !sixDigits.MatchString(trimmed) {
			t.Fatalf("Verify(%q): got success for input that is not six digits", input)
		}
		if err != nil && !errors.Is(err, totp.ErrInvalidCode) && !errors.Is(err, totp.ErrReplayed) {
			t.Fatalf("Verify(%q): got error %v, want nil, %v or %v", input, err, totp.ErrInvalidCode, totp.ErrReplayed)
		}
		if trimmed == code && err != nil {
			t.Fatalf("Verify(%q) with the current code: got %v, want nil", input, err)
		}
	})
}
