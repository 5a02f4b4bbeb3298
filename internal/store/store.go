// Package store holds CitizenID's durable domain types and the small
// interfaces through which the rest of the server reads and writes them.
//
// One implementation lives below it, sqlstore, on two SQL dialects:
// PostgreSQL (pgx, production) and SQLite (modernc.org/sqlite, the embedded
// default). Both pass the one conformance suite in storetest. Short-lived state (sessions, codes, challenges) is not
// here: it lives in Redis, see internal/session.
//
// Times: every implementation stores times in UTC rounded to the microsecond
// (TimePrecision) and returns them in UTC, so a value read back is Equal to
// t.Round(TimePrecision) of the value written. Implementations also normalise
// the structs they are given (UTC, rounded) so the caller's copy matches what
// was stored. Optional times (UsedAt, RevokedAt, ActivatedAt, ...) are stored
// as NULL when zero and read back as the zero time. Where a caller leaves
// CreatedAt/UpdatedAt zero, the store fills them from its clock; UpdateX sets
// UpdatedAt to the store's clock unless fn changed it.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Implementations wrap them; callers check with errors.Is.
var (
	// ErrNotFound: no row matches.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a unique key already exists, or a compare-and-swap lost.
	ErrConflict = errors.New("store: conflict")
	// ErrTokenReused: a refresh token that was already rotated or revoked was
	// presented again. The caller revokes the family.
	ErrTokenReused = errors.New("store: refresh token reused")
)

// TimePrecision is the precision to which every store keeps times.
const TimePrecision = time.Microsecond

