package postgres

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/citizenid/citizenid/internal/store"
	"github.com/citizenid/citizenid/migrations"
)

// Advisory lock keys ("citizen" in ASCII, then a number). They only need to
// differ from each other and from whatever else shares the database.
const (
	lockMigrate     int64 = 0x636974697a656e01
	lockAudit       int64 = 0x636974697a656e02
	lockSigningKeys int64 = 0x636974697a656e03
)

// Store is a store.Store on PostgreSQL.
type Store struct {
	pool *pgxpool.Pool

	// Now is the store's clock, used to fill timestamps the caller left
	// zero. Nil means time.Now.
	Now func() time.Time
}

// Open connects to the database at url (a libpq URL or key=value string,
// pool_* parameters as pgxpool reads them) and checks that it answers. It
// does not migrate; call Migrate.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: parse url: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return &Store{pool: pool}, nil
}

// Migrate applies every pending migration from migrations/postgres while
// holding a session advisory lock on a dedicated connection, so that nodes
// starting together take turns and all but the first find nothing to do.
func (s *Store) Migrate(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("migrate postgres: connect for lock: %w", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		conn.Close(ctx) // ends the session, releasing the lock if unlock failed
	}()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockMigrate); err != nil {
		return fmt.Errorf("migrate postgres: take lock: %w", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, lockMigrate)
	}()

	sub, err := fs.Sub(migrations.FS, "postgres")
	if err != nil {
		return fmt.Errorf("migrate postgres: %w", err)
	}
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close() // does not close the pool
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrate postgres: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate postgres: %w", err)
	}
	return nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return norm(s.Now())
	}
	return norm(time.Now())
}

// wrap adds context to err and maps no-rows and constraint violations to
// the store's sentinels.
func wrap(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%s: %w: %w", what, store.ErrConflict, err)
		case "23503": // foreign_key_violation
			return fmt.Errorf("%s: %w: %w", what, store.ErrNotFound, err)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// norm rounds t as PostgreSQL would (pgx truncates, so round first) and
// puts it in UTC.
func norm(t time.Time) time.Time { return t.Round(store.TimePrecision).UTC() }

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return norm(t)
}

