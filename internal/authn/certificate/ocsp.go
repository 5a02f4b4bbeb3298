package certificate

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"time"

	"golang.org/x/crypto/ocsp"
)

// OCSP wire structures x/crypto/ocsp does not expose: the request with a
// nonce extension, and the parts of a response it leaves out (the
// response extensions holding the nonce, the issuer hashes of CertID).

var oidOCSPNonce = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}

type ocspCertID struct {
	HashAlgorithm pkix.AlgorithmIdentifier
	NameHash      []byte
	IssuerKeyHash []byte
	SerialNumber  *big.Int
}

type ocspSingleRequest struct {
	Cert ocspCertID
}

type ocspTBSRequest struct {
	RequestList []ocspSingleRequest
	Extensions  []pkix.Extension `asn1:"explicit,tag:2,optional"`
}

type ocspRequestASN1 struct {
	TBSRequest ocspTBSRequest
}

// ocspSingleResponse is the start of a SingleResponse: the rest (the
// status, times, extensions) is read by x/crypto/ocsp.
type ocspSingleResponse struct {
	CertID ocspCertID
}

type ocspResponseData struct {
	Version     int `asn1:"optional,default:0,explicit,tag:0"`
	ResponderID asn1.RawValue
	ProducedAt  time.Time `asn1:"generalized"`
	Responses   []asn1.RawValue
	Extensions  []pkix.Extension `asn1:"explicit,tag:1,optional"`
}

type ocspBasicResponse struct {
	TBSResponseData    ocspResponseData
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          asn1.BitString
	Certificates       []asn1.RawValue `asn1:"explicit,tag:0,optional"`
}

type ocspResponseBytes struct {
	ResponseType asn1.ObjectIdentifier
	Response     []byte
}

type ocspResponseASN1 struct {
	Status   asn1.Enumerated
	Response ocspResponseBytes `asn1:"explicit,tag:0,optional"`
}

var (
	oidSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

// issuerHashes are the CertID hashes of issuer with h.
func issuerHashes(issuer *x509.Certificate, h crypto.Hash) (name, key []byte, err error) {
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(issuer.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil, nil, err
	}
	a := h.New()
	a.Write(issuer.RawSubject)
	b := h.New()
	b.Write(spki.PublicKey.RightAlign())
	return a.Sum(nil), b.Sum(nil), nil
}

// ocspRequest builds a request for leaf with a fresh nonce extension
// (RFC 8954: the extension value is a DER OCTET STRING of 32 random bytes).
// CertID uses SHA-1, which every responder understands (RFC 5019); it is an
// identifier here, not a signature.
func ocspRequest(leaf, issuer *x509.Certificate) (der, nonceExt []byte, err error) {
	name, key, err := issuerHashes(issuer, crypto.SHA1)
	if err != nil {
		return nil, nil, err
	}
	nonce := make([]byte, 32)
	rand.Read(nonce)
	nonceExt, err = asn1.Marshal(nonce)
	if err != nil {
		return nil, nil, err
	}
	der, err = asn1.Marshal(ocspRequestASN1{TBSRequest: ocspTBSRequest{
		RequestList: []ocspSingleRequest{{Cert: ocspCertID{
			HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oidSHA1, Parameters: asn1.NullRawValue},
			NameHash:      name, IssuerKeyHash: key, SerialNumber: leaf.SerialNumber,
		}}},
		Extensions: []pkix.Extension{{Id: oidOCSPNonce, Value: nonceExt}},
	}})
	return der, nonceExt, err
}

// ocspAnswer is a checked OCSP response.
type ocspAnswer struct {
	Status                             int // ocsp.Good, ocsp.Revoked, ocsp.Unknown
	ThisUpdate, NextUpdate, ProducedAt time.Time
	RevokedAt                          time.Time
	Nonce                              string // "matched", "absent" or "" (not checked: cached)
	Responder                          string // "issuer" or "delegated"
}

