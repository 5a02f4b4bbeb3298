package store

import (
	"context"
	"time"
)

// Ledger protocols and endpoints: where personal data left CitizenID.
const (
	LedgerOIDC = "oidc"
	LedgerSAML = "saml"

	EndpointToken      = "token"      // an ID token (authorization_code and refresh grants)
	EndpointUserinfo   = "userinfo"   // a userinfo answer
	EndpointIntrospect = "introspect" // an introspection answer that carries claims
	EndpointSAMLSSO    = "saml_sso"   // a SAML assertion
)

// LedgerEntry is one release of personal data to a portal: which portal,
// through which endpoint, which attributes (names from internal/release,
// never values), at which authentication level, in which SSO session.
type LedgerEntry struct {
	ID        string // opaque random identifier; ties within one Time are ordered by it
	Time      time.Time
	CitizenID string
	// Portal is the protocol-qualified key of the relying party:
	// "oidc:<client_id>" or "saml:<entity_id>"; PortalName its display
	// name at the time of the release (the citizen reads it; a later
	// rename does not rewrite history).
	Portal     string
	PortalName string
	Protocol   string   // LedgerOIDC or LedgerSAML
	Endpoint   string   // EndpointToken, EndpointUserinfo, ...
	Attributes []string // release.Attribute names, in page order
	Level      int      // the authentication level the portal was told (1..4; 0 unknown)
	SessionID  string   // the SSO session (sid); empty when none
}

// LedgerFilter selects one citizen's entries. Zero fields do not filter.
type LedgerFilter struct {
	Portal string
	// Since is inclusive, Until exclusive (a month: the first instants of
	// the month and of the next).
	Since, Until time.Time
	// Before pages: only entries strictly older than (BeforeTime,
	// BeforeID) in the list order (time, then ID, both descending). Zero
	// BeforeTime: from the newest.
	BeforeTime time.Time
	BeforeID   string
	Limit      int // 0 means 50
}

// LedgerPortal is a portal that appears in a ledger, with its latest name.
type LedgerPortal struct {
	Portal string
	Name   string
	Count  int64
}

// Ledger is the data-release ledger: append-mostly, read by the citizen it
// is about, counted (never listed) for the console, purged after the
// retention period.
type Ledger interface {
	// AppendLedger inserts every entry in one transaction: all or none is
	// written, and once it returns nil every entry is durable. IDs must be
	// set and unique (ErrConflict otherwise, nothing written); a zero Time
	// is set to the store's clock. Entries do not reference the citizens
	// table: a ledger outlives nothing but its retention period.
	AppendLedger(ctx context.Context, entries []LedgerEntry) error
	// ListLedger returns the citizen's matching entries, newest first
	// (time, then ID, descending); nil when there are none.
	ListLedger(ctx context.Context, citizenID string, f LedgerFilter) ([]LedgerEntry, error)
	// LedgerPortalsOf lists the portals in the citizen's ledger, each with
	// its most recent name and the number of entries, ordered by key.
	LedgerPortalsOf(ctx context.Context, citizenID string) ([]LedgerPortal, error)
	// CountLedger counts entries per portal with since <= Time < until
	// (zero until: no upper bound), ordered by key; it names no citizen.
	CountLedger(ctx context.Context, since, until time.Time) ([]LedgerPortal, error)
	// PurgeLedger deletes entries older than before and says how many.
	// Purging twice, or on two nodes at once, is harmless.
	PurgeLedger(ctx context.Context, before time.Time) (int64, error)
}
