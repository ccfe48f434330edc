// @ts-check
// StreamGate admin console: the audit log (#/audit), newest first, filtered by action
// prefix or access code, paged.

import { API, get, qs } from '../api.js';
import { emptyRow, field, h, pager, replaceKeepingFocus, tableWrap } from '../dom.js';
import { fmtTime } from '../format.js';
import { showError } from '../messages.js';
import { outcomeBadge } from '../model.js';
import { replaceParams, startView, viewHeading } from '../router.js';
import { dateTimeSecFmt } from '../../shared/format.js';

/**
 * One audit log entry.
 * @typedef {object} AuditEntry
 * @property {number | string} id
 * @property {string} at
 * @property {string} actor
 * @property {string} action
 * @property {string | null} [target]
 * @property {string | null} [code]
 * @property {string | null} [codeLabel]
 * @property {string} [outcome]
 * @property {unknown} [detail]
 */

/**
 * Renders the audit log; `params` are the hash's query (page, action, code).
 * @param {URLSearchParams} params
 */
export async function renderAudit(params) {
  const { view, alive } = startView('Audit log', 'audit');
  const state = { page: Math.max(1, Number(params.get('page')) || 1), action: params.get('action') || '', code: params.get('code') || '', perPage: 50 };
  const actionInput = h('input', { type: 'search', id: 'audit-action', placeholder: 'e.g. code.', autocomplete: 'off', value: state.action });
  const codeInput = h('input', { type: 'search', id: 'audit-code', placeholder: 'e.g. a8nO8iZRSLA0', autocomplete: 'off', spellcheck: 'false', value: state.code });
  const area = h('div', { id: 'audit-list', 'aria-busy': 'false' });
  view.append(
    viewHeading('Audit log'),
    h('form', { class: 'toolbar', role: 'search', 'aria-label': 'Filter audit log', onsubmit: (/** @type {Event} */ e) => { e.preventDefault(); state.action = actionInput.value.trim(); state.code = codeInput.value.trim(); state.page = 1; load().catch(showError); } },
      field('audit-action', 'Action starts with', actionInput),
      field('audit-code', 'Access code', codeInput),
      h('button', { type: 'submit', class: 'btn', id: 'audit-filter-submit' }, 'Filter')),
    area);

  async function load() {
    replaceParams({ action: state.action, code: state.code, page: state.page > 1 ? state.page : '' });
    area.setAttribute('aria-busy', 'true');
    let data;
    try {
      data = await get(`${API}/audit${qs({ page: state.page, perPage: state.perPage, action: state.action, code: state.code })}`);
    } finally {
      area.setAttribute('aria-busy', 'false');
    }
    if (!alive()) return;
    const items = /** @type {AuditEntry[]} */ (data.items || []);
    const table = h('table', { id: 'audit-table', 'data-testid': 'audit-table' },
      h('caption', { class: 'visually-hidden' }, 'Audit log, newest first'),
      h('thead', null, h('tr', null, ['When', 'Actor', 'Action', 'Target', 'Outcome', 'Detail'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, items.length === 0
        ? emptyRow(6, 'No entries.')
        : items.map((a) => h('tr', { 'data-audit-id': a.id },
          h('td', { class: 'nowrap' }, fmtTime(a.at, dateTimeSecFmt)),
          h('td', { class: 'mono' }, a.actor),
          h('td', { class: 'mono' }, a.action),
          h('td', { class: 'mono break', 'data-testid': 'audit-target' }, a.code
            ? [a.code, a.codeLabel ? h('span', { class: 'muted' }, ` (${a.codeLabel})`) : null]
            : (a.target ?? '—')),
          h('td', null, outcomeBadge(a.outcome)),
          h('td', { class: 'detail' }, a.detail === null || a.detail === undefined ? '—' : (typeof a.detail === 'string' ? a.detail : JSON.stringify(a.detail)))))));
    replaceKeepingFocus(area, tableWrap('Audit log table', table),
      pager('audit', data, (p) => { state.page = p; load().catch(showError); }));
  }
  await load();
}
