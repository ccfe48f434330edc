// StreamGate admin console. Plain ES module, no build step, no dependencies.
// Served under a strict CSP: no inline scripts or styles, no eval. All DOM is built with
// createElement/textContent (never innerHTML with data from the API).

import { audiencePanel, viewersNowCard } from './analytics.js';
import { ingestPanel } from './ingest.js';
import { streamPanel } from './stream.js';

const API = '/api/admin';
const CODE_STATUSES = ['unused', 'redeemed', 'active', 'expired', 'revoked'];
const EVENT_FILTERS = [
  ['current', 'Current (not archived)'],
  ['active', 'Active'],
  ['inactive', 'Inactive'],
  ['upcoming', 'Upcoming'],
  ['live', 'On now (by schedule)'],
  ['past', 'Past'],
  ['archived', 'Archived'],
  ['all', 'All'],
];
const EVENT_SORTS = [
  ['startsAt', 'Start time (earliest first)'],
  ['-startsAt', 'Start time (latest first)'],
  ['title', 'Title (A–Z)'],
  ['-title', 'Title (Z–A)'],
  ['createdAt', 'Created (oldest first)'],
  ['-createdAt', 'Created (newest first)'],
];
const READ_ONLY_TEXT = 'Managed by streamgate.toml — read-only';

// ---------------------------------------------------------------------------------------
// Small DOM helpers

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'text') el.textContent = v;
      else if (k === 'value') el.value = v;
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
  }
  appendAll(el, children);
  return el;
}

function appendAll(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replace the children of `container`, keeping keyboard focus on the "same" control
 *  (matched by id or data-focus-key) when it is re-created. */
function replaceKeepingFocus(container, ...children) {
  const active = document.activeElement;
  let key = null;
  if (active && container.contains(active)) {
    if (active.dataset.focusKey) key = `[data-focus-key="${CSS.escape(active.dataset.focusKey)}"]`;
    else if (active.id) key = `#${CSS.escape(active.id)}`;
  }
  container.replaceChildren();
  appendAll(container, children);
  if (key) {
    const again = container.querySelector(key);
    if (again && !again.disabled) again.focus();
    else (container.closest('section')?.querySelector('h2[tabindex]') || $('#view-title'))?.focus();
  }
}

function field(id, labelText, input, hint) {
  const hintId = hint ? `${id}-hint` : null;
  if (hintId) input.setAttribute('aria-describedby', hintId);
  return h('div', { class: 'field' },
    h('label', { for: id }, labelText),
    input,
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null);
}

function selectEl(id, options, value, attrs = {}) {
  return h('select', { id, name: id, ...attrs },
    options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
}

function badge(text, kind, attrs = {}) {
  return h('span', { class: `badge badge-${kind}`, ...attrs }, text);
}

function tableWrap(label, table) {
  // A focusable, labelled scroll container so keyboard users can scroll wide tables.
  return h('div', { class: 'table-wrap', role: 'region', 'aria-label': label, tabindex: '0' }, table);
}

/** A header row; a column is "Text" or ["Text", "class"]. */
function headRow(cols) {
  return h('thead', null, h('tr', null, cols.map((c) => (Array.isArray(c)
    ? h('th', { scope: 'col', class: c[1] }, c[0])
    : h('th', { scope: 'col' }, c)))));
}

function emptyRow(colspan, text) {
  return h('tr', { class: 'empty-row' }, h('td', { colspan }, text));
}

// ---------------------------------------------------------------------------------------
// Formatting

const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const relFmt = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

const dateSecFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

function fmtTime(iso, fmt = dateFmt) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return h('time', { datetime: iso, title: iso }, fmt.format(d));
}

function relTime(iso) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const secs = Math.round((t - Date.now()) / 1000);
  const abs = Math.abs(secs);
  if (abs < 60) return relFmt.format(secs, 'second');
  if (abs < 3600) return relFmt.format(Math.round(secs / 60), 'minute');
  if (abs < 86400) return relFmt.format(Math.round(secs / 3600), 'hour');
  return relFmt.format(Math.round(secs / 86400), 'day');
}

function fmtAgo(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

function fmtNum(n) {
  return typeof n === 'number' ? n.toLocaleString() : (n ?? '—');
}

/** "2026-11-26T10:00" (local, from <input type=datetime-local>) -> "2026-11-26T09:00:00Z". */
function localInputToRfc3339(value) {
  if (!value) return null;
  const d = new Date(value); // parsed as local time
  if (Number.isNaN(d.getTime())) return null;
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** RFC 3339 -> the local "YYYY-MM-DDTHH:MM" a datetime-local input wants. */
function rfc3339ToLocalInput(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function eventPhase(ev) {
  const now = Date.now();
  if (now < Date.parse(ev.startsAt)) return 'upcoming';
  if (now >= Date.parse(ev.endsAt)) return 'past';
  return 'live';
}

function eventBadges(ev) {
  const phase = eventPhase(ev);
  const out = [];
  if (ev.isArchived) out.push(badge('Archived', 'muted'));
  else if (!ev.isActive) out.push(badge('Inactive', 'warn'));
  // "Live" and "Recording" are what the player shows about the stream itself (a live
  // playlist, or one with an end); the schedule's phase is "On now" so the two never disagree.
  if (phase === 'live') out.push(badge(ev.isActive && !ev.isArchived ? 'On now' : 'Scheduled now', ev.isActive && !ev.isArchived ? 'live' : 'muted'));
  else if (phase === 'upcoming') out.push(badge('Upcoming', 'info'));
  else out.push(badge('Ended', 'muted'));
  if (ev.readOnly) out.push(badge('Config', 'config', { title: READ_ONLY_TEXT }));
  return out;
}

function statusBadge(status) {
  const kinds = { unused: 'info', redeemed: 'ok', active: 'live', expired: 'muted', revoked: 'danger' };
  return badge(status, `${kinds[status] || 'muted'} badge-cap`, { 'data-status': status });
}

// ---------------------------------------------------------------------------------------
// API

class ApiError extends Error {
  constructor(status, message, data, response) {
    super(message);
    this.status = status;
    this.data = data;
    this.response = response;
  }
}

async function api(method, path, body) {
  const opts = { method, credentials: 'same-origin', headers: { Accept: 'application/json' }, cache: 'no-store' };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch (e) {
    throw new ApiError(0, 'Cannot reach the server. Check your connection and try again.', null, null);
  }
  let data = null;
  const ct = res.headers.get('content-type') || '';
  if (ct.includes('json')) data = await res.json().catch(() => null);
  else data = await res.text().catch(() => null);
  if (!res.ok) {
    const msg = (data && typeof data === 'object' && data.error) ? data.error : `Request failed (HTTP ${res.status})`;
    const err = new ApiError(res.status, msg, data, res);
    if (res.status === 401 && path !== `${API}/login` && path !== `${API}/session`) {
      err.handled = true;
      sessionEnded();
    }
    throw err;
  }
  return data;
}

const get = (p) => api('GET', p);
const post = (p, b = {}) => api('POST', p, b);
const put = (p, b) => api('PUT', p, b);
const del = (p) => api('DELETE', p);

// Event list sorting: `sort` names the key, `order=desc` reverses it. The console keeps
// the shorter `-startsAt` spelling in its own URL (#/events?sort=-startsAt).
function listEvents(params) {
  const { sort = 'startsAt', ...rest } = params;
  const key = sort.replace(/^-/, '');
  const order = sort.startsWith('-') ? 'desc' : '';
  return get(`${API}/events${qs({ ...rest, sort: key, order })}`);
}

function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v !== null && v !== undefined) u.set(k, v);
  const s = u.toString();
  return s ? `?${s}` : '';
}

// ---------------------------------------------------------------------------------------
// Messages (aria-live region) and confirm dialog

let flashTimer = null;

/** Show a message in the live region. `keep`: survive the next navigation (for messages
 *  about an action that navigates, e.g. "Event created" then the event's page). */
function flash(message, kind = 'info', keep = false) {
  const region = $('#flash');
  clearTimeout(flashTimer);
  region.replaceChildren(
    h('div', { class: `flash flash-${kind}`, 'data-kind': kind, 'data-keep': keep ? '1' : null },
      h('span', { class: 'flash-text', 'data-testid': 'flash-text' }, message),
      h('button', { type: 'button', class: 'flash-close', 'aria-label': 'Dismiss message', onclick: clearFlash }, '×')));
  if (kind === 'success') flashTimer = setTimeout(clearFlash, 10000);
}

function clearFlash() {
  clearTimeout(flashTimer);
  $('#flash').replaceChildren();
}

function showError(err, where) {
  if (err && err.handled) return;
  const msg = err instanceof ApiError ? err.message : (err && err.message) || String(err);
  if (where) {
    // The inline message (role="alert") is the live region here; no second toast.
    where.textContent = msg;
    where.hidden = false;
    return;
  }
  flash(msg, 'error');
}

function confirmDialog({ title, message, confirmLabel = 'Confirm', danger = true }) {
  const dialog = $('#confirm-dialog');
  $('#confirm-title').textContent = title;
  $('#confirm-message').textContent = message;
  const ok = $('#confirm-ok');
  ok.textContent = confirmLabel;
  ok.className = danger ? 'btn btn-danger' : 'btn btn-primary';
  const opener = document.activeElement;
  return new Promise((resolve) => {
    const done = (result) => {
      ok.removeEventListener('click', onOk);
      $('#confirm-cancel').removeEventListener('click', onCancel);
      dialog.removeEventListener('close', onClose);
      if (dialog.open) dialog.close();
      if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
      resolve(result);
    };
    const onOk = () => done(true);
    const onCancel = () => done(false);
    const onClose = () => done(false); // Esc
    ok.addEventListener('click', onOk);
    $('#confirm-cancel').addEventListener('click', onCancel);
    dialog.addEventListener('close', onClose);
    dialog.showModal();
    $('#confirm-cancel').focus();
  });
}

async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch (_) { /* fall through to the legacy path */ }
  const ta = h('textarea', { class: 'offscreen', readonly: true, 'aria-hidden': 'true', tabindex: '-1' });
  ta.value = text;
  document.body.append(ta);
  const prev = document.activeElement;
  ta.select();
  let ok = false;
  try { ok = document.execCommand('copy'); } catch (_) { ok = false; }
  ta.remove();
  if (prev && typeof prev.focus === 'function') prev.focus();
  return ok;
}

