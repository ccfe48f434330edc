// @ts-check
// StreamGate viewer portal: the player. hls.js (vendored, pinned; a classic script that
// sets window.Hls) plays the stream where the browser has MediaSource, with the token in
// a header on every request; Safari and iOS play it natively, with the token in the
// playlist's query, which the HLS server carries into every URI. A refused request gets
// one token refresh; a lost connection a few retries with backoff; the video element's
// events drive the spinner and the state.

import { authorized } from '../api.js';
import { STORE_MUTED, show, announce, storageSet, ui } from '../dom.js';
import { refreshToken, timers } from '../session.js';
import { app, setState } from '../state.js';
import { readJson } from '../../shared/http.js';
import { armIdle, renderPlay, renderTime, renderVolume, restoreVolume, showControls } from './controls.js';
import { buildQualityMenu, closeQualityMenu, renderQualityLabel } from './quality.js';
import { endedBy } from './overlay.js';

const MAX_NETWORK_RETRIES = 3;
const RETRY_BASE_MS = 2_000;

/** The playlist's URL on the HLS server. */
function sourceUrl() {
  if (!app.session) return '';
  const path = app.session.streamPath.startsWith('/') ? app.session.streamPath : `/${app.session.streamPath}`;
  return app.session.baseUrl + path;
}

/**
 * hls.js, when it is loaded and this browser has MediaSource.
 * @returns {HlsStatic | null}
 */
function hlsJs() {
  const Hls = window.Hls;
  return typeof Hls === 'function' && Hls.isSupported() ? Hls : null;
}

/** Shows the player and starts the stream. */
export function startPlayback() {
  if (!app.session) return;
  timers.clear('status');
  show(ui.player);
  setState('loading');
  app.networkRetries = 0;
  app.mediaRecoveries = 0;
  hidePanels();
  setSpinner(true);
  restoreVolume();
  ui.playerTitle.textContent = app.session.event.title || '';
  app.isLive = Boolean(app.session.event.isLive) || Date.now() <= app.session.endsAt;
  renderBadge();
  loadSource();
  // The code form (and its focused button) just went away: keep keyboard focus on the
  // player. Not after a tap: on a phone a focused control would only keep the controls
  // over the picture.
  if (app.lastPointer !== 'touch' && app.lastPointer !== 'pen' && !ui.stage.contains(document.activeElement)) {
    ui.play.focus({ preventScroll: true });
  }
}

/**
 * Starts (or restarts) loading the stream; `startAt` > 0 resumes a recording there;
 * `play: false` leaves a paused player paused (native path).
 * @param {number} [startAt]
 * @param {{ play?: boolean }} [opts]
 */
function loadSource(startAt = -1, { play = true } = {}) {
  destroyHls();
  const url = sourceUrl();
  const Hls = hlsJs();
  if (Hls) {
    const player = new Hls({
      // The token travels in a header, never in the URL. session.token is read on every
      // request, so a refreshed token is used from the next request on.
      xhrSetup(xhr) {
        if (app.session) xhr.setRequestHeader('Authorization', `Bearer ${app.session.token}`);
      },
      enableWorker: true,
      lowLatencyMode: false,
      backBufferLength: 60,
      startPosition: startAt > 0 ? startAt : -1,
    });
    app.hls = player;
    player.on(Hls.Events.MANIFEST_PARSED, onManifestParsed);
    player.on(Hls.Events.LEVEL_LOADED, (_e, /** @type {HlsLevelLoadedData} */ data) => {
      if (data && data.details) {
        app.isLive = Boolean(data.details.live);
        renderBadge();
      }
    });
    player.on(Hls.Events.LEVEL_SWITCHED, renderQualityLabel);
    player.on(Hls.Events.ERROR, (_e, data) => onHlsError(Hls, data));
    player.attachMedia(ui.video);
    player.loadSource(url);
  } else if (ui.video.canPlayType('application/vnd.apple.mpegurl')) {
    // Safari and iOS: native HLS cannot send headers; the HLS server rewrites every URI
    // of a playlist requested with ?__token= to carry it.
    ui.video.src = `${url}${url.includes('?') ? '&' : '?'}__token=${encodeURIComponent(app.session ? app.session.token : '')}`;
    if (startAt > 0) ui.video.addEventListener('loadedmetadata', () => { ui.video.currentTime = startAt; }, { once: true });
    ui.quality.hidden = true;
    if (play) tryPlay();
  } else {
    showError("This browser can't play the stream. Please try a current version of Chrome, Firefox, Edge or Safari.");
  }
}

