// @ts-check
// StreamGate admin console: an event's access codes: export, filter and search, select
// and revoke in bulk, copy, revoke and unrevoke one; generating them is
// event-generate.js's.

import { API, get, post, qs } from '../api.js';
import { $$, emptyRow, field, h, pager, replaceKeepingFocus, selectEl, tableWrap } from '../dom.js';
import { fmtTime } from '../format.js';
import { confirmDialog, copyWithFeedback, flash, showError } from '../messages.js';
import { STATUS_OPTIONS, statusBadge } from '../model.js';
import { generatePanel } from './event-generate.js';

/** @typedef {import('./event-detail.js').EventPage} EventPage */
/** @typedef {import('../model.js').AccessCode} AccessCode */

/**
 * Fills `codesSection` with the event's codes; returns `load`, which fetches the list
 * again with the current filter and page.
 * @param {HTMLElement} codesSection
 * @param {EventPage} page
 * @returns {() => Promise<void>}
 */
export function codesPanel(codesSection, page) {
  /** The list's filter and page, the codes selected for bulk revoke, the page shown. */
  const cs = {
    status: '',
    search: '',
    page: 1,
    /** @type {Set<string>} */
    selected: new Set(),
    /** @type {AccessCode[]} */
    lastItems: [],
  };

  const gen = generatePanel(page, async () => {
    cs.status = ''; cs.search = ''; cs.page = 1;
    statusSel.value = '';
    searchInput.value = '';
    await Promise.all([loadCodes(), page.reloadEvent()]);
  });

  const statusSel = selectEl('codes-status', STATUS_OPTIONS, '', { 'data-testid': 'codes-status' });
  const searchInput = h('input', { type: 'search', id: 'codes-search', 'data-testid': 'codes-search', placeholder: 'Code or label', autocomplete: 'off' });
  const bulkBtn = h('button', { type: 'button', class: 'btn btn-danger', id: 'bulk-revoke', 'data-testid': 'bulk-revoke', disabled: true }, 'Revoke selected');
  const selInfo = h('span', { class: 'muted small', id: 'selection-info', 'aria-live': 'polite' }, '');
  const codesArea = h('div', { id: 'codes-list', 'aria-busy': 'false' });

  codesSection.append(
    h('div', { class: 'section-head' },
      h('h2', { id: 'codes-h', tabindex: '-1' }, 'Access codes'),
      h('a', { class: 'btn', id: 'export-csv', 'data-testid': 'export-csv', href: `${page.base}/tokens/export`, download: `${page.ev.id}-codes.csv` }, 'Export CSV')),
    ...gen,
    h('form', { class: 'toolbar', id: 'codes-filter-form', role: 'search', 'aria-label': 'Filter codes', onsubmit: (/** @type {Event} */ e) => { e.preventDefault(); cs.search = searchInput.value.trim(); cs.page = 1; loadCodes().catch(showError); } },
      field('codes-status', 'Status', statusSel),
      field('codes-search', 'Search', searchInput),
      h('button', { type: 'submit', class: 'btn', id: 'codes-search-submit' }, 'Search')),
    h('div', { class: 'bulkbar' }, bulkBtn, selInfo),
    codesArea);

  statusSel.addEventListener('change', () => { cs.status = statusSel.value; cs.page = 1; loadCodes().catch(showError); });
  let searchTimer = 0;
  searchInput.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      if (searchInput.value.trim() === cs.search) return;
      cs.search = searchInput.value.trim(); cs.page = 1; loadCodes().catch(showError);
    }, 350);
  });

  function updateSelectionUi() {
    const n = cs.selected.size;
    bulkBtn.disabled = n === 0;
    bulkBtn.textContent = n ? `Revoke selected (${n})` : 'Revoke selected';
    selInfo.textContent = n ? `${n} selected` : '';
    const all = document.getElementById('select-all-codes');
    if (all instanceof HTMLInputElement) {
      const ids = cs.lastItems.map((c) => c.id);
      const selOnPage = ids.filter((i) => cs.selected.has(i)).length;
      all.checked = ids.length > 0 && selOnPage === ids.length;
      all.indeterminate = selOnPage > 0 && selOnPage < ids.length;
    }
  }

  bulkBtn.addEventListener('click', async () => {
    const ids = Array.from(cs.selected);
    if (!ids.length) return;
    const ok = await confirmDialog({ title: `Revoke ${ids.length} code${ids.length === 1 ? '' : 's'}?`, message: 'Viewers using these codes will be stopped within seconds. You can unrevoke a code later.', confirmLabel: 'Revoke' });
    if (!ok) return;
    try {
      const res = await post(`${API}/tokens/bulk-revoke`, { tokenIds: ids });
      flash(`Revoked ${res.revoked} code${res.revoked === 1 ? '' : 's'}.`, 'success');
      cs.selected.clear();
      await Promise.all([loadCodes(), page.reloadEvent(), page.loadSessions()]);
    } catch (ex) { showError(ex); }
  });

  /**
   * @param {AccessCode} code
   * @param {'revoke' | 'unrevoke'} action
   */
  async function codeAction(code, action) {
    if (action === 'revoke') {
      const ok = await confirmDialog({ title: `Revoke code ${code.code}?`, message: 'A viewer using this code will be stopped within seconds. You can unrevoke it later.', confirmLabel: 'Revoke' });
      if (!ok) return;
    }
    try {
      await post(`${API}/tokens/${encodeURIComponent(code.id)}/${action}`, {});
      flash(`Code ${code.code} ${action}d.`, 'success');
      await Promise.all([loadCodes(), page.reloadEvent(), action === 'revoke' ? page.loadSessions() : null]);
    } catch (ex) { showError(ex); }
  }

  async function loadCodes() {
    codesArea.setAttribute('aria-busy', 'true');
    let data;
    try {
      data = await get(`${page.base}/tokens${qs({ status: cs.status, search: cs.search, page: cs.page })}`);
    } finally {
      codesArea.setAttribute('aria-busy', 'false');
    }
    if (!page.alive()) return;
    const items = /** @type {AccessCode[]} */ (data.items || []);
    cs.lastItems = items;
    const pageIds = new Set(items.map((c) => c.id));
    for (const idSel of Array.from(cs.selected)) if (!pageIds.has(idSel)) cs.selected.delete(idSel);
    const allBox = h('input', { type: 'checkbox', id: 'select-all-codes', 'data-testid': 'select-all-codes', 'aria-label': 'Select all codes on this page', disabled: items.length === 0 });
    allBox.addEventListener('change', () => {
      for (const c of items) { if (allBox.checked) cs.selected.add(c.id); else cs.selected.delete(c.id); }
      for (const box of $$('input.select-code', codesArea, HTMLInputElement)) box.checked = allBox.checked;
      updateSelectionUi();
    });
    const table = h('table', { id: 'codes-table', 'data-testid': 'codes-table', class: 'codes-table stack' },
      h('caption', { class: 'visually-hidden' }, 'Access codes of this event'),
      h('thead', null, h('tr', null,
        h('th', { scope: 'col', class: 'col-check' }, allBox, h('label', { for: 'select-all-codes', class: 'phone-only' }, 'Select all on this page')),
        ['Code', 'Label', 'Status', 'Redeemed', 'Expires', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, items.length === 0
        ? emptyRow(7, cs.status || cs.search ? 'No codes match.' : 'No codes yet.')
        : items.map((/** @type {AccessCode} */ c) => codeRow(c, { selectable: true }))));
    replaceKeepingFocus(codesArea,
      tableWrap('Access codes table', table),
      pager('codes', data, (p) => { cs.page = p; loadCodes().catch(showError); }));
    updateSelectionUi();
  }

  /**
   * @param {AccessCode} c
   * @param {{ selectable: boolean }} opts
   */
  function codeRow(c, { selectable }) {
    const box = selectable ? h('input', { type: 'checkbox', class: 'select-code', 'data-testid': 'select-code', 'data-focus-key': `sel-${c.id}`, 'aria-label': `Select code ${c.code}`, checked: cs.selected.has(c.id) }) : null;
    if (box) box.addEventListener('change', () => { if (box.checked) cs.selected.add(c.id); else cs.selected.delete(c.id); updateSelectionUi(); });
    return h('tr', { 'data-code-id': c.id, 'data-code': c.code, 'data-status': c.status, class: 'code-row' },
      selectable ? h('td', { class: 'col-check' }, box) : null,
      h('th', { scope: 'row', class: 'mono code-cell' }, c.code),
      h('td', { 'data-label': 'Label' }, c.label || h('span', { class: 'muted' }, '—')),
      h('td', { 'data-col': 'status' }, statusBadge(c.status)),
      h('td', { 'data-label': 'Redeemed' }, c.redeemedAt ? fmtTime(c.redeemedAt) : h('span', { class: 'muted' }, '—'), c.redeemedIp ? h('span', { class: 'muted small block mono' }, c.redeemedIp) : null),
      h('td', { 'data-label': 'Expires' }, fmtTime(c.expiresAt)),
      h('td', { class: 'row-actions' },
        h('button', { type: 'button', class: 'btn btn-small copy-code', 'data-testid': 'copy-code', 'data-focus-key': `copy-${c.id}`, 'aria-label': `Copy code ${c.code}`, onclick: (/** @type {Event} */ e) => copyWithFeedback(c.code, e.currentTarget, `code ${c.code}`) }, 'Copy'),
        c.status === 'revoked'
          ? h('button', { type: 'button', class: 'btn btn-small unrevoke-code', 'data-testid': 'unrevoke-code', 'data-focus-key': `rev-${c.id}`, 'aria-label': `Unrevoke code ${c.code}`, onclick: () => codeAction(c, 'unrevoke') }, 'Unrevoke')
          : h('button', { type: 'button', class: 'btn btn-small btn-danger-outline revoke-code', 'data-testid': 'revoke-code', 'data-focus-key': `rev-${c.id}`, 'aria-label': `Revoke code ${c.code}`, onclick: () => codeAction(c, 'revoke') }, 'Revoke')));
  }

  return loadCodes;
}