// Citizen is a person who can log in.
type Citizen struct {
	ID        string // opaque random identifier, never shown to portals
	Number    string // 12-digit citizen number (CCCD)
	Name      string
	Birthdate string // YYYY-MM-DD or empty
	Email     string
	Phone     string // E.164 (+84…) when set through registration or /account
	// EmailVerified and PhoneVerified: the citizen proved they receive
	// messages there (a code sent to it was entered). Notifications go only
	// to verified contacts.
	EmailVerified bool
	PhoneVerified bool
	// SelfRegistered: the account was created by the citizen online
	// (/register), not by an operator; its attributes are self-asserted
	// until an operator proofs it (identity level 2).
	SelfRegistered bool
	IdentityLevel  int // 1 self-asserted, 2 proofed
	Disabled       bool
	// SkipSecondFactor false (the default): once the citizen has a second
	// factor, every fresh login asks for it. True: the citizen chose not to
	// be asked at every login (a portal that needs a higher level still
	// gets it through step-up).
	SkipSecondFactor bool
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Client is an OpenID Connect relying party (a portal).
type Client struct {
	ID                     string
	Name                   string
	SecretHash             string // PHC string; empty for public clients
	Public                 bool
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	Scopes                 []string // extra scopes allowed beyond openid profile email phone offline_access; e.g. "citizen_number"
	SubjectType            string   // "pairwise" (default) or "public"
	SectorIdentifier       string   // pairwise subjects are derived per sector; empty means the client ID
	MinLevel               int      // minimum authentication level, 1..4
	MaxAuthAge             time.Duration
	AccessTokenLifetime    time.Duration
	RefreshTokenLifetime   time.Duration
	IDTokenLifetime        time.Duration
	Disabled               bool
	CreatedAt              time.Time
	UpdatedAt              time.Time
	// LogoURL is an https URL of the portal's logo; may be empty.
	LogoURL string
	// TokenEndpointAuthMethod is client_secret_basic or client_secret_post
	// for confidential clients, none for public ones; empty means the
	// default (basic, or none when Public).
	TokenEndpointAuthMethod string
	// PreviousSecretHash is the secret replaced by the last rotation; it
	// keeps working until PreviousSecretUntil (zero: no previous secret).
	PreviousSecretHash  string
	PreviousSecretUntil time.Time
	// AdminScopes are admin API scopes an owner granted the client; a
	// confidential client with any may use the client_credentials grant.
	AdminScopes []string
	// SubjectScheme is how pairwise subjects are derived for the client
	// (oidc.PairwiseSubject): 0 the current scheme, 1 the scheme of
	// clients registered before protocols and sectors were kept apart.
	// Set at creation only; it keeps every subject a portal knows stable.
	SubjectScheme int
	// LegalBasis, when set, is the law or mandate under which the portal
	// receives personal data: citizens are notified (once per attribute
	// set) instead of asked to approve. Empty: consent.
	LegalBasis string
	// BackchannelLogoutURI receives a logout token when a session the
	// client took part in ends (OpenID Connect Back-Channel Logout 1.0);
	// empty: none. BackchannelLogoutSessionRequired: the client needs the
	// sid in it (always sent).
	BackchannelLogoutURI             string
	BackchannelLogoutSessionRequired bool
	// JWKS is the client's public keys as a JSON Web Key Set (RFC 7517),
	// for private_key_jwt and signed request objects; JWKSURI is where the
	// server fetches them instead. At most one of the two is set.
	JWKS    string
	JWKSURI string
	// RequirePAR: authorization requests only through the pushed
	// authorization request endpoint (RFC 9126). RequireDPoP: tokens only
	// bound to a DPoP key (RFC 9449).
	RequirePAR  bool
	RequireDPoP bool
	// Profile is "" or "fapi2" (FAPI 2.0 Security Profile): PAR, PKCE
	// S256, private_key_jwt and DPoP required, nothing else accepted.
	Profile string
	// AccessTokenAudience is the aud of the client's access tokens (RFC
	// 9068: the resource they are for); empty: the client ID.
	AccessTokenAudience string
	// AccessTokenFormat is "jwt" (RFC 9068, the default when empty) or
	// "opaque" (a sealed reference, checked by introspection and userinfo).
	AccessTokenFormat string
	// IDTokenSignedResponseAlg is the algorithm of the client's ID tokens
	// (one the server publishes keys for); empty: the server's default.
	IDTokenSignedResponseAlg string
}

// Access token formats (store.Client.AccessTokenFormat).
const (
	AccessTokenJWT    = "jwt"
	AccessTokenOpaque = "opaque"
)

// ProfileFAPI2 is the FAPI 2.0 Security Profile (store.Client.Profile).
const ProfileFAPI2 = "fapi2"

// FAPI2 reports whether the client follows the FAPI 2.0 profile.
func (c *Client) FAPI2() bool { return c.Profile == ProfileFAPI2 }

// Signing key states.
const (
	KeyNext    = "next"    // published in JWKS, not yet signing
	KeyActive  = "active"  // signs; exactly one at a time
	KeyRetired = "retired" // published for verification until RetireUntil
)

// SigningKey is an asymmetric key used to sign tokens and assertions.
type SigningKey struct {
	ID          string // kid
	Algorithm   string // RS256, PS256, ES256 or EdDSA: one key lifecycle per algorithm
	State       string
	PublicKey   []byte // PKIX DER
	PrivateKey  []byte // PKCS#8 DER sealed with the master key (keys.Sealer)
	CreatedAt   time.Time
	ActivatedAt time.Time // zero until active
	RetiredAt   time.Time // zero until retired
	VerifyUntil time.Time // zero unless retired: after it the key may be deleted
}

// RefreshToken is one link in a rotation family. Only the SHA-256 of the
// token value is stored, and it is the token's key: every lookup is by it.
type RefreshToken struct {
	ID        string // random; names the token in errors and logs, not a key
	TokenHash string // hex SHA-256 of the token value; unique
	FamilyID  string
	CitizenID string
	ClientID  string
	Subject   string
	SessionID string // the SSO session (sid) it was issued in
	Scopes    []string
	Audience  []string
	AuthTime  time.Time
	ACR       string
	AMR       []string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero until rotated
	RevokedAt time.Time // zero unless revoked
	// DPoPJKT is the thumbprint of the DPoP key the token is bound to
	// (RFC 9449 §5); empty: not bound.
	DPoPJKT string
	// Claims are the claims the authorization request asked for by name
	// (the claims parameter), released again on refresh.
	Claims []string
}

// TOTPCredential is a citizen's time-based one-time-password authenticator
// (RFC 6238); a citizen has at most one.
type TOTPCredential struct {
	CitizenID   string
	Secret      []byte    // sealed with the master key (keys.Sealer); the store never sees it in clear
	Confirmed   bool      // counts as a second factor only once confirmed with a valid code
	LastStep    int64     // last accepted time step; codes of this step or an earlier one are refused
	CreatedAt   time.Time // filled from the store's clock when zero
	ConfirmedAt time.Time // zero until confirmed
	LastUsedAt  time.Time // zero until a code is accepted
}

// AuditEvent is one entry of the append-only, hash-chained audit log.
type AuditEvent struct {
	Seq      int64 // assigned by the store, strictly increasing
	Time     time.Time
	Actor    string // "citizen:<id>", "admin:<id>", "cli", "system"
	Action   string // e.g. "login.password", "client.create"
	Target   string
	Outcome  string // "success", "failure", "throttled", ...
	ClientIP string
	Details  map[string]string
	PrevHash string // hex; assigned by the store
	Hash     string // hex; assigned by the store: AuditHash(PrevHash, event)
}

// AuditFilter selects audit events; zero fields do not filter.
// Since is inclusive, Until exclusive.
type AuditFilter struct {
	Since, Until time.Time
	Actor        string
	Action       string
	Target       string
	Outcome      string
	AfterSeq     int64 // paging: events with Seq > AfterSeq
	Limit        int   // 0 means 100
}

// Citizens stores citizens.
type Citizens interface {
	// CreateCitizen inserts c (ID must be set) and, when passwordHash is not
	// empty, its password, in one transaction: nothing is half-written.
	// ErrConflict when the number or ID exists.
	CreateCitizen(ctx context.Context, c *Citizen, passwordHash string) error
	// CitizenByNumber returns ErrNotFound when absent.
	CitizenByNumber(ctx context.Context, number string) (*Citizen, error)
	// CitizenByID returns ErrNotFound when absent.
	CitizenByID(ctx context.Context, id string) (*Citizen, error)
	// ListCitizens returns up to limit citizens ordered by number (bytewise),
	// after the given number; limit <= 0 means 100.
	ListCitizens(ctx context.Context, afterNumber string, limit int) ([]Citizen, error)
	// UpdateCitizen reads, applies fn and writes in one transaction. ErrNotFound when absent.
	UpdateCitizen(ctx context.Context, id string, fn func(c *Citizen) error) error
}

// Passwords stores password hashes (PHC strings).
type Passwords interface {
	// SetPassword creates or replaces the citizen's password hash.
	// ErrNotFound when the citizen does not exist.
	SetPassword(ctx context.Context, citizenID, hash string) error
	// PasswordHash returns ErrNotFound when the citizen has no password.
	PasswordHash(ctx context.Context, citizenID string) (string, error)
	// ReplacePasswordHash swaps old for new only if old is still current
	// (rehash on login); ErrConflict otherwise.
	ReplacePasswordHash(ctx context.Context, citizenID, oldHash, newHash string) error
}

// Clients stores OIDC relying parties.
type Clients interface {
	// CreateClient inserts c. ErrConflict when the ID exists.
	CreateClient(ctx context.Context, c *Client) error
	// ClientByID returns ErrNotFound when absent.
	ClientByID(ctx context.Context, id string) (*Client, error)
	// ClientsVersion is a fingerprint of every client: it changes
	// whenever a client is created, updated or deleted, by any process
	// (the CLI too), so a node's cache of clients knows when to drop.
	ClientsVersion(ctx context.Context) (string, error)
	// ListClients returns every client ordered by ID.
	ListClients(ctx context.Context) ([]Client, error)
	// UpdateClient reads, applies fn and writes in one transaction.
	UpdateClient(ctx context.Context, id string, fn func(c *Client) error) error
	// DeleteClient returns ErrNotFound when absent.
	DeleteClient(ctx context.Context, id string) error
}

// SigningKeys stores token-signing keys.
type SigningKeys interface {
	// ListSigningKeys returns every key, oldest first.
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	// UpdateSigningKeys runs fn on the current set of keys inside one
	// serialised transaction and replaces the set with what fn returns:
	// new IDs are inserted, changed keys updated, missing ones deleted.
	// Concurrent callers are serialised, so a rotation is never lost.
	UpdateSigningKeys(ctx context.Context, fn func(keys []SigningKey) ([]SigningKey, error)) error
}

// RefreshTokens stores refresh-token families.
type RefreshTokens interface {
	// CreateRefreshToken inserts the first token of a family (or any
	// token), and with it, in the same transaction, the marks (as
	// Marks.PutMark would): a code exchange stores what its code issued
	// with the token, one commit. On an error neither is stored.
	CreateRefreshToken(ctx context.Context, t *RefreshToken, marks ...Mark) error
	// RefreshTokenByHash returns the token whatever its state (used,
	// revoked, expired); ErrNotFound when absent.
	RefreshTokenByHash(ctx context.Context, hash string) (*RefreshToken, error)
	// RefreshTokenWithCitizen is RefreshTokenByHash with the token's
	// citizen, read together; ErrNotFound when either is absent.
	RefreshTokenWithCitizen(ctx context.Context, hash string) (*RefreshToken, *Citizen, error)
	// RotateRefreshToken marks the token with oldHash used at now and
	// inserts next, atomically. If the old token is already used or revoked
	// it returns ErrTokenReused and inserts nothing; of two concurrent
	// rotations of one token exactly one succeeds. ErrNotFound when no
	// token has oldHash. Expiry is the caller's check, not the store's.
	RotateRefreshToken(ctx context.Context, oldHash string, next *RefreshToken, now time.Time) error
	// RevokeRefreshFamily revokes every token of the family.
	RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) error
	// RevokeRefreshTokensBySession revokes every unrevoked token issued in
	// the SSO session and, in the same transaction, enqueues then (the
	// session's back-channel logouts): both or neither.
	RevokeRefreshTokensBySession(ctx context.Context, sessionID string, now time.Time, then ...OutboxMessage) error
	// RevokeRefreshTokensByCitizen revokes every unrevoked token of the
	// citizen, of every session and client, offline_access ones too
	// (password recovery, an account taken over).
	RevokeRefreshTokensByCitizen(ctx context.Context, citizenID string, now time.Time) error
	// RevokeRefreshTokensForClient revokes every unrevoked token of the
	// citizen issued to the client (the citizen withdrew consent).
	RevokeRefreshTokensForClient(ctx context.Context, citizenID, clientID string, now time.Time) error
	// DeleteExpiredRefreshTokens deletes tokens that expired before t.
	DeleteExpiredRefreshTokens(ctx context.Context, before time.Time) (int64, error)
}

