// @ts-check
// StreamGate admin console: signing in and out. The page's own sign-in form
// (#login-view) stands in for the console until the password is accepted; an expired
// session brings it back with a message.

import { API, ApiError, post } from '../api.js';
import { $ } from '../dom.js';
import { clearFlash, flash, showError } from '../messages.js';
import { isSignedIn, route, setSignedIn } from '../router.js';
import { retryAfterSeconds } from '../../shared/http.js';

/**
 * Shows the sign-in form, with `message` (why) when given.
 * @param {string} [message]
 */
export function showLogin(message) {
  setSignedIn(false);
  $('#boot').hidden = true;
  $('#view').hidden = true;
  $('#view').replaceChildren();
  $('#mainnav').hidden = true;
  $('#login-view').hidden = false;
  const err = $('#login-error');
  if (message) {
    err.textContent = message;
    err.hidden = false;
  } else {
    err.textContent = '';
    err.hidden = true;
  }
  document.title = 'Sign in — StreamGate admin';
  const pw = $('#login-password', HTMLInputElement);
  pw.value = '';
  pw.focus();
}

/** The API said 401: the session is over, sign in again. */
export function sessionEnded() {
  if (!isSignedIn() && !$('#login-view').hidden) return;
  clearFlash();
  showLogin('Your session has ended. Please sign in again.');
}

/** Shows the console around the views (after sign-in, or with a session at boot). */
export function showShell() {
  $('#boot').hidden = true;
  $('#login-view').hidden = true;
  $('#mainnav').hidden = false;
  $('#view').hidden = false;
}

/**
 * What the sign-in form says when the password is refused.
 * @param {unknown} ex
 */
function loginError(ex) {
  if (!(ex instanceof ApiError)) return ex instanceof Error ? ex.message : String(ex);
  if (ex.status === 401) return 'Invalid password.';
  if (ex.status === 429) {
    const secs = ex.response ? retryAfterSeconds(ex.response) : null;
    return secs !== null
      ? `Too many sign-in attempts. Try again in ${secs} second${secs === 1 ? '' : 's'}.`
      : 'Too many sign-in attempts. Wait a minute and try again.';
  }
  if (ex.status === 503) {
    return `Admin sign-in is not configured on this server (no admin password is set). ${ex.message}`;
  }
  return ex.message;
}

/** @param {SubmitEvent} e */
export async function onLogin(e) {
  e.preventDefault();
  const pw = $('#login-password', HTMLInputElement);
  const err = $('#login-error');
  const btn = $('#login-submit', HTMLButtonElement);
  err.hidden = true;
  if (!pw.value) {
    err.textContent = 'Enter the admin password.';
    err.hidden = false;
    pw.focus();
    return;
  }
  btn.disabled = true;
  btn.textContent = 'Signing in…';
  try {
    await post(`${API}/login`, { password: pw.value });
    setSignedIn(true);
    pw.value = '';
    clearFlash();
    showShell();
    if (!location.hash.startsWith('#/')) history.replaceState(null, '', '#/dashboard');
    route(true);
  } catch (ex) {
    err.textContent = loginError(ex);
    err.hidden = false;
    pw.select();
    pw.focus();
  } finally {
    btn.disabled = false;
    btn.textContent = 'Sign in';
  }
}

/** Ends the session on the server and shows the sign-in form. */
export async function onLogout() {
  try {
    await post(`${API}/logout`, {});
  } catch (ex) {
    if (!(ex instanceof ApiError && ex.handled)) showError(ex);
  }
  clearFlash();
  history.replaceState(null, '', '#/dashboard');
  showLogin();
  flash('You have been logged out.', 'info');
}