func fromNull(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

func list(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func fromList(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return l
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

type scanner interface{ Scan(dest ...any) error }

// Citizens.

const citizenColumns = `id, number, name, birthdate, email, phone, identity_level, disabled, skip_second_factor,
	created_at, updated_at`

func scanCitizen(r scanner) (*store.Citizen, error) {
	var c store.Citizen
	if err := r.Scan(&c.ID, &c.Number, &c.Name, &c.Birthdate, &c.Email, &c.Phone,
		&c.IdentityLevel, &c.Disabled, &c.SkipSecondFactor, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return nil, err
	}
	c.CreatedAt = c.CreatedAt.UTC()
	c.UpdatedAt = c.UpdatedAt.UTC()
	return &c, nil
}

func normCitizen(c *store.Citizen) {
	c.CreatedAt = norm(c.CreatedAt)
	c.UpdatedAt = norm(c.UpdatedAt)
}

// CreateCitizen inserts c.
func (s *Store) CreateCitizen(ctx context.Context, c *store.Citizen, passwordHash string) error {
	if c.ID == "" {
		return errors.New("create citizen: id is required")
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	normCitizen(c)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO citizens (`+citizenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			c.ID, c.Number, c.Name, c.Birthdate, c.Email, c.Phone, c.IdentityLevel, c.Disabled, c.SkipSecondFactor,
			c.CreatedAt, c.UpdatedAt)
		if err != nil || passwordHash == "" {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO password_credentials (citizen_id, hash, updated_at) VALUES ($1, $2, $3)`,
			c.ID, passwordHash, c.CreatedAt)
		return err
	})
	if err != nil {
		return wrap(err, "create citizen %s", c.ID)
	}
	return nil
}

// CitizenByNumber returns the citizen with the number.
func (s *Store) CitizenByNumber(ctx context.Context, number string) (*store.Citizen, error) {
	c, err := scanCitizen(s.pool.QueryRow(ctx, `SELECT `+citizenColumns+` FROM citizens WHERE number = $1`, number))
	if err != nil {
		return nil, wrap(err, "citizen by number")
	}
	return c, nil
}

// CitizenByID returns the citizen with the ID.
func (s *Store) CitizenByID(ctx context.Context, id string) (*store.Citizen, error) {
	c, err := scanCitizen(s.pool.QueryRow(ctx, `SELECT `+citizenColumns+` FROM citizens WHERE id = $1`, id))
	if err != nil {
		return nil, wrap(err, "citizen %s", id)
	}
	return c, nil
}

// ListCitizens returns up to limit citizens ordered by number after afterNumber.
func (s *Store) ListCitizens(ctx context.Context, afterNumber string, limit int) ([]store.Citizen, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT `+citizenColumns+` FROM citizens WHERE number > $1 ORDER BY number LIMIT $2`,
		afterNumber, limit)
	if err != nil {
		return nil, wrap(err, "list citizens")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Citizen, error) {
		c, err := scanCitizen(r)
		if err != nil {
			return store.Citizen{}, err
		}
		return *c, nil
	})
	if err != nil {
		return nil, wrap(err, "list citizens")
	}
	return out, nil
}

// UpdateCitizen reads the citizen, applies fn and writes it back in one transaction.
func (s *Store) UpdateCitizen(ctx context.Context, id string, fn func(c *store.Citizen) error) error {
	var fnErr error
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		c, err := scanCitizen(tx.QueryRow(ctx, `SELECT `+citizenColumns+` FROM citizens WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		old := c.UpdatedAt
		if err := fn(c); err != nil {
			fnErr = err
			return err
		}
		if c.ID != id {
			return errors.New("id cannot change")
		}
		if c.UpdatedAt.Equal(old) {
			c.UpdatedAt = s.now()
		}
		normCitizen(c)
		_, err = tx.Exec(ctx, `UPDATE citizens SET number = $1, name = $2, birthdate = $3, email = $4, phone = $5,
			identity_level = $6, disabled = $7, skip_second_factor = $8, created_at = $9, updated_at = $10 WHERE id = $11`,
			c.Number, c.Name, c.Birthdate, c.Email, c.Phone, c.IdentityLevel, c.Disabled, c.SkipSecondFactor,
			c.CreatedAt, c.UpdatedAt, id)
		return err
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return wrap(err, "update citizen %s", id)
	}
	return nil
}

// Passwords.

// SetPassword creates or replaces the citizen's password hash.
func (s *Store) SetPassword(ctx context.Context, citizenID, hash string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO password_credentials (citizen_id, hash, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (citizen_id) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at`,
		citizenID, hash, s.now())
	if err != nil {
		return wrap(err, "set password of citizen %s", citizenID)
	}
	return nil
}

// PasswordHash returns the citizen's password hash.
func (s *Store) PasswordHash(ctx context.Context, citizenID string) (string, error) {
	var hash string
	err := s.pool.QueryRow(ctx, `SELECT hash FROM password_credentials WHERE citizen_id = $1`, citizenID).Scan(&hash)
	if err != nil {
		return "", wrap(err, "password of citizen %s", citizenID)
	}
	return hash, nil
}

// ReplacePasswordHash swaps oldHash for newHash if oldHash is still current.
func (s *Store) ReplacePasswordHash(ctx context.Context, citizenID, oldHash, newHash string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE password_credentials SET hash = $1, updated_at = $2
		WHERE citizen_id = $3 AND hash = $4`, newHash, s.now(), citizenID, oldHash)
	if err != nil {
		return wrap(err, "replace password of citizen %s", citizenID)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("replace password of citizen %s: %w", citizenID, store.ErrConflict)
	}
	return nil
}

// Clients.

const clientColumns = `id, name, secret_hash, public, redirect_uris, post_logout_redirect_uris, scopes,
	subject_type, sector_identifier, min_level, max_auth_age_ns, access_token_lifetime_ns,
	refresh_token_lifetime_ns, id_token_lifetime_ns, disabled, created_at, updated_at,
	logo_url, token_endpoint_auth_method, previous_secret_hash, previous_secret_until, admin_scopes, subject_scheme`

func scanClient(r scanner) (*store.Client, error) {
	var c store.Client
	var maxAuthAge, access, refresh, idToken int64
	var previousUntil pgtype.Timestamptz
	if err := r.Scan(&c.ID, &c.Name, &c.SecretHash, &c.Public, &c.RedirectURIs, &c.PostLogoutRedirectURIs, &c.Scopes,
		&c.SubjectType, &c.SectorIdentifier, &c.MinLevel, &maxAuthAge, &access,
		&refresh, &idToken, &c.Disabled, &c.CreatedAt, &c.UpdatedAt,
		&c.LogoURL, &c.TokenEndpointAuthMethod, &c.PreviousSecretHash, &previousUntil, &c.AdminScopes, &c.SubjectScheme); err != nil {
		return nil, err
	}
	c.PreviousSecretUntil = fromNull(previousUntil)
	c.AdminScopes = fromList(c.AdminScopes)
	c.RedirectURIs = fromList(c.RedirectURIs)
	c.PostLogoutRedirectURIs = fromList(c.PostLogoutRedirectURIs)
	c.Scopes = fromList(c.Scopes)
	c.MaxAuthAge = time.Duration(maxAuthAge)
	c.AccessTokenLifetime = time.Duration(access)
	c.RefreshTokenLifetime = time.Duration(refresh)
	c.IDTokenLifetime = time.Duration(idToken)
	c.CreatedAt = c.CreatedAt.UTC()
	c.UpdatedAt = c.UpdatedAt.UTC()
	return &c, nil
}

func clientArgs(c *store.Client) []any {
	return []any{c.ID, c.Name, c.SecretHash, c.Public, list(c.RedirectURIs), list(c.PostLogoutRedirectURIs),
		list(c.Scopes), c.SubjectType, c.SectorIdentifier, c.MinLevel, int64(c.MaxAuthAge),
		int64(c.AccessTokenLifetime), int64(c.RefreshTokenLifetime), int64(c.IDTokenLifetime), c.Disabled,
		c.CreatedAt, c.UpdatedAt,
		c.LogoURL, c.TokenEndpointAuthMethod, c.PreviousSecretHash, nullTime(c.PreviousSecretUntil), list(c.AdminScopes)}
}

func normClient(c *store.Client) {
	c.CreatedAt = norm(c.CreatedAt)
	c.UpdatedAt = norm(c.UpdatedAt)
	if !c.PreviousSecretUntil.IsZero() {
		c.PreviousSecretUntil = norm(c.PreviousSecretUntil)
	}
}

// CreateClient inserts c.
func (s *Store) CreateClient(ctx context.Context, c *store.Client) error {
	if c.ID == "" {
		return errors.New("create client: id is required")
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	normClient(c)
	_, err := s.pool.Exec(ctx, `INSERT INTO clients (`+clientColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)`,
		append(clientArgs(c), c.SubjectScheme)...)
	if err != nil {
		return wrap(err, "create client %s", c.ID)
	}
	return nil
}

// ClientByID returns the client with the ID.
func (s *Store) ClientByID(ctx context.Context, id string) (*store.Client, error) {
	c, err := scanClient(s.pool.QueryRow(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = $1`, id))
	if err != nil {
		return nil, wrap(err, "client %s", id)
	}
	return c, nil
}

