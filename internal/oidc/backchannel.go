package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/login"
	"github.com/citizenid/citizenid/internal/outbox"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// OpenID Connect Back-Channel Logout 1.0. When a session ends, each
// client that took part in it and registered a back-channel logout URI
// gets an outbox row, written in the transaction that revokes the
// session's refresh tokens; a worker on any node signs a fresh logout
// token at each attempt (so a retried one is never stale) and POSTs it.

// KindLogout is the outbox kind of back-channel logouts.
const KindLogout = "oidc_logout"

// backchannelEvent is the logout token's event.
const backchannelEvent = "http://schemas.openid.net/event/backchannel-logout"

// logoutTokenLifetime bounds a logout token.
const logoutTokenLifetime = 2 * time.Minute

// maxLogoutResponse is how much of a portal's answer is read.
const maxLogoutResponse = 4 << 10

// logoutPayload is what an outbox row keeps of a logout to deliver.
type logoutPayload struct {
	URI    string `json:"uri"`
	Client string `json:"client"`
	Sub    string `json:"sub"`
	SID    string `json:"sid"`
}

// backchannelMessages returns an outbox row for each OIDC participant of
// the ended session that registered a back-channel logout URI, and their
// client IDs.
func (p *Provider) backchannelMessages(ctx context.Context, ended *session.Session) ([]store.OutboxMessage, []string, error) {
	var msgs []store.OutboxMessage
	var ids []string
	var citizen *store.Citizen
	for _, part := range ended.Participants {
		if part.Protocol != Protocol {
			continue
		}
		c, err := p.o.Store.ClientByID(ctx, part.ID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, nil, err
		}
		if c.BackchannelLogoutURI == "" || c.Disabled {
			continue
		}
		if citizen == nil {
			if citizen, err = p.o.Store.CitizenByID(ctx, ended.CitizenID); err != nil {
				return nil, nil, err
			}
		}
		payload, _ := json.Marshal(logoutPayload{URI: c.BackchannelLogoutURI, Client: c.ID, Sub: p.subject(c, citizen), SID: ended.SID})
		// Written on the server's clock, the one its workers claim by.
		now := p.now()
		msgs = append(msgs, store.OutboxMessage{ID: session.RandomToken(16), Kind: KindLogout, Target: c.ID, Payload: payload,
			CreatedAt: now, NextAttemptAt: now})
		ids = append(ids, c.ID)
	}
	return msgs, ids, nil
}

// sessionEnded is the provider's logout hook: the session's refresh tokens
// are revoked and its back-channel logouts queued in one transaction
// (after an expiry only the logouts: nobody logged out, so offline_access
// tokens live on), and its access tokens end.
func (p *Provider) sessionEnded(ctx context.Context, ended *session.Session, how login.How) string {
	msgs, ids, err := p.backchannelMessages(ctx, ended)
	if err != nil {
		p.o.Log.ErrorContext(ctx, "back-channel logouts of the ended session", "err", err)
	}
	if how.Reason == login.ReasonExpired {
		if err := p.o.Store.EnqueueOutbox(ctx, msgs); err != nil {
			p.o.Log.ErrorContext(ctx, "queue back-channel logouts", "err", err)
		}
	} else {
		if err := p.o.Store.RevokeRefreshTokensBySession(ctx, ended.SID, p.now(), msgs...); err != nil {
			p.o.Log.ErrorContext(ctx, "revoke the ended session's refresh tokens", "err", err)
		}
		// Its access tokens end too, offline_access ones included
		// (liveAccessToken); the mark outlives every one of them.
		if err := p.o.Sessions.Mark(ctx, markEnded, ended.SID, p.now().Add(p.longestAccessToken())); err != nil {
			p.o.Log.ErrorContext(ctx, "mark the ended session", "err", err)
		}
	}
	if len(ids) > 0 {
		p.o.Audit.Record(ctx, audit.Event{Actor: "system", Action: "oidc.backchannel_logout", Target: "citizen:" + ended.CitizenID,
			Outcome: "queued", Details: map[string]string{"clients": strings.Join(ids, " "), "reason": how.Reason}})
	}
	return how.Then
}

// LogoutHandler delivers the back-channel logouts of the outbox under
// rules, with client (a plain one when nil; redirects never followed).
func (p *Provider) LogoutHandler(rules outbox.Rules, client *http.Client) outbox.Handler {
	client = outbox.NoRedirects(client)
	return rules.Handler(func(ctx context.Context, m store.OutboxMessage) error { return p.deliverLogout(ctx, client, m) })
}

func (p *Provider) deliverLogout(ctx context.Context, client *http.Client, m store.OutboxMessage) error {
	var lp logoutPayload
	if err := json.Unmarshal(m.Payload, &lp); err != nil {
		return fmt.Errorf("logout payload: %w", err)
	}
	token, err := p.logoutToken(ctx, lp)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, lp.URI, strings.NewReader(url.Values{"logout_token": {token}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxLogoutResponse))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("HTTP %d from the portal: %.200q", resp.StatusCode, body)
	}
	return nil
}

// logoutToken signs a logout token for one delivery attempt.
func (p *Provider) logoutToken(ctx context.Context, lp logoutPayload) (string, error) {
	alg := p.o.Keys.DefaultAlgorithm()
	if c, err := p.st.client(ctx, lp.Client); err == nil {
		alg = p.idTokenAlg(c) // verified like the client's ID tokens
	}
	k, err := p.o.Keys.SigningFor(ctx, alg)
	if err != nil {
		return "", err
	}
	now := p.now()
	claims, _ := json.Marshal(map[string]any{
		"iss": p.o.Issuer, "aud": lp.Client, "sub": lp.Sub, "sid": lp.SID,
		"iat": now.Unix(), "exp": now.Add(logoutTokenLifetime).Unix(), "jti": session.RandomToken(16),
		"events": map[string]any{backchannelEvent: map[string]any{}},
	})
	return signJWS(k, "logout+jwt", claims)
}
