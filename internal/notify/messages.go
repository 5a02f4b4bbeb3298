package notify

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	texttemplate "text/template"
	"time"
)

// Kind is a message: a code or a notice.
type Kind string

// Codes, sent to an address being verified.
const (
	CodeRegistration Kind = "code_registration"
	CodeContact      Kind = "code_contact"
	CodeRecovery     Kind = "code_recovery"
)

// Notices, sent to the citizen's verified contacts (or, for a take-over,
// to the old ones).
const (
	RegistrationAttempt Kind = "registration_attempt"
	PasswordChanged     Kind = "password_changed"
	PasswordReset       Kind = "password_reset"
	TOTPAdded           Kind = "totp_added"
	TOTPRemoved         Kind = "totp_removed"
	PasskeyAdded        Kind = "passkey_added"
	PasskeyRemoved      Kind = "passkey_removed"
	CertificateLinked   Kind = "certificate_linked"
	RecoveryCodeUsed    Kind = "recovery_code_used"
	ContactAdded        Kind = "contact_added"
	ContactChanged      Kind = "contact_changed"
	ContactRemoved      Kind = "contact_removed"
	AccountDisabled     Kind = "account_disabled"
	AccountEnabled      Kind = "account_enabled"
	AccountTakenOver    Kind = "account_taken_over"
)

// Kinds lists every message; New refuses templates that lack one.
var Kinds = []Kind{CodeRegistration, CodeContact, CodeRecovery, RegistrationAttempt, PasswordChanged, PasswordReset,
	TOTPAdded, TOTPRemoved, PasskeyAdded, PasskeyRemoved, CertificateLinked, RecoveryCodeUsed, ContactAdded,
	ContactChanged, ContactRemoved, AccountDisabled, AccountEnabled, AccountTakenOver}

// Languages are the languages of the messages; the first is the default.
var Languages = []string{"vi", "en"}

// view is what a message template reads.
type view struct {
	Name    string // the citizen's name, "" when unknown
	Number  string // masked citizen number, "" when unknown
	Code    string // codes only
	Minutes int    // how long a code is valid
	Issuer  string // CitizenID's address, for the pages a notice names
	Time    string // when, in the citizen's clock
	Data    map[string]string
}

// rendered is a message ready to send.
type rendered struct {
	Subject, Text, HTML, SMS string
}

type catalogue struct {
	text map[string]*texttemplate.Template
	html map[string]*htmltemplate.Template
}

// parse reads notify/<lang>.txt and notify/<lang>.html of fsys and checks
// that each language has each part of each kind.
func parse(fsys fs.FS) (*catalogue, error) {
	if fsys == nil {
		return nil, fmt.Errorf("notify: no templates")
	}
	c := &catalogue{text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	for _, lang := range Languages {
		t, err := texttemplate.ParseFS(fsys, "notify/"+lang+".txt")
		if err != nil {
			return nil, fmt.Errorf("notify: %w", err)
		}
		h, err := htmltemplate.ParseFS(fsys, "notify/"+lang+".html")
		if err != nil {
			return nil, fmt.Errorf("notify: %w", err)
		}
		for _, k := range Kinds {
			for _, part := range []string{".subject", ".text", ".sms"} {
				if t.Lookup(string(k)+part) == nil {
					return nil, fmt.Errorf("notify: notify/%s.txt lacks %s%s", lang, k, part)
				}
			}
			if h.Lookup(string(k)+".html") == nil {
				return nil, fmt.Errorf("notify: notify/%s.html lacks %s.html", lang, k)
			}
		}
		c.text[lang], c.html[lang] = t, h
	}
	return c, nil
}

func (c *catalogue) render(lang string, k Kind, v view) (rendered, error) {
	if c.text[lang] == nil {
		lang = Languages[0]
	}
	var out rendered
	for _, p := range []struct {
		part string
		dst  *string
	}{{".subject", &out.Subject}, {".text", &out.Text}, {".sms", &out.SMS}} {
		var b bytes.Buffer
		if err := c.text[lang].ExecuteTemplate(&b, string(k)+p.part, v); err != nil {
			return rendered{}, err
		}
		*p.dst = string(bytes.TrimSpace(b.Bytes()))
	}
	var b bytes.Buffer
	if err := c.html[lang].ExecuteTemplate(&b, string(k)+".html", v); err != nil {
		return rendered{}, err
	}
	out.HTML = b.String()
	return out, nil
}

func minutes(d time.Duration) int { return int((d + time.Minute - 1) / time.Minute) }
