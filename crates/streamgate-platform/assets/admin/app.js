// @ts-check
// StreamGate admin console. Plain ES modules, no build step, no dependencies: this file
// starts the console; router.js picks the view for the hash, views/*.js draw them,
// api.js talks to the admin API, dom.js, format.js and messages.js are what the views
// share, and ../shared/ holds what the viewer portal shares too.
// Served under a strict CSP: no inline scripts or styles, no eval. All DOM is built with
// createElement/textContent (never innerHTML with data from the API).

import { API, ApiError, api, onSessionEnded } from './api.js';
import { $, maybe$ } from './dom.js';
import { clearFlashIfStale } from './messages.js';
import { isSignedIn, refreshConfigBanner, route, setSignedIn } from './router.js';
import { onLogin, onLogout, sessionEnded, showLogin, showShell } from './views/login.js';

/** How often the config banner is re-checked while a page stays open. */
const CONFIG_BANNER_POLL_MS = 5000;

/** Wires the page and opens the view the hash names, or the sign-in form. */
async function boot() {
  onSessionEnded(sessionEnded);
  setInterval(() => { if (isSignedIn() && !document.hidden) refreshConfigBanner(); }, CONFIG_BANNER_POLL_MS);
  $('#login-form').addEventListener('submit', (e) => onLogin(/** @type {SubmitEvent} */ (e)));
  $('#logout').addEventListener('click', onLogout);
  $('#skip-link').addEventListener('click', (e) => {
    e.preventDefault();
    const title = maybe$('#view-title');
    const target = title && !$('#view').hidden ? title : $('#main');
    target.focus();
  });
  window.addEventListener('hashchange', () => {
    if (!location.hash.startsWith('#/')) return;
    // Messages belong to the page they were shown on, except those flagged to survive
    // the navigation their action caused.
    clearFlashIfStale();
    route(true);
  });

  try {
    await api('GET', `${API}/session`);
  } catch (ex) {
    if (ex instanceof ApiError && ex.status === 401) { showLogin(); return; }
    $('#boot').textContent = `Cannot load the console: ${ex instanceof Error ? ex.message : String(ex)}`;
    return;
  }
  setSignedIn(true);
  showShell();
  if (!location.hash.startsWith('#/')) history.replaceState(null, '', '#/dashboard');
  route(false);
}

boot();
