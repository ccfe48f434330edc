// StreamGate viewer portal. Plain ES module, no build step; hls.js (vendored, pinned) is
// loaded before this file as a classic deferred script and found as window.Hls.
// Served under a strict CSP: no inline script or style, no eval; the DOM is changed with
// textContent and properties only (never innerHTML with data from the API).
//
// Flow: code entry -> POST /api/tokens/validate -> pre-event screen (countdown, polls the
// event status every 30 s) or the player. While a session lives: heartbeat every 30 s,
// token refresh ten minutes before the token expires, a warning 15 minutes before the
// access code's end and an overlay when it ends; release on page hide (sendBeacon) and
// on "Use a different code".

const HEARTBEAT_MS = 30_000; // SPEC 8; a validate answer's heartbeatIntervalSeconds wins
const STATUS_POLL_MS = 30_000;
const REFRESH_LEAD_S = 600; // refresh 10 minutes before the token expires (50 min of 60)
const REFRESH_MIN_S = 30;
const WAITING_AFTER_MS = 60_000; // past the start this long without a stream: "waiting for the broadcast"
const ACCESS_WARNING_MS = 15 * 60_000;
const MAX_NETWORK_RETRIES = 3;
const RETRY_BASE_MS = 2_000;
const SEEK_STEP_S = 5;
const VOLUME_STEP = 0.1;
const CONTROLS_IDLE_MS = 3_000;
const STORE_VOLUME = 'streamgate.volume';
const STORE_MUTED = 'streamgate.muted';
const STORE_CODE = 'streamgate.code'; // sessionStorage: survives a reload of this tab only

const REVOKED = 'Access code has been revoked';
const UNAVAILABLE = 'This event is not currently available';

// ---------------------------------------------------------------------------------------
// Small helpers

const $ = (sel) => document.querySelector(sel);

const el = {
  body: document.body,
  main: $('#main'),
  leave: $('#leave'),
  banner: $('#banner'),
  bannerText: $('#banner-text'),
  bannerClose: $('#banner-close'),
  entry: $('#entry'),
  form: $('#code-form'),
  input: $('#code-input'),
  submit: $('#code-submit'),
  submitLabel: $('#code-submit .btn-label'),
  message: $('#message'),
  pre: $('#pre-event'),
  prePoster: $('#pre-poster'),
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
  video: $('#video'),
  spinner: $('#spinner'),
  reconnect: $('#reconnect'),
  reconnectText: $('#reconnect-text'),
  errorPanel: $('#error-panel'),
  errorText: $('#error-text'),
  retry: $('#retry'),
  unmuteHint: $('#unmute-hint'),
  controls: $('#controls'),
  seekRow: $('#seek-row'),
  seek: $('#seek'),
  play: $('#play'),
  mute: $('#mute'),
  volume: $('#volume'),
  time: $('#time'),
  quality: $('#quality'),
  qualityLabel: $('#quality-label'),
  qualityMenu: $('#quality-menu'),
  pip: $('#pip'),
  fullscreen: $('#fullscreen'),
  badge: $('#badge'),
  playerTitle: $('#player-title'),
  playerDescription: $('#player-description'),
  overlay: $('#overlay'),
  overlayIcon: $('#overlay-icon'),
  overlayTitle: $('#overlay-title'),
  overlayText: $('#overlay-text'),
  overlayAction: $('#overlay-action'),
  announcer: $('#announcer'),
};

function storageGet(store, key) {
  try { return store.getItem(key); } catch { return null; }
}
function storageSet(store, key, value) {
  try {
    if (value === null) store.removeItem(key);
    else store.setItem(key, value);
  } catch { /* private mode or storage disabled: nothing to remember */ }
}

/** What users paste: surrounding space, spaces and dashes inside ("AB3D-EF9H-JK2M"). */
export function normalizeCode(raw) {
  return String(raw || '').trim().replace(/[\s\u00a0\-\u2010-\u2015\u2212_.]+/g, '');
}

function formatClock(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) seconds = 0;
  const s = Math.floor(seconds % 60);
  const m = Math.floor((seconds / 60) % 60);
  const h = Math.floor(seconds / 3600);
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

function spokenDuration(seconds) {
  const m = Math.floor(seconds / 60);
  const s = Math.floor(seconds % 60);
  return m > 0 ? `${m} minutes ${s} seconds` : `${s} seconds`;
}

const dateFormat = new Intl.DateTimeFormat(undefined, {
  weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit',
});
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

function announce(text) {
  el.announcer.textContent = '';
  // A new text node each time, so the same words are read again.
  window.setTimeout(() => { el.announcer.textContent = text; }, 30);
}

async function readJson(res) {
  try { return await res.json(); } catch { return {}; }
}

function retryAfterSeconds(res) {
  const raw = res.headers.get('retry-after');
  if (!raw) return 30;
  const n = Number(raw);
  if (Number.isFinite(n)) return Math.max(1, Math.ceil(n));
  const at = Date.parse(raw);
  return Number.isFinite(at) ? Math.max(1, Math.ceil((at - Date.now()) / 1000)) : 30;
}

// ---------------------------------------------------------------------------------------
// State

/** "entry" | "pre-event" | "loading" | "playing" | "overlay" */
let state = 'entry';
/** The live session after a successful redemption, or null. */
let session = null;
let hls = null;
let heartbeatTimer = 0;
let refreshTimer = 0;
let sessionEvents = null; // EventSource of this session's changes
let statusTimer = 0;
let tickTimer = 0;
let retryTimer = 0;
let rateLimitTimer = 0;
let idleTimer = 0;
let networkRetries = 0;
let mediaRecoveries = 0;
let deniedRefresh = null; // the refresh in flight after a 403 from the HLS server
let lastDeniedRefreshAt = 0;
let isLiveStream = true;
/** The kind of the last pointer press anywhere ('mouse', 'touch', 'pen'): taps and clicks differ. */
let lastPointer = 'mouse';
document.addEventListener('pointerdown', (e) => { lastPointer = e.pointerType || 'mouse'; }, true);
let warnedAccessEnd = false;
let bannerDismissed = false;
let submitting = false;