async function copyWithFeedback(text, button, what) {
  const ok = await copyText(text);
  if (ok) {
    flash(`Copied ${what} to the clipboard.`, 'success');
    if (button) {
      const orig = button.textContent;
      button.textContent = 'Copied';
      button.classList.add('is-copied');
      setTimeout(() => { button.textContent = orig; button.classList.remove('is-copied'); }, 1500);
    }
  } else {
    flash(`Could not copy automatically. ${what}: ${text}`, 'error');
  }
}

// ---------------------------------------------------------------------------------------
// Session / login

let session = null;
let viewToken = 0; // bumped on every navigation; stale async renders check it

function showLogin(message) {
  session = null;
  viewToken++;
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
  const pw = $('#login-password');
  pw.value = '';
  pw.focus();
}

function sessionEnded() {
  if (!session && !$('#login-view').hidden) return;
  clearFlash();
  showLogin('Your session has ended. Please sign in again.');
}

function showShell() {
  $('#boot').hidden = true;
  $('#login-view').hidden = true;
  $('#mainnav').hidden = false;
  $('#view').hidden = false;
}

async function onLogin(e) {
  e.preventDefault();
  const pw = $('#login-password');
  const err = $('#login-error');
  const btn = $('#login-submit');
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
    session = await post(`${API}/login`, { password: pw.value });
    pw.value = '';
    clearFlash();
    showShell();
    if (!location.hash.startsWith('#/')) history.replaceState(null, '', '#/dashboard');
    route(true);
  } catch (ex) {
    let msg;
    if (ex.status === 401) msg = 'Invalid password.';
    else if (ex.status === 429) {
      const ra = ex.response && ex.response.headers.get('Retry-After');
      const secs = ra && /^\d+$/.test(ra) ? Number(ra) : null;
      msg = secs !== null
        ? `Too many sign-in attempts. Try again in ${secs} second${secs === 1 ? '' : 's'}.`
        : 'Too many sign-in attempts. Wait a minute and try again.';
    } else if (ex.status === 503) {
      msg = `Admin sign-in is not configured on this server (no admin password is set). ${ex.message}`;
    } else msg = ex.message;
    err.textContent = msg;
    err.hidden = false;
    pw.select();
    pw.focus();
  } finally {
    btn.disabled = false;
    btn.textContent = 'Sign in';
  }
}

async function onLogout() {
  try {
    await post(`${API}/logout`, {});
  } catch (ex) {
    if (!ex.handled) showError(ex);
  }
  clearFlash();
  history.replaceState(null, '', '#/dashboard');
  showLogin();
  flash('You have been logged out.', 'info');
}

// ---------------------------------------------------------------------------------------
// Router

function parseHash() {
  const raw = location.hash.startsWith('#/') ? location.hash.slice(1) : '/dashboard';
  const [path, query] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
  return { parts, params: new URLSearchParams(query || '') };
}

/** Update the query part of the hash without triggering a re-render. */
function replaceParams(params) {
  const { parts } = parseHash();
  const base = `#/${parts.map(encodeURIComponent).join('/')}`;
  history.replaceState(null, '', base + qs(params));
}

