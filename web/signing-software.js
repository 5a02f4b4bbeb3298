// A software signing component, for development and tests only: the key
// sits in the page, so it proves nothing about a token or a card. The
// server accepts its tokens only when its certificate chains to a
// configured trust anchor (a test PKI).
//
// In a development browser, from the console of the login page:
//   const s = await import('/web/signing-software.js');
//   await s.registerSoftwareSigner(certPEM, keyPEM, 'ES256');
// then press "Sign with my certificate".

import { FORMAT, registerComponent } from './signing.js';

const HASH = { 256: 'SHA-256', 384: 'SHA-384', 512: 'SHA-512' };
const CURVE = { ES256: 'P-256', ES384: 'P-384' };

// params returns the WebCrypto import and sign parameters of algorithm.
export function params(algorithm) {
  const hash = HASH[algorithm.slice(2)];
  if (!hash) throw new TypeError(`algorithm ${algorithm} is not supported`);
  switch (algorithm.slice(0, 2)) {
    case 'ES':
      if (!CURVE[algorithm]) throw new TypeError(`algorithm ${algorithm} is not supported`);
      return { hash, importAlg: { name: 'ECDSA', namedCurve: CURVE[algorithm] }, signAlg: { name: 'ECDSA', hash } };
    case 'RS':
      return { hash, importAlg: { name: 'RSASSA-PKCS1-v1_5', hash }, signAlg: { name: 'RSASSA-PKCS1-v1_5' } };
    case 'PS':
      return { hash, importAlg: { name: 'RSA-PSS', hash }, signAlg: { name: 'RSA-PSS', saltLength: Number(algorithm.slice(2)) / 8 } };
  }
  throw new TypeError(`algorithm ${algorithm} is not supported`);
}

const enc = new TextEncoder();

// signedData is hash(origin) ‖ hash(nonce), what a component signs.
export async function signedData(hash, origin, nonce, subtle = globalThis.crypto.subtle) {
  const a = new Uint8Array(await subtle.digest(hash, enc.encode(origin)));
  const b = new Uint8Array(await subtle.digest(hash, enc.encode(nonce)));
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export function toBase64(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function fromBase64(s) {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// pemBody returns the DER bytes of the first PEM block of type.
export function pemBody(pem, type) {
  const m = new RegExp(`-----BEGIN ${type}-----([^-]+)-----END ${type}-----`).exec(pem);
  if (!m) throw new TypeError(`no ${type} in the PEM text`);
  return fromBase64(m[1].replace(/\s+/g, ''));
}

// importKey imports a PKCS#8 private key (PEM text or DER bytes) for algorithm.
export async function importKey(pkcs8, algorithm, subtle = globalThis.crypto.subtle) {
  const der = typeof pkcs8 === 'string' ? pemBody(pkcs8, 'PRIVATE KEY') : pkcs8;
  return subtle.importKey('pkcs8', der, params(algorithm).importAlg, false, ['sign']);
}

// softwareSigner returns a component signing with privateKey (a CryptoKey)
// for certificate (DER bytes or PEM text).
export function softwareSigner({ certificate, privateKey, algorithm = 'ES256', subtle = globalThis.crypto.subtle, name = 'software' }) {
  const der = typeof certificate === 'string' ? pemBody(certificate, 'CERTIFICATE') : certificate;
  const p = params(algorithm);
  return {
    name,
    async available() {
      return true;
    },
    async authenticate(nonce, { origin } = {}) {
      const data = await signedData(p.hash, origin, nonce, subtle);
      const sig = new Uint8Array(await subtle.sign(p.signAlg, privateKey, data));
      return {
        unverifiedCertificate: toBase64(der),
        algorithm,
        signature: toBase64(sig),
        format: FORMAT,
        appVersion: 'https://citizenid/web/signing-software.js',
      };
    },
  };
}

// registerSoftwareSigner registers a software signer from PEM texts.
export async function registerSoftwareSigner(certPEM, keyPEM, algorithm = 'ES256', g = globalThis) {
  const privateKey = await importKey(keyPEM, algorithm);
  return registerComponent(softwareSigner({ certificate: certPEM, privateKey, algorithm }), g);
}