// TOTPs stores TOTP credentials.
type TOTPs interface {
	// PutTOTP creates or replaces the citizen's TOTP credential (enrolment
	// restarts). It does not touch the citizen's recovery codes.
	// ErrNotFound when the citizen does not exist.
	PutTOTP(ctx context.Context, c *TOTPCredential) error
	// TOTP returns the citizen's credential, confirmed or not; ErrNotFound
	// when the citizen has none.
	TOTP(ctx context.Context, citizenID string) (*TOTPCredential, error)
	// UpdateTOTP reads the credential, applies fn and writes it back in one
	// transaction. Updates of one citizen's credential are serialised: fn
	// always sees what the previous update wrote, so two updates that each
	// raise LastStep from the same value cannot both succeed. An error from
	// fn is returned as is and nothing is written; fn may not change
	// CitizenID. ErrNotFound when the citizen has no credential.
	UpdateTOTP(ctx context.Context, citizenID string, fn func(c *TOTPCredential) error) error
	// DeleteTOTP removes the credential and the citizen's recovery codes in
	// one transaction. ErrNotFound (and nothing removed) when the citizen has
	// no credential.
	DeleteTOTP(ctx context.Context, citizenID string) error
}

// RecoveryCodes stores the hashes of single-use recovery codes. The store
// compares hashes only; hashing is the caller's.
type RecoveryCodes interface {
	// ReplaceRecoveryCodes deletes every code of the citizen, used or not,
	// and stores these hashes as unused, in one transaction. An empty list
	// only deletes. ErrNotFound when the citizen does not exist;
	// ErrConflict (and nothing changed) when a hash appears twice.
	ReplaceRecoveryCodes(ctx context.Context, citizenID string, hashes []string) error
	// UseRecoveryCode marks the citizen's unused code with this hash as used
	// at now. ErrNotFound when there is no such unused code (wrong, already
	// used, or another citizen's); of concurrent uses of one code exactly
	// one succeeds.
	UseRecoveryCode(ctx context.Context, citizenID, hash string, now time.Time) error
	// RecoveryCodesLeft counts the citizen's unused codes (0 for an unknown
	// citizen).
	RecoveryCodesLeft(ctx context.Context, citizenID string) (int, error)
}

