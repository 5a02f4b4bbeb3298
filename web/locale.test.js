import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enhanceLocaleSwitcher } from './locale.js';

test('without a document it does nothing', () => {
  assert.equal(enhanceLocaleSwitcher(undefined), false);
});

test('submits the form on change and hides the button', () => {
  let submitted = 0;
  let listener;
  const button = { hidden: false };
  const form = { submit: () => { submitted++; }, querySelector: () => button };
  const select = { form, addEventListener: (ev, fn) => { assert.equal(ev, 'change'); listener = fn; } };
  const doc = { querySelector: (q) => (q === 'select[name="lang"]' ? select : null) };
  assert.equal(enhanceLocaleSwitcher(doc), true);
  assert.equal(button.hidden, true);
  listener();
  assert.equal(submitted, 1);
});