// ListClients returns every client ordered by ID.
func (s *Store) ListClients(ctx context.Context) ([]store.Client, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+clientColumns+` FROM clients ORDER BY id`)
	if err != nil {
		return nil, wrap(err, "list clients")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Client, error) {
		c, err := scanClient(r)
		if err != nil {
			return store.Client{}, err
		}
		return *c, nil
	})
	if err != nil {
		return nil, wrap(err, "list clients")
	}
	return out, nil
}

// UpdateClient reads the client, applies fn and writes it back in one transaction.
func (s *Store) UpdateClient(ctx context.Context, id string, fn func(c *store.Client) error) error {
	var fnErr error
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		c, err := scanClient(tx.QueryRow(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		old := c.UpdatedAt
		if err := fn(c); err != nil {
			fnErr = err
			return err
		}
		if c.ID != id {
			return errors.New("id cannot change")
		}
		if c.UpdatedAt.Equal(old) {
			c.UpdatedAt = s.now()
		}
		normClient(c)
		_, err = tx.Exec(ctx, `UPDATE clients SET name = $2, secret_hash = $3, public = $4, redirect_uris = $5,
			post_logout_redirect_uris = $6, scopes = $7, subject_type = $8, sector_identifier = $9, min_level = $10,
			max_auth_age_ns = $11, access_token_lifetime_ns = $12, refresh_token_lifetime_ns = $13,
			id_token_lifetime_ns = $14, disabled = $15, created_at = $16, updated_at = $17, logo_url = $18,
			token_endpoint_auth_method = $19, previous_secret_hash = $20, previous_secret_until = $21,
			admin_scopes = $22 WHERE id = $1`,
			clientArgs(c)...)
		return err
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return wrap(err, "update client %s", id)
	}
	return nil
}

// DeleteClient deletes the client.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM clients WHERE id = $1`, id)
	if err != nil {
		return wrap(err, "delete client %s", id)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete client %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// Signing keys.

const keyColumns = `id, algorithm, state, public_key, private_key, created_at, activated_at, retired_at, verify_until`

func scanKey(r scanner) (store.SigningKey, error) {
	var k store.SigningKey
	var activated, retired, verifyUntil pgtype.Timestamptz
	if err := r.Scan(&k.ID, &k.Algorithm, &k.State, &k.PublicKey, &k.PrivateKey,
		&k.CreatedAt, &activated, &retired, &verifyUntil); err != nil {
		return k, err
	}
	k.CreatedAt = k.CreatedAt.UTC()
	k.ActivatedAt = fromNull(activated)
	k.RetiredAt = fromNull(retired)
	k.VerifyUntil = fromNull(verifyUntil)
	return k, nil
}

func listKeys(ctx context.Context, q interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}) ([]store.SigningKey, error) {
	rows, err := q.Query(ctx, `SELECT `+keyColumns+` FROM signing_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.SigningKey, error) { return scanKey(r) })
}

// ListSigningKeys returns every key, oldest first.
func (s *Store) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	keys, err := listKeys(ctx, s.pool)
	if err != nil {
		return nil, wrap(err, "list signing keys")
	}
	return keys, nil
}

// UpdateSigningKeys replaces the set of keys with what fn returns, in one
// transaction serialised by an advisory lock.
func (s *Store) UpdateSigningKeys(ctx context.Context, fn func(keys []store.SigningKey) ([]store.SigningKey, error)) error {
	var fnErr error
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockSigningKeys); err != nil {
			return fmt.Errorf("take lock: %w", err)
		}
		old, err := listKeys(ctx, tx)
		if err != nil {
			return err
		}
		existing := make(map[string]bool, len(old))
		for _, k := range old {
			existing[k.ID] = true
		}
		next, err := fn(old)
		if err != nil {
			fnErr = err
			return err
		}
		seen := make(map[string]bool, len(next))
		now := s.now()
		for i := range next {
			k := &next[i]
			if k.ID == "" {
				return errors.New("key id is required")
			}
			if seen[k.ID] {
				return fmt.Errorf("key %s appears twice", k.ID)
			}
			seen[k.ID] = true
			if k.CreatedAt.IsZero() {
				k.CreatedAt = now
			}
			args := []any{k.ID, k.Algorithm, k.State, nonNilBytes(k.PublicKey), nonNilBytes(k.PrivateKey),
				norm(k.CreatedAt), nullTime(k.ActivatedAt), nullTime(k.RetiredAt), nullTime(k.VerifyUntil)}
			if existing[k.ID] {
				_, err = tx.Exec(ctx, `UPDATE signing_keys SET algorithm = $2, state = $3, public_key = $4,
					private_key = $5, created_at = $6, activated_at = $7, retired_at = $8, verify_until = $9
					WHERE id = $1`, args...)
			} else {
				_, err = tx.Exec(ctx, `INSERT INTO signing_keys (`+keyColumns+`)
					VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, args...)
			}
			if err != nil {
				return fmt.Errorf("write key %s: %w", k.ID, err)
			}
		}
		var gone []string
		for id := range existing {
			if !seen[id] {
				gone = append(gone, id)
			}
		}
		if len(gone) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM signing_keys WHERE id = ANY($1)`, gone); err != nil {
				return fmt.Errorf("delete keys: %w", err)
			}
		}
		return nil
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return wrap(err, "update signing keys")
	}
	return nil
}

// Refresh tokens.

const tokenColumns = `id, token_hash, family_id, citizen_id, client_id, subject, session_id, scopes, audience,
	auth_time, acr, amr, created_at, expires_at, used_at, revoked_at`

func scanToken(r scanner) (*store.RefreshToken, error) {
	var t store.RefreshToken
	var authTime, used, revoked pgtype.Timestamptz
	if err := r.Scan(&t.ID, &t.TokenHash, &t.FamilyID, &t.CitizenID, &t.ClientID, &t.Subject, &t.SessionID,
		&t.Scopes, &t.Audience, &authTime, &t.ACR, &t.AMR, &t.CreatedAt, &t.ExpiresAt, &used, &revoked); err != nil {
		return nil, err
	}
	t.Scopes = fromList(t.Scopes)
	t.Audience = fromList(t.Audience)
	t.AMR = fromList(t.AMR)
	t.AuthTime = fromNull(authTime)
	t.CreatedAt = t.CreatedAt.UTC()
	t.ExpiresAt = t.ExpiresAt.UTC()
	t.UsedAt = fromNull(used)
	t.RevokedAt = fromNull(revoked)
	return &t, nil
}

func (s *Store) prepareToken(t *store.RefreshToken) error {
	if t.ID == "" || t.TokenHash == "" {
		return errors.New("id and token hash are required")
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	t.AuthTime = norm(t.AuthTime)
	t.CreatedAt = norm(t.CreatedAt)
	t.ExpiresAt = norm(t.ExpiresAt)
	t.UsedAt = norm(t.UsedAt)
	t.RevokedAt = norm(t.RevokedAt)
	return nil
}

func insertToken(ctx context.Context, q interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}, t *store.RefreshToken) error {
	_, err := q.Exec(ctx, `INSERT INTO refresh_tokens (`+tokenColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		t.ID, t.TokenHash, t.FamilyID, t.CitizenID, t.ClientID, t.Subject, t.SessionID,
		list(t.Scopes), list(t.Audience), nullTime(t.AuthTime), t.ACR, list(t.AMR),
		t.CreatedAt, t.ExpiresAt, nullTime(t.UsedAt), nullTime(t.RevokedAt))
	return err
}

// CreateRefreshToken inserts t.
func (s *Store) CreateRefreshToken(ctx context.Context, t *store.RefreshToken) error {
	if err := s.prepareToken(t); err != nil {
		return fmt.Errorf("create refresh token: %w", err)
	}
	if err := insertToken(ctx, s.pool, t); err != nil {
		return wrap(err, "create refresh token %s", t.ID)
	}
	return nil
}

// RefreshTokenByHash returns the token whatever its state.
func (s *Store) RefreshTokenByHash(ctx context.Context, hash string) (*store.RefreshToken, error) {
	t, err := scanToken(s.pool.QueryRow(ctx, `SELECT `+tokenColumns+` FROM refresh_tokens WHERE token_hash = $1`, hash))
	if err != nil {
		return nil, wrap(err, "refresh token by hash")
	}
	return t, nil
}

// RotateRefreshToken marks the token with oldHash used and inserts next, atomically.
func (s *Store) RotateRefreshToken(ctx context.Context, oldHash string, next *store.RefreshToken, now time.Time) error {
	if err := s.prepareToken(next); err != nil {
		return fmt.Errorf("rotate refresh token: %w", err)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Of concurrent rotations, the first to update the row holds its lock
		// until commit; the others then re-check the WHERE clause against the
		// committed row and update nothing.
		tag, err := tx.Exec(ctx, `UPDATE refresh_tokens SET used_at = $1
			WHERE token_hash = $2 AND used_at IS NULL AND revoked_at IS NULL`, norm(now), oldHash)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var one int
			if err := tx.QueryRow(ctx, `SELECT 1 FROM refresh_tokens WHERE token_hash = $1`, oldHash).Scan(&one); err != nil {
				return err // pgx.ErrNoRows becomes ErrNotFound
			}
			return store.ErrTokenReused
		}
		return insertToken(ctx, tx, next)
	})
	if err != nil {
		return wrap(err, "rotate refresh token")
	}
	return nil
}

// RevokeRefreshFamily revokes every token of the family.
func (s *Store) RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) error {
	if familyID == "" {
		return errors.New("revoke refresh family: family id is required")
	}
	_, err := s.pool.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL`,
		norm(now), familyID)
	if err != nil {
		return wrap(err, "revoke refresh family %s", familyID)
	}
	return nil
}

