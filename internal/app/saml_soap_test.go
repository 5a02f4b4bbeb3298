package app_test

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"

	"github.com/citizenid/citizenid/internal/login"
	citizensaml "github.com/citizenid/citizenid/internal/saml"
	"github.com/citizenid/citizenid/internal/store"
)

// A session ended without the citizen's browser (an operator ends every
// session) reaches a service provider whose metadata lists a SOAP
// SingleLogoutService: a signed LogoutRequest (verified here with
// xmlsec1) naming the NameID and SessionIndex it was given, over the
// outbox; its LogoutResponse status is recorded.
func TestSAMLSOAPBackchannelLogout(t *testing.T) {
	for _, production := range []bool{false, true} {
		name := map[bool]string{false: "embedded", true: "postgres"}[production]
		t.Run(name, func(t *testing.T) {
			e := start(t, production, fastBackchannel)
			e.addCitizen(t, testNumber, testPassword)
			var mu sync.Mutex
			var requests [][]byte
			soap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				doc := etree.NewDocument()
				if err := doc.ReadFromBytes(body); err != nil || r.Header.Get("Content-Type") != "text/xml; charset=utf-8" {
					http.Error(w, "not SOAP", http.StatusBadRequest)
					return
				}
				el := doc.FindElement("//LogoutRequest")
				if el == nil {
					http.Error(w, "no LogoutRequest", http.StatusBadRequest)
					return
				}
				sub := etree.NewDocument()
				sub.SetRoot(el.Copy())
				raw, _ := sub.WriteToBytes()
				mu.Lock()
				requests = append(requests, raw)
				mu.Unlock()
				w.Header().Set("Content-Type", "text/xml")
				fmt.Fprintf(w, `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>`+
					`<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" `+
					`ID="r1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z" InResponseTo="%s"><saml:Issuer>sp</saml:Issuer>`+
					`<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>`+
					`</samlp:LogoutResponse></soap:Body></soap:Envelope>`, el.SelectAttrValue("ID", ""))
			}))
			t.Cleanup(soap.Close)
			sp := newSAMLPortal(t, e, "Cổng SOAP", nil, func(s *citizensaml.SPSpec) {
				var ed saml.EntityDescriptor
				if err := xml.Unmarshal(s.MetadataXML, &ed); err != nil {
					t.Fatal(err)
				}
				d := &ed.SPSSODescriptors[0]
				d.SingleLogoutServices = append(d.SingleLogoutServices, saml.Endpoint{Binding: saml.SOAPBinding, Location: soap.URL + "/slo"})
				md, err := xml.Marshal(ed)
				if err != nil {
					t.Fatal(err)
				}
				s.MetadataXML = md
			})
			b := newBrowser(t)
			sp.hello(b, e.URL, testNumber, testPassword)
			c, err := e.Store.CitizenByNumber(context.Background(), testNumber)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := e.Login.EndAll(context.Background(), c.ID, "", login.How{Actor: "admin:test", Reason: "administrator"}); err != nil || n != 1 {
				t.Fatalf("end every session: got %d (%v)", n, err)
			}
			msgs := waitOutbox(t, e, citizensaml.KindLogout, sp.entityID, store.OutboxDelivered)
			if msgs[0].Attempts != 1 {
				t.Errorf("SOAP logout: %d attempts, want 1", msgs[0].Attempts)
			}
			wantAudit(t, e, "saml.backchannel_logout")
			mu.Lock()
			got := requests
			mu.Unlock()
			if len(got) != 1 || !strings.Contains(string(got[0]), "SessionIndex") || !strings.Contains(string(got[0]), "NameID") {
				t.Fatalf("the SP got %d LogoutRequests: %s", len(got), got)
			}
			dir := t.TempDir()
			md := idpMetadata(t, e)
			cert, _ := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(
				md.IDPSSODescriptors[0].KeyDescriptors[0].KeyInfo.X509Data.X509Certificates[0].Data), ""))
			certPEM := filepath.Join(dir, "idp.pem")
			if err := os.WriteFile(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert}), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := xmlsec1(t, dir, got[0], certPEM, "/*[local-name()='LogoutRequest']/*[local-name()='Signature']"); err != nil {
				t.Errorf("the LogoutRequest's signature: %v", err)
			}
		})
	}
}

// waitOutbox waits (bounded) until the latest message of kind for target
// has status and returns the target's messages.
func waitOutbox(t *testing.T, e *env, kind, target, status string) []store.OutboxMessage {
	t.Helper()
	var msgs []store.OutboxMessage
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var err error
		if msgs, err = e.Store.ListOutbox(context.Background(), kind, target, 10); err != nil {
			t.Fatal(err)
		}
		if len(msgs) > 0 && msgs[0].Status == status {
			return msgs
		}
	}
	t.Fatalf("outbox %s for %s: got %+v, want %s", kind, target, msgs, status)
	return nil
}
