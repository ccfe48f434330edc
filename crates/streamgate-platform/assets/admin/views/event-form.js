// @ts-check
// StreamGate admin console: the event form's fields, shared by "New event" (events
// list) and "Edit" (event page), and reading them back into the API's body: all fields
// for a new event, only the changed ones for an edit.

import { field, h } from '../dom.js';
import { localInputToRfc3339, rfc3339ToLocalInput } from '../format.js';

/** @typedef {import('../model.js').AdminEvent} AdminEvent */

/**
 * A slug from a title, as the event id field proposes it (`Keynote 2026!` -> `keynote-2026`).
 * @param {string} title
 */
function slugOf(title) {
  return title.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
}

/**
 * The form's fields, ids prefixed with `prefix`; filled from `ev` for an edit.
 * @param {string} prefix
 * @param {AdminEvent} [ev]
 */
export function eventFormFields(prefix, ev) {
  const starts = ev ? rfc3339ToLocalInput(ev.startsAt) : '';
  const ends = ev ? rfc3339ToLocalInput(ev.endsAt) : '';
  const title = h('input', { type: 'text', id: `${prefix}-title`, name: 'title', required: true, maxlength: '200', value: ev ? ev.title : '' });
  const playlistInput = h('input', { type: 'text', id: `${prefix}-playlist`, name: 'playlist', maxlength: '200', autocomplete: 'off', spellcheck: 'false', placeholder: 'index.m3u8', value: ev && ev.playlist !== 'index.m3u8' ? ev.playlist : '' });
  // New events only: the id names the stream's folder, so it is chosen up front,
  // proposed from the title until edited by hand.
  let idField = null;
  if (!ev) {
    const input = h('input', { type: 'text', id: `${prefix}-id`, name: 'id', maxlength: '63', pattern: '[a-z0-9][a-z0-9-]{0,62}', autocomplete: 'off', spellcheck: 'false', placeholder: 'keynote-2026' });
    const where = h('span', { id: `${prefix}-id-where` }, 'Leave empty for a random id.');
    const showWhere = () => {
      const playlist = playlistInput.value.trim() || 'index.m3u8';
      where.textContent = input.value
        ? `Its video is expected in streams/${input.value}/${playlist} on the HLS server (or from the origin in proxy mode).`
        : 'Leave empty for a random id.';
    };
    playlistInput.addEventListener('input', showWhere);
    input.addEventListener('input', () => { input.dataset.edited = '1'; showWhere(); });
    title.addEventListener('input', () => {
      if (!input.dataset.edited) { input.value = slugOf(title.value); showWhere(); }
    });
    idField = field(`${prefix}-id`, 'Event id', input, where);
  } else if (!ev.readOnly) {
    // The id names the stream folder and is inside every playback token, so it can
    // change only until the first code is redeemed (the server has the last word).
    const c = ev.codes || {};
    const fixed = (c.redeemed || 0) + (c.active || 0) > 0;
    const input = h('input', { type: 'text', id: `${prefix}-id`, name: 'id', maxlength: '63', pattern: '[a-z0-9][a-z0-9-]{0,62}', autocomplete: 'off', spellcheck: 'false', value: ev.id, disabled: fixed });
    idField = field(`${prefix}-id`, 'Event id', input, fixed
      ? 'Fixed: codes of this event were redeemed, and their viewers\' tokens name it.'
      : `Its video folder: streams/${ev.id}/. Can change until a code is redeemed.`);
  }
  return [
    field(`${prefix}-title`, 'Title', title),
    idField,
    field(`${prefix}-description`, 'Description', h('textarea', { id: `${prefix}-description`, name: 'description', rows: '3', value: ev ? (ev.description || '') : '' })),
    h('div', { class: 'field-row' },
      field(`${prefix}-starts`, 'Starts at', h('input', { type: 'datetime-local', id: `${prefix}-starts`, name: 'startsAt', required: true, value: starts }), 'Your local time.'),
      field(`${prefix}-ends`, 'Ends at', h('input', { type: 'datetime-local', id: `${prefix}-ends`, name: 'endsAt', required: true, value: ends }), 'Your local time.'),
      field(`${prefix}-window`, 'Access window (hours)', h('input', { type: 'number', id: `${prefix}-window`, name: 'accessWindowHours', min: '0', max: '168', step: '1', inputmode: 'numeric', value: ev ? String(ev.accessWindowHours) : '48' }), 'Codes keep working this long after the event ends (0 = live only, up to 168). Fixed when a code is made.')),
    field(`${prefix}-poster`, 'Poster URL', h('input', { type: 'url', id: `${prefix}-poster`, name: 'posterUrl', placeholder: 'https://…', value: ev ? (ev.posterUrl || '') : '' })),
    field(`${prefix}-playlist`, 'Playlist', playlistInput,
      'The .m3u8 file inside the event\'s folder that players open, e.g. master.m3u8. Empty: index.m3u8 (then master.m3u8 and stream.m3u8 are tried too).'),
    field(`${prefix}-stream`, 'Stream URL', h('input', { type: 'url', id: `${prefix}-stream`, name: 'streamUrl', placeholder: 'https://… (optional, for proxy mode)', value: ev ? (ev.streamUrl || '') : '' })),
    h('div', { class: 'field field-check' },
      h('input', { type: 'checkbox', id: `${prefix}-active`, name: 'isActive', checked: ev ? ev.isActive : true }),
      h('label', { for: `${prefix}-active` }, 'Active (viewers can redeem codes)')),
  ];
}

