// @ts-check
// StreamGate's two browser apps (admin console and viewer portal): the DOM helpers both
// use. Elements are built from attributes and children, never from HTML strings, so the
// strict CSP holds and no text from the API can become markup.

/** What an element builder takes as children: nested arrays are flattened, and null,
 *  undefined and false are left out.
 *  @typedef {Node | string | number | boolean | null | undefined | readonly unknown[]} Child */

/** Attributes for `h`: `class`, `text` (textContent), `value` (the property),
 *  `dataset`, `on<event>` listeners, `true` for a bare attribute; null, undefined and
 *  false leave the attribute out.
 *  @typedef {Record<string, unknown> | null | undefined} Attrs */

/**
 * An element with `attrs` and `children`.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') node.className = String(v);
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k === 'text') node.textContent = String(v);
    else if (k === 'value' && 'value' in node) /** @type {{ value: string }} */ (node).value = String(v);
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), /** @type {EventListener} */ (v));
    else if (v === true) node.setAttribute(k, '');
    else node.setAttribute(k, String(v));
  }
  appendAll(node, children);
  return node;
}

/**
 * Appends `children` (flattened; null, undefined and false left out) to `node`.
 * @template {Element} T
 * @param {T} node
 * @param {Child[]} children
 * @returns {T}
 */
export function appendAll(node, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/**
 * The element `sel` matches, of `type` (HTMLElement unless told); throws when the page
 * lacks it, which is a bug in the page, not in the user's input.
 * @template {Element} [T=HTMLElement]
 * @param {string} sel
 * @param {new (...args: any[]) => T} [type]
 * @param {ParentNode} [root]
 * @returns {T}
 */
export function $(sel, type, root = document) {
  const node = root.querySelector(sel);
  const want = type || HTMLElement;
  if (!(node instanceof want)) throw new Error(`The page has no ${sel}`);
  return /** @type {T} */ (node);
}

/**
 * The element `sel` matches, or null.
 * @param {string} sel
 * @param {ParentNode} [root]
 * @returns {HTMLElement | null}
 */
export function maybe$(sel, root = document) {
  const node = root.querySelector(sel);
  return node instanceof HTMLElement ? node : null;
}

/**
 * Every element `sel` matches, of `type` (HTMLElement unless told).
 * @template {Element} [T=HTMLElement]
 * @param {string} sel
 * @param {ParentNode} [root]
 * @param {new (...args: any[]) => T} [type]
 * @returns {T[]}
 */
export function $$(sel, root = document, type) {
  const want = type || HTMLElement;
  return /** @type {T[]} */ (Array.from(root.querySelectorAll(sel)).filter((n) => n instanceof want));
}
