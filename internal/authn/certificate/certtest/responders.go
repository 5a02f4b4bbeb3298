package certtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// OCSPResponder is an OCSP responder for one CA on loopback. Every knob
// can be turned while tests run.
type OCSPResponder struct {
	URL string
	ca  *CA

	mu        sync.Mutex
	revoked   map[string]time.Time
	unknown   map[string]bool
	down      bool
	delay     time.Duration
	echoNonce bool
	badNonce  bool
	validity  time.Duration
	signer    *CA // a delegated responder, or another key (bad signature)
	embed     bool

	requests atomic.Int64
	quit     chan struct{}
}

// NewOCSPResponder starts a responder for ca: answers are good unless the
// serial was revoked, valid for an hour, signed by the CA, and echo the
// request's nonce.
func NewOCSPResponder(t testing.TB, ca *CA) *OCSPResponder {
	r := &OCSPResponder{ca: ca, revoked: map[string]time.Time{}, unknown: map[string]bool{},
		echoNonce: true, validity: time.Hour, quit: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(r.quit) }) // runs first: sleeping handlers return
	r.URL = srv.URL + "/ocsp"
	return r
}

// Revoke makes the responder answer "revoked" for serial.
func (r *OCSPResponder) Revoke(serial *big.Int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.revoked[serial.String()] = time.Now().Add(-time.Minute)
}

// Unknown makes the responder answer "unknown" for serial.
func (r *OCSPResponder) Unknown(serial *big.Int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.unknown[serial.String()] = true
}

// SetDown makes the responder answer HTTP 503 (true) or work (false).
func (r *OCSPResponder) SetDown(down bool) { r.mu.Lock(); r.down = down; r.mu.Unlock() }

// SetDelay makes the responder sleep before answering.
func (r *OCSPResponder) SetDelay(d time.Duration) { r.mu.Lock(); r.delay = d; r.mu.Unlock() }

// SetEchoNonce chooses whether the request's nonce is echoed; with bad,
// another nonce is sent back.
func (r *OCSPResponder) SetEchoNonce(echo, bad bool) {
	r.mu.Lock()
	r.echoNonce, r.badNonce = echo, bad
	r.mu.Unlock()
}

// SetValidity sets nextUpdate - thisUpdate; 0 leaves nextUpdate out, a
// negative value makes answers that are already stale.
func (r *OCSPResponder) SetValidity(d time.Duration) { r.mu.Lock(); r.validity = d; r.mu.Unlock() }

// SetSigner signs answers with another key: a delegated responder (embed:
// its certificate is included) or a stranger.
func (r *OCSPResponder) SetSigner(s *CA, embed bool) {
	r.mu.Lock()
	r.signer, r.embed = s, embed
	r.mu.Unlock()
}

// Requests counts the requests the responder received.
func (r *OCSPResponder) Requests() int { return int(r.requests.Load()) }

// DelegatedResponder issues an OCSP-signing certificate from ca.
func DelegatedResponder(t testing.TB, ca *CA, withEKU bool) *CA {
	t.Helper()
	eku := []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}
	if !withEKU {
		eku = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	l := ca.Issue(t, LeafOptions{CommonName: "OCSP responder", KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: eku})
	return &CA{Cert: l.Cert, Key: l.Key}
}

var oidNonce = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}

type reqCertID struct {
	HashAlgorithm pkix.AlgorithmIdentifier
	NameHash      []byte
	IssuerKeyHash []byte
	SerialNumber  *big.Int
}

type ocspRequestASN1 struct {
	TBS struct {
		Version       int           `asn1:"explicit,tag:0,default:0,optional"`
		RequestorName asn1.RawValue `asn1:"explicit,tag:1,optional"`
		RequestList   []struct {
			Cert reqCertID
			Ext  []pkix.Extension `asn1:"explicit,tag:0,optional"`
		}
		Ext []pkix.Extension `asn1:"explicit,tag:2,optional"`
	}
}

