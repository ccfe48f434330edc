// @ts-check
// StreamGate admin console: where an event's video is expected, and whether the HLS
// server has it (issue 20). An event made in the console otherwise gives no hint that
// its encoder must publish into streams/<id>/; this panel says exactly where, and asks
// the HLS server again every few seconds while the page is open, so the organiser sees
// "Playlist found" the moment the encoder starts.

import { h, mono, row } from './dom.js';

const RECHECK_MS = 10000;

/** The verdict as a badge: found (ok), not found (warn), unknown (muted). */
/** @param {boolean | null | undefined} found */
function verdict(found) {
  if (found === true) return h('span', { class: 'badge badge-ok', id: 'stream-verdict', 'data-found': 'true', text: 'Playlist found' });
  if (found === false) return h('span', { class: 'badge badge-warn', id: 'stream-verdict', 'data-found': 'false', text: 'Playlist not found' });
  return h('span', { class: 'badge', id: 'stream-verdict', 'data-found': 'unknown', text: 'Not checked' });
}

/**
 * Fills `section` with the event's stream location and a live check; re-checks every
 * RECHECK_MS while `alive()` holds and the tab is visible.
 * @param {HTMLElement} section
 * @param {{ base: string, get: (path: string) => Promise<any>, alive: () => boolean }} deps
 */
export function streamPanel(section, { base, get, alive }) {
  const body = h('div', { id: 'stream-body' }, h('p', { class: 'muted', text: 'Asking the HLS server…' }));
  const status = h('p', { class: 'muted small', id: 'stream-checked', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', class: 'btn', id: 'stream-check', 'data-testid': 'stream-check', onclick: () => check(true) }, 'Check now');
  section.append(
    h('div', { class: 'section-head' }, h('h2', { id: 'stream-h', tabindex: '-1', text: 'Video' }), button),
    body, status);
  let timer = 0;
  let busy = false;

  /** @param {boolean} byHand */
  async function check(byHand) {
    if (busy) return;
    busy = true;
    button.disabled = true;
    let data;
    try {
      data = await get(`${base}/stream`);
    } catch (ex) {
      busy = false;
      button.disabled = false;
      if (!alive()) return;
      status.textContent = `Could not ask the platform: ${ex instanceof Error ? ex.message : String(ex)}`;
      schedule();
      return;
    }
    busy = false;
    button.disabled = false;
    if (!alive()) return;
    const where = [];
    if (data.localPath) where.push(row('File on the HLS server', mono(data.localPath), 'stream-local'));
    if (data.upstreamUrl) where.push(row('From the origin', mono(data.upstreamUrl), 'stream-upstream'));
    if (data.fallbacks.length) {
      where.push(row('Also tried', `${data.fallbacks.join(', ')} (in that folder, when ${data.playlist} is absent)`, 'stream-fallbacks'));
    }
    body.replaceChildren(
      h('p', { class: 'stream-verdict' }, verdict(data.found), ' ', h('span', { id: 'stream-detail', text: data.detail })),
      h('dl', { class: 'details', id: 'stream-fields' },
        row('Playlist', mono(data.playlist), 'stream-playlist'),
        ...where,
        row('Players fetch', mono(data.playlistUrl), 'stream-url')));
    const at = new Date(data.checkedAt).toLocaleTimeString();
    status.textContent = byHand ? `Checked again at ${at}.` : `Checked at ${at}; checked again every ${RECHECK_MS / 1000} s while this page is open.`;
    schedule();
  }

  function schedule() {
    clearTimeout(timer);
    if (!alive()) return;
    timer = setTimeout(() => {
      if (!alive()) return;
      if (document.hidden) { schedule(); return; }
      check(false);
    }, RECHECK_MS);
  }

  check(false);
}
