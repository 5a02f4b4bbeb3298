package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/citizenid/citizenid/internal/store"
	"github.com/citizenid/citizenid/migrations"
)

// busyTimeout is how long a statement waits for another connection's (or
// process's) write lock before failing with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// Store is a store.Store on one SQLite database file.
type Store struct {
	db   *sql.DB
	path string

	// writeMu serialises this process's write transactions before they
	// reach SQLite, so in-process writers queue instead of polling the
	// busy handler. Other processes are serialised by SQLite's file lock.
	writeMu sync.Mutex

	// Now is the store's clock, used to fill timestamps the caller left
	// zero. Nil means time.Now.
	Now func() time.Time
}

// Open opens (creating if needed) the SQLite database at path, a plain file
// name. It does not migrate; call Migrate.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("open sqlite: %q is not a plain file name", path)
	}
	// journal_mode is not in the DSN: WAL is a property of the file, set
	// once below, and switching to it needs an exclusive lock for which
	// SQLite does not wait, so it must be retried by hand.
	dsn := fmt.Sprintf("%s?_busy_timeout=%d&_foreign_keys=1&_txlock=immediate", path, busyTimeout.Milliseconds())
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	db.SetMaxIdleConns(4)
	if err := setWAL(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return &Store{db: db, path: path}, nil
}

// setWAL switches the database file to WAL mode, retrying while another
// connection (or process) holds a lock that prevents the switch.
func setWAL(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(busyTimeout)
	for {
		var mode string
		err := db.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode)
		if err == nil {
			if !strings.EqualFold(mode, "wal") {
				return fmt.Errorf("set WAL journal mode: got mode %q", mode)
			}
			return nil
		}
		if !isBusy(err) || time.Now().After(deadline) {
			return fmt.Errorf("set WAL journal mode: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("set WAL journal mode: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func isBusy(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	code := se.Code() & 0xff // primary result code
	return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
}

// Migrate applies every pending migration from migrations/sqlite. Several
// processes (or Store values) may call it at once on one file: they take
// turns under a file lock, and all but the first find nothing to do.
func (s *Store) Migrate(ctx context.Context) error {
	unlock, err := lockFile(ctx, s.path+".migrate-lock")
	if err != nil {
		return fmt.Errorf("migrate sqlite: %w", err)
	}
	defer unlock()
	sub, err := fs.Sub(migrations.FS, "sqlite")
	if err != nil {
		return fmt.Errorf("migrate sqlite: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, s.db, sub, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrate sqlite: %w", err)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate sqlite: %w", err)
	}
	return nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite: %w", err)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

func (s *Store) now() time.Time {
	if s.Now != nil {
		return norm(s.Now())
	}
	return norm(time.Now())
}

// write runs fn in one write transaction (BEGIN IMMEDIATE).
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// wrap adds context to err and maps no-rows and constraint violations to
// the store's sentinels.
func wrap(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%s: %w: %w", what, store.ErrConflict, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%s: %w: %w", what, store.ErrNotFound, err)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Times are TEXT in this fixed layout (UTC, microseconds), so that text
// order is time order.
const timeLayout = "2006-01-02T15:04:05.000000Z"

func norm(t time.Time) time.Time { return t.Round(store.TimePrecision).UTC() }

func encTime(t time.Time) string { return norm(t).Format(timeLayout) }

func encNullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return encTime(t)
}

func decTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse stored time %q: %w", s, err)
	}
	return t, nil
}

func decNullTime(s sql.NullString) (time.Time, error) {
	if !s.Valid {
		return time.Time{}, nil
	}
	return decTime(s.String)
}

func encList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l) // []string always marshals
	return string(b)
}

func decList(s string) ([]string, error) {
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, fmt.Errorf("parse stored list: %w", err)
	}
	if len(l) == 0 {
		return nil, nil
	}
	return l, nil
}

func encMap(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(m) // map[string]string always marshals
	return string(b)
}

func decMap(s string) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("parse stored map: %w", err)
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

type scanner interface{ Scan(dest ...any) error }

// Citizens.

const citizenColumns = `id, number, name, birthdate, email, phone, identity_level, disabled, skip_second_factor,
	created_at, updated_at`