// RevokeRefreshTokensBySession revokes every unrevoked token issued in the session.
func (s *Store) RevokeRefreshTokensBySession(ctx context.Context, sessionID string, now time.Time) error {
	if sessionID == "" {
		return errors.New("revoke refresh tokens by session: session id is required")
	}
	_, err := s.pool.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $1 WHERE session_id = $2 AND revoked_at IS NULL`,
		norm(now), sessionID)
	if err != nil {
		return wrap(err, "revoke refresh tokens by session")
	}
	return nil
}

// DeleteExpiredRefreshTokens deletes tokens that expired before the time.
func (s *Store) DeleteExpiredRefreshTokens(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM refresh_tokens WHERE expires_at < $1`, norm(before))
	if err != nil {
		return 0, wrap(err, "delete expired refresh tokens")
	}
	return tag.RowsAffected(), nil
}

// TOTP credentials.

const totpColumns = `citizen_id, secret, confirmed, last_step, created_at, confirmed_at, last_used_at`

func scanTOTP(r scanner) (*store.TOTPCredential, error) {
	var c store.TOTPCredential
	var confirmed, lastUsed pgtype.Timestamptz
	if err := r.Scan(&c.CitizenID, &c.Secret, &c.Confirmed, &c.LastStep, &c.CreatedAt, &confirmed, &lastUsed); err != nil {
		return nil, err
	}
	c.CreatedAt = c.CreatedAt.UTC()
	c.ConfirmedAt = fromNull(confirmed)
	c.LastUsedAt = fromNull(lastUsed)
	return &c, nil
}