// checkOCSP parses and checks an OCSP response about leaf: signed by the
// issuer or by a responder the issuer delegated (id-kp-OCSPSigning, valid
// now), about this very certificate (serial and issuer hashes), fresh at
// now, and echoing nonceExt when one is given (a response without a nonce
// is accepted unless requireNonce; one with another nonce never is).
func checkOCSP(der []byte, leaf, issuer *x509.Certificate, nonceExt []byte, requireNonce bool, now time.Time, skew, maxAge time.Duration) (*ocspAnswer, error) {
	resp, err := ocsp.ParseResponseForCert(der, leaf, issuer)
	if err != nil {
		return nil, fmt.Errorf("parse response: %w", err)
	}
	ans := &ocspAnswer{Status: resp.Status, ThisUpdate: resp.ThisUpdate, NextUpdate: resp.NextUpdate,
		ProducedAt: resp.ProducedAt, RevokedAt: resp.RevokedAt, Responder: "issuer"}
	if rc := resp.Certificate; rc != nil && !bytes.Equal(rc.Raw, issuer.Raw) {
		if !slices.Contains(rc.ExtKeyUsage, x509.ExtKeyUsageOCSPSigning) {
			return nil, errors.New("delegated responder certificate lacks id-kp-OCSPSigning")
		}
		if now.After(rc.NotAfter) || now.Before(rc.NotBefore) {
			return nil, errors.New("delegated responder certificate is not valid now")
		}
		ans.Responder = "delegated"
	}

	// What x/crypto/ocsp does not check: the issuer hashes of the CertID
	// and the response extensions.
	var outer ocspResponseASN1
	if _, err := asn1.Unmarshal(der, &outer); err != nil {
		return nil, fmt.Errorf("parse response: %w", err)
	}
	var basic ocspBasicResponse
	if _, err := asn1.Unmarshal(outer.Response.Response, &basic); err != nil {
		return nil, fmt.Errorf("parse basic response: %w", err)
	}
	matched := false
	for _, raw := range basic.TBSResponseData.Responses {
		var sr ocspSingleResponse
		if _, err := asn1.Unmarshal(raw.FullBytes, &sr); err != nil || sr.CertID.SerialNumber == nil ||
			sr.CertID.SerialNumber.Cmp(leaf.SerialNumber) != 0 {
			continue
		}
		var h crypto.Hash
		switch alg := sr.CertID.HashAlgorithm.Algorithm; {
		case alg.Equal(oidSHA1):
			h = crypto.SHA1
		case alg.Equal(oidSHA256):
			h = crypto.SHA256
		case alg.Equal(oidSHA384):
			h = crypto.SHA384
		case alg.Equal(oidSHA512):
			h = crypto.SHA512
		default:
			continue
		}
		name, key, err := issuerHashes(issuer, h)
		if err == nil && bytes.Equal(name, sr.CertID.NameHash) && bytes.Equal(key, sr.CertID.IssuerKeyHash) {
			matched = true
			break
		}
	}
	if !matched {
		return nil, errors.New("response is not about this certificate of this issuer")
	}
	for _, e := range basic.TBSResponseData.Extensions {
		if e.Id.Equal(oidOCSPNonce) {
			if nonceExt == nil {
				continue
			}
			// RFC 8954 wraps the nonce in an OCTET STRING; some responders
			// echo the raw bytes.
			var inner []byte
			if rest, err := asn1.Unmarshal(nonceExt, &inner); err != nil || len(rest) > 0 {
				inner = nil
			}
			if !bytes.Equal(e.Value, nonceExt) && (inner == nil || !bytes.Equal(e.Value, inner)) {
				return nil, errors.New("response nonce does not match the request")
			}
			ans.Nonce = "matched"
		} else if e.Critical {
			return nil, fmt.Errorf("unsupported critical response extension %v", e.Id)
		}
	}
	if nonceExt != nil && ans.Nonce == "" {
		if requireNonce {
			return nil, errors.New("response has no nonce and this CA requires one")
		}
		ans.Nonce = "absent"
	}

	switch {
	case ans.ThisUpdate.After(now.Add(skew)):
		return nil, fmt.Errorf("response thisUpdate %s is in the future", ans.ThisUpdate.UTC().Format(time.RFC3339))
	case ans.ProducedAt.After(now.Add(skew)):
		return nil, fmt.Errorf("response producedAt %s is in the future", ans.ProducedAt.UTC().Format(time.RFC3339))
	case !ans.NextUpdate.IsZero() && now.After(ans.NextUpdate.Add(skew)):
		return nil, fmt.Errorf("response is stale: nextUpdate %s", ans.NextUpdate.UTC().Format(time.RFC3339))
	case ans.NextUpdate.IsZero() && now.After(ans.ThisUpdate.Add(maxAge)):
		return nil, fmt.Errorf("response without nextUpdate is older than %s", maxAge)
	}
	return ans, nil
}

// maxOCSPResponse bounds what is read from a responder.
const maxOCSPResponse = 256 << 10

// fetchOCSP posts the request to the responder at u.
func fetchOCSP(ctx context.Context, client *http.Client, u string, req []byte) ([]byte, error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(req))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "application/ocsp-request")
	r.Header.Set("Accept", "application/ocsp-response")
	resp, err := client.Do(r)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) && ue.Timeout() {
			return nil, errors.New("timed out")
		}
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP status %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxOCSPResponse+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxOCSPResponse {
		return nil, fmt.Errorf("response larger than %d bytes", maxOCSPResponse)
	}
	return b, nil
}

// ocspCacheKey names the cached answer for leaf: its issuer's key and its serial.
func ocspCacheKey(leaf, issuer *x509.Certificate) string {
	h := sha256.New()
	h.Write(issuer.RawSubjectPublicKeyInfo)
	h.Write([]byte{0})
	h.Write(leaf.SerialNumber.Bytes())
	return hex.EncodeToString(h.Sum(nil))
}
