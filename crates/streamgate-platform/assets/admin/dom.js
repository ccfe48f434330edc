// StreamGate admin console: the small DOM helpers the event page's panels share
// (stream.js, ingest.js): elements built from attributes and children, never from HTML
// strings, so the strict CSP holds and no text can become markup.

/** An element with `attrs` (`text` sets textContent, `onclick` a listener) and children. */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'text') node.textContent = v;
    else if (k === 'onclick') node.addEventListener('click', v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
  return node;
}

/** One term and value of a details list; the value's element gets `id`. */
export function row(term, value, id) {
  return el('div', { class: 'dl-item' }, el('dt', { text: term }), el('dd', { id }, value));
}

/** Text in the monospace style that wraps anywhere (paths, URLs). */
export function mono(text) {
  return el('span', { class: 'mono break', text });
}
