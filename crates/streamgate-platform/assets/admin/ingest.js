// @ts-check
// StreamGate admin console: an event's live ingest (issue 19). When streamgate.toml
// gives the event an [events.ingest] table, StreamGate takes the stream from the
// organiser's encoder; this panel says how the encoder connects, shows what the ingest
// reports (connected, frame rate, dropped frames, bitrate, uptime), refreshed every few
// seconds while the page is open, and shows the publish URL only when asked (each
// reveal is in the audit log), with a button to copy it.

import { h, row } from './dom.js';

const REFRESH_MS = 5000;

/** @type {Record<string, [string, string]>} */
const BADGES = {
  publishing: ['badge-ok', 'Encoder connected'],
  waiting: ['badge-warn', 'Waiting for the encoder'],
  finished: ['badge', 'Recording closed'],
  failed: ['badge-danger', 'Ingest failed'],
};

/** @param {string | undefined} state */
function badge(state) {
  const [cls, text] = BADGES[state || ''] || ['badge', 'Unknown'];
  return h('span', { class: `badge ${cls}`, id: 'ingest-state', 'data-state': state || 'unknown', text });
}

/** @param {number | null | undefined} seconds */
function uptime(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return m ? `${m} min ${s} s` : `${s} s`;
}

/**
 * `v` with `digits` decimals and `unit`, or a dash.
 * @param {number | null | undefined} v
 * @param {string} unit
 * @param {number} [digits]
 */
const num = (v, unit, digits = 0) => (v === null || v === undefined ? '—' : `${v.toFixed(digits)}${unit}`);

/**
 * Fills `section` with the event's ingest, or removes it when the event has none.
 * `copy(text, button, what)` copies with the console's feedback.
 * @param {HTMLElement} section
 * @param {{ base: string, get: (path: string) => Promise<any>, post: (path: string, body?: unknown) => Promise<any>,
 *   alive: () => boolean, copy: (text: string, button: HTMLElement, what: string) => unknown }} deps
 */
export function ingestPanel(section, { base, get, post, alive, copy }) {
  const body = h('div', { id: 'ingest-body' }, h('p', { class: 'muted', text: 'Asking the ingest…' }));
  const urlBox = h('div', { id: 'ingest-url-box' });
  section.append(h('div', { class: 'section-head' }, h('h2', { id: 'ingest-h', tabindex: '-1', text: 'Live ingest' })), body, urlBox);
  let timer = 0;
  let revealed = false;

  async function refresh() {
    let data;
    try {
      data = await get(`${base}/ingest`);
    } catch (ex) {
      if (!alive()) return;
      body.replaceChildren(h('p', { class: 'form-error', role: 'alert', text: `Could not ask the platform: ${ex instanceof Error ? ex.message : String(ex)}` }));
      schedule();
      return;
    }
    if (!alive()) return;
    if (!data.configured) {
      section.hidden = true;
      return;
    }
    const health = data.health;
    body.replaceChildren(
      h('p', { class: 'stream-verdict' }, badge(health && health.state), ' ', h('span', { id: 'ingest-detail', text: data.detail })),
      h('dl', { class: 'details', id: 'ingest-fields' },
        row('Protocol', `${data.protocol.toUpperCase()} on port ${data.port}`, 'ingest-protocol'),
        row('Renditions', data.renditions.join(', '), 'ingest-renditions'),
        row('Recording', data.record ? 'every segment is kept' : 'live only (a short window)', 'ingest-record'),
        row('Connected for', uptime(health && health.uptimeSeconds), 'ingest-uptime'),
        row('Frame rate', num(health && health.fps, ' fps', 1), 'ingest-fps'),
        row('Dropped frames', health ? String(health.droppedFrames) : '—', 'ingest-dropped'),
        row('Input', num(health && health.inputKbps, ' kbit/s'), 'ingest-input'),
        row('Output (all renditions)', num(health && health.outputKbps, ' kbit/s'), 'ingest-output'),
        row('Refused publishers', health ? String(health.refusedPublishers) : '—', 'ingest-refused')));
    if (!revealed) renderHidden(data);
    schedule();
  }

  /** @param {{ canReveal?: boolean }} data */
  function renderHidden(data) {
    if (!data.canReveal) {
      urlBox.replaceChildren(h('p', { class: 'muted small', id: 'ingest-url-hint', text: 'The publish URL is derived from INGEST_SECRET, which is not set on this platform: run `streamgate ingest-url --event <id>` on the ingest host.' }));
      return;
    }
    const show = h('button', { type: 'button', class: 'btn', id: 'ingest-reveal', 'data-testid': 'ingest-reveal', onclick: reveal }, 'Show publish URL');
    urlBox.replaceChildren(h('p', { class: 'muted small' }, 'The publish URL contains the key: anyone who has it can broadcast to this event. ', show));
  }

  async function reveal() {
    let data;
    try {
      data = await post(`${base}/ingest/publish-url`);
    } catch (ex) {
      urlBox.append(h('p', { class: 'form-error', role: 'alert', text: ex instanceof Error ? ex.message : String(ex) }));
      return;
    }
    if (!alive()) return;
    revealed = true;
    const copyButton = h('button', { type: 'button', class: 'btn', id: 'ingest-copy', 'data-testid': 'ingest-copy' }, 'Copy');
    copyButton.addEventListener('click', () => copy(data.publishUrl, copyButton, 'the publish URL'));
    const hide = h('button', { type: 'button', class: 'btn', id: 'ingest-hide', onclick: () => { revealed = false; refresh(); } }, 'Hide');
    urlBox.replaceChildren(
      h('p', { class: 'muted small', text: 'Paste it into the encoder (OBS: Settings → Stream → Custom; for RTMP the part after the last / is the stream key).' }),
      h('p', {}, h('code', { class: 'mono break', id: 'ingest-url', text: data.publishUrl }), ' ', copyButton, ' ', hide));
  }

  function schedule() {
    clearTimeout(timer);
    if (!alive()) return;
    timer = setTimeout(() => {
      if (!alive()) return;
      if (document.hidden) { schedule(); return; }
      refresh();
    }, REFRESH_MS);
  }

  refresh();
}
