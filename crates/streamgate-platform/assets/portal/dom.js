// @ts-check
// StreamGate viewer portal: the page's elements, found once (index.html has them all;
// the portal builds little DOM of its own), and the small DOM helpers the views share.

import { $ } from '../shared/dom.js';

/** Every element of the page a view changes or listens to. */
export const ui = {
  body: document.body,
  main: $('#main'),
  leave: $('#leave', HTMLButtonElement),
  banner: $('#banner'),
  bannerText: $('#banner-text'),
  bannerClose: $('#banner-close', HTMLButtonElement),
  entry: $('#entry'),
  form: $('#code-form', HTMLFormElement),
  input: $('#code-input', HTMLInputElement),
  submit: $('#code-submit', HTMLButtonElement),
  submitLabel: $('#code-submit .btn-label'),
  message: $('#message'),
  pre: $('#pre-event'),
  prePoster: $('#pre-poster', HTMLImageElement),
  prePosterWrap: $('#pre-poster-wrap'),
  preEyebrow: $('#pre-eyebrow'),
  preTitle: $('#pre-title'),
  preDescription: $('#pre-description'),
  preWhen: $('#pre-when'),
  preNote: $('#pre-note'),
  countdown: $('#countdown'),
  cdDays: $('#cd-days'),
  cdHours: $('#cd-hours'),
  cdMinutes: $('#cd-minutes'),
  cdSeconds: $('#cd-seconds'),
  player: $('#player'),
  stage: $('#stage'),
  video: $('#video', HTMLVideoElement),
  spinner: $('#spinner'),
  reconnect: $('#reconnect'),
  reconnectText: $('#reconnect-text'),
  errorPanel: $('#error-panel'),
  errorText: $('#error-text'),
  retry: $('#retry', HTMLButtonElement),
  unmuteHint: $('#unmute-hint', HTMLButtonElement),
  controls: $('#controls'),
  seekRow: $('#seek-row'),
  seek: $('#seek', HTMLInputElement),
  play: $('#play', HTMLButtonElement),
  mute: $('#mute', HTMLButtonElement),
  volume: $('#volume', HTMLInputElement),
  time: $('#time'),
  quality: $('#quality', HTMLButtonElement),
  qualityLabel: $('#quality-label'),
  qualityMenu: $('#quality-menu', HTMLUListElement),
  pip: $('#pip', HTMLButtonElement),
  fullscreen: $('#fullscreen', HTMLButtonElement),
  badge: $('#badge'),
  playerTitle: $('#player-title'),
  playerDescription: $('#player-description'),
  overlay: $('#overlay'),
  overlayIcon: $('#overlay-icon'),
  overlayTitle: $('#overlay-title'),
  overlayText: $('#overlay-text'),
  overlayAction: $('#overlay-action', HTMLButtonElement),
  announcer: $('#announcer'),
};

/**
 * Shows one of the three screens (code entry, pre-event, player) and hides the others.
 * @param {HTMLElement} section
 */
export function show(section) {
  for (const s of [ui.entry, ui.pre, ui.player]) s.hidden = s !== section;
  ui.leave.hidden = section === ui.entry;
}

/**
 * Says `text` to screen readers (the player's state changes).
 * @param {string} text
 */
export function announce(text) {
  ui.announcer.textContent = '';
  // A new text node each time, so the same words are read again.
  window.setTimeout(() => { ui.announcer.textContent = text; }, 30);
}

/** localStorage: the volume and mute, across visits. */
export const STORE_VOLUME = 'streamgate.volume';
export const STORE_MUTED = 'streamgate.muted';
/** sessionStorage: the code, which survives a reload of this tab only. */
export const STORE_CODE = 'streamgate.code';

/**
 * `key` from `store`, or null (also when storage is disabled).
 * @param {Storage} store
 * @param {string} key
 */
export function storageGet(store, key) {
  try { return store.getItem(key); } catch { return null; }
}

/**
 * Sets `key` in `store`; null removes it. Private mode: nothing is remembered.
 * @param {Storage} store
 * @param {string} key
 * @param {string | null} value
 */
export function storageSet(store, key, value) {
  try {
    if (value === null) store.removeItem(key);
    else store.setItem(key, value);
  } catch { /* private mode or storage disabled: nothing to remember */ }
}
