import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enhanceCopy } from './copy.js';

function button(id, dataset) {
  const b = { id, hidden: true, dataset, listeners: {} };
  b.addEventListener = (ev, fn) => { b.listeners[ev] = fn; };
  return b;
}

test('without a document it does nothing', () => {
  assert.equal(enhanceCopy(undefined), 0);
});

test('copies the value, says so, and prints', async () => {
  const copy = button('totp-copy', { copy: 'ABCD EFGH', msgCopied: 'Copied' });
  const print = button('codes-print', {});
  const status = { textContent: '' };
  const doc = {
    querySelectorAll: (q) => (q === 'button[data-copy]' ? [copy] : [print]),
    getElementById: (id) => (id === 'totp-copy-status' ? status : null),
  };
  let copied = '';
  let printed = 0;
  const clipboard = { writeText: async (s) => { copied = s; } };
  assert.equal(enhanceCopy(doc, clipboard, () => { printed++; }), 2);
  assert.equal(copy.hidden, false);
  assert.equal(print.hidden, false);
  await copy.listeners.click();
  assert.equal(copied, 'ABCD EFGH');
  assert.equal(status.textContent, 'Copied');
  print.listeners.click();
  assert.equal(printed, 1);
});

test('keeps the buttons hidden when the browser cannot copy or print', () => {
  const copy = button('totp-copy', { copy: 'x' });
  const print = button('codes-print', {});
  const doc = { querySelectorAll: (q) => (q === 'button[data-copy]' ? [copy] : [print]), getElementById: () => null };
  assert.equal(enhanceCopy(doc, undefined, undefined), 0);
  assert.equal(copy.hidden, true);
  assert.equal(print.hidden, true);
});
