import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { authenticate, checkToken, components, findComponent, postMessageComponent, registerComponent } from './signing.js';
import { params, signedData, softwareSigner, toBase64, fromBase64, pemBody } from './signing-software.js';
import { enhance } from './signing-page.js';

const subtle = webcrypto.subtle;
const origin = 'https://id.example.gov';
const nonce = 'aGVsbG8gbm9uY2Ugb2YgdGhlIHRlc3Qgc3VpdGU';

const goodToken = () => ({ unverifiedCertificate: 'MIIB', algorithm: 'ES256', signature: 'AAAA', format: 'web-eid:1.0' });

test('checkToken accepts the Web eID shape and refuses the rest', () => {
  assert.deepEqual(checkToken({ ...goodToken(), appVersion: 'x', extra: 1 }), { ...goodToken(), appVersion: 'x' });
  assert.deepEqual(checkToken({ ...goodToken(), format: 'web-eid:1' }).format, 'web-eid:1');
  for (const bad of [
    null,
    'token',
    { ...goodToken(), unverifiedCertificate: '' },
    { ...goodToken(), signature: 'not base64!' },
    { ...goodToken(), algorithm: 'HS256' },
    { ...goodToken(), format: 'web-eid:2' },
    { ...goodToken(), format: undefined },
  ]) {
    assert.throws(() => checkToken(bad), TypeError, JSON.stringify(bad));
  }
});

test('registry: first available component wins, broken ones are skipped', async () => {
  const g = {};
  assert.equal(await findComponent(g), null);
  assert.throws(() => registerComponent({ name: 'x' }, g), TypeError);
  const off = registerComponent({ name: 'off', available: async () => false, authenticate: async () => goodToken() }, g);
  const broken = registerComponent({ name: 'broken', available: async () => { throw new Error('x'); }, authenticate: async () => goodToken() }, g);
  const on = registerComponent({ name: 'on', authenticate: async () => goodToken() }, g);
  registerComponent(on, g);
  assert.deepEqual(components(g).map((c) => c.name), [off.name, broken.name, on.name]);
  assert.equal(await findComponent(g), on);
});

test('authenticate passes nonce and origin, checks the token, and times out', async () => {
  const g = {};
  await assert.rejects(authenticate(nonce, { origin, global: g }), { name: 'NoComponentError' });
  let seen;
  registerComponent({ name: 'c', authenticate: async (n, o) => { seen = [n, o.origin]; return { ...goodToken(), junk: 1 }; } }, g);
  assert.deepEqual(await authenticate(nonce, { origin, global: g }), goodToken());
  assert.deepEqual(seen, [nonce, origin]);
  await assert.rejects(authenticate('short', { origin, global: g }), TypeError);
  await assert.rejects(authenticate(nonce, { origin: 'javascript:x', global: g }), TypeError);

  const slow = {};
  let aborted = false;
  registerComponent({ name: 'slow', authenticate: (n, o) => new Promise(() => o.signal.addEventListener('abort', () => { aborted = true; })) }, slow);
  await assert.rejects(authenticate(nonce, { origin, global: slow, timeoutMs: 20 }), { name: 'TimeoutError' });
  assert.equal(aborted, true);

  const bad = {};
  registerComponent({ name: 'bad', authenticate: async () => ({ ...goodToken(), algorithm: 'none' }) }, bad);
  await assert.rejects(authenticate(nonce, { origin, global: bad }), TypeError);
});

for (const [algorithm, gen] of [
  ['ES256', { name: 'ECDSA', namedCurve: 'P-256' }],
  ['ES384', { name: 'ECDSA', namedCurve: 'P-384' }],
  ['RS256', { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }],
  ['PS256', { name: 'RSA-PSS', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }],
]) {
  test(`software signer ${algorithm}: a signature over hash(origin) ‖ hash(nonce)`, async () => {
    const keys = await subtle.generateKey(gen, true, ['sign', 'verify']);
    const cert = new Uint8Array([0x30, 0x82, 1, 2, 3]);
    const signer = softwareSigner({ certificate: cert, privateKey: keys.privateKey, algorithm, subtle });
    const t = checkToken(await signer.authenticate(nonce, { origin }));
    assert.equal(t.algorithm, algorithm);
    assert.deepEqual(fromBase64(t.unverifiedCertificate), cert);
    const p = params(algorithm);
    const data = await signedData(p.hash, origin, nonce, subtle);
    assert.equal(data.length, 2 * Number(algorithm.slice(2)) / 8);
    assert.equal(await subtle.verify(p.signAlg, keys.publicKey, fromBase64(t.signature), data), true);
    const other = await signedData(p.hash, 'https://evil.example', nonce, subtle);
    assert.equal(await subtle.verify(p.signAlg, keys.publicKey, fromBase64(t.signature), other), false);
  });
}

