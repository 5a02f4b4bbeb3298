// Package admin is the administrators' side of CitizenID: the web console
// at /admin and the JSON admin API at /admin/api/v1.
//
// It owns who an administrator is (a citizen's account holding a role:
// owner, rp-manager, helpdesk, auditor; see roles.go) and what each role
// may do, the console's pages (dashboard, OIDC clients, signing keys,
// citizens, audit log, administrators), the API over the same operations,
// and the audit trail of every change (actor, role, client address,
// target, before and after; never a secret).
//
// It does not authenticate anyone itself. Console logins go through the
// login engine as the internal "admin" protocol at admin.min_level; the
// console keeps its own short idle timeout (a Redis value per SSO session)
// and asks for the level again, fresh, before sensitive actions (key
// rotation, role grants, secret rotation). API callers present access
// tokens that CitizenID itself issued with the client_credentials grant to
// a confidential client an owner granted admin scopes ("admin:<role>");
// the oidc package verifies them.
//
// Console requests, in order:
//
//	request ─► SSO session at admin.min_level? ──no──► login engine ─► Complete ─► back to the page
//	            │ (idle console: authenticated within admin.idle_timeout)
//	            ▼
//	           roles? ──none──► 403
//	            │
//	            ▼
//	           permission of the page? ──no──► 403
//	            │ sensitive action: authenticated within admin.sensitive_freshness? ──no──► login engine
//	            ▼
//	           handler (forms: http.CrossOriginProtection; destructive: confirmation page first)
package admin