/**
 * Native HLS only: reloads the source with the current token at the same position (a
 * recording) or the live edge, keeping play/pause as it was. A short reload, before
 * any error, with no action from the viewer.
 */
export function renewNativeSource() {
  if (app.hls || !app.session || app.state === 'overlay' || !ui.video.getAttribute('src')) return;
  const wasPaused = ui.video.paused;
  const at = !app.isLive && Number.isFinite(ui.video.currentTime) ? ui.video.currentTime : -1;
  loadSource(at, { play: !wasPaused });
}

export function destroyHls() {
  if (app.hls) {
    app.hls.destroy();
    app.hls = null;
  }
}

/** Stops the stream and empties the player (its timers are session.js's). */
export function stopPlayback() {
  destroyHls();
  try { ui.video.pause(); } catch { /* nothing to pause */ }
  if (ui.video.getAttribute('src') !== null || ui.video.srcObject) {
    ui.video.removeAttribute('src');
    ui.video.load();
  }
  closeQualityMenu();
  setSpinner(false);
  hidePanels();
}

function onManifestParsed() {
  buildQualityMenu();
  tryPlay();
}

/** Plays; muted when the browser refuses sound before the viewer's first click. */
export async function tryPlay() {
  try {
    await ui.video.play();
  } catch (e) {
    if (e instanceof DOMException && e.name === 'NotAllowedError' && !ui.video.muted) {
      // Autoplay with sound was refused (no click on this page yet): play muted.
      ui.video.muted = true;
      ui.unmuteHint.hidden = false;
      try { await ui.video.play(); } catch { /* the play button is there */ }
    }
  }
}

/**
 * hls.js errors: 401/403 from the gate -> one refresh; network -> bounded retries.
 * @param {HlsStatic} Hls
 * @param {HlsErrorData} data
 */
function onHlsError(Hls, data) {
  if (!app.session || !app.hls) return;
  const status = data.response && data.response.code;
  if (status === 401 || status === 403) {
    handleDenied();
    return;
  }
  if (!data.fatal) return;
  if (data.type === Hls.ErrorTypes.NETWORK_ERROR) {
    reconnect();
  } else if (data.type === Hls.ErrorTypes.MEDIA_ERROR && app.mediaRecoveries < 2) {
    app.mediaRecoveries += 1;
    if (app.mediaRecoveries === 2) app.hls.swapAudioCodec();
    app.hls.recoverMediaError();
  } else {
    showError('The video could not be decoded.');
  }
}

/** The gate refused a request: refresh once and go on, or show why it ended. */
function handleDenied() {
  if (app.deniedRefresh) return;
  if (Date.now() - app.lastDeniedRefreshAt < 20_000) {
    // Refused again right after a good refresh: do not loop on the refresh budget.
    reconnect();
    return;
  }
  const mine = app.session;
  app.deniedRefresh = refreshToken(false).then((ok) => {
    app.deniedRefresh = null;
    if (app.session !== mine || app.state === 'overlay') return;
    if (ok) {
      // The new token is in place: carry on from here with it.
      app.lastDeniedRefreshAt = Date.now();
      resumeFromHere();
    } else {
      // No answer that ends the session (offline, rate limited): bounded retries.
      reconnect();
    }
  });
}