/**
 * The form's field `name` (an input or textarea), or null when the form has none.
 * @param {string} prefix
 * @param {string} name
 * @returns {HTMLInputElement | HTMLTextAreaElement | null}
 */
function input(prefix, name) {
  const node = document.getElementById(`${prefix}-${name}`);
  return node instanceof HTMLInputElement || node instanceof HTMLTextAreaElement ? node : null;
}

/**
 * Reads an event form into the API's body; throws an Error saying what to fix. For
 * edits (`orig` given) only changed fields are sent.
 * @param {string} prefix
 * @param {AdminEvent} [orig]
 * @returns {Record<string, string | number | boolean | null>}
 */
export function readEventForm(prefix, orig) {
  const v = (/** @type {string} */ n) => (input(prefix, n)?.value ?? '').trim();
  const startsRaw = v('starts');
  const endsRaw = v('ends');
  if (!v('title')) throw new Error('Title is required.');
  if (!startsRaw || !endsRaw) throw new Error('Start and end times are required.');
  const startsAt = localInputToRfc3339(startsRaw);
  const endsAt = localInputToRfc3339(endsRaw);
  if (!startsAt || !endsAt) throw new Error('Enter valid start and end times.');
  if (Date.parse(startsAt) >= Date.parse(endsAt)) throw new Error('The event must start before it ends.');
  const hoursRaw = v('window');
  const hours = hoursRaw === '' ? 48 : Number(hoursRaw);
  if (!Number.isInteger(hours) || hours < 0 || hours > 168) throw new Error('Access window must be a whole number of hours from 0 to 168.');
  /** @type {Record<string, string | number | boolean | null>} */
  const body = {
    title: v('title'),
    description: v('description'),
    startsAt,
    endsAt,
    accessWindowHours: hours,
    posterUrl: v('poster') || null,
    streamUrl: v('stream') || null,
    playlist: v('playlist') || 'index.m3u8',
    isActive: /** @type {HTMLInputElement} */ (input(prefix, 'active')).checked,
  };
  if (!/^([A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*\.m3u8$/.test(String(body.playlist))) {
    throw new Error('The playlist must be a .m3u8 file inside the event\'s folder, e.g. master.m3u8 or hls/main.m3u8.');
  }
  if (!orig) {
    const id = input(prefix, 'id')?.value.trim();
    if (id) {
      if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(id)) throw new Error('The event id may hold lowercase letters, digits and "-" (up to 63, starting with a letter or digit).');
      body.id = id;
    }
    if (!body.description) delete body.description;
    if (!body.posterUrl) delete body.posterUrl;
    if (!body.streamUrl) delete body.streamUrl;
    if (body.playlist === 'index.m3u8') delete body.playlist;
    return body;
  }
  /** @type {Record<string, string | number | boolean | null>} */
  const changed = {};
  /** @type {Record<string, string | number | boolean | null>} */
  const origInput = {
    title: orig.title,
    description: orig.description || '',
    startsAt: localInputToRfc3339(rfc3339ToLocalInput(orig.startsAt)),
    endsAt: localInputToRfc3339(rfc3339ToLocalInput(orig.endsAt)),
    accessWindowHours: orig.accessWindowHours,
    posterUrl: orig.posterUrl || null,
    streamUrl: orig.streamUrl || null,
    playlist: orig.playlist || 'index.m3u8',
    isActive: orig.isActive,
  };
  for (const k of Object.keys(body)) if (body[k] !== origInput[k]) changed[k] = body[k];
  const newId = input(prefix, 'id')?.value.trim();
  if (newId && newId !== orig.id) {
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(newId)) throw new Error('The event id may hold lowercase letters, digits and "-" (up to 63, starting with a letter or digit).');
    changed.id = newId;
  }
  return changed;
}
