// @ts-check
// StreamGate admin console: an event's viewer sessions: the live ones (heartbeating
// now) and the recently seen ones (a browser that stopped), with "Force release", which
// frees a code for another device.

import { get, post, API } from '../api.js';
import { badge, emptyRow, h, replaceKeepingFocus, tableWrap } from '../dom.js';
import { fmtTime, relTime } from '../format.js';
import { confirmDialog, flash, showError } from '../messages.js';
import { dateTimeFmt } from '../../shared/format.js';

/** @typedef {import('./event-detail.js').EventPage} EventPage */

/**
 * A viewer's session as the admin API lists it.
 * @typedef {object} ViewerSession
 * @property {string} id
 * @property {string} code
 * @property {string | null} [label]
 * @property {string | null} [clientIp]
 * @property {string | null} [userAgent]
 * @property {string} startedAt
 * @property {string} lastHeartbeat
 * @property {boolean} stale no heartbeat lately: the browser went away
 * @property {string | null} [tokenSharedAt]
 * @property {string | null} [sharedAddresses]
 */

/**
 * Fills `sessionsSection` with the event's sessions; returns `load`, which fetches them
 * again.
 * @param {HTMLElement} sessionsSection
 * @param {EventPage} page
 * @returns {() => Promise<void>}
 */
export function sessionsPanel(sessionsSection, page) {
  const sessionsArea = h('div', { id: 'sessions-list', 'aria-busy': 'false' });
  sessionsSection.append(
    h('div', { class: 'section-head' },
      h('h2', { id: 'sessions-h', tabindex: '-1' }, 'Live sessions'),
      h('button', { type: 'button', class: 'btn', id: 'refresh-sessions', 'data-testid': 'refresh-sessions', onclick: () => loadSessions().catch(showError) }, 'Refresh')),
    h('p', { class: 'muted small' }, 'One viewer device per code. Force release ends a session so the code can be used on another device.'),
    sessionsArea);

  async function loadSessions() {
    sessionsArea.setAttribute('aria-busy', 'true');
    let data;
    try {
      data = await get(`${page.base}/sessions`);
    } finally {
      sessionsArea.setAttribute('aria-busy', 'false');
    }
    if (!page.alive()) return;
    const all = /** @type {ViewerSession[]} */ (data.items || []);
    // Live sessions are the ones heartbeating now; a closed browser's session goes
    // stale and moves to "Recently seen", kept there for the organiser.
    const items = all.filter((s) => !s.stale);
    const recent = all.filter((s) => s.stale);
    const row = (/** @type {ViewerSession} */ s) => h('tr', { 'data-session-id': s.id, 'data-code': s.code, class: 'session-row' },
      h('th', { scope: 'row', class: 'mono code-cell' }, s.code),
      h('td', { 'data-label': 'Label' }, s.label || h('span', { class: 'muted' }, '—')),
      h('td', { class: 'mono ip', 'data-label': 'Client IP' }, s.clientIp || '—'),
      h('td', { class: 'ua', title: s.userAgent || '', 'data-label': 'Device' }, s.userAgent || '—'),
      h('td', { 'data-label': 'Started' }, fmtTime(s.startedAt)),
      h('td', { 'data-label': 'Heartbeat' }, fmtTime(s.lastHeartbeat), h('span', { class: 'muted small' }, ` ${relTime(s.lastHeartbeat)}`)),
      h('td', { 'data-col': 'status' }, s.stale ? badge('Stale', 'warn') : badge('Live', 'live'),
        s.tokenSharedAt ? h('span', { class: 'token-shared', title: `Seen from ${s.sharedAddresses || 'two addresses'} at once since ${fmtTime(s.tokenSharedAt)}` }, ' ', badge('Token shared', 'warn')) : null),
      h('td', { class: 'row-actions' },
        h('button', { type: 'button', class: 'btn btn-small btn-danger-outline release-session', 'data-testid': 'release-session', 'data-focus-key': `rel-${s.id}`, 'aria-label': `Force release session of code ${s.code}`, onclick: () => releaseSession(s) }, 'Force release')));
    const head = () => h('thead', null, h('tr', null,
      ['Code', 'Label', 'Client IP', 'Device', 'Started', 'Last heartbeat', 'State', 'Actions'].map((t) => h('th', { scope: 'col' }, t))));
    const table = h('table', { id: 'sessions-table', 'data-testid': 'sessions-table', class: 'stack sessions' },
      h('caption', { class: 'visually-hidden' }, 'Live viewer sessions'),
      head(),
      h('tbody', null, items.length === 0 ? emptyRow(8, 'Nobody is watching right now.') : items.map(row)));
    const recentPart = recent.length === 0 ? null : h('details', { class: 'recent-sessions', id: 'recent-sessions', 'data-testid': 'recent-sessions' },
      h('summary', null, `Recently seen (${recent.length}): sessions whose browser stopped sending heartbeats`),
      tableWrap('Recently seen sessions table', h('table', { id: 'recent-sessions-table', class: 'stack sessions' },
        h('caption', { class: 'visually-hidden' }, 'Recently seen viewer sessions'),
        head(),
        h('tbody', null, recent.map(row)))));
    replaceKeepingFocus(sessionsArea, tableWrap('Live sessions table', table), recentPart,
      h('p', { class: 'muted small', id: 'sessions-count' }, `${items.length} session${items.length === 1 ? '' : 's'} live · updated ${dateTimeFmt.format(new Date())}`));
  }

  /** @param {ViewerSession} s */
  async function releaseSession(s) {
    const ok = await confirmDialog({ title: `Force release code ${s.code}?`, message: 'The viewer on this device will be stopped. The code stays valid and can be used again.', confirmLabel: 'Force release' });
    if (!ok) return;
    try {
      const res = await post(`${API}/sessions/${encodeURIComponent(s.id)}/release`, {});
      flash(res && res.released === false ? 'That session had already ended.' : `Session of code ${s.code} released.`, 'success');
    } catch (ex) { showError(ex); }
    await loadSessions().catch(showError);
  }

  return loadSessions;
}
