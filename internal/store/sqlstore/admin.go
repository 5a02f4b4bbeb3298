package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

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
	_, err := s.exec(ctx, `INSERT INTO admin_roles (citizen_id, role, granted_by, granted_at) VALUES (?, ?, ?, ?)`,
		g.CitizenID, g.Role, g.GrantedBy, s.time(g.GrantedAt))
	if err != nil {
		return s.wrap(err, "grant role %s to citizen %s", g.Role, g.CitizenID)
	}
	return nil
}

func scanString(r scanner) (*string, error) {
	var v string
	err := r.Scan(&v)
	return &v, err
}

// RevokeRole removes the grant; with keepOne never the last of its role.
// Every grant of the role is locked first (or writers are serialised), so
// two revocations cannot both see the other's grant still there.
func (s *Store) RevokeRole(ctx context.Context, citizenID, role string, keepOne bool) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		holders, err := rows(ctx, s, tx, scanString, `SELECT citizen_id FROM admin_roles WHERE role = ? FOR UPDATE`, role)
		if err != nil {
			return err
		}
		if !slices.Contains(holders, citizenID) {
			return sql.ErrNoRows
		}
		if keepOne && len(holders) <= 1 {
			return fmt.Errorf("last grant of the role: %w", store.ErrConflict)
		}
		_, err = s.execTx(ctx, tx, `DELETE FROM admin_roles WHERE citizen_id = ? AND role = ?`, citizenID, role)
		return err
	})
	if err != nil {
		return s.wrap(err, "revoke role %s of citizen %s", role, citizenID)
	}
	return nil
}

// ListAdmins returns every grant ordered by citizen ID, then role.
func (s *Store) ListAdmins(ctx context.Context) ([]store.AdminGrant, error) {
	out, err := rows(ctx, s, s.db, func(r scanner) (*store.AdminGrant, error) {
		var g store.AdminGrant
		err := r.Scan(&g.CitizenID, &g.Role, &g.GrantedBy, scanTime(&g.GrantedAt))
		return &g, err
	}, `SELECT citizen_id, role, granted_by, granted_at FROM admin_roles ORDER BY citizen_id, role`)
	if err != nil {
		return nil, s.wrap(err, "list admins")
	}
	return out, nil
}

// RolesOf returns the citizen's roles.
func (s *Store) RolesOf(ctx context.Context, citizenID string) ([]string, error) {
	out, err := rows(ctx, s, s.db, scanString, `SELECT role FROM admin_roles WHERE citizen_id = ? ORDER BY role`, citizenID)
	if err != nil {
		return nil, s.wrap(err, "roles of citizen %s", citizenID)
	}
	return out, nil
}

// SearchCitizens finds citizens by a substring of the name or a prefix of
// the number.
func (s *Store) SearchCitizens(ctx context.Context, query, afterNumber string, limit int) ([]store.Citizen, error) {
	if limit <= 0 {
		limit = 100
	}
	out, err := rows(ctx, s, s.db, scanCitizen, `SELECT `+citizenColumns+` FROM citizens
		WHERE number > ? AND (? = '' OR instr(name, ?) > 0 OR substr(number, 1, length(CAST(? AS TEXT))) = ?)
		ORDER BY number LIMIT ?`, afterNumber, query, query, query, query, limit)
	if err != nil {
		return nil, s.wrap(err, "search citizens")
	}
	return out, nil
}

var _ store.Admin = (*Store)(nil)
