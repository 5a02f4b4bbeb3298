package store

import (
	"context"
	"time"
)

// AdminGrant is one administrative role held by a citizen's account. The
// store keeps roles as plain strings; which roles exist and what each
// allows is the admin package's business.
type AdminGrant struct {
	CitizenID string
	Role      string
	GrantedBy string    // "admin:<citizen id>", "cli", ...
	GrantedAt time.Time // filled from the store's clock when zero
}

// AdminRoles stores administrative role grants.
type AdminRoles interface {
	// GrantRole records g. ErrConflict when the citizen already holds the
	// role; ErrNotFound when the citizen does not exist.
	GrantRole(ctx context.Context, g *AdminGrant) error
	// RevokeRole removes the citizen's grant of role. ErrNotFound when the
	// citizen does not hold it. With keepOne, the last grant of role (of
	// any citizen) is not removed: ErrConflict and nothing changes; of two
	// concurrent revocations that would each leave one grant, exactly one
	// succeeds.
	RevokeRole(ctx context.Context, citizenID, role string, keepOne bool) error
	// ListAdmins returns every grant ordered by citizen ID, then role
	// (bytewise).
	ListAdmins(ctx context.Context) ([]AdminGrant, error)
	// RolesOf returns the citizen's roles in bytewise order; nil when the
	// citizen holds none or does not exist.
	RolesOf(ctx context.Context, citizenID string) ([]string, error)
}

// CitizenSearch finds citizens for administrators.
type CitizenSearch interface {
	// SearchCitizens returns up to limit citizens whose name contains query
	// (a case-sensitive substring) or whose number starts with query,
	// ordered by number (bytewise), after afterNumber; limit <= 0 means
	// 100. An empty query matches every citizen.
	SearchCitizens(ctx context.Context, query, afterNumber string, limit int) ([]Citizen, error)
}

// AuditCount is the number of audit events with one action and outcome.
type AuditCount struct {
	Action  string
	Outcome string
	Count   int64
}

// AuditStats counts audit events for the console's dashboard.
type AuditStats interface {
	// CountAudit counts the events with since <= Time < until whose action
	// starts with actionPrefix ("" counts every action), grouped by action
	// and outcome and ordered by them (bytewise). A zero until means no
	// upper bound.
	CountAudit(ctx context.Context, since, until time.Time, actionPrefix string) ([]AuditCount, error)
}

// Admin is what the admin console and API need beyond the other slices.
type Admin interface {
	AdminRoles
	CitizenSearch
	AuditStats
}