func (r *OCSPResponder) serve(w http.ResponseWriter, req *http.Request) {
	r.requests.Add(1)
	r.mu.Lock()
	down, delay, echo, bad, validity, signer, embed := r.down, r.delay, r.echoNonce, r.badNonce, r.validity, r.signer, r.embed
	r.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-req.Context().Done():
			return
		case <-r.quit:
			return
		}
	}
	if down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	var body []byte
	if req.Method == http.MethodGet {
		b, err := base64.StdEncoding.DecodeString(req.URL.Path[strings.LastIndex(req.URL.Path, "/")+1:])
		if err != nil {
			w.Write(ocsp.MalformedRequestErrorResponse)
			return
		}
		body = b
	} else {
		body, _ = io.ReadAll(io.LimitReader(req.Body, 64<<10))
	}
	parsed, err := ocsp.ParseRequest(body)
	if err != nil {
		w.Write(ocsp.MalformedRequestErrorResponse)
		return
	}
	var raw ocspRequestASN1
	asn1.Unmarshal(body, &raw)
	var nonce []byte
	for _, e := range raw.TBS.Ext {
		if e.Id.Equal(oidNonce) {
			nonce = e.Value
		}
	}
	now := time.Now()
	tmpl := ocsp.Response{Status: ocsp.Good, SerialNumber: parsed.SerialNumber, ThisUpdate: now.Add(-time.Minute),
		IssuerHash: parsed.HashAlgorithm}
	if validity != 0 {
		tmpl.NextUpdate = now.Add(validity)
		if validity < 0 {
			tmpl.ThisUpdate = now.Add(2 * validity)
		}
	}
	r.mu.Lock()
	if at, ok := r.revoked[parsed.SerialNumber.String()]; ok {
		tmpl.Status, tmpl.RevokedAt, tmpl.RevocationReason = ocsp.Revoked, at, ocsp.KeyCompromise
	} else if r.unknown[parsed.SerialNumber.String()] {
		tmpl.Status = ocsp.Unknown
	}
	r.mu.Unlock()
	var ext []pkix.Extension
	if echo && nonce != nil {
		if bad {
			nonce = []byte{4, 4, 1, 2, 3, 4}
		}
		ext = append(ext, pkix.Extension{Id: oidNonce, Value: nonce})
	}
	sign := r.ca
	if signer != nil {
		sign = signer
	}
	var embedCert *x509.Certificate
	if embed {
		embedCert = sign.Cert
	}
	der, err := BuildOCSPResponse(r.ca.Cert, sign, embedCert, tmpl, ext)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Write(der)
}

type certIDASN1 = reqCertID

type revokedInfoASN1 struct {
	RevocationTime time.Time       `asn1:"generalized"`
	Reason         asn1.Enumerated `asn1:"explicit,tag:0,optional"`
}

type singleResponseASN1 struct {
	CertID     certIDASN1
	Good       asn1.Flag       `asn1:"tag:0,optional"`
	Revoked    revokedInfoASN1 `asn1:"tag:1,optional"`
	Unknown    asn1.Flag       `asn1:"tag:2,optional"`
	ThisUpdate time.Time       `asn1:"generalized"`
	NextUpdate time.Time       `asn1:"generalized,explicit,tag:0,optional"`
}

type responseDataASN1 struct {
	Version     int `asn1:"optional,default:0,explicit,tag:0"`
	ResponderID asn1.RawValue
	ProducedAt  time.Time `asn1:"generalized"`
	Responses   []singleResponseASN1
	Extensions  []pkix.Extension `asn1:"explicit,tag:1,optional"`
}

type basicResponseASN1 struct {
	TBS                asn1.RawValue
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          asn1.BitString
	Certificates       []asn1.RawValue `asn1:"explicit,tag:0,optional"`
}

type responseBytesASN1 struct {
	ResponseType asn1.ObjectIdentifier
	Response     []byte
}

type responseASN1 struct {
	Status   asn1.Enumerated
	Response responseBytesASN1 `asn1:"explicit,tag:0,optional"`
}

var (
	oidBasic  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}
	oidSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
)

