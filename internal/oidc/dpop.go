package oidc

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/citizenid/citizenid/internal/clientkeys"
	"github.com/citizenid/citizenid/internal/session"
)

// DPoP (RFC 9449): a client proves possession of a key with a signed
// proof per request; tokens issued with a proof are bound to the key
// (cnf.jkt) and work only with a fresh proof of it.

// dpopAlgs are the proof algorithms accepted (discovery lists them).
var dpopAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA, jose.PS256}

func dpopAlgNames() []string {
	out := make([]string, len(dpopAlgs))
	for i, a := range dpopAlgs {
		out[i] = string(a)
	}
	return out
}

// Bounds of a proof's iat: how old, and how far ahead of our clock.
const (
	dpopMaxAge    = 60 * time.Second
	dpopMaxAhead  = 10 * time.Second
	dpopNonceStep = 2 * time.Minute
	maxDPoPProof  = 8 << 10
)

// kindDPoPJTI remembers a proof's jti for its acceptance window.
var kindDPoPJTI = session.NewBucket[bool]("dpopjti")

// dpopClaims are the claims of a proof (RFC 9449 §4.2).
type dpopClaims struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   int64  `json:"iat"`
	ATH   string `json:"ath,omitempty"`
	Nonce string `json:"nonce,omitempty"`
}

// dpopProof is a proof whose signature verified with the key it carries.
type dpopProof struct {
	jkt    string // RFC 7638 thumbprint of the key, base64url
	claims dpopClaims
}

// parseDPoPProof checks a proof's form and signature (RFC 9449 §4.3,
// steps 1-7): one compact JWS, typ dpop+jwt, an accepted algorithm, a
// public key in jwk that fits it and verifies the signature, and every
// required claim. It needs no clock and no store; checkDPoP does the rest.
func parseDPoPProof(raw string) (*dpopProof, error) {
	if raw == "" || len(raw) > maxDPoPProof {
		return nil, errors.New("the DPoP proof is empty or too long")
	}
	tok, err := jwt.ParseSigned(raw, dpopAlgs)
	if err != nil {
		return nil, errors.New("the DPoP proof is not a JWT signed with ES256, EdDSA or PS256")
	}
	if len(tok.Headers) != 1 {
		return nil, errors.New("the DPoP proof must have one signature")
	}
	h := tok.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "dpop+jwt" {
		return nil, errors.New("the DPoP proof's typ must be dpop+jwt")
	}
	k := h.JSONWebKey
	if k == nil || !k.IsPublic() || !k.Valid() || !clientkeys.Fits(*k, jose.SignatureAlgorithm(h.Algorithm)) {
		return nil, errors.New("the DPoP proof's jwk must be a public key for its alg")
	}
	var c dpopClaims
	if err := tok.Claims(k.Key, &c); err != nil {
		return nil, errors.New("the DPoP proof's signature does not verify with its jwk")
	}
	switch {
	case c.JTI == "" || len(c.JTI) > 256:
		return nil, errors.New("the DPoP proof needs a jti")
	case c.HTM == "" || c.HTU == "" || c.IAT == 0:
		return nil, errors.New("the DPoP proof needs htm, htu and iat")
	}
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, errors.New("the DPoP proof's jwk has no thumbprint")
	}
	return &dpopProof{jkt: base64.RawURLEncoding.EncodeToString(tp), claims: c}, nil
}

// dpopError is a refused proof: invalid_dpop_proof, or use_dpop_nonce
// when a fresh nonce is what is missing.
func dpopError(nonce bool, format string, a ...any) *zoidc.Error {
	if nonce {
		return &zoidc.Error{ErrorType: "use_dpop_nonce", Description: fmt.Sprintf(format, a...)}
	}
	return &zoidc.Error{ErrorType: "invalid_dpop_proof", Description: fmt.Sprintf(format, a...)}
}