window.__sg = {
  get state() { return state; },
  get live() { return isLiveStream; },
  token() { return session ? session.token : null; },
};

function setState(next) {
  state = next;
  el.body.dataset.state = next;
}

function show(section) {
  for (const s of [el.entry, el.pre, el.player]) s.hidden = s !== section;
  el.leave.hidden = section === el.entry;
}

// ---------------------------------------------------------------------------------------
// Messages on the entry screen (tiered by the API's answer)

const MESSAGES = {
  required: 'Please enter the access code from your ticket.',
  invalid: "We couldn't find that code. Check it against your ticket — codes are case-sensitive — and try again.",
  expired: 'This access code has expired: its viewing window is over.',
  revoked: 'This access code has been revoked. If you think that is a mistake, please contact the organiser.',
  unavailable: "This event isn't available right now. Please check back later.",
  'in-use': 'This code is already being used to watch on another device. Stop playback there, or wait a minute, then try again.',
  network: "We couldn't reach the server. Check your connection and try again.",
  server: 'Something went wrong on our side. Please try again in a moment.',
  'event-ended': 'This event has ended, and its recording is no longer available.',
  'session-expired': 'Your session expired — enter your code again.',
};

function setMessage(kind, text) {
  el.message.dataset.kind = kind || '';
  el.message.textContent = text ?? (MESSAGES[kind] || '');
  el.message.classList.toggle('is-error', Boolean(kind) && kind !== 'info');
  if (kind && kind !== 'info') el.input.setAttribute('aria-invalid', 'true');
  else el.input.removeAttribute('aria-invalid');
}

function setBusy(busy) {
  submitting = busy;
  el.submit.classList.toggle('is-busy', busy);
  el.submit.setAttribute('aria-busy', busy ? 'true' : 'false');
  el.submitLabel.textContent = busy ? 'Checking…' : 'Watch';
  el.submit.disabled = busy || rateLimitTimer !== 0;
}

function startRateLimitCountdown(seconds) {
  window.clearInterval(rateLimitTimer);
  let left = seconds;
  const render = () => {
    setMessage('rate-limited', `Too many attempts in a short time. Please wait ${left} second${left === 1 ? '' : 's'} and try again.`);
  };
  render();
  el.submit.disabled = true;
  rateLimitTimer = window.setInterval(() => {
    left -= 1;
    if (left <= 0) {
      window.clearInterval(rateLimitTimer);
      rateLimitTimer = 0;
      el.submit.disabled = submitting;
      setMessage('info', 'You can try again now.');
      return;
    }
    render();
  }, 1000);
}

// ---------------------------------------------------------------------------------------
// Code entry

el.input.addEventListener('input', (e) => {
  if (e.inputType === 'insertFromPaste' || e.inputType === 'insertFromDrop') {
    const clean = normalizeCode(el.input.value);
    if (clean !== el.input.value) el.input.value = clean;
  }
});

el.form.addEventListener('submit', (e) => {
  e.preventDefault();
  if (submitting || rateLimitTimer) return;
  const code = normalizeCode(el.input.value);
  el.input.value = code;
  if (!code) {
    setMessage('required');
    el.input.focus();
    return;
  }
  redeem(code);
});

async function redeem(code) {
  setBusy(true);
  setMessage('info', 'Checking your code…');
  let res;
  try {
    res = await fetch('/api/tokens/validate', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ code }),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    setBusy(false);
    setMessage('network');
    return;
  }
  const body = await readJson(res);
  setBusy(false);
  if (res.ok && body.playbackToken) {
    setMessage('', '');
    startSession(code, body);
    return;
  }
  storageSet(sessionStorage, STORE_CODE, null);
  switch (res.status) {
    case 400: setMessage('required'); break;
    case 401: setMessage('invalid'); break;
    case 410: setMessage('expired'); break;
    case 403: setMessage(body.error === REVOKED ? 'revoked' : 'unavailable'); break;
    case 409: setMessage('in-use'); break;
    case 429: startRateLimitCountdown(retryAfterSeconds(res)); break;
    default: setMessage(res.status >= 500 ? 'server' : 'network');
  }
  el.input.focus();
  el.input.select();
}

// ---------------------------------------------------------------------------------------
// Session life: heartbeat, refresh, access end, release

function eventIdOf(body) {
  if (body.event && body.event.id) return String(body.event.id);
  // Older platforms: the id is the second segment of /streams/<id>/index.m3u8.
  const m = /^\/?streams\/([^/]+)\//.exec(body.streamPath || '');
  return m ? decodeURIComponent(m[1]) : '';
}

