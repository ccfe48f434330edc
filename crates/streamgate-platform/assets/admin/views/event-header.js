// @ts-check
// StreamGate admin console: the head of an event's page: title and badges, the
// lifecycle actions (activate, archive, edit, delete), the event's fields, and the edit
// form. Events that streamgate.toml declares are read-only here.

import { ApiError, del, get, post, put } from '../api.js';
import { $, h, maybe$, replaceKeepingFocus, row } from '../dom.js';
import { fmtNum, fmtTime } from '../format.js';
import { confirmDialog, flash, showError } from '../messages.js';
import { READ_ONLY_TEXT, eventBadges } from '../model.js';
import { viewHeading } from '../router.js';
import { eventFormFields, readEventForm } from './event-form.js';

/** @typedef {import('./event-detail.js').EventPage} EventPage */

/**
 * Fills `header` with the event's head; `render` draws it again from `page.ev`,
 * `reload` fetches the event first.
 * @param {HTMLElement} header
 * @param {EventPage} page
 * @returns {{ render: () => void, reload: () => Promise<void> }}
 */
export function eventHeader(header, page) {
  function renderHeader() {
    $('#event-detail', HTMLElement, page.view).dataset.readOnly = String(!!page.ev.readOnly);
    const actions = [];
    if (!page.ev.readOnly) {
      actions.push(page.ev.isActive
        ? h('button', { type: 'button', class: 'btn', id: 'act-deactivate', 'data-testid': 'act-deactivate', onclick: () => lifecycle('deactivate', 'Deactivate', 'Viewers will be stopped and no code of this event will work until it is activated again.') }, 'Deactivate')
        : h('button', { type: 'button', class: 'btn', id: 'act-activate', 'data-testid': 'act-activate', onclick: () => lifecycle('activate') }, 'Activate'));
      actions.push(page.ev.isArchived
        ? h('button', { type: 'button', class: 'btn', id: 'act-unarchive', 'data-testid': 'act-unarchive', onclick: () => lifecycle('unarchive') }, 'Unarchive')
        : h('button', { type: 'button', class: 'btn', id: 'act-archive', 'data-testid': 'act-archive', onclick: () => lifecycle('archive', 'Archive', 'The event will be hidden from the current list.') }, 'Archive'));
      actions.push(h('button', { type: 'button', class: 'btn', id: 'act-edit', 'data-testid': 'act-edit', 'aria-expanded': 'false', 'aria-controls': 'edit-event-form', onclick: toggleEdit }, 'Edit'));
      actions.push(h('button', { type: 'button', class: 'btn btn-danger', id: 'act-delete', 'data-testid': 'act-delete', onclick: deleteEvent }, 'Delete'));
    }
    const c = page.ev.codes || {};
    replaceKeepingFocus(header,
      viewHeading(page.ev.title, h('div', { class: 'badges', id: 'event-badges' }, eventBadges(page.ev))),
      page.ev.readOnly
        ? h('p', { class: 'readonly-badge', id: 'readonly-badge', 'data-testid': 'readonly-badge' },
          READ_ONLY_TEXT)
        : h('div', { class: 'actions', id: 'event-actions', 'data-testid': 'event-actions', role: 'group', 'aria-label': 'Event actions' }, actions),
      h('div', { class: 'edit-area', id: 'edit-area' }),
      h('dl', { class: 'details', id: 'event-fields' },
        row('ID', h('span', { class: 'mono', id: 'event-id' }, page.ev.id)),
        row('Description', page.ev.description || h('span', { class: 'muted' }, '—')),
        row('Starts', fmtTime(page.ev.startsAt)),
        row('Ends', fmtTime(page.ev.endsAt)),
        row('Access window', page.ev.accessWindowHours === 0 ? 'Live only (codes expire when the event ends)' : `${page.ev.accessWindowHours} h after the event ends`),
        row('State', `${page.ev.isActive ? 'Active' : 'Inactive'}${page.ev.isArchived ? ', archived' : ''}`),
        row('Stream URL', page.ev.streamUrl ? h('span', { class: 'mono break' }, page.ev.streamUrl) : h('span', { class: 'muted' }, 'Default (stream root)')),
        row('Playlist', h('span', { class: 'mono', id: 'event-playlist' }, page.ev.playlist)),
        row('Poster URL', page.ev.posterUrl ? h('span', { class: 'mono break' }, page.ev.posterUrl) : h('span', { class: 'muted' }, '—')),
        row('Managed by', page.ev.managedBy === 'config' ? 'streamgate.toml' : 'Admin API / console'),
        row('Codes', h('span', { id: 'event-code-counts' },
          `${fmtNum(c.total)} total · ${fmtNum(c.unused)} unused · ${fmtNum(c.redeemed)} redeemed · ${fmtNum(c.active)} active · ${fmtNum(c.expired)} expired · ${fmtNum(c.revoked)} revoked`)),
        row('Created', fmtTime(page.ev.createdAt)),
        row('Updated', fmtTime(page.ev.updatedAt))));
  }

  async function reloadEvent() {
    const fresh = await get(page.base);
    if (!page.alive()) return;
    page.ev = fresh;
    renderHeader();
  }

  /**
   * Activates, deactivates, archives or unarchives the event; asks first when `warning`
   * says what it does to viewers.
   * @param {'activate' | 'deactivate' | 'archive' | 'unarchive'} action
   * @param {string} [label]
   * @param {string} [warning]
   */
  async function lifecycle(action, label, warning) {
    if (warning) {
      const ok = await confirmDialog({ title: `${label} “${page.ev.title}”?`, message: warning, confirmLabel: label });
      if (!ok) return;
    }
    try {
      page.ev = await post(`${page.base}/${action}`, {});
      flash(`Event ${action}d.`, 'success');
      if (page.alive()) renderHeader();
    } catch (ex) { showError(ex); }
  }

  function toggleEdit() {
    const area = $('#edit-area');
    const btn = $('#act-edit');
    if (area.firstChild) {
      area.replaceChildren();
      btn.setAttribute('aria-expanded', 'false');
      btn.focus();
      return;
    }
    btn.setAttribute('aria-expanded', 'true');
    const err = h('p', { class: 'form-error', id: 'edit-event-error', role: 'alert', hidden: true });
    const form = h('form', { id: 'edit-event-form', 'data-testid': 'edit-event-form', class: 'card form-card', novalidate: true, 'aria-labelledby': 'edit-event-h' },
      h('h2', { id: 'edit-event-h' }, 'Edit event'),
      eventFormFields('edit', page.ev),
      err,
      h('div', { class: 'form-actions' },
        h('button', { type: 'submit', class: 'btn btn-primary', id: 'edit-event-submit' }, 'Save changes'),
        h('button', { type: 'button', class: 'btn', onclick: toggleEdit }, 'Cancel')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      err.hidden = true;
      let body;
      try { body = readEventForm('edit', page.ev); } catch (ex) { err.textContent = ex instanceof Error ? ex.message : String(ex); err.hidden = false; return; }
      if (Object.keys(body).length === 0) { err.textContent = 'Nothing changed.'; err.hidden = false; return; }
      try {
        page.ev = await put(page.base, body);
        flash('Event saved.', 'success');
        if (page.ev.id !== page.id) { location.hash = `#/events/${encodeURIComponent(page.ev.id)}`; return; }
        if (page.alive()) { renderHeader(); maybe$('#act-edit')?.focus(); }
      } catch (ex) { showError(ex, err); }
    });
    area.append(form);
    $('#edit-title').focus();
  }

  async function deleteEvent() {
    const n = page.ev.codes?.total || 0;
    const ok = await confirmDialog({
      title: `Delete “${page.ev.title}”?`,
      message: `This deletes the event and its ${n} access code${n === 1 ? '' : 's'}. It cannot be undone.`,
      confirmLabel: 'Delete event',
    });
    if (!ok) return;
    let res;
    try {
      res = await del(`${page.base}?force=false`);
    } catch (ex) {
      if (!(ex instanceof ApiError) || ex.status !== 409 || !/redeem|force/i.test(ex.message)) { showError(ex); return; }
      const force = await confirmDialog({
        title: 'Some codes have been used',
        message: 'Viewers have already redeemed codes of this event. Delete it anyway, with all its codes and sessions?',
        confirmLabel: 'Delete anyway',
      });
      if (!force) return;
      try { res = await del(`${page.base}?force=true`); } catch (ex2) { showError(ex2); return; }
    }
    flash(`Event deleted${res && typeof res.codes === 'number' ? ` with ${res.codes} code${res.codes === 1 ? '' : 's'}` : ''}.`, 'success', true);
    location.hash = '#/events';
  }

  return { render: renderHeader, reload: reloadEvent };
}