// checkDPoP verifies the request's DPoP proof for method and uri (our
// endpoint's URL) and returns its key's thumbprint; "" without a proof.
// accessToken, when not empty, must be the one the proof's ath hashes.
// needNonce: the proof must carry a nonce we issued (DPoP-Nonce).
func (p *Provider) checkDPoP(ctx context.Context, h http.Header, method, uri, accessToken string, needNonce bool) (string, *zoidc.Error) {
	values := h.Values("DPoP")
	switch len(values) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", dpopError(false, "send one DPoP proof")
	}
	proof, err := parseDPoPProof(values[0])
	if err != nil {
		return "", dpopError(false, "%s", err)
	}
	c := proof.claims
	now := p.now()
	iat := time.Unix(c.IAT, 0)
	switch {
	case c.HTM != method:
		return "", dpopError(false, "the DPoP proof's htm is not %s", method)
	case !sameURI(c.HTU, uri):
		return "", dpopError(false, "the DPoP proof's htu is not %s", uri)
	case iat.Before(now.Add(-dpopMaxAge)) || iat.After(now.Add(dpopMaxAhead)):
		return "", dpopError(false, "the DPoP proof's iat is not within %s of the server's time", dpopMaxAge)
	case accessToken != "" && c.ATH != tokenHash(accessToken):
		return "", dpopError(false, "the DPoP proof's ath is not the hash of the access token")
	case accessToken == "" && c.ATH != "":
		return "", dpopError(false, "the DPoP proof has an ath but no access token is presented")
	case (needNonce || c.Nonce != "") && !p.validDPoPNonce(c.Nonce, now):
		return "", dpopError(true, "use the nonce in the DPoP-Nonce header")
	}
	err = kindDPoPJTI.PutNew(ctx, p.o.Sessions, proof.jkt+"."+c.JTI, true, dpopMaxAge+dpopMaxAhead)
	if errors.Is(err, session.ErrConflict) {
		return "", dpopError(false, "the DPoP proof was already used")
	} else if err != nil {
		return "", zoidc.ErrServerError().WithParent(err).WithDescription("the service is briefly unavailable; try again later")
	}
	return proof.jkt, nil
}

// sameURI compares htu with our endpoint's URL without query and
// fragment (RFC 9449 §4.3 step 9), scheme and host case-insensitively.
func sameURI(htu, uri string) bool {
	a, err1 := url.Parse(htu)
	b, err2 := url.Parse(uri)
	if err1 != nil || err2 != nil {
		return false
	}
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host) && a.EscapedPath() == b.EscapedPath()
}

// tokenHash is the ath of an access token: base64url(SHA-256(token)).
func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// DPoP nonces are stateless: a time step and its MAC under a key derived
// from the pairwise secret, valid for the current and the previous step,
// so every node accepts every node's nonces.
func (p *Provider) dpopNonceAt(step int64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(step))
	m := hmac.New(sha256.New, p.dpopKey[:])
	m.Write(b[:])
	return base64.RawURLEncoding.EncodeToString(append(b[:], m.Sum(nil)[:16]...))
}

// DPoPNonce is the nonce to send in DPoP-Nonce now.
func (p *Provider) DPoPNonce() string {
	return p.dpopNonceAt(p.now().UnixNano() / int64(dpopNonceStep))
}

func (p *Provider) validDPoPNonce(nonce string, now time.Time) bool {
	step := now.UnixNano() / int64(dpopNonceStep)
	for _, s := range []int64{step, step - 1} {
		if hmac.Equal([]byte(nonce), []byte(p.dpopNonceAt(s))) {
			return true
		}
	}
	return false
}

// tokenDPoP checks the DPoP proof of a token request by c: required when
// c requires DPoP or the refresh token is bound (bound: its key's
// thumbprint), in which case the proof must be of that key.
func (p *Provider) tokenDPoP(ctx context.Context, h http.Header, c *client, bound string) (string, error) {
	strict := c.c.RequireDPoP || c.c.FAPI2()
	jkt, derr := p.checkDPoP(ctx, h, http.MethodPost, p.o.Issuer+pathToken, "", strict)
	switch {
	case derr != nil:
		return "", derr
	case jkt == "" && strict:
		return "", dpopError(false, "this client's tokens must be bound to a DPoP key: send a DPoP proof")
	case jkt == "" && bound != "":
		return "", dpopError(false, "the refresh token is bound to a DPoP key: send a DPoP proof")
	case bound != "" && jkt != bound:
		return "", dpopError(false, "the DPoP proof is not of the key the refresh token is bound to")
	}
	return jkt, nil
}

// withDPoPNonce sends a fresh DPoP-Nonce on every answer of the token
// endpoint (RFC 9449 §8): a client that needs one has it at hand.
func (p *Provider) withDPoPNonce(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("DPoP-Nonce", p.DPoPNonce())
		next.ServeHTTP(w, r)
	})
}
