// @ts-check
// StreamGate viewer portal: a session's life. While a redeemed code plays (or waits for
// its event): a heartbeat every 30 s, a token refresh ten minutes before the token
// expires, a tick each second for the countdown and the access end, and the platform's
// stream of this session's changes. This module owns every timer of the portal (those
// above, the pre-event status poll, the reconnect backoff, the rate-limit countdown and
// the controls' fade-out) and the EventSource, so that `stop()` ends them all at once.

import { authorized, releaseSession, sessionEvents } from './api.js';
import { STORE_CODE, storageSet, ui } from './dom.js';
import { app } from './state.js';
import { readJson, retryAfterSeconds } from '../shared/http.js';
import { timeFmt } from '../shared/format.js';
import { backToEntry, setMessage } from './views/entry.js';
import { endedBy, hideBanner, showBanner, showOverlay } from './views/overlay.js';
import { decideFromStatus, renderCountdown } from './views/pre-event.js';
import { renewNativeSource, startPlayback, stopPlayback } from './views/player.js';

const HEARTBEAT_MS = 30_000; // SPEC 8; a validate answer's heartbeatIntervalSeconds wins
const REFRESH_LEAD_S = 600; // refresh 10 minutes before the token expires (50 min of 60)
const REFRESH_MIN_S = 30;
const ACCESS_WARNING_MS = 15 * 60_000;

/** @typedef {'heartbeat' | 'refresh' | 'tick' | 'status' | 'retry' | 'rateLimit' | 'idle'} TimerName */

/** @type {Map<TimerName, { id: number, repeat: boolean }>} */
const handles = new Map();
/** @type {EventSource | null} this session's changes */
let source = null;

/** The portal's timers, by name: setting one replaces the one of that name. */
export const timers = {
  /**
   * Runs `fn` once after `ms`.
   * @param {TimerName} name
   * @param {number} ms
   * @param {() => unknown} fn
   */
  after(name, ms, fn) {
    timers.clear(name);
    const id = window.setTimeout(() => { handles.delete(name); fn(); }, ms);
    handles.set(name, { id, repeat: false });
  },
  /**
   * Runs `fn` every `ms` until cleared.
   * @param {TimerName} name
   * @param {number} ms
   * @param {() => unknown} fn
   */
  every(name, ms, fn) {
    timers.clear(name);
    handles.set(name, { id: window.setInterval(fn, ms), repeat: true });
  },
  /** @param {TimerName} name */
  clear(name) {
    const t = handles.get(name);
    if (!t) return;
    if (t.repeat) window.clearInterval(t.id);
    else window.clearTimeout(t.id);
    handles.delete(name);
  },
  /** @param {TimerName} name */
  running(name) {
    return handles.has(name);
  },
};

/** Clears every timer and closes the session's event stream. */
export function stop() {
  for (const name of Array.from(handles.keys())) timers.clear(name);
  closeSessionEvents();
}

/**
 * The event's id from a validate answer.
 * @param {any} body
 */
function eventIdOf(body) {
  if (body.event && body.event.id) return String(body.event.id);
  // Older platforms: the id is the second segment of /streams/<id>/index.m3u8.
  const m = /^\/?streams\/([^/]+)\//.exec(body.streamPath || '');
  return m ? decodeURIComponent(m[1]) : '';
}

/**
 * Starts the session a validate answer (`body`) opened for `code`: its timers, its
 * event stream, then the player or the pre-event screen.
 * @param {string} code
 * @param {any} body the validate answer (openapi.yaml)
 */
export function startSession(code, body) {
  endSession({ release: false });
  const event = body.event || {};
  app.session = {
    code,
    token: body.playbackToken,
    eventId: eventIdOf(body),
    event,
    baseUrl: String(body.playbackBaseUrl || '').replace(/\/+$/, ''),
    streamPath: String(body.streamPath || ''),
    expiresAt: Date.parse(body.expiresAt || '') || Infinity,
    startsAt: Date.parse(event.startsAt || '') || 0,
    endsAt: Date.parse(event.endsAt || '') || 0,
  };
  storageSet(sessionStorage, STORE_CODE, code);
  app.warnedAccessEnd = false;
  app.bannerDismissed = false;
  hideBanner();
  scheduleRefresh(Number(body.tokenExpiresIn) || 3600);
  const beat = Number(body.heartbeatIntervalSeconds) > 0 ? Number(body.heartbeatIntervalSeconds) * 1000 : HEARTBEAT_MS;
  timers.every('heartbeat', beat, heartbeat);
  timers.every('tick', 1000, tick);
  openSessionEvents();
  ui.playerTitle.textContent = event.title || '';
  ui.playerDescription.textContent = event.description || '';
  ui.playerDescription.hidden = !event.description;
  if (event.isLive) startPlayback();
  else decideFromStatus();
}

/**
 * Stops the timers and playback; `release` also ends the session on the server.
 * @param {{ release: boolean }} how
 */
export function endSession({ release }) {
  stop();
  stopPlayback();
  if (app.session && release) releaseSession(app.session.token, false);
  app.session = null;
  hideBanner();
}

