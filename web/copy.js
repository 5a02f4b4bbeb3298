// Progressive enhancement for secrets a citizen must keep: a button that
// copies a value ([data-copy], e.g. the authenticator key) and one that
// prints the page ([data-print], the recovery codes). Both stay hidden
// without this module; the pages work without it.
export function enhanceCopy(doc = globalThis.document, clipboard = globalThis.navigator?.clipboard, print = globalThis.print) {
  if (!doc) return 0;
  let n = 0;
  for (const b of doc.querySelectorAll('button[data-copy]')) {
    if (!clipboard) continue;
    b.hidden = false;
    n++;
    b.addEventListener('click', async () => {
      const status = doc.getElementById(b.id + '-status');
      try {
        await clipboard.writeText(b.dataset.copy);
        if (status) status.textContent = b.dataset.msgCopied || '';
      } catch {
        if (status) status.textContent = '';
      }
    });
  }
  for (const b of doc.querySelectorAll('button[data-print]')) {
    if (typeof print !== 'function') continue;
    b.hidden = false;
    n++;
    b.addEventListener('click', () => print());
  }
  return n;
}

if (globalThis.document) enhanceCopy();
