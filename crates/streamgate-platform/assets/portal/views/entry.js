// @ts-check
// StreamGate viewer portal: the code entry screen. What users paste is cleaned up
// (spaces and dashes inside a code are fine); the API's answer becomes a message tiered
// by what went wrong, and a rate limit a countdown before the next try.

import { validateCode } from '../api.js';
import { STORE_CODE, show, storageSet, ui } from '../dom.js';
import { endSession, startSession, timers } from '../session.js';
import { app, setState } from '../state.js';
import { readJson, retryAfterSeconds } from '../../shared/http.js';

const REVOKED = 'Access code has been revoked';

/** @type {Record<string, string>} */
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

/**
 * What users paste: surrounding space, spaces and dashes inside ("AB3D-EF9H-JK2M").
 * @param {unknown} raw
 */
export function normalizeCode(raw) {
  return String(raw || '').trim().replace(/[\s\u00a0\-\u2010-\u2015\u2212_.]+/g, '');
}

/**
 * The line under the code field: `kind` names a message (or "info" / "" with `text`).
 * @param {string} kind
 * @param {string} [text]
 */
export function setMessage(kind, text) {
  ui.message.dataset.kind = kind || '';
  ui.message.textContent = text ?? (MESSAGES[kind] || '');
  ui.message.classList.toggle('is-error', Boolean(kind) && kind !== 'info');
  if (kind && kind !== 'info') ui.input.setAttribute('aria-invalid', 'true');
  else ui.input.removeAttribute('aria-invalid');
}

/** @param {boolean} busy */
function setBusy(busy) {
  app.submitting = busy;
  ui.submit.classList.toggle('is-busy', busy);
  ui.submit.setAttribute('aria-busy', busy ? 'true' : 'false');
  ui.submitLabel.textContent = busy ? 'Checking…' : 'Watch';
  ui.submit.disabled = busy || timers.running('rateLimit');
}

/** @param {number} seconds */
function startRateLimitCountdown(seconds) {
  let left = seconds;
  const render = () => {
    setMessage('rate-limited', `Too many attempts in a short time. Please wait ${left} second${left === 1 ? '' : 's'} and try again.`);
  };
  render();
  ui.submit.disabled = true;
  timers.every('rateLimit', 1000, () => {
    left -= 1;
    if (left <= 0) {
      timers.clear('rateLimit');
      ui.submit.disabled = app.submitting;
      setMessage('info', 'You can try again now.');
      return;
    }
    render();
  });
}

/** @param {string} code */
async function redeem(code) {
  setBusy(true);
  setMessage('info', 'Checking your code…');
  let res;
  try {
    res = await validateCode(code);
  } catch {
    setBusy(false);
    setMessage('network');
    return;
  }
  const body = (await readJson(res)) ?? {};
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
    case 429: startRateLimitCountdown(retryAfterSeconds(res) ?? 30); break;
    default: setMessage(res.status >= 500 ? 'server' : 'network');
  }
  ui.input.focus();
  ui.input.select();
}

/**
 * Back to the code entry, with `code` filled in (and selected) when given.
 * @param {string} code
 */
export function backToEntry(code) {
  show(ui.entry);
  setState('entry');
  ui.input.value = code || '';
  setMessage('', '');
  ui.input.focus();
  if (code) ui.input.select();
}

/** Wires the code form and "Use a different code". */
export function initEntry() {
  ui.input.addEventListener('input', (e) => {
    const kind = e instanceof InputEvent ? e.inputType : '';
    if (kind === 'insertFromPaste' || kind === 'insertFromDrop') {
      const clean = normalizeCode(ui.input.value);
      if (clean !== ui.input.value) ui.input.value = clean;
    }
  });
  ui.form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (app.submitting || timers.running('rateLimit')) return;
    const code = normalizeCode(ui.input.value);
    ui.input.value = code;
    if (!code) {
      setMessage('required');
      ui.input.focus();
      return;
    }
    redeem(code);
  });
  ui.leave.addEventListener('click', () => {
    endSession({ release: true });
    storageSet(sessionStorage, STORE_CODE, null);
    backToEntry('');
    setMessage('info', 'You left the stream. Your code is free to use again.');
  });
}
