// CitizenID certificate login: the interface a signing component implements.
//
// A signing component is whatever holds the citizen's signature
// certificate and private key: a browser extension talking to a PKI token
// or smart card, a national ID card app, a remote-signing app, or the
// software signer in signing-software.js (development and tests only).
// It is an object with:
//
//   name: string
//     A short name for logs ("vnpt-token", "software").
//   available(): Promise<boolean>            (optional)
//     Whether the component is installed and can be asked now. Components
//     without it are always asked.
//   authenticate(nonce, { origin, signal }): Promise<AuthToken>
//     Asks the citizen to choose a certificate and unlock its key (PIN),
//     signs hash(origin) ‖ hash(nonce) with it, and resolves to the token
//     below. `hash` is the algorithm's hash (SHA-256 for ES256/RS256/PS256
//     and for CMS, SHA-384 for ES384/RS384/PS384, SHA-512 for RS512/PS512),
//     applied to the UTF-8 bytes of the origin (scheme://host[:port], as in
//     location.origin) and of the nonce string; ‖ is concatenation. The
//     component signs that concatenation with the algorithm (which hashes
//     it once more, as every signature scheme does). A component that runs
//     outside the page (an extension, an app) must take the origin from the
//     browser tab it serves, never from the page: that is what stops a
//     phishing site from relaying our nonce. It rejects with an Error whose
//     name is "AbortError" when the citizen cancels or signal aborts.
//
//   AuthToken, the Web eID authentication token format (web-eid:1):
//   {
//     unverifiedCertificate: string, // base64 of the certificate (DER)
//     algorithm: string,             // ES256 ES384 RS256 RS384 RS512 PS256 PS384 PS512, or CMS
//     signature: string,             // base64; ECDSA as r ‖ s (or ASN.1);
//                                    // for CMS a detached SignedData over the same bytes
//     format: "web-eid:1.0",
//     appVersion?: string            // the component's name and version (optional)
//   }
//
// Components make themselves known with registerComponent (a script of the
// component loaded by the page), or through the postMessage bridge below
// (a browser extension's content script answering window messages).
// The server checks everything again; nothing here is trusted.

export const FORMAT = 'web-eid:1.0';
export const ALGORITHMS = ['ES256', 'ES384', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'CMS'];
const REGISTRY = Symbol.for('citizenid.signing.components');
const B64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

function registry(g) {
  if (!g[REGISTRY]) g[REGISTRY] = [];
  return g[REGISTRY];
}

// registerComponent adds a component; the first available one is used.
export function registerComponent(component, g = globalThis) {
  if (!component || typeof component.authenticate !== 'function' || typeof component.name !== 'string') {
    throw new TypeError('a signing component needs a name and an authenticate(nonce, options) function');
  }
  const list = registry(g);
  if (!list.includes(component)) list.push(component);
  return component;
}

// components lists the registered components.
export function components(g = globalThis) {
  return [...registry(g)];
}

// findComponent returns the first registered component that says it is
// available, or null.
export async function findComponent(g = globalThis) {
  for (const c of registry(g)) {
    try {
      if (typeof c.available !== 'function' || (await c.available())) return c;
    } catch {
      // a broken component is skipped
    }
  }
  return null;
}

// checkToken returns the token's fields the server reads, or throws a
// TypeError saying what is wrong with it.
export function checkToken(t) {
  if (!t || typeof t !== 'object') throw new TypeError('the token is not an object');
  const out = {
    unverifiedCertificate: t.unverifiedCertificate,
    algorithm: t.algorithm,
    signature: t.signature,
    format: t.format,
  };
  if (typeof t.appVersion === 'string') out.appVersion = t.appVersion;
  for (const k of ['unverifiedCertificate', 'signature']) {
    if (typeof out[k] !== 'string' || out[k] === '' || !B64.test(out[k])) throw new TypeError(`${k} is not base64`);
  }
  if (!ALGORITHMS.includes(out.algorithm)) throw new TypeError(`algorithm ${String(out.algorithm)} is not supported`);
  if (typeof out.format !== 'string' || !(out.format === 'web-eid:1' || out.format.startsWith('web-eid:1.'))) {
    throw new TypeError('format is not web-eid:1');
  }
  return out;
}

// authenticate asks the first available component to sign the nonce for
// origin and returns the checked token. It rejects with an Error named
// "NoComponentError" when there is no component, "TimeoutError" after
// timeoutMs, or what the component rejected with.
export async function authenticate(nonce, { origin = globalThis.location?.origin, timeoutMs = 120000, global = globalThis } = {}) {
  if (typeof nonce !== 'string' || nonce.length < 16) throw new TypeError('the nonce is missing');
  if (typeof origin !== 'string' || !/^https?:\/\/[^/]+$/.test(origin)) throw new TypeError('the origin is missing');
  const c = await findComponent(global);
  if (!c) {
    const e = new Error('no signing component is available');
    e.name = 'NoComponentError';
    throw e;
  }
  const ctl = new AbortController();
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => {
      ctl.abort();
      const e = new Error('the signing component did not answer in time');
      e.name = 'TimeoutError';
      reject(e);
    }, timeoutMs);
  });
  try {
    return checkToken(await Promise.race([c.authenticate(nonce, { origin, signal: ctl.signal }), timeout]));
  } finally {
    clearTimeout(timer);
  }
}

// postMessageComponent is a bridge to a component that listens to window
// messages (a browser extension's content script). The protocol, all
// messages posted on the page's window to its own origin:
//   page → component  { type: "citizenid-signing:status", id }
//   component → page  { type: "citizenid-signing:ready", id }
//   page → component  { type: "citizenid-signing:authenticate", id, nonce, origin }
//   component → page  { type: "citizenid-signing:result", id, token }
//                  or { type: "citizenid-signing:error", id, error: { name, message } }
// The component must check the origin against the tab's real URL.
export function postMessageComponent(win = globalThis.window, { statusTimeoutMs = 700 } = {}) {
  let seq = 0;
  const ask = (msg, want, timeoutMs, signal) =>
    new Promise((resolve, reject) => {
      const id = `cid-${Date.now()}-${++seq}`;
      let timer;
      const done = () => {
        win.removeEventListener('message', onMessage);
        clearTimeout(timer);
      };
      const onMessage = (ev) => {
        const d = ev.data;
        if (ev.source !== win || ev.origin !== win.location.origin || !d || d.id !== id) return;
        if (d.type === want) {
          done();
          resolve(d);
        } else if (d.type === 'citizenid-signing:error') {
          done();
          const e = new Error(String(d.error?.message ?? 'signing failed'));
          e.name = String(d.error?.name ?? 'Error');
          reject(e);
        }
      };
      win.addEventListener('message', onMessage);
      if (timeoutMs) {
        timer = setTimeout(() => {
          done();
          const e = new Error('no answer');
          e.name = 'TimeoutError';
          reject(e);
        }, timeoutMs);
      }
      signal?.addEventListener('abort', () => {
        done();
        const e = new Error('aborted');
        e.name = 'AbortError';
        reject(e);
      });
      win.postMessage({ ...msg, id }, win.location.origin);
    });
  return {
    name: 'postMessage',
    async available() {
      try {
        await ask({ type: 'citizenid-signing:status' }, 'citizenid-signing:ready', statusTimeoutMs);
        return true;
      } catch {
        return false;
      }
    },
    async authenticate(nonce, { origin, signal } = {}) {
      const d = await ask({ type: 'citizenid-signing:authenticate', nonce, origin }, 'citizenid-signing:result', 0, signal);
      return d.token;
    },
  };
}
