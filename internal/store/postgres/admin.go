package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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
	_, err := s.pool.Exec(ctx, `INSERT INTO admin_roles (citizen_id, role, granted_by, granted_at) VALUES ($1, $2, $3, $4)`,
		g.CitizenID, g.Role, g.GrantedBy, g.GrantedAt)
	if err != nil {
		return wrap(err, "grant role %s to citizen %s", g.Role, g.CitizenID)
	}
	return nil
}

// RevokeRole removes the grant; with keepOne never the last of its role.
// Every grant of the role is locked first, so two revocations cannot both
// see the other's grant still there.
func (s *Store) RevokeRole(ctx context.Context, citizenID, role string, keepOne bool) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT citizen_id FROM admin_roles WHERE role = $1 FOR UPDATE`, role)
		if err != nil {
			return err
		}
		holders, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		found := false
		for _, h := range holders {
			found = found || h == citizenID
		}
		if !found {
			return pgx.ErrNoRows
		}
		if keepOne && len(holders) <= 1 {
			return fmt.Errorf("last grant of the role: %w", store.ErrConflict)
		}
		_, err = tx.Exec(ctx, `DELETE FROM admin_roles WHERE citizen_id = $1 AND role = $2`, citizenID, role)
		return err
	})
	if err != nil {
		return wrap(err, "revoke role %s of citizen %s", role, citizenID)
	}
	return nil
}

// ListAdmins returns every grant ordered by citizen ID, then role.
func (s *Store) ListAdmins(ctx context.Context) ([]store.AdminGrant, error) {
	rows, err := s.pool.Query(ctx, `SELECT citizen_id, role, granted_by, granted_at FROM admin_roles ORDER BY citizen_id, role`)
	if err != nil {
		return nil, wrap(err, "list admins")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.AdminGrant, error) {
		var g store.AdminGrant
		err := r.Scan(&g.CitizenID, &g.Role, &g.GrantedBy, &g.GrantedAt)
		g.GrantedAt = g.GrantedAt.UTC()
		return g, err
	})
	if err != nil {
		return nil, wrap(err, "list admins")
	}
	return out, nil
}

// RolesOf returns the citizen's roles.
func (s *Store) RolesOf(ctx context.Context, citizenID string) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT role FROM admin_roles WHERE citizen_id = $1 ORDER BY role`, citizenID)
	if err != nil {
		return nil, wrap(err, "roles of citizen %s", citizenID)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, wrap(err, "roles of citizen %s", citizenID)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// SearchCitizens finds citizens by a substring of the name or a prefix of
// the number.
func (s *Store) SearchCitizens(ctx context.Context, query, afterNumber string, limit int) ([]store.Citizen, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT `+citizenColumns+` FROM citizens
		WHERE number > $1 AND ($2 = '' OR strpos(name, $2) > 0 OR starts_with(number, $2))
		ORDER BY number LIMIT $3`, afterNumber, query, limit)
	if err != nil {
		return nil, wrap(err, "search citizens")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Citizen, error) {
		c, err := scanCitizen(r)
		if err != nil {
			return store.Citizen{}, err
		}
		return *c, nil
	})
	if err != nil {
		return nil, wrap(err, "search citizens")
	}
	return out, nil
}

// CountAudit counts events by action and outcome.
func (s *Store) CountAudit(ctx context.Context, since, until time.Time, actionPrefix string) ([]store.AuditCount, error) {
	q := `SELECT action, outcome, count(*) FROM audit_events WHERE time >= $1 AND starts_with(action, $2)`
	args := []any{norm(since), actionPrefix}
	if !until.IsZero() {
		q += ` AND time < $3`
		args = append(args, norm(until))
	}
	rows, err := s.pool.Query(ctx, q+` GROUP BY action, outcome ORDER BY action COLLATE "C", outcome COLLATE "C"`, args...)
	if err != nil {
		return nil, wrap(err, "count audit events")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.AuditCount, error) {
		var c store.AuditCount
		err := r.Scan(&c.Action, &c.Outcome, &c.Count)
		return c, err
	})
	if err != nil {
		return nil, wrap(err, "count audit events")
	}
	return out, nil
}

var _ store.Admin = (*Store)(nil)