func scanCitizen(r scanner) (*store.Citizen, error) {
	var c store.Citizen
	var created, updated string
	if err := r.Scan(&c.ID, &c.Number, &c.Name, &c.Birthdate, &c.Email, &c.Phone,
		&c.IdentityLevel, &c.Disabled, &c.SkipSecondFactor, &created, &updated); err != nil {
		return nil, err
	}
	var err error
	if c.CreatedAt, err = decTime(created); err != nil {
		return nil, err
	}
	if c.UpdatedAt, err = decTime(updated); err != nil {
		return nil, err
	}
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
	now := s.now()
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	normCitizen(c)
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO citizens (`+citizenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.Number, c.Name, c.Birthdate, c.Email, c.Phone, c.IdentityLevel, c.Disabled, c.SkipSecondFactor,
			encTime(c.CreatedAt), encTime(c.UpdatedAt))
		if err != nil || passwordHash == "" {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO password_credentials (citizen_id, hash, updated_at) VALUES (?, ?, ?)`,
			c.ID, passwordHash, encTime(c.CreatedAt))
		return err
	})
	if err != nil {
		return wrap(err, "create citizen %s", c.ID)
	}
	return nil
}

// CitizenByNumber returns the citizen with the number.
func (s *Store) CitizenByNumber(ctx context.Context, number string) (*store.Citizen, error) {
	c, err := scanCitizen(s.db.QueryRowContext(ctx, `SELECT `+citizenColumns+` FROM citizens WHERE number = ?`, number))
	if err != nil {
		return nil, wrap(err, "citizen by number")
	}
	return c, nil
}

// CitizenByID returns the citizen with the ID.
func (s *Store) CitizenByID(ctx context.Context, id string) (*store.Citizen, error) {
	c, err := scanCitizen(s.db.QueryRowContext(ctx, `SELECT `+citizenColumns+` FROM citizens WHERE id = ?`, id))
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
	rows, err := s.db.QueryContext(ctx, `SELECT `+citizenColumns+` FROM citizens WHERE number > ? ORDER BY number LIMIT ?`,
		afterNumber, limit)
	if err != nil {
		return nil, wrap(err, "list citizens")
	}
	defer rows.Close()
	var out []store.Citizen
	for rows.Next() {
		c, err := scanCitizen(rows)
		if err != nil {
			return nil, wrap(err, "list citizens")
		}
		out = append(out, *c)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "list citizens")
	}
	return out, nil
}

