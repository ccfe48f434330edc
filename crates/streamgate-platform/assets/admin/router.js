// @ts-check
// StreamGate admin console: the hash router (#/events/<id>?page=2) and the state every
// view checks. A view renders asynchronously; `startView` hands it `alive()`, which
// turns false as soon as the organiser navigates on or signs out, so a late answer never
// draws into the next page.

import { API, get, qs } from './api.js';
import { $, $$, h, maybe$ } from './dom.js';
import { showError } from './messages.js';
import { renderAudit } from './views/audit.js';
import { renderCodes } from './views/codes.js';
import { renderConfig } from './views/config.js';
import { renderDashboard } from './views/dashboard.js';
import { renderEventDetail } from './views/event-detail.js';
import { renderEvents } from './views/events.js';

/** Whether an admin session is open (set by the login view). */
let signedIn = false;
/** Bumped on every navigation and sign-out; stale async renders compare it. */
let viewToken = 0;

/**
 * Records whether an admin session is open; signing out ends the current view.
 * @param {boolean} yes
 */
export function setSignedIn(yes) {
  signedIn = yes;
  if (!yes) viewToken++;
}

/** Whether an admin session is open. */
export function isSignedIn() {
  return signedIn;
}

/** The path segments and query of the hash (#/dashboard when it names none). */
export function parseHash() {
  const raw = location.hash.startsWith('#/') ? location.hash.slice(1) : '/dashboard';
  const [path, query] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
  return { parts, params: new URLSearchParams(query || '') };
}

/**
 * Updates the query part of the hash without triggering a re-render.
 * @param {Record<string, string | number | null | undefined>} params
 */
export function replaceParams(params) {
  const { parts } = parseHash();
  const base = `#/${parts.map(encodeURIComponent).join('/')}`;
  history.replaceState(null, '', base + qs(params));
}

/** @param {string} name */
function setActiveNav(name) {
  for (const a of $$('#mainnav a[data-nav]')) {
    if (a.dataset.nav === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

/**
 * Starts a view: the page title, the current nav entry, an empty #view, and `alive()`.
 * @param {string} title
 * @param {string} navName
 * @returns {{ view: HTMLElement, alive: () => boolean }}
 */
export function startView(title, navName) {
  const token = ++viewToken;
  document.title = `${title} — StreamGate admin`;
  setActiveNav(navName);
  const view = $('#view');
  view.replaceChildren();
  return { view, alive: () => token === viewToken && signedIn };
}

/**
 * The view's heading (focused after a navigation) and what stands beside it.
 * @param {string} text
 * @param {...import('./dom.js').Child} extra
 */
export function viewHeading(text, ...extra) {
  return h('div', { class: 'view-head' },
    h('h1', { id: 'view-title', tabindex: '-1', 'data-testid': 'view-title' }, text), ...extra);
}

/**
 * A refused config edit means the running configuration is not what the file says:
 * every page shows it, with the first problem's file:line:column, until it is fixed.
 */
export async function refreshConfigBanner() {
  const banner = $('#config-banner');
  let c;
  try {
    c = await get(`${API}/config`);
  } catch {
    return;
  }
  const err = c && c.lastError;
  const nav = maybe$('#mainnav a[data-nav="config"]');
  if (!err) {
    banner.hidden = true;
    banner.replaceChildren();
    nav?.classList.remove('nav-alert');
    return;
  }
  banner.replaceChildren(
    h('strong', null, 'A change to the configuration was refused. '),
    'The last good configuration is still running. ',
    h('span', { class: 'mono break', 'data-testid': 'config-banner-problem' }, err.summary || err.message),
    ' ',
    h('a', { href: '#/config' }, 'Details'));
  banner.hidden = false;
  nav?.classList.add('nav-alert');
}

/**
 * Renders the view the hash names; `focusHeading` after a navigation, so screen
 * readers and keyboard users start at the new page's heading.
 * @param {boolean} [focusHeading]
 */
export async function route(focusHeading = false) {
  if (!signedIn) return;
  refreshConfigBanner();
  const { parts, params } = parseHash();
  try {
    switch (parts[0]) {
      case 'events':
        if (parts[1]) await renderEventDetail(parts[1]);
        else await renderEvents(params);
        break;
      case 'codes': await renderCodes(params); break;
      case 'config': await renderConfig(); break;
      case 'audit': await renderAudit(params); break;
      case 'dashboard':
      default: await renderDashboard(); break;
    }
  } catch (ex) {
    showError(ex);
  }
  if (focusHeading) maybe$('#view-title')?.focus({ preventScroll: false });
}
