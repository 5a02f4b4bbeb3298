package saml

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/outbox"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// SAML back-channel single logout. A session that ends without the
// citizen's browser (an operator, a recovery, an expiry) cannot reach the
// service providers' cookies through the front channel; those whose
// metadata lists a SingleLogoutService with the SOAP binding get a signed
// LogoutRequest from the server, through the durable outbox (the same
// delivery and retry rules as OIDC back-channel logouts), and the status
// of their LogoutResponse is recorded.

// KindLogout is the outbox kind of SOAP logouts.
const KindLogout = "saml_logout"

// soapLogout is what an outbox row keeps of a SOAP logout to deliver.
type soapLogout struct {
	URL         string      `json:"url"`
	Participant participant `json:"participant"`
}

// maxSOAPResponse bounds what is read of a service provider's answer.
const maxSOAPResponse = 64 << 10

// soapEndpoint is the SP's SOAP SingleLogoutService, or "".
func soapEndpoint(ed *saml.EntityDescriptor) string {
	for _, d := range ed.SPSSODescriptors {
		for _, ep := range d.SingleLogoutServices {
			if ep.Binding == saml.SOAPBinding {
				return ep.Location
			}
		}
	}
	return ""
}

// queueSOAPLogouts queues a SOAP logout for each participant that has a
// SOAP endpoint and returns the entity IDs of those it could not reach.
func (p *Provider) queueSOAPLogouts(ctx context.Context, parts []participant) (queued, unreachable []string) {
	var msgs []store.OutboxMessage
	now := p.now()
	for _, pt := range parts {
		_, ed, err := p.serviceProvider(ctx, pt.SP)
		url := ""
		if err == nil {
			url = soapEndpoint(ed)
		}
		if url == "" {
			unreachable = append(unreachable, pt.SP)
			continue
		}
		payload, _ := json.Marshal(soapLogout{URL: url, Participant: pt})
		msgs = append(msgs, store.OutboxMessage{ID: session.RandomToken(16), Kind: KindLogout, Target: pt.SP,
			Payload: payload, CreatedAt: now, NextAttemptAt: now})
		queued = append(queued, pt.SP)
	}
	if len(msgs) > 0 {
		if err := p.o.Store.EnqueueOutbox(ctx, msgs); err != nil {
			p.o.Log.ErrorContext(ctx, "queue SAML SOAP logouts", "err", err)
			return nil, append(unreachable, queued...)
		}
	}
	return queued, unreachable
}

// LogoutHandler delivers the SOAP logouts of the outbox under rules, with
// client (a plain one when nil; redirects never followed).
func (p *Provider) LogoutHandler(rules outbox.Rules, client *http.Client) outbox.Handler {
	client = outbox.NoRedirects(client)
	return rules.Handler(func(ctx context.Context, m store.OutboxMessage) error { return p.deliverSOAPLogout(ctx, client, m) })
}

func (p *Provider) deliverSOAPLogout(ctx context.Context, client *http.Client, m store.OutboxMessage) error {
	var sl soapLogout
	if err := json.Unmarshal(m.Payload, &sl); err != nil {
		return fmt.Errorf("saml logout payload: %w", err)
	}
	idp, err := p.idp(ctx)
	if err != nil {
		return err
	}
	id := "id-" + session.RandomToken(20)
	nameID := sl.Participant.NameID
	req := saml.LogoutRequest{
		ID: id, Version: "2.0", IssueInstant: p.now().UTC(), Destination: sl.URL,
		Issuer:       &saml.Issuer{Format: "urn:oasis:names:tc:SAML:2.0:nameid-format:entity", Value: p.entityID},
		NameID:       &nameID,
		SessionIndex: &saml.SessionIndex{Value: sl.Participant.SessionIndex},
	}
	el := req.Element()
	signed, err := signElement(idp, el)
	if err != nil {
		return fmt.Errorf("sign LogoutRequest: %w", err)
	}
	env := etree.NewDocument()
	envelope := env.CreateElement("soap:Envelope")
	envelope.CreateAttr("xmlns:soap", "http://schemas.xmlsoap.org/soap/envelope/")
	envelope.CreateElement("soap:Body").AddChild(signed)
	body, err := env.WriteToBytes()
	if err != nil {
		return err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, sl.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	hr.Header.Set("Content-Type", "text/xml; charset=utf-8")
	hr.Header.Set("SOAPAction", "http://www.oasis-open.org/committees/security")
	resp, err := client.Do(hr)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxSOAPResponse))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("HTTP %d from the service provider", resp.StatusCode)
	}
	status, err := soapLogoutStatus(answer, id)
	outcome := "success"
	if err != nil || status != saml.StatusSuccess {
		outcome = "failure"
	}
	p.audit(ctx, audit.Event{Actor: "system", Action: "saml.backchannel_logout", Target: "sp:" + sl.Participant.SP, Outcome: outcome,
		Details: map[string]string{"status": status}})
	// An answer that is not Success is recorded, not retried: the service
	// provider answered, and would answer the same again.
	return err
}

// soapLogoutStatus reads the LogoutResponse in a SOAP answer and returns
// its top-level status code; it must answer the request id.
func soapLogoutStatus(answer []byte, requestID string) (string, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(answer); err != nil {
		return "", fmt.Errorf("SOAP answer: %w", err)
	}
	el := doc.FindElement("//LogoutResponse")
	if el == nil {
		return "", errors.New("SOAP answer: no LogoutResponse")
	}
	sub := etree.NewDocument()
	sub.SetRoot(el.Copy())
	raw, err := sub.WriteToBytes()
	if err != nil {
		return "", err
	}
	var lr saml.LogoutResponse
	if err := xml.Unmarshal(raw, &lr); err != nil {
		return "", fmt.Errorf("LogoutResponse: %w", err)
	}
	if lr.InResponseTo != requestID {
		return "", fmt.Errorf("LogoutResponse answers %q, not %q", lr.InResponseTo, requestID)
	}
	return strings.TrimSpace(lr.Status.StatusCode.Value), nil
}

// signElement signs el (enveloped) with the IdP's key, as crewjam signs
// what it sends.
func signElement(idp *saml.IdentityProvider, el *etree.Element) (*etree.Element, error) {
	sc, err := signingContext(idp)
	if err != nil {
		return nil, err
	}
	return sc.SignEnveloped(el)
}

// signingContext signs with the IdP's key: RSA-SHA256, exclusive c14n.
func signingContext(idp *saml.IdentityProvider) (*dsig.SigningContext, error) {
	sc, err := dsig.NewSigningContext(idp.Signer, [][]byte{idp.Certificate.Raw})
	if err != nil {
		return nil, err
	}
	if err := sc.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
		return nil, err
	}
	sc.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	return sc, nil
}
