package admin

import (
	"slices"
	"strings"
)

// Role is an administrative role held by a citizen's account (or, as the
// scope "admin:<role>", by an API client).
type Role string

// The roles. What each allows is the table perms below; the console and
// the API consult the same table.
const (
	// RoleOwner may do everything, including roles, keys and API access.
	RoleOwner Role = "owner"
	// RoleRPManager manages relying parties (OIDC clients and SAML SPs).
	RoleRPManager Role = "rp-manager"
	// RoleHelpdesk manages citizens' account status and resets their
	// authenticators, with a written reason.
	RoleHelpdesk Role = "helpdesk"
	// RoleAuditor reads: the audit log and its exports, relying parties and keys.
	RoleAuditor Role = "auditor"
)

// Roles lists every role, most powerful first.
var Roles = []Role{RoleOwner, RoleRPManager, RoleHelpdesk, RoleAuditor}

// ParseRole returns the role named s.
func ParseRole(s string) (Role, bool) {
	r := Role(s)
	return r, slices.Contains(Roles, r)
}

// ScopePrefix prefixes a role to make an admin API scope: "admin:owner".
const ScopePrefix = "admin:"

// Scope is the admin API scope of the role.
func (r Role) Scope() string { return ScopePrefix + string(r) }

// roleOfScope returns the role an admin API scope stands for.
func roleOfScope(scope string) (Role, bool) {
	s, ok := strings.CutPrefix(scope, ScopePrefix)
	if !ok {
		return "", false
	}
	return ParseRole(s)
}

// perm is one thing an administrator may do.
type perm int

const (
	permDashboard     perm = iota // see the dashboard
	permRPRead                    // list and view relying parties (OIDC clients, SAML SPs)
	permRPWrite                   // create, edit, rotate secrets, disable, delete relying parties
	permKeysRead                  // list signing keys
	permKeysWrite                 // rotate and retire signing keys
	permCitizensRead              // find and view citizens
	permCitizensWrite             // disable/enable, end sessions, reset authenticators
	permIdentityLevel             // set a citizen's identity level
	permAuditRead                 // read and export the audit log
	permAdmins                    // grant and revoke roles, grant API access to clients
)

var perms = map[Role][]perm{
	RoleOwner: {permDashboard, permRPRead, permRPWrite, permKeysRead, permKeysWrite, permCitizensRead,
		permCitizensWrite, permIdentityLevel, permAuditRead, permAdmins},
	RoleRPManager: {permDashboard, permRPRead, permRPWrite},
	RoleHelpdesk:  {permDashboard, permCitizensRead, permCitizensWrite},
	RoleAuditor:   {permDashboard, permRPRead, permKeysRead, permAuditRead},
}

// allowed reports whether any of roles grants p.
func allowed(roles []Role, p perm) bool {
	for _, r := range roles {
		if slices.Contains(perms[r], p) {
			return true
		}
	}
	return false
}

// parseRoles keeps the known roles of stored role names, in the order of Roles.
func parseRoles(names []string) []Role {
	var out []Role
	for _, r := range Roles {
		if slices.Contains(names, string(r)) {
			out = append(out, r)
		}
	}
	return out
}

func joinRoles(roles []Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, " ")
}
