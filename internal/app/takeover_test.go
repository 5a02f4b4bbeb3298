package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/citizenid/citizenid/internal/store"
)

// An account registered online by someone who is not the number's owner
// is taken over by an operator who proofed the owner: contacts replaced,
// password and authenticators gone, sessions ended, level 2, audited.
func TestAdminTakeOver(t *testing.T) {
	for _, production := range []bool{false, true} {
		t.Run(map[bool]string{false: "embedded", true: "postgres+redis"}[production], func(t *testing.T) {
			e := newAdminEnv(t, production, nil)
			ctx := context.Background()
			owner := e.addPerson(ownerNumber, false, "owner")
			helpdesk := e.addPerson(plainNumber, false, "helpdesk")
			squatter := e.addPerson("001099000555", false)
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(e.Store.UpdateCitizen(ctx, squatter.id, func(c *store.Citizen) error {
				c.SelfRegistered, c.IdentityLevel, c.Email, c.EmailVerified = true, 1, "squatter@example.vn", true
				return nil
			}))
			sb := newBrowser(t)
			if p := loginTo(t, e.env, sb, "/account", squatter.number, testPassword); isLoginForm(p) {
				t.Fatal("squatter cannot log in")
			}
			ob, _ := e.adminBrowser(owner)
			pg := ob.get(e.URL + "/admin/citizens/" + squatter.id)
			if !strings.Contains(pg.body, `id="takeover"`) {
				t.Fatalf("no take-over form on a self-registered level-1 account: %.300s", pg.body)
			}
			// A helpdesk operator may not; a short reason is refused.
			hb, _ := e.adminBrowser(helpdesk)
			if p := hb.post(e.URL+"/admin/citizens/"+squatter.id+"/takeover", url.Values{"email": {"owner@example.vn"}, "reason": {"checked the card in person"}}); p.status != http.StatusForbidden {
				t.Errorf("helpdesk take-over: got %d, want 403", p.status)
			}
			if p := ob.post(e.URL+"/admin/citizens/"+squatter.id+"/takeover", url.Values{"email": {"owner@example.vn"}, "reason": {"short"}}); p.status != http.StatusUnprocessableEntity {
				t.Errorf("short reason: got %d, want 422", p.status)
			}
			pg = e.consoleLogin(ob, ob.post(e.URL+"/admin/citizens/"+squatter.id+"/takeover", url.Values{
				"email": {"Owner@Example.VN"}, "phone": {"0912 345 678"}, "reason": {"CCCD checked at Phường 1 police office"}}), owner)
			if !strings.Contains(pg.url.RawQuery, "admin_msg_taken_over") {
				t.Fatalf("take-over: landed on %s (%d) %.300s", pg.url, pg.status, pg.body)
			}
			c, err := e.Store.CitizenByID(ctx, squatter.id)
			must(err)
			if c.IdentityLevel != 2 || !c.EmailVerified || !strings.EqualFold(c.Email, "owner@example.vn") || c.Phone == "" || !c.PhoneVerified {
				t.Errorf("after take-over: got %+v, want level 2 with the owner's verified contacts", c)
			}
			if on, _ := e.TOTP.Enrolled(ctx, c.ID); on {
				t.Error("the squatter's authenticator app survived")
			}
			if p := sb.get(e.URL + "/account"); !isLoginForm(p) {
				t.Error("the squatter's session survived")
			}
			if p := loginTo(t, e.env, newBrowser(t), "/account", squatter.number, testPassword); !isLoginForm(p) {
				t.Error("the squatter's password still logs in")
			}
			evs, err := e.Store.ListAudit(ctx, store.AuditFilter{Action: "citizen.takeover", Target: "citizen:" + c.ID})
			must(err)
			if len(evs) != 1 || evs[0].Outcome != "success" || evs[0].Actor != "admin:"+owner.id {
				t.Errorf("audit: got %+v, want one successful citizen.takeover by the owner", evs)
			}
			// A proofed account cannot be taken over again.
			if p := ob.get(e.URL + "/admin/citizens/" + c.ID); strings.Contains(p.body, `id="takeover"`) {
				t.Error("take-over offered on a level-2 account")
			}
		})
	}
}