func normTOTP(c *store.TOTPCredential) {
	c.CreatedAt = norm(c.CreatedAt)
	c.ConfirmedAt = norm(c.ConfirmedAt)
	c.LastUsedAt = norm(c.LastUsedAt)
}

// PutTOTP creates or replaces the citizen's TOTP credential.
func (s *Store) PutTOTP(ctx context.Context, c *store.TOTPCredential) error {
	if c.CitizenID == "" {
		return errors.New("put totp: citizen id is required")
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	normTOTP(c)
	_, err := s.pool.Exec(ctx, `INSERT INTO totp_credentials (`+totpColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (citizen_id) DO UPDATE SET secret = excluded.secret, confirmed = excluded.confirmed,
		last_step = excluded.last_step, created_at = excluded.created_at, confirmed_at = excluded.confirmed_at,
		last_used_at = excluded.last_used_at`,
		c.CitizenID, nonNilBytes(c.Secret), c.Confirmed, c.LastStep, c.CreatedAt, nullTime(c.ConfirmedAt),
		nullTime(c.LastUsedAt))
	if err != nil {
		return wrap(err, "put totp of citizen %s", c.CitizenID)
	}
	return nil
}

// TOTP returns the citizen's TOTP credential.
func (s *Store) TOTP(ctx context.Context, citizenID string) (*store.TOTPCredential, error) {
	c, err := scanTOTP(s.pool.QueryRow(ctx, `SELECT `+totpColumns+` FROM totp_credentials WHERE citizen_id = $1`, citizenID))
	if err != nil {
		return nil, wrap(err, "totp of citizen %s", citizenID)
	}
	return c, nil
}

// UpdateTOTP reads the credential under a row lock (SELECT ... FOR UPDATE),
// applies fn and writes it back in one transaction.
func (s *Store) UpdateTOTP(ctx context.Context, citizenID string, fn func(c *store.TOTPCredential) error) error {
	var fnErr error
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		c, err := scanTOTP(tx.QueryRow(ctx, `SELECT `+totpColumns+` FROM totp_credentials WHERE citizen_id = $1 FOR UPDATE`,
			citizenID))
		if err != nil {
			return err
		}
		if err := fn(c); err != nil {
			fnErr = err
			return err
		}
		if c.CitizenID != citizenID {
			return errors.New("citizen id cannot change")
		}
		normTOTP(c)
		_, err = tx.Exec(ctx, `UPDATE totp_credentials SET secret = $2, confirmed = $3, last_step = $4,
			created_at = $5, confirmed_at = $6, last_used_at = $7 WHERE citizen_id = $1`,
			citizenID, nonNilBytes(c.Secret), c.Confirmed, c.LastStep, c.CreatedAt, nullTime(c.ConfirmedAt),
			nullTime(c.LastUsedAt))
		return err
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return wrap(err, "update totp of citizen %s", citizenID)
	}
	return nil
}

// lockCitizen takes a row lock on the citizen that serialises changes to
// the citizen's set of recovery codes (it does not block the key-share
// locks of foreign-key checks). pgx.ErrNoRows when the citizen is unknown.
func lockCitizen(ctx context.Context, tx pgx.Tx, citizenID string) error {
	var one int
	return tx.QueryRow(ctx, `SELECT 1 FROM citizens WHERE id = $1 FOR NO KEY UPDATE`, citizenID).Scan(&one)
}

// DeleteTOTP removes the credential and the citizen's recovery codes.
func (s *Store) DeleteTOTP(ctx context.Context, citizenID string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockCitizen(ctx, tx, citizenID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM totp_credentials WHERE citizen_id = $1`, citizenID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		_, err = tx.Exec(ctx, `DELETE FROM recovery_codes WHERE citizen_id = $1`, citizenID)
		return err
	})
	if err != nil {
		return wrap(err, "delete totp of citizen %s", citizenID)
	}
	return nil
}