test('base64 and PEM helpers', () => {
  const bytes = new Uint8Array([0, 1, 2, 250, 251, 255]);
  assert.deepEqual(fromBase64(toBase64(bytes)), bytes);
  assert.deepEqual(fromBase64('AAEC-vv_'), bytes);
  const pem = `-----BEGIN CERTIFICATE-----\n${toBase64(bytes)}\n-----END CERTIFICATE-----\n`;
  assert.deepEqual(pemBody(pem, 'CERTIFICATE'), bytes);
  assert.throws(() => pemBody(pem, 'PRIVATE KEY'), TypeError);
  assert.throws(() => params('ES512'), TypeError);
});

// fakeWindow delivers postMessage to listeners, as a browser does, with an
// extension's content script answering when answer is given.
function fakeWindow(answer) {
  const listeners = new Set();
  const win = {
    location: { origin },
    posted: [],
    addEventListener: (t, fn) => listeners.add(fn),
    removeEventListener: (t, fn) => listeners.delete(fn),
    postMessage(data, targetOrigin) {
      win.posted.push([data, targetOrigin]);
      const reply = answer?.(data);
      if (reply) setTimeout(() => deliver(reply), 1);
    },
  };
  const deliver = (data, from = { source: win, origin }) => {
    for (const fn of [...listeners]) fn({ data, ...from });
  };
  win.deliver = deliver;
  return win;
}

test('postMessage bridge: status, result, error and foreign messages', async () => {
  const none = postMessageComponent(fakeWindow(), { statusTimeoutMs: 20 });
  assert.equal(await none.available(), false);

  const win = fakeWindow((d) => {
    if (d.type === 'citizenid-signing:status') return { type: 'citizenid-signing:ready', id: d.id };
    if (d.type === 'citizenid-signing:authenticate') {
      // A message from another frame or origin is ignored.
      win.deliver({ type: 'citizenid-signing:result', id: d.id, token: { forged: true } }, { source: {}, origin });
      win.deliver({ type: 'citizenid-signing:result', id: d.id, token: { forged: true } }, { source: win, origin: 'https://evil.example' });
      return d.nonce === nonce
        ? { type: 'citizenid-signing:result', id: d.id, token: goodToken() }
        : { type: 'citizenid-signing:error', id: d.id, error: { name: 'AbortError', message: 'cancelled' } };
    }
  });
  const c = postMessageComponent(win);
  assert.equal(await c.available(), true);
  assert.deepEqual(await c.authenticate(nonce, { origin }), goodToken());
  const [msg, target] = win.posted.at(-1);
  assert.deepEqual([msg.type, msg.nonce, msg.origin, target], ['citizenid-signing:authenticate', nonce, origin, origin]);
  await assert.rejects(c.authenticate('other nonce value', { origin }), { name: 'AbortError', message: 'cancelled' });
});

// fakePage is the login page's DOM, just what signing-page.js touches.
function fakePage({ autosubmit = false } = {}) {
  const status = { hidden: true, textContent: '', dataset: { msgNoComponent: 'no component', msgFailed: 'failed' } };
  const token = { value: '' };
  const button = { disabled: false };
  let onSubmit;
  const form = {
    dataset: { nonce },
    submitted: 0,
    submit() { form.submitted++; },
    addEventListener: (t, fn) => { assert.equal(t, 'submit'); onSubmit = fn; },
    querySelector: (q) => (q.includes('token') ? token : button),
  };
  const back = { submitted: 0, submit() { back.submitted++; } };
  const doc = {
    querySelector: (q) => (q === 'form[data-autosubmit]' ? (autosubmit ? back : null) : q === 'form[data-certificate-challenge]' ? form : null),
    getElementById: (id) => (id === 'cert-status' ? status : null),
  };
  return { doc, form, token, status, button, back, submit: () => onSubmit({ preventDefault() {} }) };
}

test('login page: the token is filled in and the form posted', async () => {
  const p = fakePage();
  let asked;
  assert.equal(enhance(p.doc, { origin, authenticate: async (n, o) => { asked = [n, o.origin]; return goodToken(); } }), true);
  await p.submit();
  assert.deepEqual(asked, [nonce, origin]);
  assert.deepEqual(JSON.parse(p.token.value), goodToken());
  assert.equal(p.form.submitted, 1);
});

test('login page: a clear message when signing fails', async () => {
  for (const [name, want] of [['NoComponentError', 'no component'], ['AbortError', 'failed']]) {
    const p = fakePage();
    enhance(p.doc, { origin, authenticate: async () => { const e = new Error('x'); e.name = name; throw e; } });
    await p.submit();
    assert.equal(p.form.submitted, 0);
    assert.equal(p.status.hidden, false);
    assert.equal(p.status.textContent, want);
    assert.equal(p.button.disabled, false);
  }
});

test('login page: back from the TLS listener, the form is posted at once', () => {
  const p = fakePage({ autosubmit: true });
  assert.equal(enhance(p.doc, { origin }), true);
  assert.equal(p.back.submitted, 1);
  assert.equal(enhance(undefined), false);
});