/** The stream was lost: try again, up to MAX_NETWORK_RETRIES times, backing off. */
function reconnect() {
  if (!app.session || app.state === 'overlay') return;
  if (app.networkRetries >= MAX_NETWORK_RETRIES) {
    showError('The connection to the stream was lost.');
    return;
  }
  app.networkRetries += 1;
  const delay = RETRY_BASE_MS * 2 ** (app.networkRetries - 1);
  ui.reconnectText.textContent = `Connection lost — reconnecting (attempt ${app.networkRetries} of ${MAX_NETWORK_RETRIES})…`;
  ui.reconnect.hidden = false;
  setSpinner(false);
  timers.after('retry', delay, async () => {
    if (!app.session) return;
    // Before trying again, make sure there is still a session to play for.
    const mine = app.session;
    try {
      const res = await authorized('/api/playback/heartbeat', mine.token);
      if (app.session !== mine) return;
      if (!res.ok && res.status !== 429 && res.status < 500) {
        const body = (await readJson(res)) ?? {};
        if (res.status === 401) {
          if (!(await refreshToken(false))) return;
        } else if (endedBy(res, body)) {
          return;
        }
      }
    } catch { /* still offline: try the stream anyway */ }
    if (app.session === mine) resumeFromHere();
  });
}

function resumeFromHere() {
  const at = !app.isLive && Number.isFinite(ui.video.currentTime) ? ui.video.currentTime : -1;
  ui.reconnect.hidden = true;
  setSpinner(true);
  loadSource(at);
}

/** @param {string} text */
function showError(text) {
  destroyHls();
  setSpinner(false);
  ui.reconnect.hidden = true;
  ui.errorText.textContent = text;
  ui.errorPanel.hidden = false;
  ui.retry.focus();
}

function hidePanels() {
  ui.reconnect.hidden = true;
  ui.errorPanel.hidden = true;
  ui.unmuteHint.hidden = true;
}

/** @param {boolean} on */
export function setSpinner(on) {
  ui.spinner.hidden = !on;
  ui.stage.setAttribute('aria-busy', on ? 'true' : 'false');
}

/** "Live" or "Recording"; a recording can seek. */
function renderBadge() {
  ui.badge.dataset.kind = app.isLive ? 'live' : 'recording';
  ui.badge.textContent = app.isLive ? 'Live' : 'Recording';
  ui.seekRow.hidden = app.isLive;
  ui.player.classList.toggle('is-live', app.isLive);
  renderTime();
}

/** Wires the player's own buttons and the video element's events. */
export function initPlayer() {
  const video = ui.video;
  ui.unmuteHint.addEventListener('click', () => {
    ui.video.muted = false;
    ui.unmuteHint.hidden = true;
    storageSet(localStorage, STORE_MUTED, '0');
  });

  ui.video.addEventListener('error', () => {
    // Native HLS (no hls.js): a failed request shows up here without a status, so ask the
    // platform whether the session is still good, then retry a bounded number of times.
    if (!app.session || app.hls || app.state === 'overlay') return;
    if (!ui.video.getAttribute('src')) return;
    handleDenied();
  });

  ui.retry.addEventListener('click', () => {
    app.networkRetries = 0;
    app.mediaRecoveries = 0;
    ui.errorPanel.hidden = true;
    setSpinner(true);
    loadSource();
  });

  // Video element events drive the spinner, the state and the controls.
  video.addEventListener('playing', () => {
    if (!app.session) return;
    setSpinner(false);
    ui.reconnect.hidden = true;
    app.networkRetries = 0;
    if (app.state !== 'playing') announce('Playing');
    setState('playing');
    renderPlay();
    armIdle();
  });
  video.addEventListener('waiting', () => { if (app.session) setSpinner(true); });
  video.addEventListener('seeking', () => { if (app.session) setSpinner(true); });
  video.addEventListener('seeked', () => { if (!video.paused) setSpinner(false); });
  video.addEventListener('canplay', () => { if (video.paused) setSpinner(false); });
  video.addEventListener('pause', () => { renderPlay(); showControls(); });
  video.addEventListener('play', renderPlay);
  video.addEventListener('timeupdate', renderTime);
  video.addEventListener('durationchange', renderTime);
  video.addEventListener('volumechange', () => {
    renderVolume();
    if (!video.muted) ui.unmuteHint.hidden = true;
  });
}
