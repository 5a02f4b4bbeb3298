package webauthn_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/authn/webauthn"
	"github.com/citizenid/citizenid/internal/authn/webauthn/webauthntest"
	"github.com/citizenid/citizenid/internal/login"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
	"github.com/citizenid/citizenid/internal/store/sqlite"
	"github.com/citizenid/citizenid/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const (
	rpID   = "id.example.gov"
	origin = "https://id.example.gov"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	t       testing.TB
	a       *webauthn.Authenticator
	st      *sqlite.Store
	clk     *clock
	citizen *store.Citizen
	other   *store.Citizen
}

func newEnv(t testing.TB, tweak func(o *webauthn.Options)) *env {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	rdb, err := session.Dial(ctx, session.DialOptions{URL: testenv.RedisURL(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	clk := &clock{t: time.Date(2025, 9, 2, 9, 30, 0, 0, time.UTC)}
	o := webauthn.Options{
		RPID: rpID, Origins: []string{origin}, Timeout: 5 * time.Minute,
		Store: st, Sessions: session.New(rdb, session.Options{Now: clk.Now}),
		UserHandleKey: bytes.Repeat([]byte{7}, 32),
		Audit:         audit.New(st, slog.New(slog.DiscardHandler), clk.Now), Now: clk.Now,
	}
	if tweak != nil {
		tweak(&o)
	}
	a, err := webauthn.New(o)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, a: a, st: st, clk: clk}
	e.citizen = &store.Citizen{ID: "cit-" + session.RandomToken(6), Number: "079201000123", Name: "Trần Thị Bình"}
	e.other = &store.Citizen{ID: "cit-" + session.RandomToken(6), Number: "001090000002", Name: "Nguyễn Văn An"}
	for _, c := range []*store.Citizen{e.citizen, e.other} {
		if err := st.CreateCitizen(ctx, c, ""); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// device is a device-bound passkey with user verification.
func device() *webauthntest.Authenticator {
	return &webauthntest.Authenticator{Origin: origin, UserVerified: true}
}

// register registers a credential of dev for c.
func (e *env) register(c *store.Citizen, dev *webauthntest.Authenticator, name string) (*webauthntest.Credential, *store.WebAuthnCredential) {
	e.t.Helper()
	reg, err := e.a.BeginRegistration(e.t.Context(), c, name)
	if err != nil {
		e.t.Fatal(err)
	}
	cred, resp, err := dev.Create(reg.Options)
	if err != nil {
		e.t.Fatal(err)
	}
	sc, err := e.a.FinishRegistration(e.t.Context(), c.ID, reg.ID, resp)
	if err != nil {
		e.t.Fatalf("finish registration: %v", err)
	}
	return cred, sc
}

// assertion begins a login under binding and answers it with cred.
func (e *env) assertion(binding, citizenID string, dev *webauthntest.Authenticator, cred *webauthntest.Credential) []byte {
	e.t.Helper()
	as, err := e.a.BeginLogin(e.t.Context(), binding, citizenID)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := dev.Get(as.Options, cred)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

func TestRegistration(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	dev := device()
	dev.AAGUID = []byte{0xad, 0xce, 0x00, 0x02, 0x35, 0xbc, 0xc6, 0x0a, 0x64, 0x8b, 0x0b, 0x25, 0xf1, 0xf0, 0x55, 0x03}
	reg, err := e.a.BeginRegistration(ctx, e.citizen, "  Điện thoại   của tôi ")
	if err != nil {
		t.Fatal(err)
	}
	var opts struct {
		PublicKey struct {
			RP struct {
				ID string `json:"id"`
			} `json:"rp"`
			User struct {
				ID, Name, DisplayName string
			} `json:"user"`
			AuthenticatorSelection struct {
				ResidentKey, UserVerification string
			} `json:"authenticatorSelection"`
			Attestation        string            `json:"attestation"`
			ExcludeCredentials []json.RawMessage `json:"excludeCredentials"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(reg.Options, &opts); err != nil {
		t.Fatal(err)
	}
	pk := opts.PublicKey
	if pk.RP.ID != rpID || pk.AuthenticatorSelection.ResidentKey != "preferred" || pk.AuthenticatorSelection.UserVerification != "required" ||
		pk.Attestation != "none" || len(pk.ExcludeCredentials) != 0 {
		t.Errorf("creation options: got %+v, want rp %s, residentKey preferred, UV required, attestation none, nothing excluded", pk, rpID)
	}
	if strings.Contains(string(reg.Options), e.citizen.Number) || strings.Contains(string(reg.Options), e.citizen.ID) {
		t.Errorf("creation options reveal the citizen number or ID: %s", reg.Options)
	}
	if reg.Name != "Điện thoại của tôi" {
		t.Errorf("name: got %q, want it trimmed and collapsed", reg.Name)
	}
	cred, resp, err := dev.Create(reg.Options)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := e.a.FinishRegistration(ctx, e.citizen.ID, reg.ID, resp)
	if err != nil {
		t.Fatalf("finish: %v", err)
	}
	got, err := e.st.WebAuthnCredentialByID(ctx, cred.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := store.WebAuthnCredential{
		ID: cred.ID, CitizenID: e.citizen.ID, PublicKey: sc.PublicKey, AAGUID: dev.AAGUID, Transports: []string{"internal"},
		AttestationFormat: "none", UserVerified: true, Name: "Điện thoại của tôi", CreatedAt: e.clk.Now(),
	}
	if got.CitizenID != want.CitizenID || !bytes.Equal(got.AAGUID, want.AAGUID) || !slices.Equal(got.Transports, want.Transports) ||
		got.AttestationFormat != "none" || !got.UserVerified || got.BackupEligible || got.Name != want.Name ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.LastUsedAt.IsZero() || got.Flagged || len(got.PublicKey) == 0 {
		t.Errorf("stored credential:\ngot  %+v\nwant %+v", got, want)
	}

	t.Run("existing credentials are excluded", func(t *testing.T) {
		reg, err := e.a.BeginRegistration(ctx, e.citizen, "Khoá bảo mật")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(reg.Options), `"excludeCredentials":[{"type":"public-key","id":"`) {
			t.Errorf("options: got %s, want the registered credential excluded", reg.Options)
		}
	})

	refusals := []struct {
		name    string
		tweak   func(d *webauthntest.Authenticator)
		finish  func(reg *webauthn.Registration, resp []byte) error
		wantErr []error
	}{
		{"replayed ceremony", nil, func(reg *webauthn.Registration, resp []byte) error {
			if _, err := e.a.FinishRegistration(ctx, e.citizen.ID, reg.ID, resp); err != nil {
				return err
			}
			_, err := e.a.FinishRegistration(ctx, e.citizen.ID, reg.ID, resp)
			return err
		}, []error{webauthn.ErrNoChallenge}},
		{"another citizen's ceremony", nil, func(reg *webauthn.Registration, resp []byte) error {
			_, err := e.a.FinishRegistration(ctx, e.other.ID, reg.ID, resp)
			return err
		}, []error{webauthn.ErrNoChallenge}},
		{"wrong origin", func(d *webauthntest.Authenticator) { d.Origin = "https://id.example.gov.evil.example" }, nil, []error{webauthn.ErrInvalid}},
		{"wrong RP ID", func(d *webauthntest.Authenticator) { d.RPID = "evil.example" }, nil, []error{webauthn.ErrInvalid}},
		{"user not verified", func(d *webauthntest.Authenticator) { d.UserVerified = false }, nil, []error{webauthn.ErrInvalid, webauthn.ErrUserNotVerified}},
		{"expired", nil, func(reg *webauthn.Registration, resp []byte) error {
			e.clk.Add(5*time.Minute + time.Second)
			_, err := e.a.FinishRegistration(ctx, e.citizen.ID, reg.ID, resp)
			return err
		}, []error{webauthn.ErrExpired}},
		{"garbage", nil, func(reg *webauthn.Registration, _ []byte) error {
			_, err := e.a.FinishRegistration(ctx, e.citizen.ID, reg.ID, []byte(`{"id":"AA","rawId":"AA","type":"public-key","response":{}}`))
			return err
		}, []error{webauthn.ErrInvalid}},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := e.st.ListWebAuthnCredentials(ctx, e.citizen.ID)
			d := device()
			if tt.tweak != nil {
				tt.tweak(d)
			}
			reg, err := e.a.BeginRegistration(ctx, e.citizen, "x")
			if err != nil {
				t.Fatal(err)
			}
			_, resp, err := d.Create(reg.Options)
			if err != nil {
				t.Fatal(err)
			}
			finish := tt.finish
			if finish == nil {
				finish = func(reg *webauthn.Registration, resp []byte) error {
					_, err := e.a.FinishRegistration(ctx, e.citizen.ID, reg.ID, resp)
					return err
				}
			}
			err = finish(reg, resp)
			if !slices.ContainsFunc(tt.wantErr, func(w error) bool { return errors.Is(err, w) }) {
				t.Fatalf("got error %v, want one of %v", err, tt.wantErr)
			}
			after, _ := e.st.ListWebAuthnCredentials(ctx, e.citizen.ID)
			if tt.name != "replayed ceremony" && len(after) != len(before) {
				t.Errorf("credentials: got %d, want %d (nothing stored)", len(after), len(before))
			}
		})
	}
}

func TestRegistrationAAGUIDAllowList(t *testing.T) {
	allowed := "adce0002-35bc-c60a-648b-0b25f1f05503"
	e := newEnv(t, func(o *webauthn.Options) {
		o.Attestation = "direct"
		o.AllowedAAGUIDs = []string{strings.ToUpper(allowed)}
	})
	ctx := t.Context()
	// The right model, but unattested ("none"): its model is only claimed.
	dev := device()
	dev.AAGUID = []byte{0xad, 0xce, 0x00, 0x02, 0x35, 0xbc, 0xc6, 0x0a, 0x64, 0x8b, 0x0b, 0x25, 0xf1, 0xf0, 0x55, 0x03}
	reg, err := e.a.BeginRegistration(ctx, e.citizen, "key")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(reg.Options), `"attestation":"direct"`) {
		t.Errorf("options: got %s, want attestation direct", reg.Options)
	}
	_, resp, _ := dev.Create(reg.Options)
	if _, err := e.a.FinishRegistration(ctx, e.citizen.ID, reg.ID, resp); !errors.Is(err, webauthn.ErrNotAllowed) {
		t.Errorf("unattested registration: got %v, want %v", err, webauthn.ErrNotAllowed)
	}
	if _, err := webauthn.New(webauthn.Options{RPID: rpID, Origins: []string{origin}, AllowedAAGUIDs: []string{allowed},
		Store: e.st, Sessions: session.New(nil, session.Options{}), UserHandleKey: make([]byte, 16),
		Audit: audit.New(e.st, slog.New(slog.DiscardHandler), nil)}); err == nil {
		t.Errorf("allow-list without attestation direct: got nil error, want one")
	}
}

func TestLoginLevels(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	bound := device()
	boundCred, _ := e.register(e.citizen, bound, "Điện thoại của tôi")
	synced := &webauthntest.Authenticator{Origin: origin, UserVerified: true, BackupEligible: true, BackupState: true}
	syncedCred, _ := e.register(e.citizen, synced, "Passkey đồng bộ")

	tests := []struct {
		name      string
		dev       *webauthntest.Authenticator
		cred      *webauthntest.Credential
		citizenID string // "" passwordless
		uv        bool
		want      session.AuthEvent
	}{
		{"device-bound, verified, passwordless", bound, boundCred, "", true,
			session.AuthEvent{Method: "webauthn", AMR: []string{"hwk", "user", "mfa"}, Level: 3}},
		{"device-bound, verified, identified", bound, boundCred, e.citizen.ID, true,
			session.AuthEvent{Method: "webauthn", AMR: []string{"hwk", "user", "mfa"}, Level: 3}},
		{"device-bound, not verified", bound, boundCred, e.citizen.ID, false,
			session.AuthEvent{Method: "webauthn", AMR: []string{"hwk"}, Level: 2, SecondFactor: true}},
		{"synced, verified", synced, syncedCred, "", true,
			session.AuthEvent{Method: "webauthn", AMR: []string{"swk", "user"}, Level: 2}},
		{"synced, not verified", synced, syncedCred, e.citizen.ID, false,
			session.AuthEvent{Method: "webauthn", AMR: []string{"swk"}, Level: 2, SecondFactor: true}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.dev.UserVerified = tt.uv
			defer func() { tt.dev.UserVerified = true }()
			e.clk.Add(time.Minute)
			binding := "txn-levels-" + string(rune('a'+i))
			l, err := e.a.FinishLogin(ctx, binding, tt.citizenID, e.assertion(binding, tt.citizenID, tt.dev, tt.cred))
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			if l.CitizenID != e.citizen.ID || l.UserVerified != tt.uv {
				t.Errorf("login: got citizen %s, UV %v; want %s, %v", l.CitizenID, l.UserVerified, e.citizen.ID, tt.uv)
			}
			if got := l.Event(); !eventEqual(got, tt.want) {
				t.Errorf("event: got %+v, want %+v", got, tt.want)
			}
			stored, err := e.st.WebAuthnCredentialByID(ctx, tt.cred.ID)
			if err != nil {
				t.Fatal(err)
			}
			if stored.SignCount != tt.cred.SignCount || !stored.LastUsedAt.Equal(e.clk.Now()) {
				t.Errorf("stored counter and last use: got %d, %v; want %d, %v", stored.SignCount, stored.LastUsedAt, tt.cred.SignCount, e.clk.Now())
			}
			// The credential record still says what registration saw.
			if !stored.UserVerified {
				t.Errorf("stored UserVerified: got false, want the registration's true")
			}
		})
	}

	t.Run("offer", func(t *testing.T) {
		m := e.a.Method()
		for _, tt := range []struct {
			citizenID string
			want      login.Offer
		}{
			{"", login.Offer{Available: true, Identifies: true, Level: assurance.High}},
			{e.citizen.ID, login.Offer{Available: true, Level: assurance.High}},
			{e.other.ID, login.Offer{}},
		} {
			got, err := m.Offer(ctx, tt.citizenID)
			if err != nil || got != tt.want {
				t.Errorf("offer for %q: got %+v, %v; want %+v", tt.citizenID, got, err, tt.want)
			}
		}
		// Synced only: level 2.
		e.register(e.other, &webauthntest.Authenticator{Origin: origin, UserVerified: true, BackupEligible: true}, "sync")
		if got, _ := m.Offer(ctx, e.other.ID); got != (login.Offer{Available: true, Level: assurance.Substantial}) {
			t.Errorf("offer with a synced passkey only: got %+v, want level 2", got)
		}
	})
}

func eventEqual(a, b session.AuthEvent) bool {
	return a.Method == b.Method && slices.Equal(a.AMR, b.AMR) && a.Level == b.Level && a.SecondFactor == b.SecondFactor
}

// TestLoginRefusals are recorded ceremonies that must fail.
func TestLoginRefusals(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	dev := device()
	cred, _ := e.register(e.citizen, dev, "Điện thoại của tôi")
	otherDev := device()
	otherCred, _ := e.register(e.other, otherDev, "khác")
	stranger := device()
	strangerCred, _, _ := stranger.Create([]byte(`{"publicKey":{"challenge":"AAAAAAAAAAAAAAAAAAAAAA","rp":{"id":"` + rpID + `"},"user":{"id":"AQID"}}}`))

	t.Run("challenge replay", func(t *testing.T) {
		resp := e.assertion("txn-replay", "", dev, cred)
		if _, err := e.a.FinishLogin(ctx, "txn-replay", "", resp); err != nil {
			t.Fatalf("first use: %v", err)
		}
		if _, err := e.a.FinishLogin(ctx, "txn-replay", "", resp); !errors.Is(err, webauthn.ErrNoChallenge) {
			t.Errorf("same response again: got %v, want %v", err, webauthn.ErrNoChallenge)
		}
		// A fresh challenge does not make the old response valid.
		if _, err := e.a.BeginLogin(ctx, "txn-replay", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := e.a.FinishLogin(ctx, "txn-replay", "", resp); !errors.Is(err, webauthn.ErrInvalid) {
			t.Errorf("old response to a new challenge: got %v, want %v", err, webauthn.ErrInvalid)
		}
	})

	tests := []struct {
		name      string
		binding   string // where the response is posted; default the one it was issued for
		citizenID string
		dev       *webauthntest.Authenticator
		cred      *webauthntest.Credential
		before    func()
		want      error
	}{
		{name: "wrong origin", dev: &webauthntest.Authenticator{Origin: "https://id-example.gov.evil.example", UserVerified: true}, cred: cred, want: webauthn.ErrInvalid},
		{name: "http origin", dev: &webauthntest.Authenticator{Origin: "http://id.example.gov", UserVerified: true}, cred: cred, want: webauthn.ErrInvalid},
		{name: "wrong RP ID", dev: &webauthntest.Authenticator{Origin: origin, RPID: "example.gov", UserVerified: true}, cred: cred, want: webauthn.ErrInvalid},
		{name: "expired challenge", dev: dev, cred: cred, before: func() { e.clk.Add(5*time.Minute + time.Second) }, want: webauthn.ErrExpired},
		{name: "another transaction's challenge", binding: "txn-elsewhere", dev: dev, cred: cred, want: webauthn.ErrNoChallenge},
		{name: "unregistered credential", dev: stranger, cred: strangerCred, want: webauthn.ErrUnknownCredential},
		{name: "another citizen's credential", citizenID: e.citizen.ID, dev: otherDev, cred: otherCred, want: webauthn.ErrUnknownCredential},
		{name: "backup eligibility changed", dev: &webauthntest.Authenticator{Origin: origin, UserVerified: true, BackupEligible: true}, cred: cred, want: webauthn.ErrInvalid},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			issued := "txn-refusal-" + string(rune('a'+i))
			resp := e.assertion(issued, tt.citizenID, tt.dev, tt.cred)
			if tt.before != nil {
				tt.before()
			}
			binding := issued
			if tt.binding != "" {
				binding = tt.binding
			}
			if _, err := e.a.FinishLogin(ctx, binding, tt.citizenID, resp); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}

	t.Run("tampered user handle", func(t *testing.T) {
		saved := cred.UserHandle
		cred.UserHandle = bytes.Repeat([]byte{1}, 32)
		defer func() { cred.UserHandle = saved }()
		if _, err := e.a.FinishLogin(ctx, "txn-uh", "", e.assertion("txn-uh", "", dev, cred)); !errors.Is(err, webauthn.ErrInvalid) {
			t.Errorf("got %v, want %v", err, webauthn.ErrInvalid)
		}
	})

	t.Run("tampered signature", func(t *testing.T) {
		resp := e.assertion("txn-sig", "", dev, cred)
		var m map[string]any
		json.Unmarshal(resp, &m)
		m["response"].(map[string]any)["signature"] = "MEUCIQDWuFuA9xw1nmzkkCdY4H1HjRtK3v7Ox_c-T0-VDfmMWwIgV-G2dzgaZhHd6t2dzuxKfGxqbbL4bXFxW_2TsmwQeAs"
		resp, _ = json.Marshal(m)
		if _, err := e.a.FinishLogin(ctx, "txn-sig", "", resp); !errors.Is(err, webauthn.ErrInvalid) {
			t.Errorf("got %v, want %v", err, webauthn.ErrInvalid)
		}
	})
}

// TestSignCountRegression: a counter that does not move forward fails the
// login, flags the credential for good, and is audited.
func TestSignCountRegression(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	dev := device()
	cred, _ := e.register(e.citizen, dev, "Điện thoại của tôi")
	for i := range 3 {
		binding := "txn-ok-" + string(rune('a'+i))
		if _, err := e.a.FinishLogin(ctx, binding, "", e.assertion(binding, "", dev, cred)); err != nil {
			t.Fatalf("login %d: %v", i, err)
		}
	}
	// A copy of the key that was used less: its counter is behind.
	cred.SignCount = 1
	_, err := e.a.FinishLogin(ctx, "txn-clone", "", e.assertion("txn-clone", "", dev, cred))
	if !errors.Is(err, webauthn.ErrCloned) {
		t.Fatalf("regressed counter: got %v, want %v", err, webauthn.ErrCloned)
	}
	stored, err := e.st.WebAuthnCredentialByID(ctx, cred.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !stored.Flagged || stored.SignCount != 3 {
		t.Errorf("stored: got flagged %v, counter %d; want true, 3", stored.Flagged, stored.SignCount)
	}
	events, err := e.st.ListAudit(ctx, store.AuditFilter{Action: "webauthn.flag"})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Target != "citizen:"+e.citizen.ID || events[0].Details["stored_count"] != "3" ||
		events[0].Details["presented_count"] != "2" || events[0].Details["credential"] != webauthn.Fingerprint(cred.ID) {
		t.Errorf("audit: got %+v, want one webauthn.flag event with the counters", events)
	}
	// Even a counter far ahead does not bring it back.
	cred.SignCount = 1000
	if _, err := e.a.FinishLogin(ctx, "txn-after", "", e.assertion("txn-after", "", dev, cred)); !errors.Is(err, webauthn.ErrCloned) {
		t.Errorf("flagged credential: got %v, want %v", err, webauthn.ErrCloned)
	}
	if got, _ := e.a.Method().Offer(ctx, e.citizen.ID); got.Available {
		t.Errorf("offer with only a flagged credential: got %+v, want unavailable", got)
	}
	// The same counter twice is a regression too; zero stays zero for
	// authenticators without a counter.
	dev2 := device()
	cred2, _ := e.register(e.citizen, dev2, "key 2")
	if _, err := e.a.FinishLogin(ctx, "txn-2a", "", e.assertion("txn-2a", "", dev2, cred2)); err != nil {
		t.Fatal(err)
	}
	cred2.SignCount-- // signs with the same counter again
	if _, err := e.a.FinishLogin(ctx, "txn-2b", "", e.assertion("txn-2b", "", dev2, cred2)); !errors.Is(err, webauthn.ErrCloned) {
		t.Errorf("repeated counter: got %v, want %v", err, webauthn.ErrCloned)
	}
}

func TestZeroCounterAuthenticators(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	dev := &webauthntest.Authenticator{Origin: origin, UserVerified: true, BackupEligible: true, BackupState: true}
	cred, _ := e.register(e.citizen, dev, "synced")
	for i := range 3 {
		cred.SignCount = ^uint32(0) // Get adds one: the counter is always 0
		binding := "txn-zero-" + string(rune('a'+i))
		if _, err := e.a.FinishLogin(ctx, binding, "", e.assertion(binding, "", dev, cred)); err != nil {
			t.Fatalf("login %d with a zero counter: %v", i, err)
		}
	}
}

// TestMethodVerify is the login step: what the engine is told.
func TestMethodVerify(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	bound := device()
	boundCred, _ := e.register(e.citizen, bound, "phone")
	synced := &webauthntest.Authenticator{Origin: origin, UserVerified: true, BackupEligible: true}
	syncedCred, _ := e.register(e.citizen, synced, "synced")
	m := e.a.Method()

	post := func(resp string) *http.Request {
		r, _ := http.NewRequest(http.MethodPost, "/login/x", strings.NewReader(url.Values{"step": {"webauthn"}, "credential": {resp}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.ParseForm()
		return r
	}
	tests := []struct {
		name      string
		citizenID string
		minLevel  assurance.Level
		dev       *webauthntest.Authenticator
		cred      *webauthntest.Credential
		uv        bool
		resp      func(string) string // changes the response
		wantLevel int
		wantMsg   string
		throttle  bool
	}{
		{name: "passwordless level 3", minLevel: 3, dev: bound, cred: boundCred, uv: true, wantLevel: 3},
		{name: "passwordless without user verification", minLevel: 1, dev: bound, cred: boundCred, wantMsg: "err_webauthn_uv"},
		{name: "second factor without user verification", citizenID: e.citizen.ID, minLevel: 2, dev: bound, cred: boundCred, wantLevel: 2},
		{name: "level 3 without user verification", citizenID: e.citizen.ID, minLevel: 3, dev: bound, cred: boundCred, wantMsg: "err_webauthn_uv"},
		{name: "synced for level 2", minLevel: 2, dev: synced, cred: syncedCred, uv: true, wantLevel: 2},
		{name: "synced for level 3", minLevel: 3, dev: synced, cred: syncedCred, uv: true, wantMsg: "err_webauthn_synced"},
		{name: "wrong origin", minLevel: 1, dev: &webauthntest.Authenticator{Origin: "https://evil.example", UserVerified: true}, cred: boundCred, wantMsg: "err_webauthn_failed", throttle: true},
		{name: "malformed", minLevel: 1, dev: bound, cred: boundCred, uv: true, resp: func(string) string { return "" }, wantMsg: "err_form"},
		{name: "not JSON", minLevel: 1, dev: bound, cred: boundCred, uv: true, resp: func(string) string { return "{" }, wantMsg: "err_webauthn_failed", throttle: true},
		{name: "too long", minLevel: 1, dev: bound, cred: boundCred, uv: true, resp: func(s string) string { return s + strings.Repeat(" ", webauthn.MaxResponseLen) }, wantMsg: "err_form"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			txn := &login.Txn{ID: "txn-verify-" + string(rune('a'+i)), CitizenID: tt.citizenID, Request: login.Request{MinLevel: tt.minLevel}}
			if _, err := m.Prepare(ctx, nil, txn); err != nil {
				t.Fatal(err)
			}
			uv := tt.dev.UserVerified
			tt.dev.UserVerified = tt.uv
			as, err := e.a.BeginLogin(ctx, txn.ID, txn.CitizenID) // the page's challenge, as Prepare made it
			if err != nil {
				t.Fatal(err)
			}
			raw, err := tt.dev.Get(as.Options, tt.cred)
			tt.dev.UserVerified = uv
			if err != nil {
				t.Fatal(err)
			}
			resp := string(raw)
			if tt.resp != nil {
				resp = tt.resp(resp)
			}
			who, ev, err := m.Verify(ctx, post(resp), txn)
			var se *login.StepError
			switch {
			case tt.wantMsg != "":
				if !errors.As(err, &se) || se.Message != tt.wantMsg || se.Throttle != tt.throttle {
					t.Errorf("got %v (%+v), want a step error %s, throttle %v", err, se, tt.wantMsg, tt.throttle)
				}
			case err != nil:
				t.Errorf("got error %v, want level %d", err, tt.wantLevel)
			case who != e.citizen.ID || ev.Level != tt.wantLevel:
				t.Errorf("got %s at level %d, want %s at %d", who, ev.Level, e.citizen.ID, tt.wantLevel)
			}
		})
	}
}

func TestCleanName(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{"Điện thoại của tôi", "Điện thoại của tôi", true},
		{"  Khoá\tbảo   mật ", "Khoá bảo mật", true},
		{"", "Passkey", true},
		{"Die\u0302\u0323n thoa\u0323i", "Diện thoại", true}, // NFD input is stored NFC
		{"bad\x00name", "", false},
		{strings.Repeat("á", webauthn.MaxNameLen), strings.Repeat("á", webauthn.MaxNameLen), true},
		{strings.Repeat("á", webauthn.MaxNameLen+1), "", false},
		{"\xff", "", false},
	} {
		got, ok := webauthn.CleanName(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("CleanName(%q): got %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// FuzzFinishLogin feeds arbitrary responses to a pending login: it never
// panics and never logs anyone in.
func FuzzFinishLogin(f *testing.F) {
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"id":"AQ","rawId":"AQ","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"","signature":""}}`))
	f.Add([]byte(`{"id":"AQ","rawId":"AQ","type":"public-key","response":{"clientDataJSON":"` + strings.Repeat("A", 300) + `"}}`))
	e := newEnv(f, nil)
	dev := device()
	cred, _ := e.register(e.citizen, dev, "phone")
	valid := e.assertion("txn-seed", "", dev, cred) // for a challenge already used: a replay
	f.Add(valid)
	f.Fuzz(func(t *testing.T, resp []byte) {
		if _, err := e.a.BeginLogin(t.Context(), "txn-fuzz", ""); err != nil {
			t.Fatal(err)
		}
		if l, err := e.a.FinishLogin(t.Context(), "txn-fuzz", "", resp); err == nil {
			t.Fatalf("an arbitrary response logged in %s", l.CitizenID)
		}
	})
}
