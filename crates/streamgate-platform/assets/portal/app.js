// @ts-check
// StreamGate viewer portal. Plain ES modules, no build step; hls.js (vendored, pinned) is
// loaded before this file as a classic deferred script and found as window.Hls.
// Served under a strict CSP: no inline script or style, no eval; the DOM is changed with
// textContent and properties only (never innerHTML with data from the API).
//
// Flow: code entry (views/entry.js) -> POST /api/tokens/validate -> pre-event screen
// (views/pre-event.js: countdown, polls the event status every 30 s) or the player
// (views/player.js, controls.js, quality.js). While a session lives (session.js, which
// owns every timer): heartbeat every 30 s, token refresh ten minutes before the token
// expires, a warning 15 minutes before the access code's end and an overlay when it ends
// (views/overlay.js); release on page hide (sendBeacon) and on "Use a different code".
// The state all of them share is one object (state.js); api.js talks to the platform.
// This file wires them and restores a code remembered by this tab.

import { STORE_CODE, storageGet, ui } from './dom.js';
import { initSessionLifecycle } from './session.js';
import { app } from './state.js';
import { renderPlay, renderVolume, initControls } from './views/controls.js';
import { initEntry, setMessage } from './views/entry.js';
import { initOverlay } from './views/overlay.js';
import { initPlayer } from './views/player.js';
import { initPreEvent } from './views/pre-event.js';
import { initQuality } from './views/quality.js';

export { normalizeCode } from './views/entry.js';

document.addEventListener('pointerdown', (e) => { app.lastPointer = e.pointerType || 'mouse'; }, true);
initEntry();
initOverlay();
initSessionLifecycle();
initPreEvent();
initPlayer();
initControls();
initQuality();

renderVolume();
renderPlay();
const remembered = storageGet(sessionStorage, STORE_CODE);
if (remembered) {
  // A reload of this tab: the code is filled in again (the old session was released on
  // the way out); one press of Watch carries on.
  ui.input.value = remembered;
  setMessage('info', 'Welcome back — press Watch to carry on.');
  ui.submit.focus();
} else {
  ui.input.focus();
}
