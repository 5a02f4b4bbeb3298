package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

// Administrative roles.

// GrantRole records the grant.
func (s *Store) GrantRole(ctx context.Context, g *store.AdminGrant) error {
	if g.CitizenID == "" || g.Role == "" {
		return errors.New("grant role: citizen id and role are required")
	}
	if g.GrantedAt.IsZero() {
		g.GrantedAt = s.now()
	}
	g.GrantedAt = norm(g.GrantedAt)
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO admin_roles (citizen_id, role, granted_by, granted_at) VALUES (?, ?, ?, ?)`,
			g.CitizenID, g.Role, g.GrantedBy, encTime(g.GrantedAt))
		return err
	})
	if err != nil {
		return wrap(err, "grant role %s to citizen %s", g.Role, g.CitizenID)
	}
	return nil
}

// RevokeRole removes the grant; with keepOne never the last of its role.
// Write transactions are serialised, so the count and the delete cannot
// interleave with another revocation.
func (s *Store) RevokeRole(ctx context.Context, citizenID, role string, keepOne bool) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM admin_roles WHERE citizen_id = ? AND role = ?`,
			citizenID, role).Scan(&one); err != nil {
			return err // sql.ErrNoRows becomes ErrNotFound
		}
		if keepOne {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM admin_roles WHERE role = ?`, role).Scan(&n); err != nil {
				return err
			}
			if n <= 1 {
				return fmt.Errorf("last grant of the role: %w", store.ErrConflict)
			}
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM admin_roles WHERE citizen_id = ? AND role = ?`, citizenID, role)
		return err
	})
	if err != nil {
		return wrap(err, "revoke role %s of citizen %s", role, citizenID)
	}
	return nil
}

// ListAdmins returns every grant ordered by citizen ID, then role.
func (s *Store) ListAdmins(ctx context.Context) ([]store.AdminGrant, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT citizen_id, role, granted_by, granted_at FROM admin_roles ORDER BY citizen_id, role`)
	if err != nil {
		return nil, wrap(err, "list admins")
	}
	defer rows.Close()
	var out []store.AdminGrant
	for rows.Next() {
		var g store.AdminGrant
		var at string
		if err := rows.Scan(&g.CitizenID, &g.Role, &g.GrantedBy, &at); err != nil {
			return nil, wrap(err, "list admins")
		}
		if g.GrantedAt, err = decTime(at); err != nil {
			return nil, wrap(err, "list admins")
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "list admins")
	}
	return out, nil
}

// RolesOf returns the citizen's roles.
func (s *Store) RolesOf(ctx context.Context, citizenID string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT role FROM admin_roles WHERE citizen_id = ? ORDER BY role`, citizenID)
	if err != nil {
		return nil, wrap(err, "roles of citizen %s", citizenID)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, wrap(err, "roles of citizen %s", citizenID)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "roles of citizen %s", citizenID)
	}
	return out, nil
}

// SearchCitizens finds citizens by a substring of the name or a prefix of
// the number.
func (s *Store) SearchCitizens(ctx context.Context, query, afterNumber string, limit int) ([]store.Citizen, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+citizenColumns+` FROM citizens
		WHERE number > ? AND (? = '' OR instr(name, ?) > 0 OR substr(number, 1, length(?)) = ?)
		ORDER BY number LIMIT ?`, afterNumber, query, query, query, query, limit)
	if err != nil {
		return nil, wrap(err, "search citizens")
	}
	defer rows.Close()
	var out []store.Citizen
	for rows.Next() {
		c, err := scanCitizen(rows)
		if err != nil {
			return nil, wrap(err, "search citizens")
		}
		out = append(out, *c)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "search citizens")
	}
	return out, nil
}

// CountAudit counts events by action and outcome.
func (s *Store) CountAudit(ctx context.Context, since, until time.Time, actionPrefix string) ([]store.AuditCount, error) {
	q := `SELECT action, outcome, count(*) FROM audit_events
		WHERE time >= ? AND substr(action, 1, length(?)) = ?`
	args := []any{encTime(since), actionPrefix, actionPrefix}
	if !until.IsZero() {
		q += ` AND time < ?`
		args = append(args, encTime(until))
	}
	rows, err := s.db.QueryContext(ctx, q+` GROUP BY action, outcome ORDER BY action, outcome`, args...)
	if err != nil {
		return nil, wrap(err, "count audit events")
	}
	defer rows.Close()
	var out []store.AuditCount
	for rows.Next() {
		var c store.AuditCount
		if err := rows.Scan(&c.Action, &c.Outcome, &c.Count); err != nil {
			return nil, wrap(err, "count audit events")
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "count audit events")
	}
	return out, nil
}

var _ store.Admin = (*Store)(nil)
