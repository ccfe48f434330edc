// @ts-check
// StreamGate admin console: how times, durations and numbers are shown, and the
// conversions between the API's RFC 3339 times and the local times of
// <input type="datetime-local">.

import { h } from '../shared/dom.js';
import { dateTimeFmt } from '../shared/format.js';

const relFmt = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/**
 * A <time> in `fmt` (date and time unless told), a dash when there is none, the text
 * itself when it is not a time.
 * @param {string | null | undefined} iso
 * @param {Intl.DateTimeFormat} [fmt]
 * @returns {HTMLElement | string}
 */
export function fmtTime(iso, fmt = dateTimeFmt) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return h('time', { datetime: iso, title: iso }, fmt.format(d));
}

/**
 * "in 3 hours", "2 minutes ago"; "" when `iso` is not a time.
 * @param {string} iso
 */
export function relTime(iso) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const secs = Math.round((t - Date.now()) / 1000);
  const abs = Math.abs(secs);
  if (abs < 60) return relFmt.format(secs, 'second');
  if (abs < 3600) return relFmt.format(Math.round(secs / 60), 'minute');
  if (abs < 86400) return relFmt.format(Math.round(secs / 3600), 'hour');
  return relFmt.format(Math.round(secs / 86400), 'day');
}

/**
 * "12 s ago", "3 min ago", … from a number of seconds; a dash when unknown.
 * @param {number | null | undefined} seconds
 */
export function fmtAgo(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/**
 * A number in the locale's style; anything else as it is, or a dash.
 * @param {unknown} n
 * @returns {string}
 */
export function fmtNum(n) {
  return typeof n === 'number' ? n.toLocaleString() : String(n ?? '—');
}

/**
 * "2026-11-26T10:00" (local, from <input type=datetime-local>) -> "2026-11-26T09:00:00Z".
 * @param {string} value
 * @returns {string | null}
 */
export function localInputToRfc3339(value) {
  if (!value) return null;
  const d = new Date(value); // parsed as local time
  if (Number.isNaN(d.getTime())) return null;
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * RFC 3339 -> the local "YYYY-MM-DDTHH:MM" a datetime-local input wants.
 * @param {string} iso
 */
export function rfc3339ToLocalInput(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
