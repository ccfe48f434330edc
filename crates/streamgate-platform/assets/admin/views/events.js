// @ts-check
// StreamGate admin console: the event list (#/events), filtered and sorted, paged, with
// the "New event" form above it.

import { API, listEvents, post } from '../api.js';
import { $, emptyRow, field, h, headRow, pager, replaceKeepingFocus, selectEl, tableWrap } from '../dom.js';
import { fmtNum, fmtTime, rfc3339ToLocalInput } from '../format.js';
import { flash, showError } from '../messages.js';
import { eventBadges } from '../model.js';
import { replaceParams, startView, viewHeading } from '../router.js';
import { eventFormFields, readEventForm } from './event-form.js';

/** @typedef {import('../model.js').AdminEvent} AdminEvent */

/** @type {[string, string][]} */
const EVENT_FILTERS = [
  ['current', 'Current (not archived)'],
  ['active', 'Active'],
  ['inactive', 'Inactive'],
  ['upcoming', 'Upcoming'],
  ['live', 'On now (by schedule)'],
  ['past', 'Past'],
  ['archived', 'Archived'],
  ['all', 'All'],
];
/** @type {[string, string][]} */
const EVENT_SORTS = [
  ['startsAt', 'Start time (earliest first)'],
  ['-startsAt', 'Start time (latest first)'],
  ['title', 'Title (A–Z)'],
  ['-title', 'Title (Z–A)'],
  ['createdAt', 'Created (oldest first)'],
  ['-createdAt', 'Created (newest first)'],
];

/**
 * `value` when it is one of `options`' values, else `fallback`.
 * @param {string | null} value
 * @param {[string, string][]} options
 * @param {string} fallback
 */
function oneOf(value, options, fallback) {
  return value !== null && options.some(([v]) => v === value) ? value : fallback;
}

/**
 * Renders the event list; `params` are the hash's query (filter, sort, page, new).
 * @param {URLSearchParams} params
 */
