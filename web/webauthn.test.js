import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  toBase64url, fromBase64url, creationOptions, requestOptions, credentialToJSON,
  problem, supported, conditionalAvailable, enhance,
} from './webauthn.js';

const bytes = (...b) => new Uint8Array(b).buffer;
const same = (buf, arr) => assert.deepEqual([...new Uint8Array(buf)], arr);
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

test('base64url round-trips every length and byte value', () => {
  for (let n = 0; n < 40; n++) {
    const b = new Uint8Array(n).map((_, i) => (i * 73 + n * 31) & 0xff);
    const s = toBase64url(b.buffer);
    assert.match(s, /^[A-Za-z0-9_-]*$/);
    same(fromBase64url(s), [...b]);
  }
  assert.equal(toBase64url(bytes(0xfb, 0xff, 0xbf)), '-_-_');
  same(fromBase64url('-_-_'), [0xfb, 0xff, 0xbf]);
  assert.equal(toBase64url(new Uint8Array([9, 1, 2, 3]).subarray(1)), 'AQID'); // a view, not its whole buffer
  same(fromBase64url('AQI='), [1, 2]); // padding tolerated
});

test('base64url refuses what is not base64url', () => {
  for (const bad of ['a+b', 'a/b', 'a b', 'A', 'AAAAA', '=A', 42, null, undefined]) {
    assert.throws(() => fromBase64url(bad), TypeError, String(bad));
  }
});

test('creation options: binary members decoded, the rest kept', () => {
  const json = {
    publicKey: {
      rp: { id: 'id.example.gov', name: 'CitizenID' },
      user: { id: 'AQID', name: '0792******23', displayName: 'Trần Thị Bình' },
      challenge: 'BAUG',
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
      excludeCredentials: [{ type: 'public-key', id: 'CQk', transports: ['internal'] }],
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
      attestation: 'none',
    },
  };
  const pk = creationOptions(json);
  same(pk.challenge, [4, 5, 6]);
  same(pk.user.id, [1, 2, 3]);
  assert.equal(pk.user.displayName, 'Trần Thị Bình');
  same(pk.excludeCredentials[0].id, [9, 9]);
  assert.deepEqual(pk.excludeCredentials[0].transports, ['internal']);
  assert.deepEqual(pk.authenticatorSelection, { residentKey: 'preferred', userVerification: 'required' });
  assert.equal(json.publicKey.challenge, 'BAUG', 'the input is not changed');
});

test('request options: discoverable and with allowed credentials', () => {
  const open = requestOptions({ publicKey: { challenge: 'AAEC', rpId: 'localhost', userVerification: 'preferred' } });
  same(open.challenge, [0, 1, 2]);
  assert.equal(open.allowCredentials, undefined);
  assert.equal(open.userVerification, 'preferred');
  const listed = requestOptions({ publicKey: { challenge: 'AAEC', allowCredentials: [{ type: 'public-key', id: 'Bwc' }] } });
  same(listed.allowCredentials[0].id, [7, 7]);
});

test('a registration response is serialised for the server', () => {
  const cred = {
    id: 'AQI', rawId: bytes(1, 2), type: 'public-key', authenticatorAttachment: 'platform',
    response: { clientDataJSON: bytes(123, 125), attestationObject: bytes(0xa0), getTransports: () => ['internal'] },
    getClientExtensionResults: () => ({ credProps: { rk: true } }),
  };
  assert.deepEqual(credentialToJSON(cred), {
    id: 'AQI', rawId: 'AQI', type: 'public-key', authenticatorAttachment: 'platform',
    response: { clientDataJSON: 'e30', attestationObject: 'oA', transports: ['internal'] },
    clientExtensionResults: { credProps: { rk: true } },
  });
});

test('an assertion is serialised for the server, with or without a user handle', () => {
  const cred = {
    id: 'AQI', rawId: bytes(1, 2), type: 'public-key', authenticatorAttachment: null,
    response: { clientDataJSON: bytes(123, 125), authenticatorData: bytes(5), signature: bytes(6), userHandle: bytes(7) },
  };
  assert.deepEqual(credentialToJSON(cred), {
    id: 'AQI', rawId: 'AQI', type: 'public-key',
    response: { clientDataJSON: 'e30', authenticatorData: 'BQ', signature: 'Bg', userHandle: 'Bw' },
    clientExtensionResults: {},
  });
  cred.response.userHandle = null;
  assert.equal(credentialToJSON(cred).response.userHandle, undefined);
});

