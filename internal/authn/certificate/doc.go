// Package certificate is login with a signature certificate from a
// licensed certification authority (a PKI token, a smart card, a national
// ID card chip, a signing app): the one way to reach level 4, amr
// "sc hwk pin mfa" (signed challenge) or "sc hwk mfa" (TLS client
// certificate).
//
// It owns:
//
//   - Validation (Validator): the certificate must be valid now, fit the
//     Profile (key usage digitalSignature or nonRepudiation; extended key
//     usage clientAuth when the extension is present; RSA ≥ 2048 bits or
//     ECDSA P-256/P-384), chain to a configured trust anchor at the current
//     time with x509.Verify and KeyUsages set to clientAuth (an empty list
//     would mean server authentication), and not be revoked.
//   - Revocation (Revocation): OCSP first, to the responder the CA's
//     configuration names or else the certificate's AIA, all attempts of
//     one login bounded by one short timeout, with a nonce (RFC 8954; an
//     answer without one is accepted unless the CA requires it, one with
//     another nonce never), the signature checked (the issuer, or a
//     responder it delegated with id-kp-OCSPSigning), the CertID's issuer
//     hashes and the answer's freshness checked; good and revoked answers
//     are cached in Redis until their nextUpdate. CRLs are downloaded in
//     the background (the configured CAs' from the start, distribution
//     points of certificates seen at login from then on), verified, and
//     kept in memory as sets of serials: a login never waits for a CRL. A
//     fresh CRL that lists the certificate refuses it whatever OCSP says.
//     When neither source can vouch for the certificate, the login fails
//     closed; a CA's policy (trust.Policies) can only be stricter.
//   - The two ways to present a certificate, one authentication event:
//     a signed challenge in the shape of the Web eID authentication token
//     (web-eid:1: unverifiedCertificate, algorithm, signature, format), the
//     signature over hash(origin) ‖ hash(nonce) by RSA PKCS#1 v1.5, RSA-PSS,
//     ECDSA (ES256, ES384) or a detached CMS SignedData, the nonce single
//     use, bound to the login transaction and the server's origin, with a
//     short TTL; or a TLS client certificate on a listener of its own host
//     name (TLSServer), which asks for a certificate without verifying it,
//     keeps it under a single-use handle and sends the browser back to the
//     login page. A certificate in a proxy header is believed only from a
//     configured trusted proxy address.
//   - Mapping to a citizen: an explicit binding (store.CertificateBindings)
//     first, else the citizen number in a configured subject attribute
//     (Mapper; default serialNumber "CCCD:001099012345", "CMND:…" or 12
//     digits). A binding and a subject that name different citizens are
//     refused. Binding (Bind) is offered on the account page at level ≥ 3.
//   - Auditing: every outcome is one "certificate.validate" event with the
//     certificate's serial, issuer and thumbprint and the OCSP/CRL
//     evidence; the subject is never recorded (it holds the citizen
//     number and name), only the masked number.
//
// The web side lives in web/signing.js (the interface a signing component
// implements), web/signing-page.js (the login page's glue) and
// web/signing-software.js (a software signer for development and tests).
//
// It does not own the login flow or its throttling (internal/login), the
// trust configuration's files (trust, loaded by internal/config's checks
// and internal/app), the account pages (internal/account) or storage.
package certificate
