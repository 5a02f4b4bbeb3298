// Passkeys in the browser: registration on the account page, login on the
// passkey page, and on the password page the passkey button and passkey
// autofill (conditional mediation). The server renders everything this
// module needs: the options as JSON in <script type="application/json"
// id="webauthn-options">, a form#webauthn-form whose data-webauthn says the
// ceremony (create, get or conditional) with a hidden #webauthn-credential
// field, and #webauthn-status whose data-msg-* attributes hold the
// messages shown when the browser has no WebAuthn, the citizen cancels, or
// the device fails. No build step; tested with `node --test web/`.

// toBase64url encodes bytes (an ArrayBuffer or a view) as unpadded base64url.
export function toBase64url(buf) {
  const bytes = buf instanceof ArrayBuffer
    ? new Uint8Array(buf)
    : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// fromBase64url decodes unpadded (or padded) base64url into an ArrayBuffer.
// It throws a TypeError on anything else.
export function fromBase64url(s) {
  if (typeof s !== 'string' || !/^[A-Za-z0-9_-]*={0,2}$/.test(s)) {
    throw new TypeError('not base64url');
  }
  s = s.replace(/=+$/, '');
  if (s.length % 4 === 1) throw new TypeError('not base64url');
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out.buffer;
}

function descriptors(list) {
  return (list || []).map((d) => ({ ...d, id: fromBase64url(d.id) }));
}

// creationOptions turns the server's {publicKey: …} JSON into the
// publicKey argument of navigator.credentials.create.
export function creationOptions(json) {
  const pk = json.publicKey;
  const out = { ...pk, challenge: fromBase64url(pk.challenge), user: { ...pk.user, id: fromBase64url(pk.user.id) } };
  if (pk.excludeCredentials) out.excludeCredentials = descriptors(pk.excludeCredentials);
  return out;
}

// requestOptions turns the server's {publicKey: …} JSON into the
// publicKey argument of navigator.credentials.get.
export function requestOptions(json) {
  const pk = json.publicKey;
  const out = { ...pk, challenge: fromBase64url(pk.challenge) };
  if (pk.allowCredentials) out.allowCredentials = descriptors(pk.allowCredentials);
  return out;
}

// credentialToJSON serialises a PublicKeyCredential (from create or get)
// the way the server parses it: binary members as base64url.
export function credentialToJSON(cred) {
  const r = cred.response;
  const response = { clientDataJSON: toBase64url(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = toBase64url(r.attestationObject);
    if (typeof r.getTransports === 'function') response.transports = r.getTransports();
  }
  if (r.authenticatorData) {
    response.authenticatorData = toBase64url(r.authenticatorData);
    response.signature = toBase64url(r.signature);
    if (r.userHandle) response.userHandle = toBase64url(r.userHandle);
  }
  const out = { id: cred.id, rawId: toBase64url(cred.rawId), type: cred.type, response };
  if (cred.authenticatorAttachment) out.authenticatorAttachment = cred.authenticatorAttachment;
  out.clientExtensionResults = typeof cred.getClientExtensionResults === 'function' ? cred.getClientExtensionResults() : {};
  return out;
}

// problem names the message for a failed ceremony, or null when there is
// nothing to say (this module aborted the request itself).
export function problem(err, ceremony) {
  switch (err && err.name) {
    case 'AbortError':
      return null;
    case 'NotAllowedError': // cancelled, timed out, or not verified
      return 'cancelled';
    case 'InvalidStateError': // an excluded credential is on this device
      return ceremony === 'create' ? 'exists' : 'failed';
    default:
      return 'failed';
  }
}

// supported reports whether the browser has WebAuthn.
export function supported(win = globalThis) {
  return Boolean(win && win.PublicKeyCredential && win.navigator && win.navigator.credentials);
}

// conditionalAvailable reports whether the browser offers passkeys in
// autofill (conditional mediation).
export async function conditionalAvailable(win = globalThis) {
  const pkc = supported(win) && win.PublicKeyCredential;
  if (!pkc || typeof pkc.isConditionalMediationAvailable !== 'function') return false;
  try {
    return (await pkc.isConditionalMediationAvailable()) === true;
  } catch {
    return false;
  }
}

// enhance wires the page's passkey form, if any. It returns the ceremony
// it set up ('create', 'get', 'conditional'), 'unsupported', or null.
export function enhance(doc = globalThis.document, win = globalThis) {
  if (!doc) return null;
  const form = doc.getElementById('webauthn-form');
  const optionsEl = doc.getElementById('webauthn-options');
  const field = doc.getElementById('webauthn-credential');
  if (!form || !field) return null;
  const mode = form.dataset.webauthn;
  const status = doc.getElementById('webauthn-status');
  const button = mode === 'conditional' ? form.querySelector('button') : doc.getElementById('webauthn-start');
  if (!button) return null;

  const say = (key) => {
    if (!status) return;
    const msg = key ? status.dataset['msg' + key[0].toUpperCase() + key.slice(1)] || status.dataset.msgFailed : '';
    status.textContent = msg || '';
    status.hidden = !msg;
  };

  if (!supported(win)) {
    if (mode === 'conditional') {
      form.hidden = true; // the password page offers nothing it cannot do
    } else {
      say('unsupported');
      button.disabled = true;
    }
    return 'unsupported';
  }
  let options;
  try {
    options = JSON.parse(optionsEl.textContent);
  } catch {
    return null; // without options the forms keep their plain behaviour
  }

  const send = (cred) => {
    field.value = JSON.stringify(credentialToJSON(cred));
    if (mode === 'conditional') {
      // Answer the passkey step from the password page.
      const step = form.querySelector('input[name="step"]');
      if (step) step.value = 'webauthn';
      const use = form.querySelector('input[name="use"]');
      if (use) use.remove();
    }
    form.submit();
  };
  const credentials = win.navigator.credentials;

  if (mode === 'create') {
    button.addEventListener('click', async () => {
      say('');
      button.disabled = true;
      try {
        send(await credentials.create({ publicKey: creationOptions(options) }));
      } catch (err) {
        say(problem(err, 'create'));
        button.disabled = false;
      }
    });
    return 'create';
  }

  if (mode === 'get') {
    button.addEventListener('click', async () => {
      say('');
      button.disabled = true;
      try {
        send(await credentials.get({ publicKey: requestOptions(options) }));
      } catch (err) {
        say(problem(err, 'get'));
        button.disabled = false;
      }
    });
    return 'get';
  }

  if (mode !== 'conditional') return null;
  // The password page: passkeys in autofill while the page is open, and
  // the passkey button asks at once (modal) instead of loading the passkey
  // page. Only one request may be pending: the autofill one is aborted
  // first, and started again if the citizen cancels.
  let controller = null;
  let pending = null;
  let modal = false;
  const autofill = async () => {
    if (!(await conditionalAvailable(win)) || modal) return;
    controller = new win.AbortController();
    pending = credentials.get({ mediation: 'conditional', publicKey: requestOptions(options), signal: controller.signal });
    try {
      send(await pending);
    } catch (err) {
      const p = problem(err, 'get');
      if (p && p !== 'cancelled') say(p);
    }
  };
  button.addEventListener('click', async (ev) => {
    ev.preventDefault();
    if (modal) return;
    modal = true;
    say('');
    if (controller) controller.abort();
    if (pending) await pending.catch(() => {});
    controller = null;
    pending = null;
    try {
      send(await credentials.get({ publicKey: requestOptions(options) }));
    } catch (err) {
      say(problem(err, 'get'));
      modal = false;
      autofill();
    }
  });
  autofill();
  return 'conditional';
}

if (globalThis.document) enhance();