function setActiveNav(name) {
  for (const a of $$('#mainnav a[data-nav]')) {
    if (a.dataset.nav === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function startView(title, navName) {
  const token = ++viewToken;
  document.title = `${title} — StreamGate admin`;
  setActiveNav(navName);
  const view = $('#view');
  view.replaceChildren();
  return { token, view, alive: () => token === viewToken && session !== null };
}

function viewHeading(text, ...extra) {
  return h('div', { class: 'view-head' },
    h('h1', { id: 'view-title', tabindex: '-1', 'data-testid': 'view-title' }, text), ...extra);
}

/**
 * A refused config edit means the running configuration is not what the file says:
 * every page shows it, with the first problem's file:line:column, until it is fixed.
 */
async function refreshConfigBanner() {
  const banner = $('#config-banner');
  let c;
  try {
    c = await get(`${API}/config`);
  } catch {
    return;
  }
  const err = c && c.lastError;
  const nav = $('#mainnav a[data-nav="config"]');
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

async function route(focusHeading = false) {
  if (!session) return;
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
  if (focusHeading) $('#view-title')?.focus({ preventScroll: false });
}

// ---------------------------------------------------------------------------------------
// Dashboard

async function renderDashboard() {
  const { view, alive } = startView('Dashboard', 'dashboard');
  view.append(viewHeading('Dashboard',
    h('button', { type: 'button', class: 'btn', id: 'dashboard-refresh', onclick: () => route() }, 'Refresh')));
  const body = h('div', { 'data-testid': 'dashboard', id: 'dashboard' }, h('p', { class: 'muted' }, 'Loading…'));
  view.append(body);
  const d = await get(`${API}/dashboard`);
  if (!alive()) return;

  const stat = (id, label, value, kind) => h('div', { class: `stat ${kind ? `stat-${kind}` : ''}`, id, 'data-testid': id },
    h('span', { class: 'stat-value' }, fmtNum(value)), h('span', { class: 'stat-label' }, label));

  const ev = d.events || {};
  const codes = d.codes || {};
  const upcoming = d.upcoming || [];
  const edges = d.edges || [];

  body.replaceChildren(
    h('div', { class: 'cards' },
      h('section', { class: 'card', 'aria-labelledby': 'dash-events-h' },
        h('h2', { id: 'dash-events-h' }, 'Events'),
        h('div', { class: 'stats' },
          stat('dash-events-total', 'Total', ev.total),
          stat('dash-events-active', 'Active', ev.active),
          stat('dash-events-live', 'On now', ev.live, 'live'),
          stat('dash-events-upcoming', 'Upcoming', ev.upcoming),
          stat('dash-events-archived', 'Archived', ev.archived))),
      h('section', { class: 'card', 'aria-labelledby': 'dash-codes-h' },
        h('h2', { id: 'dash-codes-h' }, 'Access codes'),
        h('div', { class: 'stats' },
          stat('dash-codes-total', 'Total', codes.total),
          CODE_STATUSES.map((s) => stat(`dash-codes-${s}`, s[0].toUpperCase() + s.slice(1), codes[s], s === 'revoked' ? 'danger' : null)))),
      h('section', { class: 'card card-narrow', 'aria-labelledby': 'dash-viewers-h' },
        h('h2', { id: 'dash-viewers-h' }, 'Viewers'),
        h('div', { class: 'stats' }, stat('dash-active-viewers', 'Watching now', d.activeViewers, 'live')))),

    h('section', { class: 'panel', 'aria-labelledby': 'dash-upcoming-h' },
      h('h2', { id: 'dash-upcoming-h' }, 'Upcoming events'),
      upcoming.length === 0
        ? h('p', { class: 'muted', id: 'dash-upcoming-empty' }, 'No upcoming events.')
        : h('ul', { class: 'plain-list', id: 'dash-upcoming' },
          upcoming.map((u) => h('li', null,
            h('a', { href: `#/events/${encodeURIComponent(u.id)}` }, u.title), ' — ', fmtTime(u.startsAt),
            h('span', { class: 'muted' }, ` (${relTime(u.startsAt)})`))))),

    h('section', { class: 'panel', 'aria-labelledby': 'dash-edges-h' },
      h('h2', { id: 'dash-edges-h' }, 'HLS edges'),
      edges.length === 0
        ? h('p', { class: 'muted', id: 'edges-empty' }, 'No HLS edge has synced with this platform yet.')
        : tableWrap('HLS edge health', h('table', { id: 'edges-table', 'data-testid': 'edges-table' },
          headRow(['Edge', 'Address', 'Last sync', ['Cursor', 'num'], ['Lag', 'num'], 'Health']),
          h('tbody', null, edges.map((e) => h('tr', { 'data-edge-id': e.id },
            h('td', { class: 'mono' }, e.id),
            h('td', { class: 'mono' }, e.address || '—'),
            h('td', null, fmtTime(e.lastSyncAt), h('span', { class: 'muted small' }, ` ${fmtAgo(e.lastSyncAgoSeconds)}`)),
            h('td', { class: 'num' }, fmtNum(e.cursor)),
            h('td', { class: 'num' }, fmtNum(e.lag)),
            h('td', null, e.healthy ? badge('Healthy', 'ok') : badge('Unhealthy', 'danger'))))))),
      d.revocationLogHead !== undefined && d.revocationLogHead !== null
        ? h('p', { class: 'muted small' }, `Revocation log head: ${fmtNum(d.revocationLogHead)}`) : null),
  );
  const nowCard = await viewersNowCard(get, alive);
  if (alive()) body.insertBefore(nowCard, body.children[1] || null);
}

// ---------------------------------------------------------------------------------------
// Events list + new event form

/** A slug from a title, as the event id field proposes it (`Keynote 2026!` -> `keynote-2026`). */
function slugOf(title) {
  return title.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
}

function eventFormFields(prefix, ev) {
  const starts = ev ? rfc3339ToLocalInput(ev.startsAt) : '';
  const ends = ev ? rfc3339ToLocalInput(ev.endsAt) : '';
  const title = h('input', { type: 'text', id: `${prefix}-title`, name: 'title', required: true, maxlength: '200', value: ev ? ev.title : '' });
  const playlistInput = h('input', { type: 'text', id: `${prefix}-playlist`, name: 'playlist', maxlength: '200', autocomplete: 'off', spellcheck: 'false', placeholder: 'index.m3u8', value: ev && ev.playlist !== 'index.m3u8' ? ev.playlist : '' });
  // New events only: the id names the stream's folder, so it is chosen up front,
  // proposed from the title until edited by hand.
  let idField = null;
  if (!ev) {
    const input = h('input', { type: 'text', id: `${prefix}-id`, name: 'id', maxlength: '63', pattern: '[a-z0-9][a-z0-9-]{0,62}', autocomplete: 'off', spellcheck: 'false', placeholder: 'keynote-2026' });
    const where = h('span', { id: `${prefix}-id-where` }, 'Leave empty for a random id.');
    const showWhere = () => {
      const playlist = playlistInput.value.trim() || 'index.m3u8';
      where.textContent = input.value
        ? `Its video is expected in streams/${input.value}/${playlist} on the HLS server (or from the origin in proxy mode).`
        : 'Leave empty for a random id.';
    };
    playlistInput.addEventListener('input', showWhere);
    input.addEventListener('input', () => { input.dataset.edited = '1'; showWhere(); });
    title.addEventListener('input', () => {
      if (!input.dataset.edited) { input.value = slugOf(title.value); showWhere(); }
    });
    idField = field(`${prefix}-id`, 'Event id', input, where);
  } else if (!ev.readOnly) {
    // The id names the stream folder and is inside every playback token, so it can
    // change only until the first code is redeemed (the server has the last word).
    const c = ev.codes || {};
    const fixed = (c.redeemed || 0) + (c.active || 0) > 0;
    const input = h('input', { type: 'text', id: `${prefix}-id`, name: 'id', maxlength: '63', pattern: '[a-z0-9][a-z0-9-]{0,62}', autocomplete: 'off', spellcheck: 'false', value: ev.id, disabled: fixed });
    idField = field(`${prefix}-id`, 'Event id', input, fixed
      ? 'Fixed: codes of this event were redeemed, and their viewers\' tokens name it.'
      : `Its video folder: streams/${ev.id}/. Can change until a code is redeemed.`);
  }
  return [
    field(`${prefix}-title`, 'Title', title),
    idField,
    field(`${prefix}-description`, 'Description', h('textarea', { id: `${prefix}-description`, name: 'description', rows: '3', value: ev ? (ev.description || '') : '' })),
    h('div', { class: 'field-row' },
      field(`${prefix}-starts`, 'Starts at', h('input', { type: 'datetime-local', id: `${prefix}-starts`, name: 'startsAt', required: true, value: starts }), 'Your local time.'),
      field(`${prefix}-ends`, 'Ends at', h('input', { type: 'datetime-local', id: `${prefix}-ends`, name: 'endsAt', required: true, value: ends }), 'Your local time.'),
      field(`${prefix}-window`, 'Access window (hours)', h('input', { type: 'number', id: `${prefix}-window`, name: 'accessWindowHours', min: '0', max: '168', step: '1', inputmode: 'numeric', value: ev ? String(ev.accessWindowHours) : '48' }), 'Codes keep working this long after the event ends (0 = live only, up to 168). Fixed when a code is made.')),
    field(`${prefix}-poster`, 'Poster URL', h('input', { type: 'url', id: `${prefix}-poster`, name: 'posterUrl', placeholder: 'https://…', value: ev ? (ev.posterUrl || '') : '' })),
    field(`${prefix}-playlist`, 'Playlist', playlistInput,
      'The .m3u8 file inside the event\'s folder that players open, e.g. master.m3u8. Empty: index.m3u8 (then master.m3u8 and stream.m3u8 are tried too).'),
    field(`${prefix}-stream`, 'Stream URL', h('input', { type: 'url', id: `${prefix}-stream`, name: 'streamUrl', placeholder: 'https://… (optional, for proxy mode)', value: ev ? (ev.streamUrl || '') : '' })),
    h('div', { class: 'field field-check' },
      h('input', { type: 'checkbox', id: `${prefix}-active`, name: 'isActive', checked: ev ? ev.isActive : true }),
      h('label', { for: `${prefix}-active` }, 'Active (viewers can redeem codes)')),
  ];
}

/** Read an event form. For edits (`orig` given) only changed fields are sent. */
function readEventForm(prefix, orig) {
  const v = (n) => $(`#${prefix}-${n}`).value.trim();
  const startsRaw = v('starts');
  const endsRaw = v('ends');
  if (!v('title')) throw new Error('Title is required.');
  if (!startsRaw || !endsRaw) throw new Error('Start and end times are required.');
  const startsAt = localInputToRfc3339(startsRaw);
  const endsAt = localInputToRfc3339(endsRaw);
  if (!startsAt || !endsAt) throw new Error('Enter valid start and end times.');
  if (Date.parse(startsAt) >= Date.parse(endsAt)) throw new Error('The event must start before it ends.');
  const hoursRaw = v('window');
  const hours = hoursRaw === '' ? 48 : Number(hoursRaw);
  if (!Number.isInteger(hours) || hours < 0 || hours > 168) throw new Error('Access window must be a whole number of hours from 0 to 168.');
  const body = {
    title: v('title'),
    description: v('description'),
    startsAt,
    endsAt,
    accessWindowHours: hours,
    posterUrl: v('poster') || null,
    streamUrl: v('stream') || null,
    playlist: v('playlist') || 'index.m3u8',
    isActive: $(`#${prefix}-active`).checked,
  };
  if (!/^([A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*\.m3u8$/.test(body.playlist)) {
    throw new Error('The playlist must be a .m3u8 file inside the event\'s folder, e.g. master.m3u8 or hls/main.m3u8.');
  }
  if (!orig) {
    const id = $(`#${prefix}-id`)?.value.trim();
    if (id) {
      if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(id)) throw new Error('The event id may hold lowercase letters, digits and "-" (up to 63, starting with a letter or digit).');
      body.id = id;
    }
    if (!body.description) delete body.description;
    if (!body.posterUrl) delete body.posterUrl;
    if (!body.streamUrl) delete body.streamUrl;
    if (body.playlist === 'index.m3u8') delete body.playlist;
    return body;
  }
  const changed = {};
  const origInput = {
    title: orig.title,
    description: orig.description || '',
    startsAt: localInputToRfc3339(rfc3339ToLocalInput(orig.startsAt)),
    endsAt: localInputToRfc3339(rfc3339ToLocalInput(orig.endsAt)),
    accessWindowHours: orig.accessWindowHours,
    posterUrl: orig.posterUrl || null,
    streamUrl: orig.streamUrl || null,
    playlist: orig.playlist || 'index.m3u8',
    isActive: orig.isActive,
  };
  for (const k of Object.keys(body)) if (body[k] !== origInput[k]) changed[k] = body[k];
  const newId = $(`#${prefix}-id`)?.value.trim();
  if (newId && newId !== orig.id) {
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(newId)) throw new Error('The event id may hold lowercase letters, digits and "-" (up to 63, starting with a letter or digit).');
    changed.id = newId;
  }
  return changed;
}

async function renderEvents(params) {
  const { view, alive } = startView('Events', 'events');
  const state = {
    filter: EVENT_FILTERS.some(([v]) => v === params.get('filter')) ? params.get('filter') : 'current',
    sort: EVENT_SORTS.some(([v]) => v === params.get('sort')) ? params.get('sort') : 'startsAt',
    page: Math.max(1, Number(params.get('page')) || 1),
    perPage: 20,
  };

  const formError = h('p', { class: 'form-error', id: 'new-event-error', 'data-testid': 'new-event-error', role: 'alert', hidden: true });
  const form = h('form', { id: 'new-event-form', 'data-testid': 'new-event-form', class: 'card form-card', novalidate: true, hidden: true, 'aria-labelledby': 'new-event-h' },
    h('h2', { id: 'new-event-h' }, 'New event'),
    eventFormFields('ev'),
    formError,
    h('div', { class: 'form-actions' },
      h('button', { type: 'submit', class: 'btn btn-primary', id: 'new-event-submit', 'data-testid': 'new-event-submit' }, 'Create event'),
      h('button', { type: 'button', class: 'btn', id: 'new-event-cancel', onclick: () => toggleForm(false) }, 'Cancel')));

  const toggleBtn = h('button', { type: 'button', class: 'btn btn-primary', id: 'new-event-toggle', 'data-testid': 'new-event-toggle', 'aria-expanded': 'false', 'aria-controls': 'new-event-form' }, 'New event');
  function toggleForm(open) {
    form.hidden = !open;
    toggleBtn.setAttribute('aria-expanded', String(open));
    if (open) {
      // Sensible defaults: starts at the next full hour, lasts two hours.
      const s = $('#ev-starts');
      const e = $('#ev-ends');
      if (!s.value) {
        const start = new Date();
        start.setMinutes(0, 0, 0);
        start.setHours(start.getHours() + 1);
        s.value = rfc3339ToLocalInput(start.toISOString());
        e.value = rfc3339ToLocalInput(new Date(start.getTime() + 2 * 3600e3).toISOString());
      }
      $('#ev-title').focus();
    } else toggleBtn.focus();
  }
  toggleBtn.addEventListener('click', () => toggleForm(form.hidden));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    formError.hidden = true;
    let body;
    try {
      body = readEventForm('ev');
    } catch (ex) {
      formError.textContent = ex.message;
      formError.hidden = false;
      return;
    }
    const btn = $('#new-event-submit');
    btn.disabled = true;
    try {
      const created = await post(`${API}/events`, body);
      flash(`Event “${created.title}” created.`, 'success', true);
      location.hash = `#/events/${encodeURIComponent(created.id)}`;
    } catch (ex) {
      showError(ex, formError);
    } finally {
      btn.disabled = false;
    }
  });

  const filterSel = selectEl('events-filter', EVENT_FILTERS, state.filter, { 'data-testid': 'events-filter' });
  const sortSel = selectEl('events-sort', EVENT_SORTS, state.sort, { 'data-testid': 'events-sort' });
  const listArea = h('div', { id: 'events-list', 'aria-live': 'polite', 'aria-busy': 'false' });

  view.append(
    viewHeading('Events', toggleBtn),
    form,
    h('div', { class: 'toolbar', role: 'group', 'aria-label': 'Filter and sort events' },
      field('events-filter', 'Show', filterSel),
      field('events-sort', 'Sort by', sortSel)),
    listArea);

  async function load() {
    replaceParams({ filter: state.filter === 'current' ? '' : state.filter, sort: state.sort === 'startsAt' ? '' : state.sort, page: state.page > 1 ? state.page : '' });
    listArea.setAttribute('aria-busy', 'true');
    let data;
    try {
      data = await listEvents({ filter: state.filter, sort: state.sort, page: state.page, perPage: state.perPage });
    } finally {
      listArea.setAttribute('aria-busy', 'false');
    }
    if (!alive()) return;
    const items = data.items || [];
    const table = h('table', { id: 'events-table', 'data-testid': 'events-table', class: 'stack' },
      h('caption', { class: 'visually-hidden' }, 'Events'),
      headRow(['Title', 'Starts', 'Ends', 'Status', ['Codes', 'num'], ['Redeemed', 'num'], ['Revoked', 'num']]),
      h('tbody', null, items.length === 0
        ? emptyRow(7, 'No events match this filter.')
        : items.map((ev) => h('tr', { 'data-event-id': ev.id },
          h('th', { scope: 'row', class: 'title-cell' }, h('a', { href: `#/events/${encodeURIComponent(ev.id)}`, class: 'event-link', 'data-focus-key': `ev-${ev.id}` }, ev.title)),
          h('td', { 'data-label': 'Starts' }, fmtTime(ev.startsAt)),
          h('td', { 'data-label': 'Ends' }, fmtTime(ev.endsAt)),
          h('td', { class: 'badges', 'data-col': 'status' }, eventBadges(ev)),
          h('td', { class: 'num', 'data-label': 'Codes' }, fmtNum(ev.codes?.total)),
          h('td', { class: 'num', 'data-label': 'Redeemed' }, fmtNum((ev.codes?.redeemed || 0) + (ev.codes?.active || 0))),
          h('td', { class: 'num', 'data-label': 'Revoked' }, fmtNum(ev.codes?.revoked))))));
    replaceKeepingFocus(listArea,
      tableWrap('Events table', table),
      pager('events', data, (p) => { state.page = p; load().catch(showError); }));
  }

  filterSel.addEventListener('change', () => { state.filter = filterSel.value; state.page = 1; load().catch(showError); });
  sortSel.addEventListener('change', () => { state.sort = sortSel.value; state.page = 1; load().catch(showError); });
  if (params.get('new') === '1') toggleForm(true);
  await load();
}

function pager(prefix, data, onPage) {
  const page = data.page || 1;
  const perPage = data.perPage || 50;
  const total = data.total || 0;
  const pages = Math.max(1, Math.ceil(total / perPage));
  return h('nav', { class: 'pager', 'aria-label': 'Pages', id: `${prefix}-pager` },
    h('button', { type: 'button', class: 'btn', id: `${prefix}-prev`, 'data-focus-key': `${prefix}-prev`, disabled: page <= 1, onclick: () => onPage(page - 1) }, '← Previous'),
    h('span', { class: 'pager-info', id: `${prefix}-page-info` }, `Page ${page} of ${pages} · ${fmtNum(total)} total`),
    h('button', { type: 'button', class: 'btn', id: `${prefix}-next`, 'data-focus-key': `${prefix}-next`, disabled: page >= pages, onclick: () => onPage(page + 1) }, 'Next →'));
}

// ---------------------------------------------------------------------------------------
// Event detail

async function renderEventDetail(id) {
  const { view, alive } = startView('Event', 'events');
  const base = `${API}/events/${encodeURIComponent(id)}`;
  let ev;
  try {
    ev = await get(base);
  } catch (ex) {
    if (ex.handled || !alive()) return;
    view.append(h('p', null, h('a', { href: '#/events' }, '← All events')),
      viewHeading('Event not found'),
      h('p', { class: 'form-error', role: 'alert', id: 'event-load-error' }, ex.message));
    return;
  }
  if (!alive()) return;
  document.title = `${ev.title} — StreamGate admin`;

  const header = h('div', { id: 'event-header' });
  const codesSection = h('section', { class: 'panel', id: 'codes-section', 'aria-labelledby': 'codes-h' });
  const sessionsSection = h('section', { class: 'panel', id: 'sessions-section', 'aria-labelledby': 'sessions-h' });
  view.append(
    h('p', { class: 'crumbs' }, h('a', { href: '#/events', id: 'back-to-events' }, '← All events')),
    h('div', { 'data-testid': 'event-detail', id: 'event-detail', 'data-event-id': ev.id }, header, codesSection, sessionsSection));
  const audienceSection = h('section', { class: 'panel', id: 'audience-section', 'data-testid': 'audience-section', 'aria-labelledby': 'audience-h' });
  codesSection.before(audienceSection);
  const streamSection = h('section', { class: 'panel', id: 'stream-section', 'data-testid': 'stream-section', 'aria-labelledby': 'stream-h' });
  audienceSection.before(streamSection);
  streamPanel(streamSection, { base, get, alive });
  const ingestSection = h('section', { class: 'panel', id: 'ingest-section', 'data-testid': 'ingest-section', 'aria-labelledby': 'ingest-h' });
  streamSection.after(ingestSection);
  ingestPanel(ingestSection, { base, get, post, alive, copy: copyWithFeedback });

  // --- header: title, badges, actions, fields, edit form
  function renderHeader() {
    view.querySelector('#event-detail').dataset.readOnly = String(!!ev.readOnly);
    const actions = [];
    if (!ev.readOnly) {
      actions.push(ev.isActive
        ? h('button', { type: 'button', class: 'btn', id: 'act-deactivate', 'data-testid': 'act-deactivate', onclick: () => lifecycle('deactivate', 'Deactivate', 'Viewers will be stopped and no code of this event will work until it is activated again.') }, 'Deactivate')
        : h('button', { type: 'button', class: 'btn', id: 'act-activate', 'data-testid': 'act-activate', onclick: () => lifecycle('activate') }, 'Activate'));
      actions.push(ev.isArchived
        ? h('button', { type: 'button', class: 'btn', id: 'act-unarchive', 'data-testid': 'act-unarchive', onclick: () => lifecycle('unarchive') }, 'Unarchive')
        : h('button', { type: 'button', class: 'btn', id: 'act-archive', 'data-testid': 'act-archive', onclick: () => lifecycle('archive', 'Archive', 'The event will be hidden from the current list.') }, 'Archive'));
      actions.push(h('button', { type: 'button', class: 'btn', id: 'act-edit', 'data-testid': 'act-edit', 'aria-expanded': 'false', 'aria-controls': 'edit-event-form', onclick: toggleEdit }, 'Edit'));
      actions.push(h('button', { type: 'button', class: 'btn btn-danger', id: 'act-delete', 'data-testid': 'act-delete', onclick: deleteEvent }, 'Delete'));
    }
    const c = ev.codes || {};
    replaceKeepingFocus(header,
      viewHeading(ev.title, h('div', { class: 'badges', id: 'event-badges' }, eventBadges(ev))),
      ev.readOnly
        ? h('p', { class: 'readonly-badge', id: 'readonly-badge', 'data-testid': 'readonly-badge' },
          READ_ONLY_TEXT)
        : h('div', { class: 'actions', id: 'event-actions', 'data-testid': 'event-actions', role: 'group', 'aria-label': 'Event actions' }, actions),
      h('div', { class: 'edit-area', id: 'edit-area' }),
      h('dl', { class: 'details', id: 'event-fields' },
        dlItem('ID', h('span', { class: 'mono', id: 'event-id' }, ev.id)),
        dlItem('Description', ev.description || h('span', { class: 'muted' }, '—')),
        dlItem('Starts', fmtTime(ev.startsAt)),
        dlItem('Ends', fmtTime(ev.endsAt)),
        dlItem('Access window', ev.accessWindowHours === 0 ? 'Live only (codes expire when the event ends)' : `${ev.accessWindowHours} h after the event ends`),
        dlItem('State', `${ev.isActive ? 'Active' : 'Inactive'}${ev.isArchived ? ', archived' : ''}`),
        dlItem('Stream URL', ev.streamUrl ? h('span', { class: 'mono break' }, ev.streamUrl) : h('span', { class: 'muted' }, 'Default (stream root)')),
        dlItem('Playlist', h('span', { class: 'mono', id: 'event-playlist' }, ev.playlist)),
        dlItem('Poster URL', ev.posterUrl ? h('span', { class: 'mono break' }, ev.posterUrl) : h('span', { class: 'muted' }, '—')),
        dlItem('Managed by', ev.managedBy === 'config' ? 'streamgate.toml' : 'Admin API / console'),
        dlItem('Codes', h('span', { id: 'event-code-counts' },
          `${fmtNum(c.total)} total · ${fmtNum(c.unused)} unused · ${fmtNum(c.redeemed)} redeemed · ${fmtNum(c.active)} active · ${fmtNum(c.expired)} expired · ${fmtNum(c.revoked)} revoked`)),
        dlItem('Created', fmtTime(ev.createdAt)),
        dlItem('Updated', fmtTime(ev.updatedAt))));
  }

  async function reloadEvent() {
    const fresh = await get(base);
    if (!alive()) return;
    ev = fresh;
    renderHeader();
  }

  async function lifecycle(action, label, warning) {
    if (warning) {
      const ok = await confirmDialog({ title: `${label} “${ev.title}”?`, message: warning, confirmLabel: label });
      if (!ok) return;
    }
    try {
      ev = await post(`${base}/${action}`, {});
      flash(`Event ${action}d.`, 'success');
      if (alive()) renderHeader();
    } catch (ex) { showError(ex); }
  }

  function toggleEdit() {
    const area = $('#edit-area');
    const btn = $('#act-edit');
    if (area.firstChild) {
      area.replaceChildren();
      btn.setAttribute('aria-expanded', 'false');
      btn.focus();
      return;
    }
    btn.setAttribute('aria-expanded', 'true');
    const err = h('p', { class: 'form-error', id: 'edit-event-error', role: 'alert', hidden: true });
    const form = h('form', { id: 'edit-event-form', 'data-testid': 'edit-event-form', class: 'card form-card', novalidate: true, 'aria-labelledby': 'edit-event-h' },
      h('h2', { id: 'edit-event-h' }, 'Edit event'),
      eventFormFields('edit', ev),
      err,
      h('div', { class: 'form-actions' },
        h('button', { type: 'submit', class: 'btn btn-primary', id: 'edit-event-submit' }, 'Save changes'),
        h('button', { type: 'button', class: 'btn', onclick: toggleEdit }, 'Cancel')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      err.hidden = true;
      let body;
      try { body = readEventForm('edit', ev); } catch (ex) { err.textContent = ex.message; err.hidden = false; return; }
      if (Object.keys(body).length === 0) { err.textContent = 'Nothing changed.'; err.hidden = false; return; }
      try {
        ev = await put(base, body);
        flash('Event saved.', 'success');
        if (ev.id !== id) { location.hash = `#/events/${encodeURIComponent(ev.id)}`; return; }
        if (alive()) { renderHeader(); $('#act-edit')?.focus(); }
      } catch (ex) { showError(ex, err); }
    });
    area.append(form);
    $('#edit-title').focus();
  }

  async function deleteEvent() {
    const n = ev.codes?.total || 0;
    const ok = await confirmDialog({
      title: `Delete “${ev.title}”?`,
      message: `This deletes the event and its ${n} access code${n === 1 ? '' : 's'}. It cannot be undone.`,
      confirmLabel: 'Delete event',
    });
    if (!ok) return;
    let res;
    try {
      res = await del(`${base}?force=false`);
    } catch (ex) {
      if (ex.status !== 409 || !/redeem|force/i.test(ex.message)) { showError(ex); return; }
      const force = await confirmDialog({
        title: 'Some codes have been used',
        message: 'Viewers have already redeemed codes of this event. Delete it anyway, with all its codes and sessions?',
        confirmLabel: 'Delete anyway',
      });
      if (!force) return;
      try { res = await del(`${base}?force=true`); } catch (ex2) { showError(ex2); return; }
    }
    flash(`Event deleted${res && typeof res.codes === 'number' ? ` with ${res.codes} code${res.codes === 1 ? '' : 's'}` : ''}.`, 'success', true);
    location.hash = '#/events';
  }

  // --- codes
  const cs = { status: '', search: '', page: 1, selected: new Set(), lastItems: [] };

  const genError = h('p', { class: 'form-error', id: 'gen-error', 'data-testid': 'gen-error', role: 'alert', hidden: true });
  const generated = h('div', { id: 'generated-codes', 'data-testid': 'generated-codes', hidden: true });
  let genArea;
  if (ev.readOnly) {
    genArea = h('p', { class: 'note', id: 'gen-readonly-note' }, 'Codes for this event are declared in streamgate.toml; add more there. You can still revoke and unrevoke them here.');
  } else {
    const genForm = h('form', { id: 'generate-form', 'data-testid': 'generate-form', class: 'inline-form', novalidate: true, 'aria-label': 'Generate codes' },
      field('gen-count', 'Number of codes', h('input', { type: 'number', id: 'gen-count', name: 'count', min: '1', max: '500', step: '1', value: '10', inputmode: 'numeric', required: true })),
      field('gen-label', 'Label (optional)', h('input', { type: 'text', id: 'gen-label', name: 'label', maxlength: '200', placeholder: 'e.g. press, VIP' })),
      h('button', { type: 'submit', class: 'btn btn-primary', id: 'gen-submit', 'data-testid': 'gen-submit' }, 'Generate codes'));
    genForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      genError.hidden = true;
      const count = Number($('#gen-count').value);
      if (!Number.isInteger(count) || count < 1 || count > 500) {
        genError.textContent = 'Enter a whole number of codes from 1 to 500.';
        genError.hidden = false;
        $('#gen-count').focus();
        return;
      }
      const label = $('#gen-label').value.trim();
      const btn = $('#gen-submit');
      btn.disabled = true;
      try {
        const res = await post(`${base}/tokens`, label ? { count, label } : { count });
        const list = (res.tokens || []).map((t) => t.code);
        flash(`Generated ${res.generated ?? list.length} code${(res.generated ?? list.length) === 1 ? '' : 's'}.`, 'success');
        showGenerated(list);
        cs.status = ''; cs.search = ''; cs.page = 1;
        $('#codes-status').value = '';
        $('#codes-search').value = '';
        await Promise.all([loadCodes(), reloadEvent()]);
      } catch (ex) {
        showError(ex, genError);
      } finally {
        btn.disabled = false;
      }
    });
    genArea = genForm;
  }

  function showGenerated(list) {
    const text = list.join('\n');
    generated.replaceChildren(
      h('div', { class: 'generated card' },
        h('h3', null, `${list.length} new code${list.length === 1 ? '' : 's'}`),
        h('label', { for: 'generated-text', class: 'visually-hidden' }, 'New codes, one per line'),
        h('textarea', { id: 'generated-text', readonly: true, rows: String(Math.min(8, Math.max(2, list.length))), value: text, class: 'mono' }),
        h('div', { class: 'form-actions' },
          h('button', { type: 'button', class: 'btn', id: 'copy-generated', onclick: (e) => copyWithFeedback(text, e.currentTarget, `${list.length} codes`) }, 'Copy all'),
          h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => { generated.hidden = true; generated.replaceChildren(); } }, 'Dismiss'))));
    generated.hidden = false;
  }

  const statusSel = selectEl('codes-status', [['', 'All statuses'], ...CODE_STATUSES.map((s) => [s, s[0].toUpperCase() + s.slice(1)])], '', { 'data-testid': 'codes-status' });
  const searchInput = h('input', { type: 'search', id: 'codes-search', 'data-testid': 'codes-search', placeholder: 'Code or label', autocomplete: 'off' });
  const bulkBtn = h('button', { type: 'button', class: 'btn btn-danger', id: 'bulk-revoke', 'data-testid': 'bulk-revoke', disabled: true }, 'Revoke selected');
  const selInfo = h('span', { class: 'muted small', id: 'selection-info', 'aria-live': 'polite' }, '');
  const codesArea = h('div', { id: 'codes-list', 'aria-busy': 'false' });

  codesSection.append(
    h('div', { class: 'section-head' },
      h('h2', { id: 'codes-h', tabindex: '-1' }, 'Access codes'),
      h('a', { class: 'btn', id: 'export-csv', 'data-testid': 'export-csv', href: `${base}/tokens/export`, download: `${ev.id}-codes.csv` }, 'Export CSV')),
    genArea, genError, generated,
    h('form', { class: 'toolbar', id: 'codes-filter-form', role: 'search', 'aria-label': 'Filter codes', onsubmit: (e) => { e.preventDefault(); cs.search = searchInput.value.trim(); cs.page = 1; loadCodes().catch(showError); } },
      field('codes-status', 'Status', statusSel),
      field('codes-search', 'Search', searchInput),
      h('button', { type: 'submit', class: 'btn', id: 'codes-search-submit' }, 'Search')),
    h('div', { class: 'bulkbar' }, bulkBtn, selInfo),
    codesArea);

  statusSel.addEventListener('change', () => { cs.status = statusSel.value; cs.page = 1; loadCodes().catch(showError); });
  let searchTimer = null;
  searchInput.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      if (searchInput.value.trim() === cs.search) return;
      cs.search = searchInput.value.trim(); cs.page = 1; loadCodes().catch(showError);
    }, 350);
  });

  function updateSelectionUi() {
    const n = cs.selected.size;
    bulkBtn.disabled = n === 0;
    bulkBtn.textContent = n ? `Revoke selected (${n})` : 'Revoke selected';
    selInfo.textContent = n ? `${n} selected` : '';
    const all = $('#select-all-codes');
    if (all) {
      const ids = cs.lastItems.map((c) => c.id);
      const selOnPage = ids.filter((i) => cs.selected.has(i)).length;
      all.checked = ids.length > 0 && selOnPage === ids.length;
      all.indeterminate = selOnPage > 0 && selOnPage < ids.length;
    }
  }

  bulkBtn.addEventListener('click', async () => {
    const ids = Array.from(cs.selected);
    if (!ids.length) return;
    const ok = await confirmDialog({ title: `Revoke ${ids.length} code${ids.length === 1 ? '' : 's'}?`, message: 'Viewers using these codes will be stopped within seconds. You can unrevoke a code later.', confirmLabel: 'Revoke' });
    if (!ok) return;
    try {
      const res = await post(`${API}/tokens/bulk-revoke`, { tokenIds: ids });
      flash(`Revoked ${res.revoked} code${res.revoked === 1 ? '' : 's'}.`, 'success');
      cs.selected.clear();
      await Promise.all([loadCodes(), reloadEvent(), loadSessions()]);
    } catch (ex) { showError(ex); }
  });

  async function codeAction(code, action) {
    if (action === 'revoke') {
      const ok = await confirmDialog({ title: `Revoke code ${code.code}?`, message: 'A viewer using this code will be stopped within seconds. You can unrevoke it later.', confirmLabel: 'Revoke' });
      if (!ok) return;
    }
    try {
      await post(`${API}/tokens/${encodeURIComponent(code.id)}/${action}`, {});
      flash(`Code ${code.code} ${action}d.`, 'success');
      await Promise.all([loadCodes(), reloadEvent(), action === 'revoke' ? loadSessions() : null]);
    } catch (ex) { showError(ex); }
  }

  async function loadCodes() {
    codesArea.setAttribute('aria-busy', 'true');
    let data;
    try {
      data = await get(`${base}/tokens${qs({ status: cs.status, search: cs.search, page: cs.page })}`);
    } finally {
      codesArea.setAttribute('aria-busy', 'false');
    }
    if (!alive()) return;
    const items = data.items || [];
    cs.lastItems = items;
    const pageIds = new Set(items.map((c) => c.id));
    for (const idSel of Array.from(cs.selected)) if (!pageIds.has(idSel)) cs.selected.delete(idSel);
    const allBox = h('input', { type: 'checkbox', id: 'select-all-codes', 'data-testid': 'select-all-codes', 'aria-label': 'Select all codes on this page', disabled: items.length === 0 });
    allBox.addEventListener('change', () => {
      for (const c of items) { if (allBox.checked) cs.selected.add(c.id); else cs.selected.delete(c.id); }
      for (const box of $$('input.select-code', codesArea)) box.checked = allBox.checked;
      updateSelectionUi();
    });
    const table = h('table', { id: 'codes-table', 'data-testid': 'codes-table', class: 'codes-table stack' },
      h('caption', { class: 'visually-hidden' }, 'Access codes of this event'),
      h('thead', null, h('tr', null,
        h('th', { scope: 'col', class: 'col-check' }, allBox, h('label', { for: 'select-all-codes', class: 'phone-only' }, 'Select all on this page')),
        ['Code', 'Label', 'Status', 'Redeemed', 'Expires', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, items.length === 0
        ? emptyRow(7, cs.status || cs.search ? 'No codes match.' : 'No codes yet.')
        : items.map((c) => codeRow(c, { selectable: true }))));
    replaceKeepingFocus(codesArea,
      tableWrap('Access codes table', table),
      pager('codes', data, (p) => { cs.page = p; loadCodes().catch(showError); }));
    updateSelectionUi();
  }

  function codeRow(c, { selectable }) {
    const box = selectable ? h('input', { type: 'checkbox', class: 'select-code', 'data-testid': 'select-code', 'data-focus-key': `sel-${c.id}`, 'aria-label': `Select code ${c.code}`, checked: cs.selected.has(c.id) }) : null;
    if (box) box.addEventListener('change', () => { if (box.checked) cs.selected.add(c.id); else cs.selected.delete(c.id); updateSelectionUi(); });
    return h('tr', { 'data-code-id': c.id, 'data-code': c.code, 'data-status': c.status, class: 'code-row' },
      selectable ? h('td', { class: 'col-check' }, box) : null,
      h('th', { scope: 'row', class: 'mono code-cell' }, c.code),
      h('td', { 'data-label': 'Label' }, c.label || h('span', { class: 'muted' }, '—')),
      h('td', { 'data-col': 'status' }, statusBadge(c.status)),
      h('td', { 'data-label': 'Redeemed' }, c.redeemedAt ? fmtTime(c.redeemedAt) : h('span', { class: 'muted' }, '—'), c.redeemedIp ? h('span', { class: 'muted small block mono' }, c.redeemedIp) : null),
      h('td', { 'data-label': 'Expires' }, fmtTime(c.expiresAt)),
      h('td', { class: 'row-actions' },
        h('button', { type: 'button', class: 'btn btn-small copy-code', 'data-testid': 'copy-code', 'data-focus-key': `copy-${c.id}`, 'aria-label': `Copy code ${c.code}`, onclick: (e) => copyWithFeedback(c.code, e.currentTarget, `code ${c.code}`) }, 'Copy'),
        c.status === 'revoked'
          ? h('button', { type: 'button', class: 'btn btn-small unrevoke-code', 'data-testid': 'unrevoke-code', 'data-focus-key': `rev-${c.id}`, 'aria-label': `Unrevoke code ${c.code}`, onclick: () => codeAction(c, 'unrevoke') }, 'Unrevoke')
          : h('button', { type: 'button', class: 'btn btn-small btn-danger-outline revoke-code', 'data-testid': 'revoke-code', 'data-focus-key': `rev-${c.id}`, 'aria-label': `Revoke code ${c.code}`, onclick: () => codeAction(c, 'revoke') }, 'Revoke')));
  }

  // --- sessions
  const sessionsArea = h('div', { id: 'sessions-list', 'aria-busy': 'false' });
  sessionsSection.append(
    h('div', { class: 'section-head' },
      h('h2', { id: 'sessions-h', tabindex: '-1' }, 'Live sessions'),
      h('button', { type: 'button', class: 'btn', id: 'refresh-sessions', 'data-testid': 'refresh-sessions', onclick: () => loadSessions().catch(showError) }, 'Refresh')),
    h('p', { class: 'muted small' }, 'One viewer device per code. Force release ends a session so the code can be used on another device.'),
    sessionsArea);

  async function loadSessions() {
    sessionsArea.setAttribute('aria-busy', 'true');
    let data;
    try {
      data = await get(`${base}/sessions`);
    } finally {
      sessionsArea.setAttribute('aria-busy', 'false');
    }
    if (!alive()) return;
    const all = data.items || [];
    // Live sessions are the ones heartbeating now; a closed browser's session goes
    // stale and moves to "Recently seen", kept there for the organiser.
    const items = all.filter((s) => !s.stale);
    const recent = all.filter((s) => s.stale);
    const row = (s) => h('tr', { 'data-session-id': s.id, 'data-code': s.code, class: 'session-row' },
      h('th', { scope: 'row', class: 'mono code-cell' }, s.code),
      h('td', { 'data-label': 'Label' }, s.label || h('span', { class: 'muted' }, '—')),
      h('td', { class: 'mono ip', 'data-label': 'Client IP' }, s.clientIp || '—'),
      h('td', { class: 'ua', title: s.userAgent || '', 'data-label': 'Device' }, s.userAgent || '—'),
      h('td', { 'data-label': 'Started' }, fmtTime(s.startedAt)),
      h('td', { 'data-label': 'Heartbeat' }, fmtTime(s.lastHeartbeat), h('span', { class: 'muted small' }, ` ${relTime(s.lastHeartbeat)}`)),
      h('td', { 'data-col': 'status' }, s.stale ? badge('Stale', 'warn') : badge('Live', 'live'),
        s.tokenSharedAt ? h('span', { class: 'token-shared', title: `Seen from ${s.sharedAddresses || 'two addresses'} at once since ${fmtTime(s.tokenSharedAt)}` }, ' ', badge('Token shared', 'warn')) : null),
      h('td', { class: 'row-actions' },
        h('button', { type: 'button', class: 'btn btn-small btn-danger-outline release-session', 'data-testid': 'release-session', 'data-focus-key': `rel-${s.id}`, 'aria-label': `Force release session of code ${s.code}`, onclick: () => releaseSession(s) }, 'Force release')));
    const head = () => h('thead', null, h('tr', null,
      ['Code', 'Label', 'Client IP', 'Device', 'Started', 'Last heartbeat', 'State', 'Actions'].map((t) => h('th', { scope: 'col' }, t))));
    const table = h('table', { id: 'sessions-table', 'data-testid': 'sessions-table', class: 'stack sessions' },
      h('caption', { class: 'visually-hidden' }, 'Live viewer sessions'),
      head(),
      h('tbody', null, items.length === 0 ? emptyRow(8, 'Nobody is watching right now.') : items.map(row)));
    const recentPart = recent.length === 0 ? null : h('details', { class: 'recent-sessions', id: 'recent-sessions', 'data-testid': 'recent-sessions' },
      h('summary', null, `Recently seen (${recent.length}): sessions whose browser stopped sending heartbeats`),
      tableWrap('Recently seen sessions table', h('table', { id: 'recent-sessions-table', class: 'stack sessions' },
        h('caption', { class: 'visually-hidden' }, 'Recently seen viewer sessions'),
        head(),
        h('tbody', null, recent.map(row)))));
    replaceKeepingFocus(sessionsArea, tableWrap('Live sessions table', table), recentPart,
      h('p', { class: 'muted small', id: 'sessions-count' }, `${items.length} session${items.length === 1 ? '' : 's'} live · updated ${dateFmt.format(new Date())}`));
  }

  async function releaseSession(s) {
    const ok = await confirmDialog({ title: `Force release code ${s.code}?`, message: 'The viewer on this device will be stopped. The code stays valid and can be used again.', confirmLabel: 'Force release' });
    if (!ok) return;
    try {
      const res = await post(`${API}/sessions/${encodeURIComponent(s.id)}/release`, {});
      flash(res && res.released === false ? 'That session had already ended.' : `Session of code ${s.code} released.`, 'success');
    } catch (ex) { showError(ex); }
    await loadSessions().catch(showError);
  }

  renderHeader();
  await Promise.all([loadCodes(), loadSessions(),
    audiencePanel(audienceSection, { base, eventId: ev.id, get, alive, isLive: () => eventPhase(ev) === 'live' })]);
}

function dlItem(term, value) {
  return h('div', { class: 'dl-item' }, h('dt', null, term), h('dd', null, value));
}

// ---------------------------------------------------------------------------------------
// Codes across events

async function renderCodes(params) {
  const { view, alive } = startView('Codes', 'codes');
  const state = {
    status: CODE_STATUSES.includes(params.get('status')) ? params.get('status') : '',
    eventId: params.get('eventId') || '',
    search: params.get('search') || '',
    page: Math.max(1, Number(params.get('page')) || 1),
  };
  const statusSel = selectEl('all-codes-status', [['', 'All statuses'], ...CODE_STATUSES.map((s) => [s, s[0].toUpperCase() + s.slice(1)])], state.status);
  const eventSel = selectEl('all-codes-event', [['', 'All events']], '');
  const searchInput = h('input', { type: 'search', id: 'all-codes-search', placeholder: 'Code or label', autocomplete: 'off', value: state.search });
  const area = h('div', { id: 'all-codes-list', 'aria-busy': 'false' });
  view.append(
    viewHeading('Codes'),
    h('form', { class: 'toolbar', role: 'search', 'aria-label': 'Filter codes', id: 'all-codes-filter', onsubmit: (e) => { e.preventDefault(); state.search = searchInput.value.trim(); state.page = 1; load().catch(showError); } },
      field('all-codes-status', 'Status', statusSel),
      field('all-codes-event', 'Event', eventSel),
      field('all-codes-search', 'Search', searchInput),
      h('button', { type: 'submit', class: 'btn', id: 'all-codes-search-submit' }, 'Search')),
    area);

  statusSel.addEventListener('change', () => { state.status = statusSel.value; state.page = 1; load().catch(showError); });
  eventSel.addEventListener('change', () => { state.eventId = eventSel.value; state.page = 1; load().catch(showError); });

  // Fill the event select (first 100 events, all states).
  listEvents({ filter: 'all', sort: '-startsAt', perPage: 100 }).then((data) => {
    if (!alive()) return;
    for (const ev of data.items || []) eventSel.append(h('option', { value: ev.id, selected: ev.id === state.eventId }, ev.title));
    if (state.eventId && eventSel.value !== state.eventId) eventSel.append(h('option', { value: state.eventId, selected: true }, state.eventId));
  }).catch(showError);

  async function action(c, act) {
    if (act === 'revoke') {
      const ok = await confirmDialog({ title: `Revoke code ${c.code}?`, message: 'A viewer using this code will be stopped within seconds. You can unrevoke it later.', confirmLabel: 'Revoke' });
      if (!ok) return;
    }
    try {
      await post(`${API}/tokens/${encodeURIComponent(c.id)}/${act}`, {});
      flash(`Code ${c.code} ${act}d.`, 'success');
      await load();
    } catch (ex) { showError(ex); }
  }

  async function load() {
    replaceParams({ status: state.status, eventId: state.eventId, search: state.search, page: state.page > 1 ? state.page : '' });
    area.setAttribute('aria-busy', 'true');
    let data;
    try {
      data = await get(`${API}/tokens${qs({ status: state.status, eventId: state.eventId, search: state.search, page: state.page })}`);
    } finally {
      area.setAttribute('aria-busy', 'false');
    }
    if (!alive()) return;
    const items = data.items || [];
    const table = h('table', { id: 'all-codes-table', 'data-testid': 'all-codes-table', class: 'stack' },
      h('caption', { class: 'visually-hidden' }, 'Access codes across events'),
      h('thead', null, h('tr', null, ['Code', 'Event', 'Label', 'Status', 'Redeemed', 'Expires', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, items.length === 0
        ? emptyRow(7, 'No codes match.')
        : items.map((c) => h('tr', { 'data-code-id': c.id, 'data-code': c.code, 'data-status': c.status, class: 'code-row' },
          h('th', { scope: 'row', class: 'mono code-cell' }, c.code),
          h('td', { 'data-label': 'Event' }, h('a', { href: `#/events/${encodeURIComponent(c.eventId)}` }, c.eventTitle || c.eventId)),
          h('td', { 'data-label': 'Label' }, c.label || h('span', { class: 'muted' }, '—')),
          h('td', { 'data-col': 'status' }, statusBadge(c.status)),
          h('td', { 'data-label': 'Redeemed' }, c.redeemedAt ? fmtTime(c.redeemedAt) : h('span', { class: 'muted' }, '—')),
          h('td', { 'data-label': 'Expires' }, fmtTime(c.expiresAt)),
          h('td', { class: 'row-actions' },
            h('button', { type: 'button', class: 'btn btn-small copy-code', 'data-focus-key': `copy-${c.id}`, 'aria-label': `Copy code ${c.code}`, onclick: (e) => copyWithFeedback(c.code, e.currentTarget, `code ${c.code}`) }, 'Copy'),
            c.status === 'revoked'
              ? h('button', { type: 'button', class: 'btn btn-small unrevoke-code', 'data-focus-key': `rev-${c.id}`, 'aria-label': `Unrevoke code ${c.code}`, onclick: () => action(c, 'unrevoke') }, 'Unrevoke')
              : h('button', { type: 'button', class: 'btn btn-small btn-danger-outline revoke-code', 'data-focus-key': `rev-${c.id}`, 'aria-label': `Revoke code ${c.code}`, onclick: () => action(c, 'revoke') }, 'Revoke'))))));
    replaceKeepingFocus(area, tableWrap('Codes table', table),
      pager('all-codes', data, (p) => { state.page = p; load().catch(showError); }));
  }
  await load();
}

// ---------------------------------------------------------------------------------------
// Config status

async function renderConfig() {
  const { view, alive } = startView('Config', 'config');
  view.append(viewHeading('Configuration',
    h('button', { type: 'button', class: 'btn', id: 'config-refresh', onclick: () => route() }, 'Refresh')));
  const c = await get(`${API}/config`);
  if (!alive()) return;
  const restart = c.restartRequired || [];
  const err = c.lastError;
  view.append(
    h('section', { class: 'panel', 'aria-labelledby': 'cfg-status-h', 'data-testid': 'config-status', id: 'config-status' },
      h('h2', { id: 'cfg-status-h' }, 'Status'),
      h('dl', { class: 'details' },
        dlItem('File', c.path ? h('span', { class: 'mono break' }, c.path) : h('span', { class: 'muted' }, 'No config file')),
        dlItem('Last applied', c.lastAppliedAt ? [fmtTime(c.lastAppliedAt), h('span', { class: 'muted small' }, ` (${relTime(c.lastAppliedAt)})`)] : h('span', { class: 'muted' }, 'Never')),
        dlItem('Applied', h('span', { id: 'config-applies' }, fmtNum(c.applies))),
        dlItem('Rejected', h('span', { id: 'config-rejected' }, fmtNum(c.rejected))),
        typeof c.watching === 'boolean' ? dlItem('Watching the file', c.watching ? 'Yes — changes apply on save' : 'No — restart or reload to apply changes') : null,
        dlItem('Health', err ? badge('Last change rejected', 'danger') : badge('OK', 'ok')))),
    h('section', { class: 'panel', 'aria-labelledby': 'cfg-restart-h' },
      h('h2', { id: 'cfg-restart-h' }, 'Restart required'),
      restart.length === 0
        ? h('p', { class: 'muted', id: 'restart-none' }, 'No pending changes need a restart.')
        : [h('p', null, 'These settings changed in the file but only take effect after a restart:'),
          h('ul', { class: 'plain-list', id: 'restart-required' }, restart.map((r) => h('li', { class: 'mono' }, typeof r === 'string' ? r : JSON.stringify(r))))]),
    h('section', { class: 'panel', 'aria-labelledby': 'cfg-error-h', id: 'config-last-error' },
      h('h2', { id: 'cfg-error-h' }, 'Last error'),
      !err
        ? h('p', { class: 'muted' }, 'None.')
        : [
          h('p', { class: 'error-box', role: 'note' }, h('strong', null, err.message), ' ', h('span', { class: 'muted small' }, '— '), fmtTime(err.at)),
          (err.diagnostics || []).length === 0 ? null : tableWrap('Configuration diagnostics', h('table', { id: 'config-diagnostics' },
            h('thead', null, h('tr', null, ['Location', 'Key', 'Problem', 'Hint'].map((t) => h('th', { scope: 'col' }, t)))),
            h('tbody', null, err.diagnostics.map((d) => h('tr', null,
              h('td', { class: 'mono' }, [d.file, d.line, d.column].filter((x) => x !== null && x !== undefined && x !== '').join(':')),
              h('td', { class: 'mono' }, d.path || '—'),
              h('td', null, d.message),
              h('td', null, d.hint || h('span', { class: 'muted' }, '—'))))))),
        ]));
}

// ---------------------------------------------------------------------------------------
// Audit log

async function renderAudit(params) {
  const { view, alive } = startView('Audit log', 'audit');
  const state = { page: Math.max(1, Number(params.get('page')) || 1), action: params.get('action') || '', code: params.get('code') || '', perPage: 50 };
  const actionInput = h('input', { type: 'search', id: 'audit-action', placeholder: 'e.g. code.', autocomplete: 'off', value: state.action });
  const codeInput = h('input', { type: 'search', id: 'audit-code', placeholder: 'e.g. a8nO8iZRSLA0', autocomplete: 'off', spellcheck: 'false', value: state.code });
  const area = h('div', { id: 'audit-list', 'aria-busy': 'false' });
  view.append(
    viewHeading('Audit log'),
    h('form', { class: 'toolbar', role: 'search', 'aria-label': 'Filter audit log', onsubmit: (e) => { e.preventDefault(); state.action = actionInput.value.trim(); state.code = codeInput.value.trim(); state.page = 1; load().catch(showError); } },
      field('audit-action', 'Action starts with', actionInput),
      field('audit-code', 'Access code', codeInput),
      h('button', { type: 'submit', class: 'btn', id: 'audit-filter-submit' }, 'Filter')),
    area);

  async function load() {
    replaceParams({ action: state.action, code: state.code, page: state.page > 1 ? state.page : '' });
    area.setAttribute('aria-busy', 'true');
    let data;
    try {
      data = await get(`${API}/audit${qs({ page: state.page, perPage: state.perPage, action: state.action, code: state.code })}`);
    } finally {
      area.setAttribute('aria-busy', 'false');
    }
    if (!alive()) return;
    const items = data.items || [];
    const table = h('table', { id: 'audit-table', 'data-testid': 'audit-table' },
      h('caption', { class: 'visually-hidden' }, 'Audit log, newest first'),
      h('thead', null, h('tr', null, ['When', 'Actor', 'Action', 'Target', 'Outcome', 'Detail'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, items.length === 0
        ? emptyRow(6, 'No entries.')
        : items.map((a) => h('tr', { 'data-audit-id': a.id },
          h('td', { class: 'nowrap' }, fmtTime(a.at, dateSecFmt)),
          h('td', { class: 'mono' }, a.actor),
          h('td', { class: 'mono' }, a.action),
          h('td', { class: 'mono break', 'data-testid': 'audit-target' }, a.code
            ? [a.code, a.codeLabel ? h('span', { class: 'muted' }, ` (${a.codeLabel})`) : null]
            : (a.target ?? '—')),
          h('td', null, outcomeBadge(a.outcome)),
          h('td', { class: 'detail' }, a.detail === null || a.detail === undefined ? '—' : (typeof a.detail === 'string' ? a.detail : JSON.stringify(a.detail)))))));
    replaceKeepingFocus(area, tableWrap('Audit log table', table),
      pager('audit', data, (p) => { state.page = p; load().catch(showError); }));
  }
  await load();
}

function outcomeBadge(outcome) {
  const o = String(outcome ?? '');
  const kind = /^(ok|success|succeeded|allowed|applied)$/i.test(o) ? 'ok'
    : /(fail|denied|error|reject|refused|invalid)/i.test(o) ? 'danger' : 'muted';
  return badge(o || '—', kind);
}

// ---------------------------------------------------------------------------------------
// Boot

/** How often the config banner is re-checked while a page stays open. */
const CONFIG_BANNER_POLL_MS = 5000;

async function boot() {
  setInterval(() => { if (session && !document.hidden) refreshConfigBanner(); }, CONFIG_BANNER_POLL_MS);
  $('#login-form').addEventListener('submit', onLogin);
  $('#logout').addEventListener('click', onLogout);
  $('#skip-link').addEventListener('click', (e) => {
    e.preventDefault();
    const target = $('#view-title') && !$('#view').hidden ? $('#view-title') : $('#main');
    target.focus();
  });
  window.addEventListener('hashchange', () => {
    if (!location.hash.startsWith('#/')) return;
    clearFlashIfStale();
    route(true);
  });

  try {
    session = await api('GET', `${API}/session`);
  } catch (ex) {
    if (ex.status === 401) { showLogin(); return; }
    $('#boot').textContent = `Cannot load the console: ${ex.message}`;
    return;
  }
  showShell();
  if (!location.hash.startsWith('#/')) history.replaceState(null, '', '#/dashboard');
  route(false);
}

// Messages belong to the page they were shown on, except those flagged to survive the
// navigation their action caused.
function clearFlashIfStale() {
  const f = $('#flash .flash');
  if (!f) return;
  if (f.dataset.keep === '1') delete f.dataset.keep;
  else clearFlash();
}

boot();