test('failures get friendly message keys', () => {
  const err = (name) => Object.assign(new Error(name), { name });
  assert.equal(problem(err('NotAllowedError'), 'get'), 'cancelled');
  assert.equal(problem(err('InvalidStateError'), 'create'), 'exists');
  assert.equal(problem(err('InvalidStateError'), 'get'), 'failed');
  assert.equal(problem(err('SecurityError'), 'get'), 'failed');
  assert.equal(problem(err('AbortError'), 'get'), null);
  assert.equal(problem(undefined, 'get'), 'failed');
});

test('support and conditional mediation are detected', async () => {
  assert.equal(supported({}), false);
  assert.equal(supported(undefined), false);
  const win = { PublicKeyCredential: {}, navigator: { credentials: {} } };
  assert.equal(supported(win), true);
  assert.equal(await conditionalAvailable(win), false);
  win.PublicKeyCredential.isConditionalMediationAvailable = async () => true;
  assert.equal(await conditionalAvailable(win), true);
  win.PublicKeyCredential.isConditionalMediationAvailable = async () => { throw new Error('no'); };
  assert.equal(await conditionalAvailable(win), false);
});

// A page as the server renders it, with just what the module touches.
function page(mode, options) {
  const el = (props = {}) => {
    const listeners = {};
    return {
      dataset: {}, hidden: false, disabled: false, value: '', textContent: '', removed: false, ...props,
      addEventListener(type, fn) { listeners[type] = fn; },
      fire(type, ev = { preventDefault() {} }) { return listeners[type](ev); },
      remove() { this.removed = true; },
    };
  };
  const status = el({ hidden: true, dataset: { msgUnsupported: 'unsupported!', msgCancelled: 'cancelled!', msgFailed: 'failed!', msgExists: 'exists!' } });
  const button = el();
  const step = el({ value: 'password' });
  const use = el({ value: 'webauthn' });
  const field = el();
  const form = el({
    dataset: { webauthn: mode }, submitted: 0,
    submit() { this.submitted++; },
    querySelector(q) { return { button, 'input[name="step"]': step, 'input[name="use"]': use }[q] ?? null; },
  });
  const ids = {
    'webauthn-form': form, 'webauthn-credential': field, 'webauthn-status': status,
    'webauthn-start': button, 'webauthn-options': el({ textContent: JSON.stringify(options) }),
  };
  return { doc: { getElementById: (id) => ids[id] ?? null }, form, button, status, field, step, use };
}

const assertion = () => ({
  id: 'AQI', rawId: bytes(1, 2), type: 'public-key',
  response: { clientDataJSON: bytes(123, 125), authenticatorData: bytes(5), signature: bytes(6), userHandle: bytes(7) },
});

function browser({ conditional = false, get, create } = {}) {
  const calls = [];
  return {
    calls,
    win: {
      PublicKeyCredential: { isConditionalMediationAvailable: async () => conditional },
      AbortController,
      navigator: {
        credentials: {
          get: (o) => { calls.push(['get', o]); return get(o); },
          create: (o) => { calls.push(['create', o]); return create(o); },
        },
      },
    },
  };
}

test('without WebAuthn the page says so, and the password page hides the passkey button', () => {
  const p = page('get', { publicKey: { challenge: 'AAEC' } });
  assert.equal(enhance(p.doc, {}), 'unsupported');
  assert.equal(p.status.hidden, false);
  assert.equal(p.status.textContent, 'unsupported!');
  assert.equal(p.button.disabled, true);
  const q = page('conditional', { publicKey: { challenge: 'AAEC' } });
  assert.equal(enhance(q.doc, {}), 'unsupported');
  assert.equal(q.form.hidden, true);
  assert.equal(enhance(undefined), null);
});