// BuildOCSPResponse signs a basic OCSP response about one certificate of
// issuer, with response extensions (a nonce) that x/crypto/ocsp cannot
// write. embed, when set, is included as the responder's certificate.
func BuildOCSPResponse(issuer *x509.Certificate, signer *CA, embed *x509.Certificate, tmpl ocsp.Response, ext []pkix.Extension) ([]byte, error) {
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(issuer.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil, err
	}
	hash, hashOID := crypto.SHA1, oidSHA1
	if tmpl.IssuerHash == crypto.SHA256 {
		hash, hashOID = crypto.SHA256, oidSHA256
	}
	h := hash.New()
	h.Write(spki.PublicKey.RightAlign())
	keyHash := h.Sum(nil)
	h.Reset()
	h.Write(issuer.RawSubject)
	nameHash := h.Sum(nil)
	single := singleResponseASN1{
		CertID: certIDASN1{HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: hashOID, Parameters: asn1.NullRawValue},
			NameHash: nameHash, IssuerKeyHash: keyHash, SerialNumber: tmpl.SerialNumber},
		ThisUpdate: tmpl.ThisUpdate.UTC().Truncate(time.Second),
		NextUpdate: tmpl.NextUpdate.UTC().Truncate(time.Second),
	}
	switch tmpl.Status {
	case ocsp.Good:
		single.Good = true
	case ocsp.Unknown:
		single.Unknown = true
	case ocsp.Revoked:
		single.Revoked = revokedInfoASN1{RevocationTime: tmpl.RevokedAt.UTC().Truncate(time.Second), Reason: asn1.Enumerated(tmpl.RevocationReason)}
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(signer.Key.Public())
	var sspki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	asn1.Unmarshal(pubDER, &sspki)
	kh := sha1.Sum(sspki.PublicKey.RightAlign())
	khDER, _ := asn1.Marshal(kh[:])
	tbs := responseDataASN1{
		ResponderID: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 2, IsCompound: true, Bytes: khDER},
		ProducedAt:  time.Now().UTC().Truncate(time.Second),
		Responses:   []singleResponseASN1{single},
		Extensions:  ext,
	}
	tbsDER, err := asn1.Marshal(tbs)
	if err != nil {
		return nil, err
	}
	digest := crypto.SHA256.New()
	digest.Write(tbsDER)
	sig, err := signer.Key.Sign(rand.Reader, digest.Sum(nil), crypto.SHA256)
	if err != nil {
		return nil, err
	}
	var alg pkix.AlgorithmIdentifier
	switch signer.Key.(type) {
	case *ecdsa.PrivateKey:
		alg.Algorithm = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	case *rsa.PrivateKey:
		alg = pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}, Parameters: asn1.NullRawValue}
	}
	basic := basicResponseASN1{TBS: asn1.RawValue{FullBytes: tbsDER}, SignatureAlgorithm: alg,
		Signature: asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}}
	if embed != nil {
		basic.Certificates = []asn1.RawValue{{FullBytes: embed.Raw}}
	}
	basicDER, err := asn1.Marshal(basic)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(responseASN1{Status: 0, Response: responseBytesASN1{ResponseType: oidBasic, Response: basicDER}})
}

// CRLServer serves the CRL of one CA on loopback, signed on each request.
type CRLServer struct {
	URL string
	ca  *CA

	mu       sync.Mutex
	revoked  []x509.RevocationListEntry
	down     bool
	validity time.Duration
	number   int64

	requests atomic.Int64
}

// NewCRLServer starts a CRL server for ca, its CRLs valid for an hour.
func NewCRLServer(t testing.TB, ca *CA) *CRLServer {
	s := &CRLServer{ca: ca, validity: time.Hour}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/ca.crl"
	return s
}

// Revoke lists serial in later CRLs.
func (s *CRLServer) Revoke(serial *big.Int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked = append(s.revoked, x509.RevocationListEntry{SerialNumber: serial, RevocationTime: time.Now().Add(-time.Minute)})
}

// SetDown makes the server answer HTTP 503.
func (s *CRLServer) SetDown(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }

// SetValidity sets nextUpdate - thisUpdate (negative: already stale).
func (s *CRLServer) SetValidity(d time.Duration) { s.mu.Lock(); s.validity = d; s.mu.Unlock() }

// Requests counts the downloads.
func (s *CRLServer) Requests() int { return int(s.requests.Load()) }

func (s *CRLServer) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	s.mu.Lock()
	s.number++
	down, validity, number := s.down, s.validity, s.number
	entries := append([]x509.RevocationListEntry(nil), s.revoked...)
	s.mu.Unlock()
	if down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	now := time.Now()
	this := now.Add(-time.Minute)
	if validity < 0 {
		this = now.Add(2 * validity)
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(number), ThisUpdate: this, NextUpdate: now.Add(validity),
		RevokedCertificateEntries: entries,
	}, s.ca.Cert, s.ca.Key)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	w.Write(der)
}
