// @ts-check
// StreamGate admin console: the dashboard (#/dashboard): events and codes by state,
// viewers now, upcoming events and the HLS edges' sync health.

import { viewersNowCard } from '../analytics.js';
import { API, get } from '../api.js';
import { badge, h, headRow, tableWrap } from '../dom.js';
import { fmtAgo, fmtNum, fmtTime, relTime } from '../format.js';
import { CODE_STATUSES } from '../model.js';
import { route, startView, viewHeading } from '../router.js';

/**
 * An HLS edge's last sync with this platform.
 * @typedef {object} Edge
 * @property {string} id
 * @property {string | null} [address]
 * @property {string | null} [lastSyncAt]
 * @property {number | null} [lastSyncAgoSeconds]
 * @property {number} [cursor]
 * @property {number} [lag]
 * @property {boolean} healthy
 */

/** Renders the dashboard. */
export async function renderDashboard() {
  const { view, alive } = startView('Dashboard', 'dashboard');
  view.append(viewHeading('Dashboard',
    h('button', { type: 'button', class: 'btn', id: 'dashboard-refresh', onclick: () => route() }, 'Refresh')));
  const body = h('div', { 'data-testid': 'dashboard', id: 'dashboard' }, h('p', { class: 'muted' }, 'Loading…'));
  view.append(body);
  const d = await get(`${API}/dashboard`);
  if (!alive()) return;

  /**
   * One figure with its label.
   * @param {string} id
   * @param {string} label
   * @param {unknown} value
   * @param {string | null} [kind]
   */
  const stat = (id, label, value, kind) => h('div', { class: `stat ${kind ? `stat-${kind}` : ''}`, id, 'data-testid': id },
    h('span', { class: 'stat-value' }, fmtNum(value)), h('span', { class: 'stat-label' }, label));

  const ev = d.events || {};
  const codes = d.codes || {};
  const upcoming = /** @type {{ id: string, title: string, startsAt: string }[]} */ (d.upcoming || []);
  const edges = /** @type {Edge[]} */ (d.edges || []);

  body.replaceChildren(
    h('div', { class: 'cards' },
      h('section', { class: 'card', 'aria-labelledby': 'dash-events-h' },
        h('h2', { id: 'dash-events-h' }, 'Events'),
        h('div', { class: 'stats' },
          stat('dash-events-total', 'Total', ev.total),
          stat('dash-events-active', 'Active', ev.active),
          stat('dash-events-live', 'On now', ev.live, 'live'),
          stat('dash-events-upcoming', 'Upcoming', ev.upcoming),
          stat('dash-events-archived', 'Archived', ev.archived))),
      h('section', { class: 'card', 'aria-labelledby': 'dash-codes-h' },
        h('h2', { id: 'dash-codes-h' }, 'Access codes'),
        h('div', { class: 'stats' },
          stat('dash-codes-total', 'Total', codes.total),
          CODE_STATUSES.map((s) => stat(`dash-codes-${s}`, s[0].toUpperCase() + s.slice(1), codes[s], s === 'revoked' ? 'danger' : null)))),
      h('section', { class: 'card card-narrow', 'aria-labelledby': 'dash-viewers-h' },
        h('h2', { id: 'dash-viewers-h' }, 'Viewers'),
        h('div', { class: 'stats' }, stat('dash-active-viewers', 'Watching now', d.activeViewers, 'live')))),

    h('section', { class: 'panel', 'aria-labelledby': 'dash-upcoming-h' },
      h('h2', { id: 'dash-upcoming-h' }, 'Upcoming events'),
      upcoming.length === 0
        ? h('p', { class: 'muted', id: 'dash-upcoming-empty' }, 'No upcoming events.')
        : h('ul', { class: 'plain-list', id: 'dash-upcoming' },
          upcoming.map((u) => h('li', null,
            h('a', { href: `#/events/${encodeURIComponent(u.id)}` }, u.title), ' — ', fmtTime(u.startsAt),
            h('span', { class: 'muted' }, ` (${relTime(u.startsAt)})`))))),

    h('section', { class: 'panel', 'aria-labelledby': 'dash-edges-h' },
      h('h2', { id: 'dash-edges-h' }, 'HLS edges'),
      edges.length === 0
        ? h('p', { class: 'muted', id: 'edges-empty' }, 'No HLS edge has synced with this platform yet.')
        : tableWrap('HLS edge health', h('table', { id: 'edges-table', 'data-testid': 'edges-table' },
          headRow(['Edge', 'Address', 'Last sync', ['Cursor', 'num'], ['Lag', 'num'], 'Health']),
          h('tbody', null, edges.map((e) => h('tr', { 'data-edge-id': e.id },
            h('td', { class: 'mono' }, e.id),
            h('td', { class: 'mono' }, e.address || '—'),
            h('td', null, fmtTime(e.lastSyncAt), h('span', { class: 'muted small' }, ` ${fmtAgo(e.lastSyncAgoSeconds)}`)),
            h('td', { class: 'num' }, fmtNum(e.cursor)),
            h('td', { class: 'num' }, fmtNum(e.lag)),
            h('td', null, e.healthy ? badge('Healthy', 'ok') : badge('Unhealthy', 'danger'))))))),
      d.revocationLogHead !== undefined && d.revocationLogHead !== null
        ? h('p', { class: 'muted small' }, `Revocation log head: ${fmtNum(d.revocationLogHead)}`) : null),
  );
  const nowCard = await viewersNowCard(get, alive);
  if (alive()) body.insertBefore(nowCard, body.children[1] || null);
}