// Recovery codes.

// ReplaceRecoveryCodes deletes the citizen's codes and stores these hashes.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, citizenID string, hashes []string) error {
	now := s.now()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockCitizen(ctx, tx, citizenID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE citizen_id = $1`, citizenID); err != nil {
			return err
		}
		if len(hashes) == 0 {
			return nil
		}
		_, err := tx.Exec(ctx, `INSERT INTO recovery_codes (citizen_id, hash, created_at)
			SELECT $1, h, $3 FROM unnest($2::text[]) AS h`, citizenID, hashes, now)
		return err
	})
	if err != nil {
		return wrap(err, "replace recovery codes of citizen %s", citizenID)
	}
	return nil
}

// UseRecoveryCode marks the unused code with this hash as used. Of
// concurrent uses, the first to update the row holds its lock until commit;
// the others then re-check used_at against the committed row and update
// nothing.
func (s *Store) UseRecoveryCode(ctx context.Context, citizenID, hash string, now time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE recovery_codes SET used_at = $1
		WHERE citizen_id = $2 AND hash = $3 AND used_at IS NULL`, norm(now), citizenID, hash)
	if err != nil {
		return wrap(err, "use recovery code of citizen %s", citizenID)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("use recovery code of citizen %s: %w", citizenID, store.ErrNotFound)
	}
	return nil
}

