// @ts-check
// StreamGate admin console: access codes across all events (#/codes), filtered by
// status, event and text, with copy, revoke and unrevoke.

import { API, get, listEvents, post, qs } from '../api.js';
import { emptyRow, field, h, pager, replaceKeepingFocus, selectEl, tableWrap } from '../dom.js';
import { fmtTime } from '../format.js';
import { confirmDialog, copyWithFeedback, flash, showError } from '../messages.js';
import { CODE_STATUSES, STATUS_OPTIONS, statusBadge } from '../model.js';
import { replaceParams, startView, viewHeading } from '../router.js';

/** @typedef {import('../model.js').AccessCode} AccessCode */

/**
 * Renders the codes page; `params` are the hash's query (status, eventId, search, page).
 * @param {URLSearchParams} params
 */
export async function renderCodes(params) {
  const { view, alive } = startView('Codes', 'codes');
  const state = {
    status: CODE_STATUSES.find((s) => s === params.get('status')) || '',
    eventId: params.get('eventId') || '',
    search: params.get('search') || '',
    page: Math.max(1, Number(params.get('page')) || 1),
  };
  const statusSel = selectEl('all-codes-status', STATUS_OPTIONS, state.status);
  const eventSel = selectEl('all-codes-event', [['', 'All events']], '');
  const searchInput = h('input', { type: 'search', id: 'all-codes-search', placeholder: 'Code or label', autocomplete: 'off', value: state.search });
  const area = h('div', { id: 'all-codes-list', 'aria-busy': 'false' });
  view.append(
    viewHeading('Codes'),
    h('form', { class: 'toolbar', role: 'search', 'aria-label': 'Filter codes', id: 'all-codes-filter', onsubmit: (/** @type {Event} */ e) => { e.preventDefault(); state.search = searchInput.value.trim(); state.page = 1; load().catch(showError); } },
      field('all-codes-status', 'Status', statusSel),
      field('all-codes-event', 'Event', eventSel),
      field('all-codes-search', 'Search', searchInput),
      h('button', { type: 'submit', class: 'btn', id: 'all-codes-search-submit' }, 'Search')),
    area);

  statusSel.addEventListener('change', () => { state.status = statusSel.value; state.page = 1; load().catch(showError); });
  eventSel.addEventListener('change', () => { state.eventId = eventSel.value; state.page = 1; load().catch(showError); });

  // Fill the event select (first 100 events, all states).
  listEvents({ filter: 'all', sort: '-startsAt', perPage: 100 }).then((data) => {
    if (!alive()) return;
    for (const ev of /** @type {import('../model.js').AdminEvent[]} */ (data.items || [])) eventSel.append(h('option', { value: ev.id, selected: ev.id === state.eventId }, ev.title));
    if (state.eventId && eventSel.value !== state.eventId) eventSel.append(h('option', { value: state.eventId, selected: true }, state.eventId));
  }).catch(showError);

  /**
   * @param {AccessCode} c
   * @param {'revoke' | 'unrevoke'} act
   */
  async function action(c, act) {
    if (act === 'revoke') {
      const ok = await confirmDialog({ title: `Revoke code ${c.code}?`, message: 'A viewer using this code will be stopped within seconds. You can unrevoke it later.', confirmLabel: 'Revoke' });
      if (!ok) return;
    }
    try {
      await post(`${API}/tokens/${encodeURIComponent(c.id)}/${act}`, {});
      flash(`Code ${c.code} ${act}d.`, 'success');
      await load();
    } catch (ex) { showError(ex); }
  }

  async function load() {
    replaceParams({ status: state.status, eventId: state.eventId, search: state.search, page: state.page > 1 ? state.page : '' });
    area.setAttribute('aria-busy', 'true');
    let data;
    try {
      data = await get(`${API}/tokens${qs({ status: state.status, eventId: state.eventId, search: state.search, page: state.page })}`);
    } finally {
      area.setAttribute('aria-busy', 'false');
    }
    if (!alive()) return;
    const items = /** @type {AccessCode[]} */ (data.items || []);
    const table = h('table', { id: 'all-codes-table', 'data-testid': 'all-codes-table', class: 'stack' },
      h('caption', { class: 'visually-hidden' }, 'Access codes across events'),
      h('thead', null, h('tr', null, ['Code', 'Event', 'Label', 'Status', 'Redeemed', 'Expires', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, items.length === 0
        ? emptyRow(7, 'No codes match.')
        : items.map((c) => h('tr', { 'data-code-id': c.id, 'data-code': c.code, 'data-status': c.status, class: 'code-row' },
          h('th', { scope: 'row', class: 'mono code-cell' }, c.code),
          h('td', { 'data-label': 'Event' }, h('a', { href: `#/events/${encodeURIComponent(String(c.eventId))}` }, c.eventTitle || c.eventId)),
          h('td', { 'data-label': 'Label' }, c.label || h('span', { class: 'muted' }, '—')),
          h('td', { 'data-col': 'status' }, statusBadge(c.status)),
          h('td', { 'data-label': 'Redeemed' }, c.redeemedAt ? fmtTime(c.redeemedAt) : h('span', { class: 'muted' }, '—')),
          h('td', { 'data-label': 'Expires' }, fmtTime(c.expiresAt)),
          h('td', { class: 'row-actions' },
            h('button', { type: 'button', class: 'btn btn-small copy-code', 'data-focus-key': `copy-${c.id}`, 'aria-label': `Copy code ${c.code}`, onclick: (/** @type {Event} */ e) => copyWithFeedback(c.code, e.currentTarget, `code ${c.code}`) }, 'Copy'),
            c.status === 'revoked'
              ? h('button', { type: 'button', class: 'btn btn-small unrevoke-code', 'data-focus-key': `rev-${c.id}`, 'aria-label': `Unrevoke code ${c.code}`, onclick: () => action(c, 'unrevoke') }, 'Unrevoke')
              : h('button', { type: 'button', class: 'btn btn-small btn-danger-outline revoke-code', 'data-focus-key': `rev-${c.id}`, 'aria-label': `Revoke code ${c.code}`, onclick: () => action(c, 'revoke') }, 'Revoke'))))));
    replaceKeepingFocus(area, tableWrap('Codes table', table),
      pager('all-codes', data, (p) => { state.page = p; load().catch(showError); }));
  }
  await load();
}
