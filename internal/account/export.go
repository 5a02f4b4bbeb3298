package account

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/store"
	"github.com/citizenid/citizenid/internal/ui"
)

// ExportStore is what a citizen's export reads: their own records, and
// never a secret (no password hash, TOTP seed, public-key bytes are left
// out by the view types below, not by trust in the store).
type ExportStore interface {
	CitizenByID(ctx context.Context, id string) (*store.Citizen, error)
	PasswordHash(ctx context.Context, citizenID string) (string, error)
	TOTP(ctx context.Context, citizenID string) (*store.TOTPCredential, error)
	RecoveryCodesLeft(ctx context.Context, citizenID string) (int, error)
	ListWebAuthnCredentials(ctx context.Context, citizenID string) ([]store.WebAuthnCredential, error)
	CertificateBindingsOf(ctx context.Context, citizenID string) ([]store.CertificateBinding, error)
	ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error)
	LedgerReader
	ConsentsOf(ctx context.Context, citizenID string) ([]store.Consent, error)
}

const (
	exportPath    = "/account/export"
	exportCSVPath = "/account/export/ledger.csv"
	// exportChunk is the page size when reading the ledger and the audit log.
	exportChunk = 500
)

// Export is everything CitizenID holds about one citizen, as the JSON
// download carries it. Secrets are absent by construction: each part is a
// view type that has no field for one.
type Export struct {
	Generated      time.Time         `json:"generated"`
	Profile        exportProfile     `json:"profile"`
	Contacts       exportContacts    `json:"contacts"`
	Authenticators exportAuthn       `json:"authenticators"`
	Consents       []exportConsent   `json:"consents"`
	Ledger         []exportEntry     `json:"data_releases"`
	Sessions       []exportSession   `json:"sessions"`
	Audit          []exportAuditLine `json:"audit_events"`
}

// exportConsent is one approval (or legal-basis notice) and its
// withdrawal, if any.
type exportConsent struct {
	Portal      string     `json:"portal"`
	PortalName  string     `json:"portal_name"`
	Attributes  []string   `json:"attributes"`
	Basis       string     `json:"basis"`
	LegalBasis  string     `json:"legal_basis,omitempty"`
	TextVersion int        `json:"text_version"`
	Granted     time.Time  `json:"granted"`
	Withdrawn   *time.Time `json:"withdrawn,omitempty"`
}

type exportProfile struct {
	Number         string    `json:"citizen_number"`
	Name           string    `json:"name"`
	Birthdate      string    `json:"birthdate,omitempty"`
	IdentityLevel  int       `json:"identity_level"`
	SelfRegistered bool      `json:"self_registered"`
	Disabled       bool      `json:"disabled"`
	SecondFactor   bool      `json:"second_factor_every_login"`
	Created        time.Time `json:"created"`
	Updated        time.Time `json:"updated"`
}

type exportContacts struct {
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified"`
	Phone         string `json:"phone,omitempty"`
	PhoneVerified bool   `json:"phone_verified"`
}

type exportAuthn struct {
	Password      bool                `json:"password_set"`
	TOTP          *exportTOTP         `json:"totp,omitempty"`
	RecoveryCodes int                 `json:"recovery_codes_left"`
	Passkeys      []exportPasskey     `json:"passkeys"`
	Certificates  []exportCertificate `json:"certificates"`
}

type exportTOTP struct {
	Confirmed   bool       `json:"confirmed"`
	Created     time.Time  `json:"created"`
	ConfirmedAt *time.Time `json:"confirmed_at,omitempty"`
	LastUsed    *time.Time `json:"last_used,omitempty"`
}

type exportPasskey struct {
	ID             string     `json:"id"` // base64url credential ID (public)
	Name           string     `json:"name"`
	Created        time.Time  `json:"created"`
	LastUsed       *time.Time `json:"last_used,omitempty"`
	BackupEligible bool       `json:"backup_eligible"`
	BackupState    bool       `json:"backed_up"`
	UserVerified   bool       `json:"user_verified"`
	Flagged        bool       `json:"flagged"`
}

type exportCertificate struct {
	Name     string     `json:"name,omitempty"`
	Issuer   string     `json:"issuer"`
	Serial   string     `json:"serial"`
	Created  time.Time  `json:"created"`
	LastUsed *time.Time `json:"last_used,omitempty"`
}

type exportEntry struct {
	Time       time.Time `json:"time"`
	Portal     string    `json:"portal"`
	PortalName string    `json:"portal_name"`
	Protocol   string    `json:"protocol"`
	Endpoint   string    `json:"endpoint"`
	Attributes []string  `json:"attributes"`
	Level      int       `json:"level"`
	SessionID  string    `json:"sid,omitempty"`
}

type exportSession struct {
	SID          string        `json:"sid"`
	Created      time.Time     `json:"created"`
	LastSeen     time.Time     `json:"last_seen"`
	Logins       []exportLogin `json:"logins"`
	Participants []string      `json:"portals"`
}