// Audit is the append-only audit log.
type Audit interface {
	// AppendAudit assigns Seq, PrevHash and Hash and appends e in one
	// transaction; concurrent appends form one unbroken chain. Seq starts at
	// 1 and has no gaps; the first event's PrevHash is "". A zero e.Time is
	// set to the store's clock.
	AppendAudit(ctx context.Context, e *AuditEvent) error
	// ListAudit returns matching events ordered by Seq.
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
}

// Mark is a fact Redis checks on every request but must not forget when
// it restarts empty: a revoked access token ("rj"), an ended session
// ("ended"). It matters until Until.
type Mark struct {
	Kind, ID string
	Until    time.Time
	Data     []byte // what the mark carries, if anything (JSON)
}

// Marks keeps marks durably.
type Marks interface {
	// PutMark stores m, replacing the Until of an existing mark.
	PutMark(ctx context.Context, m Mark) error
	// ListMarks returns every mark whose Until is after now.
	ListMarks(ctx context.Context, now time.Time) ([]Mark, error)
	// PurgeMarks deletes the marks whose Until is before t.
	PurgeMarks(ctx context.Context, before time.Time) (int64, error)
}

// Store is everything CitizenID keeps durably.
type Store interface {
	Marks
	Citizens
	Passwords
	Clients
	SigningKeys
	RefreshTokens
	TOTPs
	RecoveryCodes
	WebAuthnCredentials
	Audit
	Admin
	ServiceProviders
	CertificateBindings
	Ledger
	Consents
	Outbox
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	Close() error
}
