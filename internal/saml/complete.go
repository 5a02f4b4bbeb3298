package saml

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/crewjam/saml"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/login"
	"github.com/citizenid/citizenid/internal/oidc"
	"github.com/citizenid/citizenid/internal/release"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

var _ login.Protocol = (*Provider)(nil)

// Complete implements login.Protocol: the citizen's session holds what the
// request needs, so post a signed assertion to the service provider.
func (p *Provider) Complete(w http.ResponseWriter, r *http.Request, id string, done login.Completion) {
	ctx := r.Context()
	sess, res, citizen := done.Session, done.Result, done.Citizen
	pr, ok := p.takePending(w, r, id)
	if !ok {
		return
	}
	idp, err := p.idp(ctx)
	if err != nil {
		p.refuse(w, r, pr.SP, classify(err), err)
		return
	}
	req, sp, err := p.rebuild(ctx, r, idp, pr)
	if err != nil {
		p.refuse(w, r, pr.SP, classify(err), err)
		return
	}
	if citizen.Disabled {
		p.sendStatus(w, r, req, sp, &saml.StatusError{TopLevel: saml.StatusResponder, SecondLevel: saml.StatusRequestDenied}, "account disabled")
		return
	}
	level := pr.reportedLevel(res.Level)
	nameID := p.nameID(sp, pr, sess, citizen)
	pt := participant{SP: sp.EntityID, NameID: *nameID, SessionIndex: p.mac("session index", sess.SID, sp.EntityID)}
	now := p.now()
	req.Assertion = p.assertion(r, pr, sp, citizen, pt, p.o.ACR.ACR(level), res.AuthTime, now)
	// Recorded before the assertion leaves: single logout must know every
	// service provider that has one.
	if err := p.recordParticipant(ctx, sess, pt); err != nil {
		p.refuse(w, r, pr.SP, refusal{"record participant", http.StatusServiceUnavailable, "err_generic"}, err)
		return
	}
	form, err := req.PostBinding() // signs the assertion, encrypts it if the SP wants, signs the response
	if err != nil {
		p.refuse(w, r, pr.SP, refusal{"sign response", http.StatusServiceUnavailable, "err_generic"}, err)
		return
	}
	var released []string
	for _, st := range req.Assertion.AttributeStatements {
		for _, a := range st.Attributes {
			released = append(released, a.Name)
		}
	}
	// Recorded before the POST page is written: a failure to record
	// refuses the release (internal/ledger).
	if err := p.recordRelease(ctx, sp, citizen.ID, sess.SID, int(level), released, nameID.Format == NameIDCitizenNumber); err != nil {
		p.refuse(w, r, pr.SP, refusal{"record data release", http.StatusServiceUnavailable, "err_generic"}, err)
		return
	}
	p.audit(ctx, audit.Event{Actor: "citizen:" + citizen.ID, Action: "saml.response", Target: "sp:" + sp.EntityID, Outcome: "success",
		Details: map[string]string{
			"acr":         p.o.ACR.ACR(level),
			"nameid":      nameIDLabel(nameID.Format),
			"attributes":  strings.Join(released, " "),
			"encrypted":   strconv.FormatBool(sp.EncryptAssertions),
			"unsolicited": strconv.FormatBool(pr.RequestID == ""),
		}})
	p.pages.writePost(w, r, postForm{URL: form.URL, Field: "SAMLResponse", Value: form.SAMLResponse, RelayState: form.RelayState, Service: sp.Name})
}

// Fail implements login.Protocol: answer the service provider with a
// standard SAML status.
func (p *Provider) Fail(w http.ResponseWriter, r *http.Request, id string, reason error) {
	ctx := r.Context()
	pr, ok := p.takePending(w, r, id)
	if !ok {
		return
	}
	idp, err := p.idp(ctx)
	if err != nil {
		p.refuse(w, r, pr.SP, classify(err), err)
		return
	}
	req, sp, err := p.rebuild(ctx, r, idp, pr)
	if err != nil {
		p.refuse(w, r, pr.SP, classify(err), err)
		return
	}
	se := &saml.StatusError{TopLevel: saml.StatusResponder}
	switch {
	case errors.Is(reason, login.ErrLoginRequired), errors.Is(reason, login.ErrInteractionRequired),
		errors.Is(reason, login.ErrConsentRequired):
		se.SecondLevel, se.Message = saml.StatusNoPassive, "the citizen would have to log in"
	case errors.Is(reason, login.ErrUnmet):
		se.SecondLevel, se.Message = saml.StatusNoAuthnContext, "the citizen has no authenticator that reaches the requested level"
	case errors.Is(reason, login.ErrCancelled):
		se.SecondLevel, se.Message = saml.StatusAuthnFailed, "the citizen went back to the service without logging in"
	case errors.Is(reason, login.ErrConsentDenied):
		se.SecondLevel, se.Message = saml.StatusRequestDenied, "the citizen declined to share the requested data"
	case errors.Is(reason, login.ErrAccessDenied):
		se.SecondLevel = saml.StatusRequestDenied
	}
	p.sendStatus(w, r, req, sp, se, reason.Error())
}

