// StreamGate admin console: an event's live ingest (issue 19). When streamgate.toml
// gives the event an [events.ingest] table, StreamGate takes the stream from the
// organiser's encoder; this panel says how the encoder connects, shows what the ingest
// reports (connected, frame rate, dropped frames, bitrate, uptime), refreshed every few
// seconds while the page is open, and shows the publish URL only when asked (each
// reveal is in the audit log), with a button to copy it.

import { el, row } from './dom.js';

const REFRESH_MS = 5000;

const BADGES = {
  publishing: ['badge-ok', 'Encoder connected'],
  waiting: ['badge-warn', 'Waiting for the encoder'],
  finished: ['badge', 'Recording closed'],
  failed: ['badge-danger', 'Ingest failed'],
};

function badge(state) {
  const [cls, text] = BADGES[state] || ['badge', 'Unknown'];
  return el('span', { class: `badge ${cls}`, id: 'ingest-state', 'data-state': state || 'unknown', text });
}

function uptime(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return m ? `${m} min ${s} s` : `${s} s`;
}

const num = (v, unit, digits = 0) => (v === null || v === undefined ? '—' : `${v.toFixed(digits)}${unit}`);

/**
 * Fills `section` with the event's ingest, or removes it when the event has none.
 * `copy(text, button, what)` copies with the console's feedback.
 */
export function ingestPanel(section, { base, get, post, alive, copy }) {
  const body = el('div', { id: 'ingest-body' }, el('p', { class: 'muted', text: 'Asking the ingest…' }));
  const urlBox = el('div', { id: 'ingest-url-box' });
  section.append(el('div', { class: 'section-head' }, el('h2', { id: 'ingest-h', tabindex: '-1', text: 'Live ingest' })), body, urlBox);
  let timer = null;
  let revealed = false;

  async function refresh() {
    let data;
    try {
      data = await get(`${base}/ingest`);
    } catch (ex) {
      if (!alive()) return;
      body.replaceChildren(el('p', { class: 'form-error', role: 'alert', text: `Could not ask the platform: ${ex.message}` }));
      schedule();
      return;
    }
    if (!alive()) return;
    if (!data.configured) {
      section.hidden = true;
      return;
    }
    const h = data.health;
    body.replaceChildren(
      el('p', { class: 'stream-verdict' }, badge(h && h.state), ' ', el('span', { id: 'ingest-detail', text: data.detail })),
      el('dl', { class: 'details', id: 'ingest-fields' },
        row('Protocol', `${data.protocol.toUpperCase()} on port ${data.port}`, 'ingest-protocol'),
        row('Renditions', data.renditions.join(', '), 'ingest-renditions'),
        row('Recording', data.record ? 'every segment is kept' : 'live only (a short window)', 'ingest-record'),
        row('Connected for', uptime(h && h.uptimeSeconds), 'ingest-uptime'),
        row('Frame rate', num(h && h.fps, ' fps', 1), 'ingest-fps'),
        row('Dropped frames', h ? String(h.droppedFrames) : '—', 'ingest-dropped'),
        row('Input', num(h && h.inputKbps, ' kbit/s'), 'ingest-input'),
        row('Output (all renditions)', num(h && h.outputKbps, ' kbit/s'), 'ingest-output'),
        row('Refused publishers', h ? String(h.refusedPublishers) : '—', 'ingest-refused')));
    if (!revealed) renderHidden(data);
    schedule();
  }

  function renderHidden(data) {
    if (!data.canReveal) {
      urlBox.replaceChildren(el('p', { class: 'muted small', id: 'ingest-url-hint', text: 'The publish URL is derived from INGEST_SECRET, which is not set on this platform: run `streamgate ingest-url --event <id>` on the ingest host.' }));
      return;
    }
    const show = el('button', { type: 'button', class: 'btn', id: 'ingest-reveal', 'data-testid': 'ingest-reveal', onclick: reveal }, 'Show publish URL');
    urlBox.replaceChildren(el('p', { class: 'muted small' }, 'The publish URL contains the key: anyone who has it can broadcast to this event. ', show));
  }

  async function reveal() {
    let data;
    try {
      data = await post(`${base}/ingest/publish-url`);
    } catch (ex) {
      urlBox.append(el('p', { class: 'form-error', role: 'alert', text: ex.message }));
      return;
    }
    if (!alive()) return;
    revealed = true;
    const copyButton = el('button', { type: 'button', class: 'btn', id: 'ingest-copy', 'data-testid': 'ingest-copy' }, 'Copy');
    copyButton.addEventListener('click', () => copy(data.publishUrl, copyButton, 'the publish URL'));
    const hide = el('button', { type: 'button', class: 'btn', id: 'ingest-hide', onclick: () => { revealed = false; refresh(); } }, 'Hide');
    urlBox.replaceChildren(
      el('p', { class: 'muted small', text: 'Paste it into the encoder (OBS: Settings → Stream → Custom; for RTMP the part after the last / is the stream key).' }),
      el('p', {}, el('code', { class: 'mono break', id: 'ingest-url', text: data.publishUrl }), ' ', copyButton, ' ', hide));
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