function startSession(code, body) {
  endSession({ release: false });
  const event = body.event || {};
  session = {
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
  warnedAccessEnd = false;
  bannerDismissed = false;
  hideBanner();
  scheduleRefresh(Number(body.tokenExpiresIn) || 3600);
  const beat = Number(body.heartbeatIntervalSeconds) > 0 ? Number(body.heartbeatIntervalSeconds) * 1000 : HEARTBEAT_MS;
  heartbeatTimer = window.setInterval(heartbeat, beat);
  tickTimer = window.setInterval(tick, 1000);
  openSessionEvents();
  el.playerTitle.textContent = event.title || '';
  el.playerDescription.textContent = event.description || '';
  el.playerDescription.hidden = !event.description;
  if (event.isLive) startPlayback();
  else decideFromStatus();
}

/** Stops timers and playback; `release` also ends the session on the server. */
function endSession({ release }) {
  window.clearInterval(heartbeatTimer);
  window.clearTimeout(refreshTimer);
  window.clearTimeout(statusTimer);
  window.clearInterval(tickTimer);
  heartbeatTimer = refreshTimer = statusTimer = tickTimer = 0;
  closeSessionEvents();
  stopPlayback();
  if (session && release) releaseSession(session.token, false);
  session = null;
  hideBanner();
}

function releaseSession(token, beacon) {
  const payload = JSON.stringify({ token });
  if (beacon && navigator.sendBeacon) {
    // sendBeacon cannot set headers; the platform accepts the JWT in a text/plain body.
    if (navigator.sendBeacon('/api/playback/release', new Blob([payload], { type: 'text/plain' }))) return;
  }
  fetch('/api/playback/release', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: payload,
    keepalive: true,
    credentials: 'same-origin',
  }).catch(() => {});
}

function authorized(path) {
  return fetch(path, {
    method: 'POST',
    headers: { Authorization: `Bearer ${session.token}`, Accept: 'application/json' },
    credentials: 'same-origin',
    cache: 'no-store',
  });
}

/**
 * Listens to the platform's stream of this session's changes, so that a revoke, a
 * forced release, a takeover or the event switched off stops the player within about a
 * second, whatever it has buffered (the heartbeat alone would take up to 30 s).
 * EventSource cannot set headers: the token goes in the query (the platform's logs
 * redact it). It reconnects by itself; a refresh reopens it with the new token.
 */
function openSessionEvents() {
  closeSessionEvents();
  if (!session || typeof EventSource !== 'function') return;
  const mine = session;
  const source = new EventSource(`/api/playback/events?token=${encodeURIComponent(session.token)}`);
  sessionEvents = source;
  source.onmessage = (e) => {
    if (session !== mine || sessionEvents !== source) return;
    let ev;
    try { ev = JSON.parse(e.data); } catch { return; }
    if (ev && ev.state === 'ended') {
      closeSessionEvents();
      endedBy({ status: Number(ev.status) }, { error: ev.error });
    }
  };
  source.onerror = () => {
    // Gave up (the token in its URL was refused): the heartbeat and refresh go on.
    if (source.readyState === EventSource.CLOSED && sessionEvents === source) sessionEvents = null;
  };
}

function closeSessionEvents() {
  if (sessionEvents) {
    sessionEvents.close();
    sessionEvents = null;
  }
}

/** Maps an answer that ends the session to its overlay; returns true when it did. */
function endedBy(res, body) {
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

async function heartbeat() {
  if (!session) return;
  const mine = session;
  let res;
  try {
    res = await authorized('/api/playback/heartbeat');
  } catch {
    return; // offline for a moment: the next beat tries again
  }
  if (session !== mine || res.ok) return;
  const body = await readJson(res);
  if (res.status === 401) {
    // The token may have lapsed (a sleeping laptop): a refresh decides.
    await refreshToken();
    return;
  }
  endedBy(res, body);
}

function scheduleRefresh(expiresInSeconds) {
  window.clearTimeout(refreshTimer);
  const wait = Math.max(REFRESH_MIN_S, expiresInSeconds - REFRESH_LEAD_S);
  refreshTimer = window.setTimeout(refreshToken, wait * 1000);
}

/**
 * Gets a new token for the same session; returns true when playback may go on.
 * `renewNative` (the scheduled refresh): on the native-HLS path the token is baked into
 * every URL the video element holds, so it is handed the new one at once, before the
 * old one runs out at the hour, instead of meeting a 403 mid-playback.
 */
async function refreshToken(renewNative = true) {
  if (!session) return false;
  const mine = session;
  window.clearTimeout(refreshTimer);
  let res;
  try {
    res = await authorized('/api/playback/refresh');
  } catch {
    if (session === mine) refreshTimer = window.setTimeout(refreshToken, 30_000);
    return false;
  }
  if (session !== mine) return false;
  const body = await readJson(res);
  if (res.ok && body.playbackToken) {
    // hls.js reads session.token in xhrSetup, so every later request carries this one.
    session.token = body.playbackToken;
    scheduleRefresh(Number(body.tokenExpiresIn) || 3600);
    openSessionEvents();
    if (renewNative === true) renewNativeSource();
    return true;
  }
  if (res.status === 429) {
    refreshTimer = window.setTimeout(refreshToken, retryAfterSeconds(res) * 1000);
    return false;
  }
  if (!endedBy(res, body)) refreshTimer = window.setTimeout(refreshToken, 30_000);
  return false;
}

/** Once a second: the countdown, the access-end warning and overlay. */
function tick() {
  if (!session) return;
  const now = Date.now();
  const left = session.expiresAt - now;
  if (left <= 0) {
    showOverlay('ended');
    return;
  }
  if (left <= ACCESS_WARNING_MS && !warnedAccessEnd) {
    warnedAccessEnd = true;
    const mins = Math.max(1, Math.round(left / 60_000));
    showBanner(`Your access ends in ${mins} minute${mins === 1 ? '' : 's'}, at ${timeFormat.format(new Date(session.expiresAt))}.`);
  }
  if (state === 'pre-event') renderCountdown();
}

function showBanner(text) {
  if (bannerDismissed) return;
  el.bannerText.textContent = text;
  el.banner.hidden = false;
}
function hideBanner() { el.banner.hidden = true; }
el.bannerClose.addEventListener('click', () => { bannerDismissed = true; hideBanner(); });

// ---------------------------------------------------------------------------------------
// Overlays: the ends a viewer can meet

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

let overlayKeepCode = '';

function showOverlay(kind) {
  const o = OVERLAYS[kind];
  const code = session ? session.code : '';
  endSession({ release: false });
  overlayKeepCode = o.keepCode ? code : '';
  if (!o.keepCode) storageSet(sessionStorage, STORE_CODE, null);
  el.overlay.dataset.kind = kind;
  el.overlayIcon.dataset.kind = kind;
  el.overlayTitle.textContent = o.title;
  el.overlayText.textContent = o.text;
  el.overlayAction.textContent = o.action;
  el.overlay.hidden = false;
  el.main.inert = true;
  setState('overlay');
  if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  el.overlayAction.focus();
}

el.overlayAction.addEventListener('click', () => {
  el.overlay.hidden = true;
  el.overlay.dataset.kind = '';
  el.main.inert = false;
  backToEntry(overlayKeepCode);
});

function backToEntry(code) {
  show(el.entry);
  setState('entry');
  el.input.value = code || '';
  setMessage('', '');
  el.input.focus();
  if (code) el.input.select();
}

el.leave.addEventListener('click', () => {
  endSession({ release: true });
  storageSet(sessionStorage, STORE_CODE, null);
  backToEntry('');
  setMessage('info', 'You left the stream. Your code is free to use again.');
});

// Release on the way out. pagehide fires on close, reload and navigation (also when the
// page goes to the back/forward cache; pageshow below resumes then).
let releasedOnHide = null;
window.addEventListener('pagehide', () => {
  if (!session) return;
  releasedOnHide = session.code;
  releaseSession(session.token, true);
});
window.addEventListener('pageshow', (e) => {
  if (e.persisted && releasedOnHide && session) {
    // Back from the back/forward cache: that session was released, start again.
    const code = releasedOnHide;
    releasedOnHide = null;
    endSession({ release: false });
    backToEntry(code);
    setMessage('info', 'Welcome back — press Watch to carry on.');
  }
});

// Background tabs may have their timers slowed: beat once as soon as the page is seen again.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && session) heartbeat();
});