// UpdateCitizen reads the citizen, applies fn and writes it back in one transaction.
func (s *Store) UpdateCitizen(ctx context.Context, id string, fn func(c *store.Citizen) error) error {
	var fnErr error
	err := s.write(ctx, func(tx *sql.Tx) error {
		c, err := scanCitizen(tx.QueryRowContext(ctx, `SELECT `+citizenColumns+` FROM citizens WHERE id = ?`, id))
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
		_, err = tx.ExecContext(ctx, `UPDATE citizens SET number = ?, name = ?, birthdate = ?, email = ?, phone = ?,
			identity_level = ?, disabled = ?, skip_second_factor = ?, created_at = ?, updated_at = ? WHERE id = ?`,
			c.Number, c.Name, c.Birthdate, c.Email, c.Phone, c.IdentityLevel, c.Disabled, c.SkipSecondFactor,
			encTime(c.CreatedAt), encTime(c.UpdatedAt), id)
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
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO password_credentials (citizen_id, hash, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (citizen_id) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at`,
			citizenID, hash, encTime(s.now()))
		return err
	})
	if err != nil {
		return wrap(err, "set password of citizen %s", citizenID)
	}
	return nil
}

// PasswordHash returns the citizen's password hash.
func (s *Store) PasswordHash(ctx context.Context, citizenID string) (string, error) {
	var hash string
	err := s.db.QueryRowContext(ctx, `SELECT hash FROM password_credentials WHERE citizen_id = ?`, citizenID).Scan(&hash)
	if err != nil {
		return "", wrap(err, "password of citizen %s", citizenID)
	}
	return hash, nil
}

// ReplacePasswordHash swaps oldHash for newHash if oldHash is still current.
func (s *Store) ReplacePasswordHash(ctx context.Context, citizenID, oldHash, newHash string) error {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE password_credentials SET hash = ?, updated_at = ? WHERE citizen_id = ? AND hash = ?`,
			newHash, encTime(s.now()), citizenID, oldHash)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return wrap(err, "replace password of citizen %s", citizenID)
	}
	if n == 0 {
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
	var redirects, postLogout, scopes, created, updated, adminScopes string
	var previousUntil sql.NullString
	var maxAuthAge, access, refresh, idToken int64
	if err := r.Scan(&c.ID, &c.Name, &c.SecretHash, &c.Public, &redirects, &postLogout, &scopes,
		&c.SubjectType, &c.SectorIdentifier, &c.MinLevel, &maxAuthAge, &access,
		&refresh, &idToken, &c.Disabled, &created, &updated,
		&c.LogoURL, &c.TokenEndpointAuthMethod, &c.PreviousSecretHash, &previousUntil, &adminScopes, &c.SubjectScheme); err != nil {
		return nil, err
	}
	c.MaxAuthAge = time.Duration(maxAuthAge)
	c.AccessTokenLifetime = time.Duration(access)
	c.RefreshTokenLifetime = time.Duration(refresh)
	c.IDTokenLifetime = time.Duration(idToken)
	var err error
	if c.RedirectURIs, err = decList(redirects); err != nil {
		return nil, err
	}
	if c.PostLogoutRedirectURIs, err = decList(postLogout); err != nil {
		return nil, err
	}
	if c.Scopes, err = decList(scopes); err != nil {
		return nil, err
	}
	if c.CreatedAt, err = decTime(created); err != nil {
		return nil, err
	}
	if c.UpdatedAt, err = decTime(updated); err != nil {
		return nil, err
	}
	if c.PreviousSecretUntil, err = decNullTime(previousUntil); err != nil {
		return nil, err
	}
	if c.AdminScopes, err = decList(adminScopes); err != nil {
		return nil, err
	}
	return &c, nil
}

func clientArgs(c *store.Client) []any {
	return []any{c.ID, c.Name, c.SecretHash, c.Public, encList(c.RedirectURIs), encList(c.PostLogoutRedirectURIs),
		encList(c.Scopes), c.SubjectType, c.SectorIdentifier, c.MinLevel, int64(c.MaxAuthAge),
		int64(c.AccessTokenLifetime), int64(c.RefreshTokenLifetime), int64(c.IDTokenLifetime), c.Disabled,
		encTime(c.CreatedAt), encTime(c.UpdatedAt),
		c.LogoURL, c.TokenEndpointAuthMethod, c.PreviousSecretHash, encNullTime(c.PreviousSecretUntil), encList(c.AdminScopes)}
}

func normClient(c *store.Client) {
	c.CreatedAt = norm(c.CreatedAt)
	c.UpdatedAt = norm(c.UpdatedAt)
	c.PreviousSecretUntil = norm(c.PreviousSecretUntil)
}

// CreateClient inserts c.
func (s *Store) CreateClient(ctx context.Context, c *store.Client) error {
	if c.ID == "" {
		return errors.New("create client: id is required")
	}
	now := s.now()
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	normClient(c)
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO clients (`+clientColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, append(clientArgs(c), c.SubjectScheme)...)
		return err
	})
	if err != nil {
		return wrap(err, "create client %s", c.ID)
	}
	return nil
}

// ClientByID returns the client with the ID.
func (s *Store) ClientByID(ctx context.Context, id string) (*store.Client, error) {
	c, err := scanClient(s.db.QueryRowContext(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = ?`, id))
	if err != nil {
		return nil, wrap(err, "client %s", id)
	}
	return c, nil
}

// ListClients returns every client ordered by ID.
func (s *Store) ListClients(ctx context.Context) ([]store.Client, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+clientColumns+` FROM clients ORDER BY id`)
	if err != nil {
		return nil, wrap(err, "list clients")
	}
	defer rows.Close()
	var out []store.Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, wrap(err, "list clients")
		}
		out = append(out, *c)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "list clients")
	}
	return out, nil
}

