package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// Refresh tokens.

const tokenColumns = `id, token_hash, family_id, citizen_id, client_id, subject, session_id, scopes, audience,
	auth_time, acr, amr, created_at, expires_at, used_at, revoked_at, dpop_jkt, claims`

func (s *Store) scanToken(r scanner) (*store.RefreshToken, error) {
	var t store.RefreshToken
	if err := r.Scan(&t.ID, &t.TokenHash, &t.FamilyID, &t.CitizenID, &t.ClientID, &t.Subject, &t.SessionID,
		s.scanList(&t.Scopes), s.scanList(&t.Audience), scanTime(&t.AuthTime), &t.ACR, s.scanList(&t.AMR),
		scanTime(&t.CreatedAt), scanTime(&t.ExpiresAt), scanTime(&t.UsedAt), scanTime(&t.RevokedAt), &t.DPoPJKT,
		s.scanList(&t.Claims)); err != nil {
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

const insertToken = `INSERT INTO refresh_tokens (` + tokenColumns + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func (s *Store) tokenArgs(t *store.RefreshToken) []any {
	return []any{t.ID, t.TokenHash, t.FamilyID, t.CitizenID, t.ClientID, t.Subject, t.SessionID,
		s.list(t.Scopes), s.list(t.Audience), s.nullTime(t.AuthTime), t.ACR, s.list(t.AMR),
		s.time(t.CreatedAt), s.time(t.ExpiresAt), s.nullTime(t.UsedAt), s.nullTime(t.RevokedAt), t.DPoPJKT, s.list(t.Claims)}
}

// insertTokenWithMark is insertToken and putMark in one statement
// (modifyingWith): one round trip instead of four for a transaction.
const insertTokenWithMark = `WITH m AS (` + putMark + ` RETURNING 1)
	INSERT INTO refresh_tokens (` + tokenColumns + `)
	SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM m`

// CreateRefreshToken inserts t, and the marks with it in one transaction.
func (s *Store) CreateRefreshToken(ctx context.Context, t *store.RefreshToken, marks ...store.Mark) error {
	if err := s.prepareToken(t); err != nil {
		return fmt.Errorf("create refresh token: %w", err)
	}
	var err error
	switch {
	case len(marks) == 0:
		_, err = s.exec(ctx, insertToken, s.tokenArgs(t)...)
	case len(marks) == 1 && s.d.modifyingWith:
		_, err = s.exec(ctx, insertTokenWithMark, append(s.markArgs(marks[0]), s.tokenArgs(t)...)...)
	default:
		err = s.write(ctx, func(tx *sql.Tx) error {
			if _, err := s.execTx(ctx, tx, insertToken, s.tokenArgs(t)...); err != nil {
				return err
			}
			for _, m := range marks {
				if _, err := s.execTx(ctx, tx, putMark, s.markArgs(m)...); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err != nil {
		return s.wrap(err, "create refresh token %s", t.ID)
	}
	return nil
}

// RefreshTokenByHash returns the token whatever its state.
func (s *Store) RefreshTokenByHash(ctx context.Context, hash string) (*store.RefreshToken, error) {
	t, err := row(ctx, s, s.db, s.scanToken, `SELECT `+tokenColumns+` FROM refresh_tokens WHERE token_hash = ?`, hash)
	if err != nil {
		return nil, s.wrap(err, "refresh token by hash")
	}
	return t, nil
}

// tokenWithCitizen reads a token and its citizen in one round trip: the
// refresh grant needs both, and a second query costs it more than the join.
var tokenWithCitizen = `SELECT ` + qualify("t", tokenColumns) + `, ` + qualify("c", citizenColumns) + `
	FROM refresh_tokens t JOIN citizens c ON c.id = t.citizen_id WHERE t.token_hash = ?`

// RefreshTokenWithCitizen returns the token whatever its state, with its citizen.
func (s *Store) RefreshTokenWithCitizen(ctx context.Context, hash string) (*store.RefreshToken, *store.Citizen, error) {
	var c *store.Citizen
	t, err := row(ctx, s, s.db, func(r scanner) (*store.RefreshToken, error) {
		// Each scan function hands its destinations to one Scan of the row.
		var dest []any
		collect := scanFunc(func(d ...any) error { dest = append(dest, d...); return nil })
		t, _ := s.scanToken(collect)
		c, _ = scanCitizen(collect)
		return t, r.Scan(dest...)
	}, tokenWithCitizen, hash)
	if err != nil {
		return nil, nil, s.wrap(err, "refresh token with citizen")
	}
	return t, c, nil
}

// rotateToken marks the old token used and inserts the next in one
// statement, one round trip instead of four (modifyingWith). Of two
// concurrent rotations, the second UPDATE waits for the first's row lock,
// re-checks its WHERE clause against the committed row and updates
// nothing, so its INSERT selects no row. A failed INSERT (a duplicate
// hash) undoes the UPDATE with it: one statement is one transaction.
const rotateToken = `WITH old AS (UPDATE refresh_tokens SET used_at = ?
		WHERE token_hash = ? AND used_at IS NULL AND revoked_at IS NULL RETURNING 1)
	INSERT INTO refresh_tokens (` + tokenColumns + `)
	SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM old`

// RotateRefreshToken marks the token with oldHash used and inserts next, atomically.
func (s *Store) RotateRefreshToken(ctx context.Context, oldHash string, next *store.RefreshToken, now time.Time) error {
	if err := s.prepareToken(next); err != nil {
		return fmt.Errorf("rotate refresh token: %w", err)
	}
	var rotated int64
	var err error
	if s.d.modifyingWith {
		rotated, err = s.exec(ctx, rotateToken, append([]any{s.time(now), oldHash}, s.tokenArgs(next)...)...)
	} else {
		err = s.write(ctx, func(tx *sql.Tx) error {
			// Writers are serialised (writeMu): nothing changes the row
			// between the UPDATE and the INSERT.
			n, err := s.execTx(ctx, tx, `UPDATE refresh_tokens SET used_at = ?
				WHERE token_hash = ? AND used_at IS NULL AND revoked_at IS NULL`, s.time(now), oldHash)
			if err != nil || n == 0 {
				return err
			}
			rotated = n
			_, err = s.execTx(ctx, tx, insertToken, s.tokenArgs(next)...)
			return err
		})
	}
	if err == nil && rotated == 0 {
		// Nothing rotated: an unknown token (sql.ErrNoRows becomes
		// ErrNotFound), or one used or revoked.
		if _, err = row(ctx, s, s.db, scanOne, `SELECT 1 FROM refresh_tokens WHERE token_hash = ?`, oldHash); err == nil {
			err = store.ErrTokenReused
		}
	}
	if err != nil {
		return s.wrap(err, "rotate refresh token")
	}
	return nil
}

func scanOne(r scanner) (*int, error) {
	var one int
	return &one, r.Scan(&one)
}

// RevokeRefreshFamily revokes every token of the family.
func (s *Store) RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) error {
	if familyID == "" {
		return errors.New("revoke refresh family: family id is required")
	}
	return s.revokeTokens(ctx, "family_id", familyID, now, "revoke refresh family "+familyID)
}

// RevokeRefreshTokensBySession revokes every unrevoked token issued in the session.
func (s *Store) RevokeRefreshTokensBySession(ctx context.Context, sessionID string, now time.Time, then ...store.OutboxMessage) error {
	if sessionID == "" {
		return errors.New("revoke refresh tokens by session: session id is required")
	}
	if len(then) == 0 {
		return s.revokeTokens(ctx, "session_id", sessionID, now, "revoke refresh tokens by session")
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := s.execTx(ctx, tx, `UPDATE refresh_tokens SET revoked_at = ? WHERE session_id = ? AND revoked_at IS NULL`,
			s.time(now), sessionID); err != nil {
			return err
		}
		return s.enqueueTx(ctx, tx, then)
	})
	if err != nil {
		return s.wrap(err, "revoke refresh tokens by session and enqueue %d messages", len(then))
	}
	return nil
}

// RevokeRefreshTokensByCitizen revokes every unrevoked token of the citizen.
func (s *Store) RevokeRefreshTokensByCitizen(ctx context.Context, citizenID string, now time.Time) error {
	if citizenID == "" {
		return errors.New("revoke refresh tokens by citizen: citizen id is required")
	}
	return s.revokeTokens(ctx, "citizen_id", citizenID, now, "revoke refresh tokens by citizen")
}

// RevokeRefreshTokensForClient revokes every unrevoked token of the
// citizen issued to the client.
func (s *Store) RevokeRefreshTokensForClient(ctx context.Context, citizenID, clientID string, now time.Time) error {
	if citizenID == "" || clientID == "" {
		return errors.New("revoke refresh tokens for client: citizen and client ids are required")
	}
	_, err := s.exec(ctx, `UPDATE refresh_tokens SET revoked_at = ?
		WHERE citizen_id = ? AND client_id = ? AND revoked_at IS NULL`, s.time(now), citizenID, clientID)
	if err != nil {
		return s.wrap(err, "revoke refresh tokens for client %s", clientID)
	}
	return nil
}

// revokeTokens revokes the unrevoked tokens whose column (a constant)
// holds value.
func (s *Store) revokeTokens(ctx context.Context, column, value string, now time.Time, what string) error {
	_, err := s.exec(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE `+column+` = ? AND revoked_at IS NULL`,
		s.time(now), value)
	if err != nil {
		return s.wrap(err, "%s", what)
	}
	return nil
}

// DeleteExpiredRefreshTokens deletes tokens that expired before the time.
func (s *Store) DeleteExpiredRefreshTokens(ctx context.Context, before time.Time) (int64, error) {
	n, err := s.exec(ctx, `DELETE FROM refresh_tokens WHERE expires_at < ?`, s.time(before))
	if err != nil {
		return 0, s.wrap(err, "delete expired refresh tokens")
	}
	return n, nil
}