// ---------------------------------------------------------------------------------------
// Pre-event: countdown and status polling

async function fetchStatus() {
  if (!session || !session.eventId) return null;
  const url = `/api/events/${encodeURIComponent(session.eventId)}/status?code=${encodeURIComponent(session.code)}`;
  try {
    const res = await fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store', credentials: 'same-origin' });
    if (!res.ok) return null;
    return await res.json();
  } catch {
    return null;
  }
}

async function decideFromStatus() {
  const mine = session;
  const st = await fetchStatus();
  if (!session || session !== mine) return;
  let status = st ? st.status : null;
  if (st) applySchedule(st);
  if (!status) status = Date.now() < session.startsAt ? 'not-started' : 'live';
  if (status === 'live' || status === 'recording') startPlayback();
  else if (status === 'ended') eventEnded();
  else showPreEvent();
}

function applySchedule(st) {
  const starts = Date.parse(st.startsAt || '');
  const ends = Date.parse(st.endsAt || '');
  if (Number.isFinite(starts)) session.startsAt = starts;
  if (Number.isFinite(ends)) session.endsAt = ends;
}

function eventEnded() {
  const code = session ? session.code : '';
  endSession({ release: true });
  backToEntry(code);
  setMessage('event-ended');
}

function showPreEvent() {
  const ev = session.event;
  el.preTitle.textContent = ev.title || 'Your event';
  el.preDescription.textContent = ev.description || '';
  el.preDescription.hidden = !ev.description;
  if (ev.posterUrl) {
    el.prePoster.src = ev.posterUrl;
    el.prePoster.alt = `Poster: ${ev.title || 'the event'}`;
    el.prePoster.hidden = false;
    el.prePosterWrap.classList.add('has-poster');
  } else {
    el.prePoster.removeAttribute('src');
    el.prePoster.hidden = true;
    el.prePosterWrap.classList.remove('has-poster');
  }
  show(el.pre);
  setState('pre-event');
  renderCountdown();
  scheduleStatusPoll();
  el.preTitle.setAttribute('tabindex', '-1');
  el.preTitle.focus({ preventScroll: true });
}

el.prePoster.addEventListener('error', () => {
  el.prePoster.hidden = true;
  el.prePosterWrap.classList.remove('has-poster');
});

let countdownZeroPolled = false;

function renderCountdown() {
  if (!session) return;
  const ms = Math.max(0, session.startsAt - Date.now());
  const total = Math.floor(ms / 1000);
  el.cdDays.textContent = String(Math.floor(total / 86400));
  el.cdHours.textContent = String(Math.floor(total / 3600) % 24).padStart(2, '0');
  el.cdMinutes.textContent = String(Math.floor(total / 60) % 60).padStart(2, '0');
  el.cdSeconds.textContent = String(total % 60).padStart(2, '0');
  el.countdown.dataset.seconds = String(total);
  const due = Date.now() >= session.startsAt;
  el.preWhen.textContent = session.startsAt ? `${due ? 'Was due to start' : 'Starts'} ${dateFormat.format(new Date(session.startsAt))}` : '';
  // Past the start and still no stream: not a zero countdown forever, but what is
  // going on (the organiser has not started the broadcast yet).
  const waiting = total === 0 && Date.now() - session.startsAt > WAITING_AFTER_MS;
  el.countdown.hidden = waiting;
  if (waiting) {
    el.preEyebrow.textContent = 'Waiting for the broadcast to start';
    el.preNote.textContent = 'The event was due to start at the time above, and the broadcast has not begun yet. Keep this page open — it starts here by itself as soon as it does.';
    if (!countdownZeroPolled) {
      countdownZeroPolled = true;
      pollStatus();
    }
  } else if (total === 0) {
    el.preEyebrow.textContent = 'Starting any moment';
    el.preNote.textContent = 'The stream is about to begin — it will start here by itself.';
    if (!countdownZeroPolled) {
      // The clock says now: ask at once rather than wait for the next poll.
      countdownZeroPolled = true;
      pollStatus();
    }
  } else {
    countdownZeroPolled = false;
    el.preEyebrow.textContent = 'Starting soon';
    el.preNote.textContent = 'Keep this page open — the stream starts here by itself.';
  }
}