// UpdateClient reads the client, applies fn and writes it back in one transaction.
func (s *Store) UpdateClient(ctx context.Context, id string, fn func(c *store.Client) error) error {
	var fnErr error
	err := s.write(ctx, func(tx *sql.Tx) error {
		c, err := scanClient(tx.QueryRowContext(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = ?`, id))
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
		args := append(clientArgs(c)[1:], id)
		_, err = tx.ExecContext(ctx, `UPDATE clients SET name = ?, secret_hash = ?, public = ?, redirect_uris = ?,
			post_logout_redirect_uris = ?, scopes = ?, subject_type = ?, sector_identifier = ?, min_level = ?,
			max_auth_age_ns = ?, access_token_lifetime_ns = ?, refresh_token_lifetime_ns = ?,
			id_token_lifetime_ns = ?, disabled = ?, created_at = ?, updated_at = ?, logo_url = ?,
			token_endpoint_auth_method = ?, previous_secret_hash = ?, previous_secret_until = ?, admin_scopes = ?
			WHERE id = ?`, args...)
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
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM clients WHERE id = ?`, id)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return wrap(err, "delete client %s", id)
	}
	if n == 0 {
		return fmt.Errorf("delete client %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// Signing keys.

const keyColumns = `id, algorithm, state, public_key, private_key, created_at, activated_at, retired_at, verify_until`

func scanKey(r scanner) (*store.SigningKey, error) {
	var k store.SigningKey
	var created string
	var activated, retired, verifyUntil sql.NullString
	if err := r.Scan(&k.ID, &k.Algorithm, &k.State, &k.PublicKey, &k.PrivateKey,
		&created, &activated, &retired, &verifyUntil); err != nil {
		return nil, err
	}
	var err error
	if k.CreatedAt, err = decTime(created); err != nil {
		return nil, err
	}
	if k.ActivatedAt, err = decNullTime(activated); err != nil {
		return nil, err
	}
	if k.RetiredAt, err = decNullTime(retired); err != nil {
		return nil, err
	}
	if k.VerifyUntil, err = decNullTime(verifyUntil); err != nil {
		return nil, err
	}
	return &k, nil
}

func listKeys(ctx context.Context, q interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}) ([]store.SigningKey, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+keyColumns+` FROM signing_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.SigningKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *k)
	}
	return out, rows.Err()
}

// ListSigningKeys returns every key, oldest first.
func (s *Store) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	keys, err := listKeys(ctx, s.db)
	if err != nil {
		return nil, wrap(err, "list signing keys")
	}
	return keys, nil
}

// UpdateSigningKeys replaces the set of keys with what fn returns, in one
// serialised transaction.
func (s *Store) UpdateSigningKeys(ctx context.Context, fn func(keys []store.SigningKey) ([]store.SigningKey, error)) error {
	var fnErr error
	err := s.write(ctx, func(tx *sql.Tx) error {
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
			args := []any{k.Algorithm, k.State, nonNilBytes(k.PublicKey), nonNilBytes(k.PrivateKey), encTime(k.CreatedAt),
				encNullTime(k.ActivatedAt), encNullTime(k.RetiredAt), encNullTime(k.VerifyUntil), k.ID}
			if existing[k.ID] {
				_, err = tx.ExecContext(ctx, `UPDATE signing_keys SET algorithm = ?, state = ?, public_key = ?,
					private_key = ?, created_at = ?, activated_at = ?, retired_at = ?, verify_until = ? WHERE id = ?`, args...)
			} else {
				_, err = tx.ExecContext(ctx, `INSERT INTO signing_keys (algorithm, state, public_key, private_key,
					created_at, activated_at, retired_at, verify_until, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
			}
			if err != nil {
				return fmt.Errorf("write key %s: %w", k.ID, err)
			}
		}
		for id := range existing {
			if !seen[id] {
				if _, err := tx.ExecContext(ctx, `DELETE FROM signing_keys WHERE id = ?`, id); err != nil {
					return fmt.Errorf("delete key %s: %w", id, err)
				}
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

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Refresh tokens.

const tokenColumns = `id, token_hash, family_id, citizen_id, client_id, subject, session_id, scopes, audience,
	auth_time, acr, amr, created_at, expires_at, used_at, revoked_at`

func scanToken(r scanner) (*store.RefreshToken, error) {
	var t store.RefreshToken
	var scopes, audience, amr, created, expires string
	var authTime, used, revoked sql.NullString
	if err := r.Scan(&t.ID, &t.TokenHash, &t.FamilyID, &t.CitizenID, &t.ClientID, &t.Subject, &t.SessionID,
		&scopes, &audience, &authTime, &t.ACR, &amr, &created, &expires, &used, &revoked); err != nil {
		return nil, err
	}
	var err error
	if t.Scopes, err = decList(scopes); err != nil {
		return nil, err
	}
	if t.Audience, err = decList(audience); err != nil {
		return nil, err
	}
	if t.AMR, err = decList(amr); err != nil {
		return nil, err
	}
	if t.AuthTime, err = decNullTime(authTime); err != nil {
		return nil, err
	}
	if t.CreatedAt, err = decTime(created); err != nil {
		return nil, err
	}
	if t.ExpiresAt, err = decTime(expires); err != nil {
		return nil, err
	}
	if t.UsedAt, err = decNullTime(used); err != nil {
		return nil, err
	}
	if t.RevokedAt, err = decNullTime(revoked); err != nil {
		return nil, err
	}
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

func insertToken(ctx context.Context, tx *sql.Tx, t *store.RefreshToken) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO refresh_tokens (`+tokenColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.TokenHash, t.FamilyID, t.CitizenID, t.ClientID, t.Subject, t.SessionID,
		encList(t.Scopes), encList(t.Audience), encNullTime(t.AuthTime), t.ACR, encList(t.AMR),
		encTime(t.CreatedAt), encTime(t.ExpiresAt), encNullTime(t.UsedAt), encNullTime(t.RevokedAt))
	return err
}

// CreateRefreshToken inserts t.
func (s *Store) CreateRefreshToken(ctx context.Context, t *store.RefreshToken) error {
	if err := s.prepareToken(t); err != nil {
		return fmt.Errorf("create refresh token: %w", err)
	}
	err := s.write(ctx, func(tx *sql.Tx) error { return insertToken(ctx, tx, t) })
	if err != nil {
		return wrap(err, "create refresh token %s", t.ID)
	}
	return nil
}

// RefreshTokenByHash returns the token whatever its state.
func (s *Store) RefreshTokenByHash(ctx context.Context, hash string) (*store.RefreshToken, error) {
	t, err := scanToken(s.db.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM refresh_tokens WHERE token_hash = ?`, hash))
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
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET used_at = ?
			WHERE token_hash = ? AND used_at IS NULL AND revoked_at IS NULL`, encTime(now), oldHash)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM refresh_tokens WHERE token_hash = ?`, oldHash).Scan(&one)
			if err != nil {
				return err // sql.ErrNoRows becomes ErrNotFound
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
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL`,
			encTime(now), familyID)
		return err
	})
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
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE session_id = ? AND revoked_at IS NULL`,
			encTime(now), sessionID)
		return err
	})
	if err != nil {
		return wrap(err, "revoke refresh tokens by session")
	}
	return nil
}

// DeleteExpiredRefreshTokens deletes tokens that expired before the time.
func (s *Store) DeleteExpiredRefreshTokens(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM refresh_tokens WHERE expires_at < ?`, encTime(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, wrap(err, "delete expired refresh tokens")
	}
	return n, nil
}

// TOTP credentials.

const totpColumns = `citizen_id, secret, confirmed, last_step, created_at, confirmed_at, last_used_at`

func scanTOTP(r scanner) (*store.TOTPCredential, error) {
	var c store.TOTPCredential
	var created string
	var confirmed, lastUsed sql.NullString
	if err := r.Scan(&c.CitizenID, &c.Secret, &c.Confirmed, &c.LastStep, &created, &confirmed, &lastUsed); err != nil {
		return nil, err
	}
	var err error
	if c.CreatedAt, err = decTime(created); err != nil {
		return nil, err
	}
	if c.ConfirmedAt, err = decNullTime(confirmed); err != nil {
		return nil, err
	}
	if c.LastUsedAt, err = decNullTime(lastUsed); err != nil {
		return nil, err
	}
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
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO totp_credentials (`+totpColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (citizen_id) DO UPDATE SET secret = excluded.secret, confirmed = excluded.confirmed,
			last_step = excluded.last_step, created_at = excluded.created_at, confirmed_at = excluded.confirmed_at,
			last_used_at = excluded.last_used_at`,
			c.CitizenID, nonNilBytes(c.Secret), c.Confirmed, c.LastStep, encTime(c.CreatedAt),
			encNullTime(c.ConfirmedAt), encNullTime(c.LastUsedAt))
		return err
	})
	if err != nil {
		return wrap(err, "put totp of citizen %s", c.CitizenID)
	}
	return nil
}

// TOTP returns the citizen's TOTP credential.
func (s *Store) TOTP(ctx context.Context, citizenID string) (*store.TOTPCredential, error) {
	c, err := scanTOTP(s.db.QueryRowContext(ctx, `SELECT `+totpColumns+` FROM totp_credentials WHERE citizen_id = ?`, citizenID))
	if err != nil {
		return nil, wrap(err, "totp of citizen %s", citizenID)
	}
	return c, nil
}

// UpdateTOTP reads the credential, applies fn and writes it back in one
// write transaction; write transactions are serialised.
func (s *Store) UpdateTOTP(ctx context.Context, citizenID string, fn func(c *store.TOTPCredential) error) error {
	var fnErr error
	err := s.write(ctx, func(tx *sql.Tx) error {
		c, err := scanTOTP(tx.QueryRowContext(ctx, `SELECT `+totpColumns+` FROM totp_credentials WHERE citizen_id = ?`, citizenID))
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
		_, err = tx.ExecContext(ctx, `UPDATE totp_credentials SET secret = ?, confirmed = ?, last_step = ?,
			created_at = ?, confirmed_at = ?, last_used_at = ? WHERE citizen_id = ?`,
			nonNilBytes(c.Secret), c.Confirmed, c.LastStep, encTime(c.CreatedAt), encNullTime(c.ConfirmedAt),
			encNullTime(c.LastUsedAt), citizenID)
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

// DeleteTOTP removes the credential and the citizen's recovery codes.
func (s *Store) DeleteTOTP(ctx context.Context, citizenID string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM totp_credentials WHERE citizen_id = ?`, citizenID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return store.ErrNotFound
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE citizen_id = ?`, citizenID)
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
	now := encTime(s.now())
	err := s.write(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM citizens WHERE id = ?`, citizenID).Scan(&one); err != nil {
			return err // sql.ErrNoRows becomes ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE citizen_id = ?`, citizenID); err != nil {
			return err
		}
		for _, h := range hashes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (citizen_id, hash, created_at) VALUES (?, ?, ?)`,
				citizenID, h, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return wrap(err, "replace recovery codes of citizen %s", citizenID)
	}
	return nil
}

// UseRecoveryCode marks the unused code with this hash as used.
func (s *Store) UseRecoveryCode(ctx context.Context, citizenID, hash string, now time.Time) error {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE recovery_codes SET used_at = ?
			WHERE citizen_id = ? AND hash = ? AND used_at IS NULL`, encTime(now), citizenID, hash)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return wrap(err, "use recovery code of citizen %s", citizenID)
	}
	if n == 0 {
		return fmt.Errorf("use recovery code of citizen %s: %w", citizenID, store.ErrNotFound)
	}
	return nil
}