export async function renderEvents(params) {
  const { view, alive } = startView('Events', 'events');
  const state = {
    filter: oneOf(params.get('filter'), EVENT_FILTERS, 'current'),
    sort: oneOf(params.get('sort'), EVENT_SORTS, 'startsAt'),
    page: Math.max(1, Number(params.get('page')) || 1),
    perPage: 20,
  };

  const formError = h('p', { class: 'form-error', id: 'new-event-error', 'data-testid': 'new-event-error', role: 'alert', hidden: true });
  const form = h('form', { id: 'new-event-form', 'data-testid': 'new-event-form', class: 'card form-card', novalidate: true, hidden: true, 'aria-labelledby': 'new-event-h' },
    h('h2', { id: 'new-event-h' }, 'New event'),
    eventFormFields('ev'),
    formError,
    h('div', { class: 'form-actions' },
      h('button', { type: 'submit', class: 'btn btn-primary', id: 'new-event-submit', 'data-testid': 'new-event-submit' }, 'Create event'),
      h('button', { type: 'button', class: 'btn', id: 'new-event-cancel', onclick: () => toggleForm(false) }, 'Cancel')));

  const toggleBtn = h('button', { type: 'button', class: 'btn btn-primary', id: 'new-event-toggle', 'data-testid': 'new-event-toggle', 'aria-expanded': 'false', 'aria-controls': 'new-event-form' }, 'New event');
  /** @param {boolean} open */
  function toggleForm(open) {
    form.hidden = !open;
    toggleBtn.setAttribute('aria-expanded', String(open));
    if (open) {
      // Sensible defaults: starts at the next full hour, lasts two hours.
      const s = $('#ev-starts', HTMLInputElement);
      const e = $('#ev-ends', HTMLInputElement);
      if (!s.value) {
        const start = new Date();
        start.setMinutes(0, 0, 0);
        start.setHours(start.getHours() + 1);
        s.value = rfc3339ToLocalInput(start.toISOString());
        e.value = rfc3339ToLocalInput(new Date(start.getTime() + 2 * 3600e3).toISOString());
      }
      $('#ev-title').focus();
    } else toggleBtn.focus();
  }
  toggleBtn.addEventListener('click', () => toggleForm(form.hidden));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    formError.hidden = true;
    let body;
    try {
      body = readEventForm('ev');
    } catch (ex) {
      formError.textContent = ex instanceof Error ? ex.message : String(ex);
      formError.hidden = false;
      return;
    }
    const btn = $('#new-event-submit', HTMLButtonElement);
    btn.disabled = true;
    try {
      const created = await post(`${API}/events`, body);
      flash(`Event “${created.title}” created.`, 'success', true);
      location.hash = `#/events/${encodeURIComponent(created.id)}`;
    } catch (ex) {
      showError(ex, formError);
    } finally {
      btn.disabled = false;
    }
  });

  const filterSel = selectEl('events-filter', EVENT_FILTERS, state.filter, { 'data-testid': 'events-filter' });
  const sortSel = selectEl('events-sort', EVENT_SORTS, state.sort, { 'data-testid': 'events-sort' });
  const listArea = h('div', { id: 'events-list', 'aria-live': 'polite', 'aria-busy': 'false' });

  view.append(
    viewHeading('Events', toggleBtn),
    form,
    h('div', { class: 'toolbar', role: 'group', 'aria-label': 'Filter and sort events' },
      field('events-filter', 'Show', filterSel),
      field('events-sort', 'Sort by', sortSel)),
    listArea);

  async function load() {
    replaceParams({ filter: state.filter === 'current' ? '' : state.filter, sort: state.sort === 'startsAt' ? '' : state.sort, page: state.page > 1 ? state.page : '' });
    listArea.setAttribute('aria-busy', 'true');
    let data;
    try {
      data = await listEvents({ filter: state.filter, sort: state.sort, page: state.page, perPage: state.perPage });
    } finally {
      listArea.setAttribute('aria-busy', 'false');
    }
    if (!alive()) return;
    const items = /** @type {AdminEvent[]} */ (data.items || []);
    const table = h('table', { id: 'events-table', 'data-testid': 'events-table', class: 'stack' },
      h('caption', { class: 'visually-hidden' }, 'Events'),
      headRow(['Title', 'Starts', 'Ends', 'Status', ['Codes', 'num'], ['Redeemed', 'num'], ['Revoked', 'num']]),
      h('tbody', null, items.length === 0
        ? emptyRow(7, 'No events match this filter.')
        : items.map((ev) => h('tr', { 'data-event-id': ev.id },
          h('th', { scope: 'row', class: 'title-cell' }, h('a', { href: `#/events/${encodeURIComponent(ev.id)}`, class: 'event-link', 'data-focus-key': `ev-${ev.id}` }, ev.title)),
          h('td', { 'data-label': 'Starts' }, fmtTime(ev.startsAt)),
          h('td', { 'data-label': 'Ends' }, fmtTime(ev.endsAt)),
          h('td', { class: 'badges', 'data-col': 'status' }, eventBadges(ev)),
          h('td', { class: 'num', 'data-label': 'Codes' }, fmtNum(ev.codes?.total)),
          h('td', { class: 'num', 'data-label': 'Redeemed' }, fmtNum((ev.codes?.redeemed || 0) + (ev.codes?.active || 0))),
          h('td', { class: 'num', 'data-label': 'Revoked' }, fmtNum(ev.codes?.revoked))))));
    replaceKeepingFocus(listArea,
      tableWrap('Events table', table),
      pager('events', data, (p) => { state.page = p; load().catch(showError); }));
  }

  filterSel.addEventListener('change', () => { state.filter = filterSel.value; state.page = 1; load().catch(showError); });
  sortSel.addEventListener('change', () => { state.sort = sortSel.value; state.page = 1; load().catch(showError); });
  if (params.get('new') === '1') toggleForm(true);
  await load();
}
