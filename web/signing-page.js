// Page glue for certificate login and certificate linking: the form
// marked data-certificate-challenge gets the signing component's token for
// its data-nonce before it is posted; a form marked data-autosubmit (the
// way back from the TLS listener) is posted at once. Without JavaScript the
// TLS way and the Continue button still work.

import { authenticate as defaultAuthenticate, postMessageComponent, registerComponent } from './signing.js';

export function enhance(doc = globalThis.document, { authenticate = defaultAuthenticate, origin = globalThis.location?.origin } = {}) {
  if (!doc) return false;
  const back = doc.querySelector('form[data-autosubmit]');
  if (back) back.submit();
  const form = doc.querySelector('form[data-certificate-challenge]');
  if (!form) return Boolean(back);
  const status = doc.getElementById('cert-status');
  const token = form.querySelector('input[name="token"]');
  const button = form.querySelector('button[type="submit"]');
  const show = (key) => {
    if (!status) return;
    status.textContent = status.dataset[key] || status.dataset.msgFailed || '';
    status.hidden = false;
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (button) button.disabled = true;
    if (status) status.hidden = true;
    try {
      const t = await authenticate(form.dataset.nonce, { origin });
      token.value = JSON.stringify(t);
      form.submit();
    } catch (e) {
      show(e && e.name === 'NoComponentError' ? 'msgNoComponent' : 'msgFailed');
      if (button) button.disabled = false;
    }
  });
  return true;
}

if (globalThis.document && globalThis.window) {
  registerComponent(postMessageComponent(globalThis.window));
  enhance();
}