// RecoveryCodesLeft counts the citizen's unused codes.
func (s *Store) RecoveryCodesLeft(ctx context.Context, citizenID string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM recovery_codes WHERE citizen_id = ? AND used_at IS NULL`,
		citizenID).Scan(&n)
	if err != nil {
		return 0, wrap(err, "count recovery codes of citizen %s", citizenID)
	}
	return n, nil
}

// Audit.

const auditColumns = `seq, time, actor, action, target, outcome, client_ip, details, prev_hash, hash`

// AppendAudit assigns Seq, PrevHash and Hash and appends e.
func (s *Store) AppendAudit(ctx context.Context, e *store.AuditEvent) error {
	ev := *e
	if ev.Time.IsZero() {
		ev.Time = s.now()
	}
	ev.Time = norm(ev.Time)
	err := s.write(ctx, func(tx *sql.Tx) error {
		var last int64
		var lastHash string
		err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1`).Scan(&last, &lastHash)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		ev.Seq = last + 1
		ev.PrevHash = lastHash
		ev.Hash = store.AuditHash(ev.PrevHash, &ev)
		_, err = tx.ExecContext(ctx, `INSERT INTO audit_events (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			ev.Seq, encTime(ev.Time), ev.Actor, ev.Action, ev.Target, ev.Outcome, ev.ClientIP, encMap(ev.Details),
			ev.PrevHash, ev.Hash)
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
	where := []string{"seq > ?"}
	args := []any{f.AfterSeq}
	if !f.Since.IsZero() {
		where = append(where, "time >= ?")
		args = append(args, encTime(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "time < ?")
		args = append(args, encTime(f.Until))
	}
	for _, c := range []struct{ col, val string }{
		{"actor", f.Actor}, {"action", f.Action}, {"target", f.Target}, {"outcome", f.Outcome},
	} {
		if c.val != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.val)
		}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_events WHERE `+
		strings.Join(where, " AND ")+` ORDER BY seq LIMIT ?`, args...)
	if err != nil {
		return nil, wrap(err, "list audit events")
	}
	defer rows.Close()
	var out []store.AuditEvent
	for rows.Next() {
		var e store.AuditEvent
		var t, details string
		if err := rows.Scan(&e.Seq, &t, &e.Actor, &e.Action, &e.Target, &e.Outcome, &e.ClientIP, &details,
			&e.PrevHash, &e.Hash); err != nil {
			return nil, wrap(err, "list audit events")
		}
		if e.Time, err = decTime(t); err != nil {
			return nil, wrap(err, "list audit events")
		}
		if e.Details, err = decMap(details); err != nil {
			return nil, wrap(err, "list audit events")
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "list audit events")
	}
	return out, nil
}

var _ store.Store = (*Store)(nil)