// nameID is how the service provider knows the citizen: the format the
// request asked for, else the SP's. Persistent identifiers are pairwise,
// derived as OIDC pairwise subjects are with the SP's entity ID as the
// sector; transient ones are fixed for the SSO session and SP, so single
// logout can name them, and unlinkable across sessions.
func (p *Provider) nameID(sp *store.ServiceProvider, pr *pendingRequest, sess *session.Session, c *store.Citizen) *saml.NameID {
	format := cmp(pr.NameIDFormat, sp.NameIDFormat, NameIDPersistent)
	if format == NameIDCitizenNumber && !sp.AllowCitizenNumber {
		format = NameIDPersistent // checked at registration and on arrival; never the number by accident
	}
	switch format {
	case NameIDCitizenNumber:
		return &saml.NameID{Format: format, Value: c.Number}
	case NameIDTransient:
		return &saml.NameID{Format: format, NameQualifier: p.entityID, SPNameQualifier: sp.EntityID,
			Value: "_" + p.mac("transient nameid", sess.SID, sp.EntityID+"\x00"+c.ID)}
	default:
		return &saml.NameID{Format: NameIDPersistent, NameQualifier: p.entityID, SPNameQualifier: sp.EntityID,
			Value: oidc.PairwiseSubject(p.o.PairwiseSecret, sp.SubjectScheme, oidc.Sector{Protocol: "saml", Kind: "sp", Name: sp.EntityID}, c.ID)}
	}
}

