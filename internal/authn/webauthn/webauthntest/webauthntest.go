// Package webauthntest is a software WebAuthn authenticator and client for
// tests: it answers the JSON options CitizenID sends to the browser with
// the JSON a browser posts back (ES256 keys, "none" attestation, the
// authenticator data flags a test asks for, clientDataJSON with the origin
// it is told). Tests use it to record ceremonies and to forge the wrong
// ones (another origin or RP ID, a replayed challenge, a counter that goes
// backwards). It is never used by the server.
package webauthntest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// Authenticator is a software authenticator with its browser.
type Authenticator struct {
	// Origin is what the browser writes into clientDataJSON.
	Origin string
	// RPID, when set, is hashed into the authenticator data instead of the
	// RP ID of the options (a credential of another site).
	RPID string
	// UserVerified, BackupEligible and BackupState are the flags set in
	// the authenticator data of every ceremony.
	UserVerified, BackupEligible, BackupState bool
	// AAGUID is the authenticator model (zero when nil).
	AAGUID []byte
}

// Credential is a key pair the authenticator made.
type Credential struct {
	ID         []byte
	Key        *ecdsa.PrivateKey
	RPID       string
	UserHandle []byte
	// SignCount is the counter of the last signature; Get signs with
	// SignCount+1 and stores it. Set it to make the counter go backwards.
	SignCount uint32
}

var b64 = base64.RawURLEncoding

// Create answers navigator.credentials.create options ({"publicKey": …})
// with a new credential and the registration response JSON.
func (a *Authenticator) Create(options []byte) (*Credential, []byte, error) {
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			RP        struct {
				ID string `json:"id"`
			} `json:"rp"`
			User struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, nil, fmt.Errorf("creation options: %w", err)
	}
	handle, err := b64.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("user id: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	c := &Credential{ID: make([]byte, 32), Key: key, RPID: o.PublicKey.RP.ID, UserHandle: handle}
	rand.Read(c.ID)

	cdj := a.clientData("webauthn.create", o.PublicKey.Challenge)
	auth := a.authData(c.RPID, 0, true)
	aaguid := make([]byte, 16)
	copy(aaguid, a.AAGUID)
	auth = append(auth, aaguid...)
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(c.ID)))
	auth = append(auth, c.ID...)
	auth = append(auth, coseKey(&key.PublicKey)...)
	// {"fmt": "none", "attStmt": {}, "authData": auth}
	att := []byte{0xa3}
	att = cborText(att, "fmt")
	att = cborText(att, "none")
	att = cborText(att, "attStmt")
	att = append(att, 0xa0)
	att = cborText(att, "authData")
	att = cborBytes(att, auth)
	resp := map[string]any{
		"id": b64.EncodeToString(c.ID), "rawId": b64.EncodeToString(c.ID), "type": "public-key",
		"authenticatorAttachment": "platform",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cdj),
			"attestationObject": b64.EncodeToString(att),
			"transports":        []string{"internal"},
		},
		"clientExtensionResults": map[string]any{},
	}
	out, err := json.Marshal(resp)
	return c, out, err
}

// Get answers navigator.credentials.get options with an assertion of c.
func (a *Authenticator) Get(options []byte, c *Credential) ([]byte, error) {
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			RPID      string `json:"rpId"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, fmt.Errorf("request options: %w", err)
	}
	if o.PublicKey.RPID != "" && o.PublicKey.RPID != c.RPID {
		return nil, errors.New("the credential belongs to another RP ID")
	}
	c.SignCount++
	cdj := a.clientData("webauthn.get", o.PublicKey.Challenge)
	auth := a.authData(c.RPID, c.SignCount, false)
	sum := sha256.Sum256(cdj)
	digest := sha256.Sum256(append(append([]byte{}, auth...), sum[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, c.Key, digest[:])
	if err != nil {
		return nil, err
	}
	resp := map[string]any{
		"id": b64.EncodeToString(c.ID), "rawId": b64.EncodeToString(c.ID), "type": "public-key",
		"authenticatorAttachment": "platform",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cdj),
			"authenticatorData": b64.EncodeToString(auth),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(c.UserHandle),
		},
		"clientExtensionResults": map[string]any{},
	}
	return json.Marshal(resp)
}

func (a *Authenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false})
	return b
}

// authData is rpIdHash ‖ flags ‖ counter (attested credential data
// follows at registration).
func (a *Authenticator) authData(rpID string, counter uint32, attested bool) []byte {
	if a.RPID != "" {
		rpID = a.RPID
	}
	h := sha256.Sum256([]byte(rpID))
	flags := byte(0x01) // UP
	if a.UserVerified {
		flags |= 0x04
	}
	if a.BackupEligible {
		flags |= 0x08
	}
	if a.BackupState {
		flags |= 0x10
	}
	if attested {
		flags |= 0x40
	}
	out := append(h[:], flags)
	return binary.BigEndian.AppendUint32(out, counter)
}

// coseKey is the EC2 P-256 public key as COSE_Key: {1: 2, 3: -7, -1: 1,
// -2: x, -3: y}.
func coseKey(pub *ecdsa.PublicKey) []byte {
	raw, _ := pub.Bytes() // 0x04 ‖ x ‖ y
	out := []byte{0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21}
	out = cborBytes(out, raw[1:33])
	out = append(out, 0x22)
	return cborBytes(out, raw[33:65])
}

func cborHead(out []byte, major byte, n int) []byte {
	switch {
	case n < 24:
		return append(out, major<<5|byte(n))
	case n < 256:
		return append(out, major<<5|24, byte(n))
	default:
		return binary.BigEndian.AppendUint16(append(out, major<<5|25), uint16(n))
	}
}

func cborBytes(out, b []byte) []byte { return append(cborHead(out, 2, len(b)), b...) }

func cborText(out []byte, s string) []byte { return append(cborHead(out, 3, len(s)), s...) }