test('registration: the credential is posted; a cancel says so and allows a retry', async () => {
  const options = { publicKey: { challenge: 'BAUG', user: { id: 'AQID', name: 'n', displayName: 'd' }, rp: { id: 'localhost', name: 'CitizenID' } } };
  const p = page('create', options);
  let answer = () => Promise.reject(Object.assign(new Error('x'), { name: 'NotAllowedError' }));
  const b = browser({ create: (o) => answer(o) });
  assert.equal(enhance(p.doc, b.win), 'create');
  await p.button.fire('click');
  assert.equal(p.status.textContent, 'cancelled!');
  assert.equal(p.status.hidden, false);
  assert.equal(p.button.disabled, false);
  assert.equal(p.form.submitted, 0);

  answer = () => Promise.reject(Object.assign(new Error('x'), { name: 'InvalidStateError' }));
  await p.button.fire('click');
  assert.equal(p.status.textContent, 'exists!');

  answer = async () => ({ ...assertion(), response: { clientDataJSON: bytes(1), attestationObject: bytes(2) } });
  await p.button.fire('click');
  assert.equal(p.form.submitted, 1);
  assert.equal(p.status.hidden, true);
  const sent = JSON.parse(p.field.value);
  assert.equal(sent.response.attestationObject, 'Ag');
  same(b.calls.at(-1)[1].publicKey.challenge, [4, 5, 6]);
});

test('passkey page: the assertion is posted', async () => {
  const p = page('get', { publicKey: { challenge: 'AAEC', allowCredentials: [{ type: 'public-key', id: 'AQI' }] } });
  const b = browser({ get: async () => assertion() });
  assert.equal(enhance(p.doc, b.win), 'get');
  await p.button.fire('click');
  assert.equal(p.form.submitted, 1);
  assert.equal(JSON.parse(p.field.value).response.userHandle, 'Bw');
  assert.equal(b.calls[0][1].mediation, undefined, 'a modal request');
  same(b.calls[0][1].publicKey.allowCredentials[0].id, [1, 2]);
});

test('password page: autofill answers the passkey step in place', async () => {
  const p = page('conditional', { publicKey: { challenge: 'AAEC' } });
  const b = browser({ conditional: true, get: async () => assertion() });
  assert.equal(enhance(p.doc, b.win), 'conditional');
  await tick();
  await tick();
  assert.equal(b.calls[0][1].mediation, 'conditional');
  assert.ok(b.calls[0][1].signal, 'abortable');
  assert.equal(p.form.submitted, 1);
  assert.equal(p.step.value, 'webauthn');
  assert.equal(p.use.removed, true);
  assert.ok(p.field.value);
});

test('password page: the button aborts autofill, asks at once, and autofill resumes after a cancel', async () => {
  const p = page('conditional', { publicKey: { challenge: 'AAEC' } });
  let modalAnswer;
  const b = browser({
    conditional: true,
    get: (o) => {
      if (o.mediation === 'conditional') {
        return new Promise((_, reject) => o.signal.addEventListener('abort', () => reject(Object.assign(new Error('a'), { name: 'AbortError' }))));
      }
      return modalAnswer();
    },
  });
  enhance(p.doc, b.win);
  await tick();
  assert.equal(b.calls.length, 1);
  let prevented = false;
  modalAnswer = () => Promise.reject(Object.assign(new Error('x'), { name: 'NotAllowedError' }));
  await p.button.fire('click', { preventDefault() { prevented = true; } });
  assert.equal(prevented, true, 'the form is not posted to the passkey page');
  assert.equal(b.calls[1][1].mediation, undefined);
  assert.equal(p.status.textContent, 'cancelled!');
  await tick();
  await tick();
  assert.equal(b.calls[2][1].mediation, 'conditional', 'autofill again');
  assert.equal(p.form.submitted, 0);

  modalAnswer = async () => assertion();
  await p.button.fire('click');
  assert.equal(p.form.submitted, 1);
  assert.equal(p.step.value, 'webauthn');
});

test('without autofill support the password page still has the passkey button', async () => {
  const p = page('conditional', { publicKey: { challenge: 'AAEC' } });
  const b = browser({ conditional: false, get: async () => assertion() });
  enhance(p.doc, b.win);
  await tick();
  assert.equal(b.calls.length, 0);
  await p.button.fire('click');
  assert.equal(p.form.submitted, 1);
});
