package main

import (
	"strings"
	"testing"
)

func TestAdminGrantRevokeList(t *testing.T) {
	c := newCLI(t)
	const other = "001099054321"
	c.ok(anPassword, addArgs(anNumber, "1999-01-02")...)
	c.ok(anPassword, addArgs(other, "1988-03-04")...)

	if out := c.ok("", "admin", "grant", anNumber, "--role", "owner"); !strings.Contains(out, "granted owner to "+anNumber) {
		t.Errorf("admin grant: got %q, want a confirmation", out)
	}
	c.ok("", "admin", "grant", other, "--role", "helpdesk")
	c.ok("", "admin", "grant", other, "--role", "auditor")

	rows := c.list("admin", "list")
	if len(rows) != 3 {
		t.Fatalf("admin list: got %d rows, want 3: %v", len(rows), rows)
	}
	owners := find(rows, "ROLE", "owner")
	if len(owners) != 1 || owners[0]["NUMBER"] != anNumber || owners[0]["NAME"] != anName || owners[0]["GRANTED BY"] != "cli" {
		t.Errorf("owner row: got %v, want %s %s granted by cli", owners, anNumber, anName)
	}
	if got := find(rows, "NUMBER", other); len(got) != 2 {
		t.Errorf("rows of %s: got %d, want 2 (helpdesk, auditor)", other, len(got))
	}

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"grant twice", []string{"admin", "grant", anNumber, "--role", "owner"}, "already holds the role owner"},
		{"unknown role", []string{"admin", "grant", anNumber, "--role", "root"}, "one of owner, rp-manager, helpdesk, auditor"},
		{"no role", []string{"admin", "grant", anNumber}, "--role"},
		{"bad number", []string{"admin", "grant", "12345", "--role", "owner"}, "exactly 12 digits"},
		{"unknown citizen", []string{"admin", "grant", "001099099999", "--role", "owner"}, "no citizen with number 001099099999"},
		{"revoke the last owner", []string{"admin", "revoke", anNumber, "--role", "owner"}, "last owner"},
		{"revoke a role not held", []string{"admin", "revoke", anNumber, "--role", "auditor"}, "does not hold the role auditor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { c.in(t).fails("", tt.want, tt.args...) })
	}

	if out := c.ok("", "admin", "revoke", other, "--role", "helpdesk"); !strings.Contains(out, "revoked helpdesk from "+other) {
		t.Errorf("admin revoke: got %q, want a confirmation", out)
	}
	// With a second owner the first may go.
	c.ok("", "admin", "grant", other, "--role", "owner")
	c.ok("", "admin", "revoke", anNumber, "--role", "owner")
	rows = c.list("admin", "list")
	if len(rows) != 2 || len(find(rows, "NUMBER", anNumber)) != 0 {
		t.Errorf("after revocations: got %v, want only %s's auditor and owner roles", rows, other)
	}
}
