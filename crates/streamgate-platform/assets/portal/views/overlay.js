// @ts-check
// StreamGate viewer portal: the ends a viewer can meet (revoked, unavailable, ended,
// expired session, taken over), each a full-page overlay that stops the session, and
// the banner that warns before the access ends.

import { STORE_CODE, storageSet, ui } from '../dom.js';
import { endSession } from '../session.js';
import { app, setState } from '../state.js';
import { backToEntry } from './entry.js';

const UNAVAILABLE = 'This event is not currently available';

/** @typedef {'revoked' | 'unavailable' | 'ended' | 'expired-session' | 'taken-over'} OverlayKind */

/** @type {Record<OverlayKind, { title: string, text: string, action: string, keepCode: boolean }>} */
const OVERLAYS = {
  revoked: {
    title: 'Access revoked',
    text: 'This access code has been revoked, so playback has stopped. If you think this is a mistake, please contact the organiser.',
    action: 'Enter a different code',
    keepCode: false,
  },
  unavailable: {
    title: 'Event no longer available',
    text: 'The organiser has made this event unavailable, so playback has stopped. Please check back later.',
    action: 'Back to the start',
    keepCode: true,
  },
  ended: {
    title: 'Your access has ended',
    text: 'The viewing window for this code is over. Thank you for watching.',
    action: 'Enter a different code',
    keepCode: false,
  },
  'expired-session': {
    title: 'Session expired',
    text: 'Your session expired — enter your code again to keep watching.',
    action: 'Enter my code again',
    keepCode: true,
  },
  'taken-over': {
    title: 'Playing on another device',
    text: 'Playback started on another device with this code, so it stopped here. A code plays on one device at a time.',
    action: 'Enter my code again',
    keepCode: true,
  },
};

/**
 * Ends the session and shows why.
 * @param {OverlayKind} kind
 */
export function showOverlay(kind) {
  const o = OVERLAYS[kind];
  const code = app.session ? app.session.code : '';
  endSession({ release: false });
  app.overlayKeepCode = o.keepCode ? code : '';
  if (!o.keepCode) storageSet(sessionStorage, STORE_CODE, null);
  ui.overlay.dataset.kind = kind;
  ui.overlayIcon.dataset.kind = kind;
  ui.overlayTitle.textContent = o.title;
  ui.overlayText.textContent = o.text;
  ui.overlayAction.textContent = o.action;
  ui.overlay.hidden = false;
  ui.main.inert = true;
  setState('overlay');
  if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  ui.overlayAction.focus();
}

/**
 * Maps an answer that ends the session to its overlay; returns true when it did.
 * @param {{ status: number }} res
 * @param {{ error?: string }} body
 */
export function endedBy(res, body) {
  switch (res.status) {
    case 403:
      showOverlay(body.error === UNAVAILABLE ? 'unavailable' : 'revoked');
      return true;
    case 404:
    case 401:
      showOverlay('expired-session');
      return true;
    case 409:
      showOverlay('taken-over');
      return true;
    case 410:
      showOverlay('ended');
      return true;
    default:
      return false;
  }
}

/**
 * The notice at the top (unless the viewer closed it this session).
 * @param {string} text
 */
export function showBanner(text) {
  if (app.bannerDismissed) return;
  ui.bannerText.textContent = text;
  ui.banner.hidden = false;
}

/** Hides the notice. */
export function hideBanner() { ui.banner.hidden = true; }

/** Wires the overlay's button and the banner's close button. */
export function initOverlay() {
  ui.bannerClose.addEventListener('click', () => { app.bannerDismissed = true; hideBanner(); });
  ui.overlayAction.addEventListener('click', () => {
    ui.overlay.hidden = true;
    ui.overlay.dataset.kind = '';
    ui.main.inert = false;
    backToEntry(app.overlayKeepCode);
  });
}