func cmp(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

func nameIDLabel(format string) string {
	switch format {
	case NameIDPersistent:
		return "persistent"
	case NameIDTransient:
		return "transient"
	case NameIDCitizenNumber:
		return "citizen-number"
	}
	return format
}

// mac is a keyed identifier for purpose, from parts: session indexes and
// transient NameIDs, which must not reveal the session ID or link one
// service provider's view to another's.
func (p *Provider) mac(purpose string, parts ...string) string {
	m := hmac.New(sha256.New, p.o.PairwiseSecret)
	m.Write([]byte("citizenid saml " + purpose + " v1"))
	for _, s := range parts {
		m.Write([]byte{0})
		m.Write([]byte(s))
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// assertion builds the assertion for a completed login: about the citizen
// as pt names them, for the SP's audience only, short-lived, stating the
// level (acr) and the time of the authentication that set it.
func (p *Provider) assertion(r *http.Request, pr *pendingRequest, sp *store.ServiceProvider, c *store.Citizen, pt participant,
	acr string, authTime, now time.Time) *saml.Assertion {
	until := now.Add(p.o.AssertionLifetime)
	addr := server.ClientIP(r.Context()) // behind a trusted proxy, the client's, not the proxy's
	nameID := pt.NameID
	a := &saml.Assertion{
		ID:           "_" + session.RandomToken(20),
		IssueInstant: now,
		Version:      "2.0",
		Issuer:       saml.Issuer{Format: "urn:oasis:names:tc:SAML:2.0:nameid-format:entity", Value: p.entityID},
		Subject: &saml.Subject{
			NameID: &nameID,
			SubjectConfirmations: []saml.SubjectConfirmation{{
				Method: "urn:oasis:names:tc:SAML:2.0:cm:bearer",
				SubjectConfirmationData: &saml.SubjectConfirmationData{
					Address:      addr,
					InResponseTo: pr.RequestID,
					NotOnOrAfter: until,
					Recipient:    pr.ACS,
				},
			}},
		},
		Conditions: &saml.Conditions{
			NotBefore:            now,
			NotOnOrAfter:         until,
			AudienceRestrictions: []saml.AudienceRestriction{{Audience: saml.Audience{Value: sp.EntityID}}},
		},
		AuthnStatements: []saml.AuthnStatement{{
			AuthnInstant:    authTime,
			SessionIndex:    pt.SessionIndex,
			SubjectLocality: &saml.SubjectLocality{Address: addr},
			AuthnContext:    saml.AuthnContext{AuthnContextClassRef: &saml.AuthnContextClassRef{Value: acr}},
		}},
	}
	if attrs := releasedAttributes(sp, c); len(attrs) > 0 {
		a.AttributeStatements = []saml.AttributeStatement{{Attributes: attrs}}
	}
	return a
}

// Portal is the consent key of a service provider.
func Portal(entityID string) string { return Protocol + ":" + entityID }

// Releases is what the SP receives, as the consent page names it: its
// attributes, the citizen number only when it is allowed it.
func Releases(sp *store.ServiceProvider) []release.Attribute {
	var out []release.Attribute
	for _, a := range release.Parse(sp.Attributes) {
		if a == release.CitizenNumber && !sp.AllowCitizenNumber {
			continue
		}
		out = append(out, a)
	}
	return out
}

// releasedAttributes are the attributes the SP is configured to receive,
// in that order; empty values are left out, and the citizen number only
// ever goes to an SP allowed it.
func releasedAttributes(sp *store.ServiceProvider, c *store.Citizen) []saml.Attribute {
	var out []saml.Attribute
	for _, name := range sp.Attributes {
		var v string
		switch name {
		case AttrName:
			v = c.Name
		case AttrBirthdate:
			v = c.Birthdate
		case AttrIdentityLevel:
			v = strconv.Itoa(max(c.IdentityLevel, 1))
		case AttrCitizenNumber:
			if sp.AllowCitizenNumber {
				v = c.Number
			}
		}
		if v == "" {
			continue
		}
		out = append(out, saml.Attribute{
			FriendlyName: name,
			Name:         name,
			NameFormat:   "urn:oasis:names:tc:SAML:2.0:attrname-format:basic",
			Values:       []saml.AttributeValue{{Type: "xs:string", Value: v}},
		})
	}
	return out
}

// recordParticipant remembers that the SP took part in the session, with
// the NameID and SessionIndex it was given: in the session's participants
// (for logging it out), and by SessionIndex (a cross-site POSTed
// LogoutRequest carries no cookie to find the session by).
func (p *Provider) recordParticipant(ctx context.Context, sess *session.Session, pt participant) error {
	data, err := json.Marshal(pt)
	if err != nil {
		return err
	}
	if _, err := p.o.Sessions.Join(ctx, sess, session.Participant{Protocol: Protocol, ID: pt.SP, Data: data}); err != nil {
		return err
	}
	return kindSessionIndex.Put(ctx, p.o.Sessions, sessionIndexKey(pt.SP, pt.SessionIndex), sess.SID, p.o.SessionLifetime)
}

// participantsOf are the session's SAML participants.
func participantsOf(sess *session.Session) []participant {
	var out []participant
	for _, sp := range sess.Participants {
		var pt participant
		if sp.Protocol == Protocol && json.Unmarshal(sp.Data, &pt) == nil {
			out = append(out, pt)
		}
	}
	return out
}

func sessionIndexKey(sp, index string) string { return session.Hash(sp + "\x00" + index) }

// recordRelease writes the ledger entry for an assertion carrying the
// attributes named (SAML attribute names are the release vocabulary's).
// An assertion without attributes (a pairwise or transient NameID only)
// releases no personal data and writes nothing; one whose NameID is the
// citizen number does, and records it.
func (p *Provider) recordRelease(ctx context.Context, sp *store.ServiceProvider, citizenID, sid string, level int, names []string, numberNameID bool) error {
	attrs := release.Parse(names)
	if numberNameID {
		attrs = release.Sort(append(attrs, release.CitizenNumber))
	}
	if len(attrs) == 0 {
		return nil
	}
	name := sp.Name
	if name == "" {
		name = sp.EntityID
	}
	return p.o.Ledger.Record(ctx, store.LedgerEntry{
		CitizenID:  citizenID,
		Portal:     store.LedgerSAML + ":" + sp.EntityID,
		PortalName: name,
		Protocol:   store.LedgerSAML,
		Endpoint:   store.EndpointSAMLSSO,
		Attributes: release.Strings(attrs),
		Level:      level,
		SessionID:  sid,
	})
}