// RecoveryCodesLeft counts the citizen's unused codes.
func (s *Store) RecoveryCodesLeft(ctx context.Context, citizenID string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM recovery_codes WHERE citizen_id = $1 AND used_at IS NULL`,
		citizenID).Scan(&n)
	if err != nil {
		return 0, wrap(err, "count recovery codes of citizen %s", citizenID)
	}
	return n, nil
}

// Audit.

const auditColumns = `seq, time, actor, action, target, outcome, client_ip, details, prev_hash, hash`

// AppendAudit assigns Seq, PrevHash and Hash and appends e. Appends are
// serialised by a transaction-scoped advisory lock, so the chain never forks.
func (s *Store) AppendAudit(ctx context.Context, e *store.AuditEvent) error {
	ev := *e
	if ev.Time.IsZero() {
		ev.Time = s.now()
	}
	ev.Time = norm(ev.Time)
	details := ev.Details
	if details == nil {
		details = map[string]string{}
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockAudit); err != nil {
			return fmt.Errorf("take lock: %w", err)
		}
		var last int64
		var lastHash string
		err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1`).Scan(&last, &lastHash)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		ev.Seq = last + 1
		ev.PrevHash = lastHash
		ev.Hash = store.AuditHash(ev.PrevHash, &ev)
		_, err = tx.Exec(ctx, `INSERT INTO audit_events (`+auditColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			ev.Seq, ev.Time, ev.Actor, ev.Action, ev.Target, ev.Outcome, ev.ClientIP, details, ev.PrevHash, ev.Hash)
		return err
	})
	if err != nil {
		return wrap(err, "append audit event")
	}
	*e = ev
	return nil
}

