// Package saml is CitizenID's SAML 2.0 identity provider, for older
// portals: the glue between crewjam/saml and CitizenID's stores, keys,
// sessions and login engine. It owns what the library leaves to us or gets
// wrong for a national IdP:
//
//   - metadata at /saml/metadata with a certificate derived from each key
//     of internal/keys (next keys published before they sign), optionally
//     signed;
//   - service providers from the store (registered from their metadata,
//     see Register), with per-SP ACS URLs, NameID format, attribute
//     release, minimum level, encryption and signed-request policy;
//   - SP-initiated SSO (HTTP-Redirect and HTTP-POST) and IdP-initiated SSO:
//     a request is checked (size, no DTD, signature, ACS from metadata,
//     single-use ID in Redis), kept in Redis and continued with a same-site
//     redirect, so the SSO cookie (SameSite=Lax) is read and a slow login
//     never meets the library's 90-second MaxIssueDelay;
//   - RequestedAuthnContext (exact, minimum, better, maximum) mapped to a
//     minimum level through the acr table, and step-up through the login
//     engine; NoAuthnContext, NoPassive and ForceAuthn;
//   - assertions it builds itself: pairwise persistent NameIDs (the OIDC
//     pairwise derivation over the SP's entity ID), transient ones on
//     request, the citizen number only where allowed; AuthnContextClassRef
//     of the level reached; signed Response and Assertion (RSA-SHA256);
//   - single logout: SP-initiated (Redirect and POST), IdP-initiated when
//     an SSO session ends anywhere (the login engine's logout hook), with a
//     page listing which portals confirmed.
//
// It does not authenticate anyone (internal/login does) and does not store
// anything durable itself (internal/store does).
package saml
