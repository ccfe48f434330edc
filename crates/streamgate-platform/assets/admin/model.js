// @ts-check
// StreamGate admin console: what the views know about events and codes (the API's
// shapes as the console reads them, the code statuses, an event's phase) and how each
// is shown as a badge.

import { badge } from './dom.js';

/**
 * An event as the admin API returns it (only the fields the console reads).
 * @typedef {object} AdminEvent
 * @property {string} id
 * @property {string} title
 * @property {string} [description]
 * @property {string} startsAt
 * @property {string} endsAt
 * @property {number} accessWindowHours
 * @property {string | null} [posterUrl]
 * @property {string | null} [streamUrl]
 * @property {string} playlist
 * @property {boolean} isActive
 * @property {boolean} isArchived
 * @property {boolean} [readOnly]
 * @property {string} [managedBy]
 * @property {Record<string, number>} [codes] counts by status, and `total`
 * @property {string} [createdAt]
 * @property {string} [updatedAt]
 */

/**
 * An access code as the admin API returns it.
 * @typedef {object} AccessCode
 * @property {string} id
 * @property {string} code
 * @property {string} status
 * @property {string | null} [label]
 * @property {string} [eventId]
 * @property {string} [eventTitle]
 * @property {string | null} [redeemedAt]
 * @property {string | null} [redeemedIp]
 * @property {string} [expiresAt]
 */

/** Every status a code can have, in the order the filters list them. */
export const CODE_STATUSES = ['unused', 'redeemed', 'active', 'expired', 'revoked'];

/** The status filter's options: all, then each status. */
export const STATUS_OPTIONS = /** @type {[string, string][]} */ (
  [['', 'All statuses'], ...CODE_STATUSES.map((s) => [s, s[0].toUpperCase() + s.slice(1)])]);

/** Said of an event (and its codes) that streamgate.toml declares. */
export const READ_ONLY_TEXT = 'Managed by streamgate.toml — read-only';

/**
 * Where the event's schedule is now.
 * @param {AdminEvent} ev
 * @returns {'upcoming' | 'live' | 'past'}
 */
export function eventPhase(ev) {
  const now = Date.now();
  if (now < Date.parse(ev.startsAt)) return 'upcoming';
  if (now >= Date.parse(ev.endsAt)) return 'past';
  return 'live';
}

/**
 * The badges of an event: archived or inactive, its phase, and "Config".
 * @param {AdminEvent} ev
 */
export function eventBadges(ev) {
  const phase = eventPhase(ev);
  const out = [];
  if (ev.isArchived) out.push(badge('Archived', 'muted'));
  else if (!ev.isActive) out.push(badge('Inactive', 'warn'));
  // "Live" and "Recording" are what the player shows about the stream itself (a live
  // playlist, or one with an end); the schedule's phase is "On now" so the two never disagree.
  if (phase === 'live') out.push(badge(ev.isActive && !ev.isArchived ? 'On now' : 'Scheduled now', ev.isActive && !ev.isArchived ? 'live' : 'muted'));
  else if (phase === 'upcoming') out.push(badge('Upcoming', 'info'));
  else out.push(badge('Ended', 'muted'));
  if (ev.readOnly) out.push(badge('Config', 'config', { title: READ_ONLY_TEXT }));
  return out;
}

/** @type {Record<string, string>} */
const STATUS_KINDS = { unused: 'info', redeemed: 'ok', active: 'live', expired: 'muted', revoked: 'danger' };

/**
 * A code's status as a badge.
 * @param {string} status
 */
export function statusBadge(status) {
  return badge(status, `${STATUS_KINDS[status] || 'muted'} badge-cap`, { 'data-status': status });
}

/**
 * An audit entry's outcome as a badge: ok, failed, or neither.
 * @param {unknown} outcome
 */
export function outcomeBadge(outcome) {
  const o = String(outcome ?? '');
  const kind = /^(ok|success|succeeded|allowed|applied)$/i.test(o) ? 'ok'
    : /(fail|denied|error|reject|refused|invalid)/i.test(o) ? 'danger' : 'muted';
  return badge(o || '—', kind);
}
