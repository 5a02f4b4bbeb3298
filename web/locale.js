// Progressive enhancement for the language switcher: submit on change.
// Pages work without this module.
export function enhanceLocaleSwitcher(doc = globalThis.document) {
  if (!doc) return false;
  const select = doc.querySelector('select[name="lang"]');
  if (!select || !select.form) return false;
  select.addEventListener('change', () => select.form.submit());
  const button = select.form.querySelector('button');
  if (button) button.hidden = true;
  return true;
}

if (globalThis.document) enhanceLocaleSwitcher();