function scheduleStatusPoll() {
  window.clearTimeout(statusTimer);
  statusTimer = window.setTimeout(pollStatus, STATUS_POLL_MS);
}

async function pollStatus() {
  window.clearTimeout(statusTimer);
  if (!session || state !== 'pre-event') return;
  const mine = session;
  const st = await fetchStatus();
  if (session !== mine || state !== 'pre-event') return;
  if (st) {
    applySchedule(st);
    if (st.status === 'live' || st.status === 'recording') {
      announce('The event is starting.');
      startPlayback();
      return;
    }
    if (st.status === 'ended') {
      eventEnded();
      return;
    }
    renderCountdown();
  }
  scheduleStatusPoll();
}

// ---------------------------------------------------------------------------------------
// Player

function sourceUrl() {
  const path = session.streamPath.startsWith('/') ? session.streamPath : `/${session.streamPath}`;
  return session.baseUrl + path;
}

function hlsJsUsable() {
  return typeof window.Hls === 'function' && window.Hls.isSupported();
}

function startPlayback() {
  if (!session) return;
  window.clearTimeout(statusTimer);
  show(el.player);
  setState('loading');
  networkRetries = 0;
  mediaRecoveries = 0;
  hidePanels();
  setSpinner(true);
  restoreVolume();
  el.playerTitle.textContent = session.event.title || '';
  isLiveStream = Boolean(session.event.isLive) || Date.now() <= session.endsAt;
  renderBadge();
  loadSource();
  // The code form (and its focused button) just went away: keep keyboard focus on the
  // player. Not after a tap: on a phone a focused control would only keep the controls
  // over the picture.
  if (lastPointer !== 'touch' && lastPointer !== 'pen' && !el.stage.contains(document.activeElement)) {
    el.play.focus({ preventScroll: true });
  }
}

/**
 * Starts (or restarts) loading the stream; `startAt` > 0 resumes a recording there;
 * `play: false` leaves a paused player paused (native path).
 */