type exportLogin struct {
	Method string    `json:"method"`
	Level  int       `json:"level"`
	Time   time.Time `json:"time"`
}

type exportAuditLine struct {
	Seq     int64             `json:"seq"`
	Time    time.Time         `json:"time"`
	Actor   string            `json:"actor"`
	Action  string            `json:"action"`
	Target  string            `json:"target"`
	Outcome string            `json:"outcome"`
	Details map[string]string `json:"details,omitempty"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// exportJSON sends the citizen's export as a download. An export is
// sensitive: it needs a login within the fresh window, and is audited.
func (a *Account) exportJSON(w http.ResponseWriter, r *http.Request) {
	sess := a.requireAt(w, r, assurance.Low, exportPath)
	if sess == nil {
		return
	}
	ctx := r.Context()
	x, err := a.collect(ctx, sess.CitizenID)
	if err != nil {
		a.o.Log.ErrorContext(ctx, "collect the export", "err", err)
		a.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, nil), "err_generic")
		return
	}
	body, err := json.MarshalIndent(x, "", "  ")
	if err != nil {
		a.o.Log.ErrorContext(ctx, "encode the export", "err", err)
		a.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, nil), "err_generic")
		return
	}
	a.recordExport(ctx, sess.CitizenID, "json")
	download(w, "application/json; charset=utf-8", "citizenid-export.json", body)
}

// exportCSV sends the citizen's ledger as CSV for a spreadsheet: UTF-8
// with a byte-order mark (so Excel reads Vietnamese), a header row, every
// cell guarded against formula injection (ui.CSVCell).
func (a *Account) exportCSV(w http.ResponseWriter, r *http.Request) {
	sess := a.requireAt(w, r, assurance.Low, exportCSVPath)
	if sess == nil {
		return
	}
	ctx := r.Context()
	entries, err := a.allEntries(ctx, sess.CitizenID)
	if err != nil {
		a.o.Log.ErrorContext(ctx, "read the ledger for CSV", "err", err)
		a.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, nil), "err_generic")
		return
	}
	var buf bytes.Buffer
	buf.WriteString(ui.CSVBOM)
	cw := csv.NewWriter(&buf)
	cw.Write([]string{"time_utc", "time_vietnam", "portal", "portal_name", "protocol", "endpoint", "attributes", "level", "sid"})
	for _, e := range entries {
		cw.Write(guardRow(
			e.Time.UTC().Format(time.RFC3339),
			e.Time.In(displayZone).Format("15:04 02/01/2006"),
			e.Portal, e.PortalName, e.Protocol, e.Endpoint,
			strings.Join(e.Attributes, " "), strconv.Itoa(e.Level), e.SessionID,
		))
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		a.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, nil), "err_generic")
		return
	}
	a.recordExport(ctx, sess.CitizenID, "ledger_csv")
	download(w, "text/csv; charset=utf-8", "citizenid-data-releases.csv", buf.Bytes())
}

// guardRow neutralises every cell of a row (ui.CSVCell).
func guardRow(cells ...string) []string {
	for i, c := range cells {
		cells[i] = ui.CSVCell(c)
	}
	return cells
}

func download(w http.ResponseWriter, contentType, name string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.Write(body)
}

func (a *Account) recordExport(ctx context.Context, citizenID, format string) {
	a.o.Audit.Record(ctx, audit.Event{Actor: "citizen:" + citizenID, Action: "account.export", Target: "citizen:" + citizenID,
		Outcome: "success", ClientIP: server.ClientIP(ctx), Details: map[string]string{"format": format}})
}

// collect reads every part of the export.
func (a *Account) collect(ctx context.Context, citizenID string) (*Export, error) {
	st := a.o.Export
	c, err := st.CitizenByID(ctx, citizenID)
	if err != nil {
		return nil, err
	}
	x := &Export{
		Generated: time.Now().UTC(),
		Profile: exportProfile{Number: c.Number, Name: c.Name, Birthdate: c.Birthdate, IdentityLevel: max(c.IdentityLevel, 1),
			SelfRegistered: c.SelfRegistered, Disabled: c.Disabled, SecondFactor: !c.SkipSecondFactor,
			Created: c.CreatedAt, Updated: c.UpdatedAt},
		Contacts: exportContacts{Email: c.Email, EmailVerified: c.EmailVerified, Phone: c.Phone, PhoneVerified: c.PhoneVerified},
	}
	if _, err := st.PasswordHash(ctx, citizenID); err == nil {
		x.Authenticators.Password = true // whether one is set; never the hash
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if t, err := st.TOTP(ctx, citizenID); err == nil {
		x.Authenticators.TOTP = &exportTOTP{Confirmed: t.Confirmed, Created: t.CreatedAt,
			ConfirmedAt: optTime(t.ConfirmedAt), LastUsed: optTime(t.LastUsedAt)}
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if x.Authenticators.RecoveryCodes, err = st.RecoveryCodesLeft(ctx, citizenID); err != nil {
		return nil, err
	}
	creds, err := st.ListWebAuthnCredentials(ctx, citizenID)
	if err != nil {
		return nil, err
	}
	x.Authenticators.Passkeys = []exportPasskey{}
	for _, k := range creds {
		x.Authenticators.Passkeys = append(x.Authenticators.Passkeys, exportPasskey{
			ID: base64.RawURLEncoding.EncodeToString(k.ID), Name: k.Name, Created: k.CreatedAt, LastUsed: optTime(k.LastUsedAt),
			BackupEligible: k.BackupEligible, BackupState: k.BackupState, UserVerified: k.UserVerified, Flagged: k.Flagged})
	}
	bindings, err := st.CertificateBindingsOf(ctx, citizenID)
	if err != nil {
		return nil, err
	}
	x.Authenticators.Certificates = []exportCertificate{}
	for _, b := range bindings {
		x.Authenticators.Certificates = append(x.Authenticators.Certificates, exportCertificate{
			Name: b.Name, Issuer: b.Issuer, Serial: b.Serial, Created: b.CreatedAt, LastUsed: optTime(b.LastUsedAt)})
	}
	consents, err := st.ConsentsOf(ctx, citizenID)
	if err != nil {
		return nil, err
	}
	x.Consents = []exportConsent{}
	for _, c := range consents {
		x.Consents = append(x.Consents, exportConsent{Portal: c.Portal, PortalName: c.PortalName, Attributes: c.Attributes,
			Basis: c.Basis, LegalBasis: c.LegalBasis, TextVersion: c.TextVersion, Granted: c.GrantedAt, Withdrawn: optTime(c.WithdrawnAt)})
	}
	entries, err := a.allEntries(ctx, citizenID)
	if err != nil {
		return nil, err
	}
	x.Ledger = []exportEntry{}
	for _, e := range entries {
		x.Ledger = append(x.Ledger, exportEntry{Time: e.Time, Portal: e.Portal, PortalName: e.PortalName, Protocol: e.Protocol,
			Endpoint: e.Endpoint, Attributes: e.Attributes, Level: e.Level, SessionID: e.SessionID})
	}
	sessions, err := a.o.Sessions.ListForCitizen(ctx, citizenID)
	if err != nil {
		return nil, err
	}
	x.Sessions = []exportSession{}
	for _, s := range sessions {
		es := exportSession{SID: s.SID, Created: s.CreatedAt, LastSeen: s.LastSeen, Logins: []exportLogin{}, Participants: []string{}}
		for _, ev := range s.Events {
			es.Logins = append(es.Logins, exportLogin{Method: ev.Method, Level: ev.Level, Time: ev.Time})
		}
		for _, p := range s.Participants {
			es.Participants = append(es.Participants, p.Protocol+":"+p.ID)
		}
		x.Sessions = append(x.Sessions, es)
	}
	if x.Audit, err = a.auditAbout(ctx, citizenID); err != nil {
		return nil, err
	}
	return x, nil
}

// allEntries reads the citizen's whole ledger, newest first.
func (a *Account) allEntries(ctx context.Context, citizenID string) ([]store.LedgerEntry, error) {
	var out []store.LedgerEntry
	f := store.LedgerFilter{Limit: exportChunk}
	for {
		page, err := a.o.Ledger.ListLedger(ctx, citizenID, f)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < exportChunk {
			return out, nil
		}
		last := page[len(page)-1]
		f.BeforeTime, f.BeforeID = last.Time, last.ID
	}
}

// auditAbout reads the audit events whose actor or target is the citizen,
// in log order, each once.
func (a *Account) auditAbout(ctx context.Context, citizenID string) ([]exportAuditLine, error) {
	who := "citizen:" + citizenID
	seen := map[int64]bool{}
	out := []exportAuditLine{}
	for _, f := range []store.AuditFilter{{Actor: who}, {Target: who}} {
		f.Limit = exportChunk
		for {
			page, err := a.o.Export.ListAudit(ctx, f)
			if err != nil {
				return nil, err
			}
			for _, e := range page {
				if !seen[e.Seq] {
					seen[e.Seq] = true
					out = append(out, exportAuditLine{Seq: e.Seq, Time: e.Time, Actor: e.Actor, Action: e.Action,
						Target: e.Target, Outcome: e.Outcome, Details: e.Details})
				}
			}
			if len(page) < exportChunk {
				break
			}
			f.AfterSeq = page[len(page)-1].Seq
		}
	}
	slices.SortFunc(out, func(x, y exportAuditLine) int { return cmp.Compare(x.Seq, y.Seq) })
	return out, nil
}