/**
 * Listens to the platform's stream of this session's changes, so that a revoke, a
 * forced release, a takeover or the event switched off stops the player within about a
 * second, whatever it has buffered (the heartbeat alone would take up to 30 s).
 * It reconnects by itself; a refresh reopens it with the new token.
 */
function openSessionEvents() {
  closeSessionEvents();
  if (!app.session || typeof EventSource !== 'function') return;
  const mine = app.session;
  const events = sessionEvents(app.session.token);
  source = events;
  events.onmessage = (e) => {
    if (app.session !== mine || source !== events) return;
    let ev;
    try { ev = JSON.parse(e.data); } catch { return; }
    if (ev && ev.state === 'ended') {
      closeSessionEvents();
      endedBy({ status: Number(ev.status) }, { error: ev.error });
    }
  };
  events.onerror = () => {
    // Gave up (the token in its URL was refused): the heartbeat and refresh go on.
    if (events.readyState === EventSource.CLOSED && source === events) source = null;
  };
}

function closeSessionEvents() {
  if (source) {
    source.close();
    source = null;
  }
}

/** Tells the platform the viewer is still here; an answer that ends the session ends it. */
export async function heartbeat() {
  if (!app.session) return;
  const mine = app.session;
  let res;
  try {
    res = await authorized('/api/playback/heartbeat', mine.token);
  } catch {
    return; // offline for a moment: the next beat tries again
  }
  if (app.session !== mine || res.ok) return;
  const body = (await readJson(res)) ?? {};
  if (res.status === 401) {
    // The token may have lapsed (a sleeping laptop): a refresh decides.
    await refreshToken();
    return;
  }
  endedBy(res, body);
}

/** @param {number} expiresInSeconds */
function scheduleRefresh(expiresInSeconds) {
  const wait = Math.max(REFRESH_MIN_S, expiresInSeconds - REFRESH_LEAD_S);
  timers.after('refresh', wait * 1000, refreshToken);
}

/**
 * Gets a new token for the same session; resolves true when playback may go on.
 * `renewNative` (the scheduled refresh): on the native-HLS path the token is baked into
 * every URL the video element holds, so it is handed the new one at once, before the
 * old one runs out at the hour, instead of meeting a 403 mid-playback.
 * @param {boolean} [renewNative]
 * @returns {Promise<boolean>}
 */
export async function refreshToken(renewNative = true) {
  if (!app.session) return false;
  const mine = app.session;
  timers.clear('refresh');
  let res;
  try {
    res = await authorized('/api/playback/refresh', mine.token);
  } catch {
    if (app.session === mine) timers.after('refresh', 30_000, refreshToken);
    return false;
  }
  if (app.session !== mine) return false;
  const body = (await readJson(res)) ?? {};
  if (res.ok && body.playbackToken) {
    // hls.js reads session.token in xhrSetup, so every later request carries this one.
    mine.token = body.playbackToken;
    scheduleRefresh(Number(body.tokenExpiresIn) || 3600);
    openSessionEvents();
    if (renewNative === true) renewNativeSource();
    return true;
  }
  if (res.status === 429) {
    timers.after('refresh', (retryAfterSeconds(res) ?? 30) * 1000, refreshToken);
    return false;
  }
  if (!endedBy(res, body)) timers.after('refresh', 30_000, refreshToken);
  return false;
}

/** Once a second: the countdown, the access-end warning and overlay. */
function tick() {
  if (!app.session) return;
  const now = Date.now();
  const left = app.session.expiresAt - now;
  if (left <= 0) {
    showOverlay('ended');
    return;
  }
  if (left <= ACCESS_WARNING_MS && !app.warnedAccessEnd) {
    app.warnedAccessEnd = true;
    const mins = Math.max(1, Math.round(left / 60_000));
    showBanner(`Your access ends in ${mins} minute${mins === 1 ? '' : 's'}, at ${timeFmt.format(new Date(app.session.expiresAt))}.`);
  }
  if (app.state === 'pre-event') renderCountdown();
}

/**
 * Releases the session when the page goes away, and starts again when it comes back
 * from the back/forward cache; beats at once when a background tab is seen again.
 */
export function initSessionLifecycle() {
  // pagehide fires on close, reload and navigation (also when the page goes to the
  // back/forward cache; pageshow below resumes then).
  window.addEventListener('pagehide', () => {
    if (!app.session) return;
    app.releasedOnHide = app.session.code;
    releaseSession(app.session.token, true);
  });
  window.addEventListener('pageshow', (e) => {
    if (e.persisted && app.releasedOnHide && app.session) {
      // Back from the back/forward cache: that session was released, start again.
      const code = app.releasedOnHide;
      app.releasedOnHide = null;
      endSession({ release: false });
      backToEntry(code);
      setMessage('info', 'Welcome back — press Watch to carry on.');
    }
  });
  // Background tabs may have their timers slowed: beat once as soon as the page is seen again.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && app.session) heartbeat();
  });
}