function loadSource(startAt = -1, { play = true } = {}) {
  destroyHls();
  const url = sourceUrl();
  if (hlsJsUsable()) {
    const Hls = window.Hls;
    hls = new Hls({
      // The token travels in a header, never in the URL. session.token is read on every
      // request, so a refreshed token is used from the next request on.
      xhrSetup(xhr) {
        if (session) xhr.setRequestHeader('Authorization', `Bearer ${session.token}`);
      },
      enableWorker: true,
      lowLatencyMode: false,
      backBufferLength: 60,
      startPosition: startAt > 0 ? startAt : -1,
    });
    hls.on(Hls.Events.MANIFEST_PARSED, onManifestParsed);
    hls.on(Hls.Events.LEVEL_LOADED, (_e, data) => {
      if (data && data.details) {
        isLiveStream = Boolean(data.details.live);
        renderBadge();
      }
    });
    hls.on(Hls.Events.LEVEL_SWITCHED, renderQualityLabel);
    hls.on(Hls.Events.ERROR, onHlsError);
    hls.attachMedia(el.video);
    hls.loadSource(url);
  } else if (el.video.canPlayType('application/vnd.apple.mpegurl')) {
    // Safari and iOS: native HLS cannot send headers; the HLS server rewrites every URI
    // of a playlist requested with ?__token= to carry it.
    el.video.src = `${url}${url.includes('?') ? '&' : '?'}__token=${encodeURIComponent(session.token)}`;
    if (startAt > 0) el.video.addEventListener('loadedmetadata', () => { el.video.currentTime = startAt; }, { once: true });
    el.quality.hidden = true;
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
function renewNativeSource() {
  if (hls || !session || state === 'overlay' || !el.video.getAttribute('src')) return;
  const wasPaused = el.video.paused;
  const at = !isLiveStream && Number.isFinite(el.video.currentTime) ? el.video.currentTime : -1;
  loadSource(at, { play: !wasPaused });
}

function destroyHls() {
  if (hls) {
    hls.destroy();
    hls = null;
  }
}

function stopPlayback() {
  window.clearTimeout(retryTimer);
  retryTimer = 0;
  destroyHls();
  try { el.video.pause(); } catch { /* nothing to pause */ }
  if (el.video.getAttribute('src') !== null || el.video.srcObject) {
    el.video.removeAttribute('src');
    el.video.load();
  }
  closeQualityMenu();
  setSpinner(false);
  hidePanels();
}

function onManifestParsed() {
  buildQualityMenu();
  tryPlay();
}

async function tryPlay() {
  try {
    await el.video.play();
  } catch (e) {
    if (e && e.name === 'NotAllowedError' && !el.video.muted) {
      // Autoplay with sound was refused (no click on this page yet): play muted.
      el.video.muted = true;
      el.unmuteHint.hidden = false;
      try { await el.video.play(); } catch { /* the play button is there */ }
    }
  }
}

el.unmuteHint.addEventListener('click', () => {
  el.video.muted = false;
  el.unmuteHint.hidden = true;
  storageSet(localStorage, STORE_MUTED, '0');
});

/** hls.js errors: 401/403 from the gate -> one refresh; network -> bounded retries. */
function onHlsError(_event, data) {
  if (!session || !hls) return;
  const Hls = window.Hls;
  const status = data.response && data.response.code;
  if (status === 401 || status === 403) {
    handleDenied();
    return;
  }
  if (!data.fatal) return;
  if (data.type === Hls.ErrorTypes.NETWORK_ERROR) {
    reconnect();
  } else if (data.type === Hls.ErrorTypes.MEDIA_ERROR && mediaRecoveries < 2) {
    mediaRecoveries += 1;
    if (mediaRecoveries === 2) hls.swapAudioCodec();
    hls.recoverMediaError();
  } else {
    showError('The video could not be decoded.');
  }
}

el.video.addEventListener('error', () => {
  // Native HLS (no hls.js): a failed request shows up here without a status, so ask the
  // platform whether the session is still good, then retry a bounded number of times.
  if (!session || hls || state === 'overlay') return;
  if (!el.video.getAttribute('src')) return;
  handleDenied();
});

/** The gate refused a request: refresh once and go on, or show why it ended. */
function handleDenied() {
  if (deniedRefresh) return;
  if (Date.now() - lastDeniedRefreshAt < 20_000) {
    // Refused again right after a good refresh: do not loop on the refresh budget.
    reconnect();
    return;
  }
  const mine = session;
  deniedRefresh = refreshToken(false).then((ok) => {
    deniedRefresh = null;
    if (session !== mine || state === 'overlay') return;
    if (ok) {
      // The new token is in place: carry on from here with it.
      lastDeniedRefreshAt = Date.now();
      resumeFromHere();
    } else {
      // No answer that ends the session (offline, rate limited): bounded retries.
      reconnect();
    }
  });
}

function reconnect() {
  if (!session || state === 'overlay') return;
  if (networkRetries >= MAX_NETWORK_RETRIES) {
    showError('The connection to the stream was lost.');
    return;
  }
  networkRetries += 1;
  const delay = RETRY_BASE_MS * 2 ** (networkRetries - 1);
  el.reconnectText.textContent = `Connection lost — reconnecting (attempt ${networkRetries} of ${MAX_NETWORK_RETRIES})…`;
  el.reconnect.hidden = false;
  setSpinner(false);
  window.clearTimeout(retryTimer);
  retryTimer = window.setTimeout(async () => {
    retryTimer = 0;
    if (!session) return;
    // Before trying again, make sure there is still a session to play for.
    const mine = session;
    try {
      const res = await authorized('/api/playback/heartbeat');
      if (session !== mine) return;
      if (!res.ok && res.status !== 429 && res.status < 500) {
        const body = await readJson(res);
        if (res.status === 401) {
          if (!(await refreshToken(false))) return;
        } else if (endedBy(res, body)) {
          return;
        }
      }
    } catch { /* still offline: try the stream anyway */ }
    if (session === mine) resumeFromHere();
  }, delay);
}

function resumeFromHere() {
  const at = !isLiveStream && Number.isFinite(el.video.currentTime) ? el.video.currentTime : -1;
  el.reconnect.hidden = true;
  setSpinner(true);
  loadSource(at);
}

function showError(text) {
  destroyHls();
  setSpinner(false);
  el.reconnect.hidden = true;
  el.errorText.textContent = text;
  el.errorPanel.hidden = false;
  el.retry.focus();
}

el.retry.addEventListener('click', () => {
  networkRetries = 0;
  mediaRecoveries = 0;
  el.errorPanel.hidden = true;
  setSpinner(true);
  loadSource();
});

function hidePanels() {
  el.reconnect.hidden = true;
  el.errorPanel.hidden = true;
  el.unmuteHint.hidden = true;
}

function setSpinner(on) {
  el.spinner.hidden = !on;
  el.stage.setAttribute('aria-busy', on ? 'true' : 'false');
}

function renderBadge() {
  el.badge.dataset.kind = isLiveStream ? 'live' : 'recording';
  el.badge.textContent = isLiveStream ? 'Live' : 'Recording';
  el.seekRow.hidden = isLiveStream;
  el.player.classList.toggle('is-live', isLiveStream);
  renderTime();
}

// Video element events drive the spinner, the state and the controls.
const video = el.video;
video.addEventListener('playing', () => {
  if (!session) return;
  setSpinner(false);
  el.reconnect.hidden = true;
  networkRetries = 0;
  if (state !== 'playing') announce('Playing');
  setState('playing');
  renderPlay();
  armIdle();
});
video.addEventListener('waiting', () => { if (session) setSpinner(true); });
video.addEventListener('seeking', () => { if (session) setSpinner(true); });
video.addEventListener('seeked', () => { if (!video.paused) setSpinner(false); });
video.addEventListener('canplay', () => { if (video.paused) setSpinner(false); });
video.addEventListener('pause', () => { renderPlay(); showControls(); });
video.addEventListener('play', renderPlay);
video.addEventListener('timeupdate', renderTime);
video.addEventListener('durationchange', renderTime);
video.addEventListener('volumechange', () => {
  renderVolume();
  if (!video.muted) el.unmuteHint.hidden = true;
});

function renderPlay() {
  const paused = video.paused;
  el.play.setAttribute('aria-label', paused ? 'Play' : 'Pause');
  el.play.title = paused ? 'Play (Space)' : 'Pause (Space)';
  el.play.classList.toggle('is-paused', paused);
}

function renderTime() {
  const t = video.currentTime || 0;
  const d = video.duration;
  if (isLiveStream || !Number.isFinite(d)) {
    el.time.textContent = formatClock(t);
    el.time.setAttribute('aria-label', `Position ${spokenDuration(t)}`);
  } else {
    el.time.textContent = `${formatClock(t)} / ${formatClock(d)}`;
    el.time.setAttribute('aria-label', `${spokenDuration(t)} of ${spokenDuration(d)}`);
    if (!seekDragging) {
      el.seek.max = String(d);
      el.seek.value = String(t);
    }
    el.seek.setAttribute('aria-valuetext', `${formatClock(t)} of ${formatClock(d)}`);
    el.seek.style.setProperty('--progress', `${d > 0 ? (t / d) * 100 : 0}%`);
  }
}

let seekDragging = false;
el.seek.addEventListener('input', () => {
  seekDragging = true;
  video.currentTime = Number(el.seek.value);
});
el.seek.addEventListener('change', () => { seekDragging = false; });

function togglePlay() {
  if (video.paused) tryPlay();
  else video.pause();
}
el.play.addEventListener('click', togglePlay);
// A mouse click on the picture plays or pauses, as on desktop players. A tap does what
// phone players do: it shows the controls when they are hidden and hides them when
// they are shown, never pausing by surprise; on a paused video it plays.
let tapFoundIdle = false;
video.addEventListener('click', () => {
  if (lastPointer !== 'touch' && lastPointer !== 'pen') { togglePlay(); return; }
  if (video.paused) tryPlay();
  else if (tapFoundIdle) showControls();
  else hideControls();
});

// Volume and mute, remembered across visits.
function restoreVolume() {
  const v = Number(storageGet(localStorage, STORE_VOLUME));
  if (storageGet(localStorage, STORE_VOLUME) !== null && Number.isFinite(v)) video.volume = Math.min(1, Math.max(0, v));
  video.muted = storageGet(localStorage, STORE_MUTED) === '1';
  renderVolume();
}

function renderVolume() {
  const level = video.muted ? 0 : video.volume;
  el.volume.value = String(level);
  el.volume.setAttribute('aria-valuetext', video.muted ? 'Muted' : `${Math.round(video.volume * 100)}%`);
  el.volume.style.setProperty('--progress', `${level * 100}%`);
  el.mute.setAttribute('aria-label', video.muted ? 'Unmute' : 'Mute');
  el.mute.title = video.muted ? 'Unmute (M)' : 'Mute (M)';
  el.mute.dataset.level = video.muted || level === 0 ? 'muted' : level < 0.5 ? 'low' : 'high';
}

function setVolume(v) {
  video.volume = Math.min(1, Math.max(0, Math.round(v * 100) / 100));
  video.muted = video.volume === 0;
  storageSet(localStorage, STORE_VOLUME, String(video.volume));
  storageSet(localStorage, STORE_MUTED, video.muted ? '1' : '0');
}

function toggleMute() {
  video.muted = !video.muted;
  if (!video.muted && video.volume === 0) video.volume = 0.5;
  storageSet(localStorage, STORE_MUTED, video.muted ? '1' : '0');
  announce(video.muted ? 'Muted' : 'Sound on');
}
el.mute.addEventListener('click', toggleMute);
el.volume.addEventListener('input', () => setVolume(Number(el.volume.value)));

// Full screen (the stage, so our controls stay; iOS only has the video's own).
function toggleFullscreen() {
  if (document.fullscreenElement) {
    document.exitFullscreen().catch(() => {});
  } else if (el.stage.requestFullscreen) {
    el.stage.requestFullscreen().catch(() => {});
  } else if (video.webkitEnterFullscreen) {
    video.webkitEnterFullscreen();
  }
}
el.fullscreen.addEventListener('click', toggleFullscreen);
document.addEventListener('fullscreenchange', () => {
  const on = document.fullscreenElement === el.stage;
  el.fullscreen.setAttribute('aria-label', on ? 'Exit full screen' : 'Full screen');
  el.fullscreen.title = on ? 'Exit full screen (F)' : 'Full screen (F)';
  el.stage.classList.toggle('is-fullscreen', on);
});
if (!document.fullscreenEnabled && !video.webkitEnterFullscreen) el.fullscreen.hidden = true;

// Picture-in-picture, where the browser has it.
if (document.pictureInPictureEnabled && !video.disablePictureInPicture) {
  el.pip.hidden = false;
  el.pip.addEventListener('click', async () => {
    try {
      if (document.pictureInPictureElement) await document.exitPictureInPicture();
      else await video.requestPictureInPicture();
    } catch { /* refused (no video yet): nothing to do */ }
  });
}

// Quality: Auto plus each rendition hls.js found.
function levelName(level) {
  if (level.height) return `${level.height}p`;
  if (level.bitrate) return `${Math.round(level.bitrate / 1000)} kbit/s`;
  return 'Stream';
}

function buildQualityMenu() {
  el.qualityMenu.replaceChildren();
  if (!hls || !hls.levels || hls.levels.length < 1) {
    el.quality.hidden = true;
    return;
  }
  const entries = [{ index: -1, label: 'Auto' }];
  hls.levels
    .map((level, index) => ({ index, label: levelName(level), height: level.height || 0, bitrate: level.bitrate || 0 }))
    .sort((a, b) => b.height - a.height || b.bitrate - a.bitrate)
    .forEach((e) => entries.push(e));
  for (const entry of entries) {
    const li = document.createElement('li');
    li.setAttribute('role', 'none');
    const btn = document.createElement('button');
    btn.type = 'button';
    btn.setAttribute('role', 'menuitemradio');
    btn.dataset.level = String(entry.index);
    btn.textContent = entry.label;
    btn.addEventListener('click', () => {
      if (hls) hls.currentLevel = entry.index;
      renderQualityLabel();
      closeQualityMenu(true);
    });
    li.append(btn);
    el.qualityMenu.append(li);
  }
  el.quality.hidden = false;
  renderQualityLabel();
}

function renderQualityLabel() {
  if (!hls) return;
  const auto = hls.autoLevelEnabled;
  const current = hls.levels[hls.currentLevel];
  const name = current ? levelName(current) : '';
  // "Auto (360p)" on wide screens; on a phone only "360p" beside the gear, on one line.
  if (auto && name) {
    el.qualityLabel.replaceChildren(
      Object.assign(document.createElement('span'), { className: 'label-long', textContent: 'Auto (' }),
      name,
      Object.assign(document.createElement('span'), { className: 'label-long', textContent: ')' }));
  } else {
    el.qualityLabel.textContent = auto ? 'Auto' : name;
  }
  el.quality.setAttribute('aria-label', `Quality: ${auto ? (name ? `Auto (${name})` : 'Auto') : name}`);
  const manual = hls.manualLevel;
  for (const btn of el.qualityMenu.querySelectorAll('button')) {
    const idx = Number(btn.dataset.level);
    btn.setAttribute('aria-checked', String(auto ? idx === -1 : idx === manual));
  }
}

function menuItems() { return Array.from(el.qualityMenu.querySelectorAll('button')); }

function openQualityMenu() {
  el.qualityMenu.hidden = false;
  el.quality.setAttribute('aria-expanded', 'true');
  showControls();
  const items = menuItems();
  (items.find((b) => b.getAttribute('aria-checked') === 'true') || items[0])?.focus();
}

function closeQualityMenu(focusButton) {
  if (el.qualityMenu.hidden) return;
  el.qualityMenu.hidden = true;
  el.quality.setAttribute('aria-expanded', 'false');
  if (focusButton) el.quality.focus();
}

el.quality.addEventListener('click', () => {
  if (el.qualityMenu.hidden) openQualityMenu();
  else closeQualityMenu(true);
});
el.qualityMenu.addEventListener('keydown', (e) => {
  const items = menuItems();
  const i = items.indexOf(document.activeElement);
  if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
    e.preventDefault();
    e.stopPropagation();
    const next = (i + (e.key === 'ArrowDown' ? 1 : -1) + items.length) % items.length;
    items[next].focus();
  } else if (e.key === 'Home' || e.key === 'End') {
    e.preventDefault();
    items[e.key === 'Home' ? 0 : items.length - 1].focus();
  } else if (e.key === 'Escape') {
    e.preventDefault();
    e.stopPropagation();
    closeQualityMenu(true);
  } else if (e.key === 'Tab') {
    closeQualityMenu(false);
  }
});
document.addEventListener('click', (e) => {
  if (!el.qualityMenu.hidden && !e.target.closest('.menu-wrap')) closeQualityMenu(false);
});

// Controls fade out while the video plays and nobody moves.
function showControls() {
  el.stage.classList.remove('is-idle');
  armIdle();
}
function armIdle() {
  window.clearTimeout(idleTimer);
  idleTimer = window.setTimeout(() => {
    // A keyboard user's focus in the controls keeps them; a tapped button's does not.
    if (!video.paused && el.qualityMenu.hidden && !el.controls.querySelector(':focus-visible')) {
      el.stage.classList.add('is-idle');
    }
  }, CONTROLS_IDLE_MS);
}
function hideControls() {
  window.clearTimeout(idleTimer);
  if (!video.paused && el.qualityMenu.hidden) el.stage.classList.add('is-idle');
}
el.stage.addEventListener('pointermove', (e) => { if (e.pointerType === 'mouse') showControls(); });
el.stage.addEventListener('pointerdown', (e) => {
  tapFoundIdle = el.stage.classList.contains('is-idle');
  // A tap on hidden controls must not reach the button under the finger: they come
  // back on the tap's click (on the picture), not while it is still being pressed.
  if (e.pointerType === 'touch' || e.pointerType === 'pen') {
    if (!tapFoundIdle) armIdle();
    return;
  }
  showControls();
});
el.stage.addEventListener('focusin', showControls);

// Keyboard: Space, F, M, arrows, Esc (not while typing in a field).
document.addEventListener('keydown', (e) => {
  if (state !== 'playing' && state !== 'loading') return;
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  const tag = t && t.tagName;
  if (tag === 'INPUT' && t.type !== 'range') return;
  if (tag === 'TEXTAREA' || tag === 'SELECT' || (t && t.isContentEditable)) return;
  if (t && t.closest && t.closest('#quality-menu')) return;
  const onButton = tag === 'BUTTON';
  const onRange = tag === 'INPUT' && t.type === 'range';
  let handled = true;
  switch (e.key) {
    case ' ':
    case 'Spacebar':
    case 'k':
    case 'K':
      if (onButton && e.key !== 'k' && e.key !== 'K') { handled = false; break; } // the button's own action
      togglePlay();
      break;
    case 'f':
    case 'F':
      toggleFullscreen();
      break;
    case 'm':
    case 'M':
      toggleMute();
      break;
    case 'ArrowLeft':
    case 'ArrowRight':
      if (onRange || isLiveStream || !Number.isFinite(video.duration)) { handled = false; break; }
      video.currentTime = Math.min(video.duration, Math.max(0, video.currentTime + (e.key === 'ArrowRight' ? SEEK_STEP_S : -SEEK_STEP_S)));
      announce(`${formatClock(video.currentTime)} of ${formatClock(video.duration)}`);
      break;
    case 'ArrowUp':
    case 'ArrowDown':
      if (onRange) { handled = false; break; }
      setVolume((video.muted ? 0 : video.volume) + (e.key === 'ArrowUp' ? VOLUME_STEP : -VOLUME_STEP));
      announce(`Volume ${Math.round(video.volume * 100)}%`);
      break;
    case 'Escape':
      if (!el.qualityMenu.hidden) closeQualityMenu(true);
      else if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
      else handled = false;
      break;
    default:
      handled = false;
  }
  if (handled) {
    e.preventDefault();
    showControls();
  }
});

// ---------------------------------------------------------------------------------------
// Start

renderVolume();
renderPlay();
const remembered = storageGet(sessionStorage, STORE_CODE);
if (remembered) {
  // A reload of this tab: the code is filled in again (the old session was released on
  // the way out); one press of Watch carries on.
  el.input.value = remembered;
  setMessage('info', 'Welcome back — press Watch to carry on.');
  el.submit.focus();
} else {
  el.input.focus();
}