// ListAudit returns matching events ordered by Seq.
func (s *Store) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error) {
	args := []any{f.AfterSeq}
	where := []string{"seq > $1"}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if !f.Since.IsZero() {
		add("time >= $%d", norm(f.Since))
	}
	if !f.Until.IsZero() {
		add("time < $%d", norm(f.Until))
	}
	for _, c := range []struct{ col, val string }{
		{"actor", f.Actor}, {"action", f.Action}, {"target", f.Target}, {"outcome", f.Outcome},
	} {
		if c.val != "" {
			add(c.col+" = $%d", c.val)
		}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT `+auditColumns+` FROM audit_events WHERE %s ORDER BY seq LIMIT $%d`,
		strings.Join(where, " AND "), len(args)), args...)
	if err != nil {
		return nil, wrap(err, "list audit events")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.AuditEvent, error) {
		var e store.AuditEvent
		if err := r.Scan(&e.Seq, &e.Time, &e.Actor, &e.Action, &e.Target, &e.Outcome, &e.ClientIP, &e.Details,
			&e.PrevHash, &e.Hash); err != nil {
			return e, err
		}
		e.Time = e.Time.UTC()
		if len(e.Details) == 0 {
			e.Details = nil
		}
		return e, nil
	})
	if err != nil {
		return nil, wrap(err, "list audit events")
	}
	return out, nil
}

var _ store.Store = (*Store)(nil)
