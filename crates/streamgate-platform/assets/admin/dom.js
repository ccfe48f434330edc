// @ts-check
// StreamGate admin console: the DOM pieces its views share (form fields, badges,
// tables, the pager), built with the shared element builder: from attributes and
// children, never from HTML strings, so the strict CSP holds and no text can become
// markup.

import { appendAll, h, maybe$ } from '../shared/dom.js';
import { fmtNum } from './format.js';

export { $, $$, h, maybe$ } from '../shared/dom.js';

/** @typedef {import('../shared/dom.js').Child} Child */

/**
 * One term and value of a details list; the value's element gets `id` when given.
 * @param {string} term
 * @param {Child} value
 * @param {string} [id]
 */
export function row(term, value, id) {
  return h('div', { class: 'dl-item' }, h('dt', { text: term }), h('dd', { id }, value));
}

/**
 * Text in the monospace style that wraps anywhere (paths, URLs).
 * @param {string} text
 */
export function mono(text) {
  return h('span', { class: 'mono break', text });
}

/**
 * Replaces the children of `container`, keeping keyboard focus on the "same" control
 * (matched by id or data-focus-key) when it is re-created.
 * @param {HTMLElement} container
 * @param {...Child} children
 */
export function replaceKeepingFocus(container, ...children) {
  const active = document.activeElement;
  let key = null;
  if (active instanceof HTMLElement && container.contains(active)) {
    if (active.dataset.focusKey) key = `[data-focus-key="${CSS.escape(active.dataset.focusKey)}"]`;
    else if (active.id) key = `#${CSS.escape(active.id)}`;
  }
  container.replaceChildren();
  appendAll(container, children);
  if (key) {
    const again = container.querySelector(key);
    if (again instanceof HTMLElement && !(/** @type {HTMLButtonElement} */ (again).disabled)) again.focus();
    else {
      const section = container.closest('section');
      ((section && maybe$('h2[tabindex]', section)) || maybe$('#view-title'))?.focus();
    }
  }
}

/**
 * A labelled form field; `hint` becomes the input's description.
 * @param {string} id
 * @param {string} labelText
 * @param {HTMLElement} input
 * @param {Child} [hint]
 */
export function field(id, labelText, input, hint) {
  const hintId = hint ? `${id}-hint` : null;
  if (hintId) input.setAttribute('aria-describedby', hintId);
  return h('div', { class: 'field' },
    h('label', { for: id }, labelText),
    input,
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null);
}

/**
 * A select of `[value, label]` options with `value` chosen.
 * @param {string} id
 * @param {[string, string][]} options
 * @param {string} value
 * @param {Record<string, unknown>} [attrs]
 */
export function selectEl(id, options, value, attrs = {}) {
  return h('select', { id, name: id, ...attrs },
    options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
}

/**
 * A badge of `kind` (ok, warn, danger, live, info, muted, config).
 * @param {string} text
 * @param {string} kind
 * @param {Record<string, unknown>} [attrs]
 */
export function badge(text, kind, attrs = {}) {
  return h('span', { class: `badge badge-${kind}`, ...attrs }, text);
}

/**
 * A focusable, labelled scroll container, so keyboard users can scroll wide tables.
 * @param {string} label
 * @param {HTMLTableElement} table
 */
export function tableWrap(label, table) {
  return h('div', { class: 'table-wrap', role: 'region', 'aria-label': label, tabindex: '0' }, table);
}

/**
 * A header row; a column is "Text" or ["Text", "class"].
 * @param {(string | [string, string])[]} cols
 */
export function headRow(cols) {
  return h('thead', null, h('tr', null, cols.map((c) => (Array.isArray(c)
    ? h('th', { scope: 'col', class: c[1] }, c[0])
    : h('th', { scope: 'col' }, c)))));
}

/**
 * The one row of an empty table.
 * @param {number} colspan
 * @param {string} text
 */
export function emptyRow(colspan, text) {
  return h('tr', { class: 'empty-row' }, h('td', { colspan }, text));
}

/**
 * Previous/next buttons and "Page x of y" for a paged list answer.
 * @param {string} prefix the ids' prefix
 * @param {{ page?: number, perPage?: number, total?: number }} data
 * @param {(page: number) => void} onPage
 */
export function pager(prefix, data, onPage) {
  const page = data.page || 1;
  const perPage = data.perPage || 50;
  const total = data.total || 0;
  const pages = Math.max(1, Math.ceil(total / perPage));
  return h('nav', { class: 'pager', 'aria-label': 'Pages', id: `${prefix}-pager` },
    h('button', { type: 'button', class: 'btn', id: `${prefix}-prev`, 'data-focus-key': `${prefix}-prev`, disabled: page <= 1, onclick: () => onPage(page - 1) }, '← Previous'),
    h('span', { class: 'pager-info', id: `${prefix}-page-info` }, `Page ${page} of ${pages} · ${fmtNum(total)} total`),
    h('button', { type: 'button', class: 'btn', id: `${prefix}-next`, 'data-focus-key': `${prefix}-next`, disabled: page >= pages, onclick: () => onPage(page + 1) }, 'Next →'));
}
