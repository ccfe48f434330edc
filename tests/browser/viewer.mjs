// Headless Chromium test of the StreamGate viewer portal (SPEC section 6, issue 7).
//
//   SG_BASE_URL=http://127.0.0.1:3401 SG_ADMIN_TOKEN=sgadm_... \
//   SG_CODES=code1,code2,code3 SG_LIVE_EVENT=live \
//   SG_SOON_EVENT=soon SG_SOON_CODES=code4 \
//   SG_CONFIG_PATH=/path/to/streamgate.toml SG_SOON_MARKER='starts_at = 2099-06-01T00:00:00Z' \
//   SG_SCREENSHOTS=/tmp/shots node tests/browser/viewer.mjs
//
// Env: SG_BASE_URL (platform), SG_ADMIN_TOKEN (admin API bearer token), SG_CODES (unused
// codes of the live event, at least 3), SG_LIVE_EVENT (its id), SG_SOON_EVENT (id of an
// event that has not started), SG_SOON_CODES (its codes, at least 1), SG_CONFIG_PATH (the
// streamgate.toml the platform watches), SG_SOON_MARKER (a line of that file unique to
// the future event; replaced by `starts_at = <now - 1 min>` to start it), SG_SCREENSHOTS
// (directory for PNGs: desktop-NN-name.png at 1280x800 and phone-NN-name.png at
// 375x740), CHROMIUM_PATH (default /usr/bin/chromium).
//
// The live event's stream should be a live playlist (no #EXT-X-ENDLIST), so the player
// keeps fetching it and a revocation shows within seconds. Validate is rate limited per
// client address (5/min by default): a run against that budget waits out the 429s (and
// says so); raise [platform.rate_limits] validate_per_minute in a test config to avoid it.
// Prints one line per step and "PASS n steps in X s" at the end; exit 0 only when all passed.

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { assert, createSteps, launchChromium, run, screenshot, sleep, watchProblems } from './lib.mjs';

const env = process.env;
const BASE = (env.SG_BASE_URL || 'http://127.0.0.1:3401').replace(/\/+$/, '');
const ADMIN_TOKEN = env.SG_ADMIN_TOKEN || '';
const CODES = (env.SG_CODES || '').split(',').map((c) => c.trim()).filter(Boolean);
const LIVE_EVENT = env.SG_LIVE_EVENT || '';
const SOON_EVENT = env.SG_SOON_EVENT || '';
const SOON_CODES = (env.SG_SOON_CODES || '').split(',').map((c) => c.trim()).filter(Boolean);
const CONFIG_PATH = env.SG_CONFIG_PATH || '';
const SOON_MARKER = env.SG_SOON_MARKER || '';
const SHOTS = env.SG_SCREENSHOTS || path.join(os.tmpdir(), 'streamgate-viewer-screenshots');
const OVERALL_LIMIT_MS = 420_000;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 375, height: 740 };
const REVOKE_BOUND_MS = 60_000;
const PRE_EVENT_BOUND_MS = 90_000;
const SCREENS = ['01-entry', '02-player', '03-in-use', '04-revoked', '05-pre-event'];

const missing = [];
if (!ADMIN_TOKEN) missing.push('SG_ADMIN_TOKEN');
if (CODES.length < 3) missing.push('SG_CODES (at least 3 codes)');
if (!LIVE_EVENT) missing.push('SG_LIVE_EVENT');
if (!SOON_EVENT) missing.push('SG_SOON_EVENT');
if (SOON_CODES.length < 1) missing.push('SG_SOON_CODES');
if (!CONFIG_PATH) missing.push('SG_CONFIG_PATH');
if (!SOON_MARKER) missing.push('SG_SOON_MARKER');
if (missing.length) {
  console.error(`missing: ${missing.join(', ')}`);
  process.exit(2);
}

const steps = createSteps();
const { step } = steps;
const problems = []; // CSP violations, page errors, failed page assets
const overflows = []; // screens wider than the phone
const notes = [];
const consoleErrors = []; // printed when a step fails (e.g. a CORS refusal), not failures themselves

// ---------------------------------------------------------------------------------------
// Helpers

const state = (page) => page.evaluate(() => window.__sg && window.__sg.state);

/** A page in `context` that reports its problems and records its requests to the HLS server. */
async function openPage(context, label) {
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  watchProblems(page, problems, label);
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(`[${label}] ${m.text()}`);
  });
  page.hlsRequests = [];
  page.on('request', (r) => {
    if (/\/streams\//.test(new URL(r.url()).pathname)) page.hlsRequests.push(r);
  });
  page.on('response', (r) => {
    const u = new URL(r.url());
    if (u.origin === BASE && (u.pathname === '/' || u.pathname.startsWith('/assets/')) && r.status() >= 400) {
      problems.push(`[${label}] ${u.pathname} answered ${r.status()}`);
    }
  });
  const res = await page.goto(`${BASE}/`, { waitUntil: 'load' });
  assert(res && res.status() === 200, `GET / answered ${res && res.status()}`);
  page.csp = res.headers()['content-security-policy'] || '';
  await page.waitForFunction(() => window.__sg && window.__sg.state === 'entry');
  return page;
}

/** Desktop and phone screenshots of what `page` shows now; notes any horizontal overflow. */
async function screens(page, name) {
  const before = page.viewportSize();
  await page.setViewportSize(DESKTOP);
  await settle(page);
  await screenshot(page, path.join(SHOTS, `desktop-${name}.png`));
  await page.setViewportSize(PHONE);
  await settle(page);
  const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (over > 0) overflows.push(`${name} is ${over}px wider than a 375px phone`);
  await screenshot(page, path.join(SHOTS, `phone-${name}.png`));
  await page.setViewportSize(before || DESKTOP);
  await settle(page);
}

async function settle(page) {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await sleep(150);
}

/**
 * Types `code` and submits; returns the validate answer { status, body }. A 429 (the
 * per-address budget) is waited out and retried, with a note.
 */
async function submitCode(page, code, { expectCall = true } = {}) {
  for (let attempt = 0; attempt < 4; attempt++) {
    await page.fill('#code-input', code);
    if (!expectCall) {
      await page.click('#code-submit');
      return null;
    }
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${BASE}/api/tokens/validate` && r.request().method() === 'POST'),
      page.click('#code-submit'),
    ]);
    const body = await res.json().catch(() => ({}));
    if (res.status() !== 429) return { status: res.status(), body };
    const wait = Number(res.headers()['retry-after'] || 30);
    await page.waitForFunction(() => document.querySelector('#message')?.dataset.kind === 'rate-limited');
    assert(/wait/i.test(await page.textContent('#message')), 'the rate-limit message does not ask to wait');
    notes.push(`validate rate limited (429): waited ${wait} s`);
    console.log(`     note: validate answered 429 (per-address budget); waiting ${wait} s as the page asks`);
    await page.waitForFunction(() => !document.querySelector('#code-submit').disabled, null, { timeout: (wait + 5) * 1000 });
  }
  throw new Error('validate stayed rate limited');
}

async function messageOf(page, kind) {
  await page.waitForFunction((k) => document.querySelector('#message')?.dataset.kind === k, kind, { timeout: 10_000 })
    .catch(async () => {
      const got = await page.evaluate(() => [document.querySelector('#message')?.dataset.kind, document.querySelector('#message')?.textContent]);
      throw new Error(`message is ${JSON.stringify(got)}, want kind "${kind}"`);
    });
  return (await page.textContent('#message')).trim();
}

/** Waits for state "playing" and the video's currentTime to advance by `seconds`. */
async function waitPlaying(page, seconds, timeout) {
  await page.waitForFunction(() => window.__sg.state === 'playing', null, { timeout });
  const t0 = await page.evaluate(() => document.querySelector('#video').currentTime);
  await page.waitForFunction(
    (start) => window.__sg.state === 'playing' && document.querySelector('#video').currentTime >= start + 2,
    t0, { timeout: Math.max(10_000, seconds * 1000 + 20_000), polling: 200 },
  ).catch(async () => {
    const t1 = await page.evaluate(() => [window.__sg.state, document.querySelector('#video').currentTime]);
    throw new Error(`currentTime went from ${t0.toFixed(2)} to ${t1[1].toFixed(2)} (state ${t1[0]})`);
  });
  const t1 = await page.evaluate(() => document.querySelector('#video').currentTime);
  return { from: t0, to: t1 };
}

async function admin(method, pathAndQuery) {
  const res = await fetch(`${BASE}${pathAndQuery}`, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, Accept: 'application/json' },
  });
  const text = await res.text();
  let body = null;
  try { body = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, body, text };
}

async function codeRow(eventId, code) {
  const r = await admin('GET', `/api/admin/tokens?eventId=${encodeURIComponent(eventId)}&search=${encodeURIComponent(code)}`);
  assert(r.status === 200, `GET /api/admin/tokens answered ${r.status}: ${r.text}`);
  const row = (r.body.items || []).find((c) => c.code === code);
  assert(row, `code ${code} not found in /api/admin/tokens?eventId=${eventId}`);
  return row;
}

/** Replaces the marker line atomically: a temp file in the same directory, then rename. */
async function moveStartToNow() {
  const text = await fs.readFile(CONFIG_PATH, 'utf8');
  const lines = text.split('\n');
  const hits = lines.filter((l) => l.trim() === SOON_MARKER.trim());
  assert(hits.length === 1, `SG_SOON_MARKER occurs ${hits.length} times in ${CONFIG_PATH}, want exactly once`);
  const start = new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const out = lines.map((l) => (l.trim() === SOON_MARKER.trim() ? `starts_at = ${start}` : l)).join('\n');
  const tmp = path.join(path.dirname(CONFIG_PATH), `.${path.basename(CONFIG_PATH)}.viewer-test-${process.pid}.tmp`);
  await fs.writeFile(tmp, out);
  await fs.rename(tmp, CONFIG_PATH);
  return start;
}

function randomCode() {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < 12; i++) s += alphabet[Math.floor(Math.random() * alphabet.length)];
  return s;
}

// ---------------------------------------------------------------------------------------

async function main() {
  await fs.mkdir(SHOTS, { recursive: true });
  const browser = await launchChromium(['--autoplay-policy=no-user-gesture-required']);
  const pages = [];
  try {
    const desktop = await browser.newContext({ viewport: DESKTOP });
    const [code1, code2] = CODES;
    let page1;
    let hlsBase = '';

    await step('entry page renders; unknown and empty codes get their messages', async () => {
      page1 = await openPage(desktop, 'viewer-1');
      pages.push(page1);
      assert(page1.csp.includes("script-src 'self'") && !page1.csp.includes('unsafe-'), `GET / has no strict CSP (got "${page1.csp}")`);
      const codecs = await page1.evaluate(() => ({
        mp4: window.MediaSource ? MediaSource.isTypeSupported('video/mp4; codecs="avc1.4d401e,mp4a.40.2"') : false,
        hlsjs: typeof window.Hls === 'function' && window.Hls.isSupported(),
        hlsVersion: window.Hls && window.Hls.version,
      }));
      console.log(`     MediaSource H.264/AAC (avc1.4d401e,mp4a.40.2): ${codecs.mp4}; hls.js ${codecs.hlsVersion} supported: ${codecs.hlsjs}`);
      assert(codecs.mp4, 'this Chromium cannot decode H.264/AAC through MediaSource: currentTime cannot advance on the demo stream');
      assert(codecs.hlsjs, 'hls.js did not load or is not supported');
      const title = await page1.title();
      const brand = (await page1.textContent('.brand-name')).trim();
      assert(title && !title.includes('__APP_NAME__'), `title is "${title}"`);
      assert(brand === title, `header says "${brand}", title "${title}"`);
      for (const sel of ['#code-form', '#code-input', '#code-submit', '#message']) {
        assert(await page1.locator(sel).count() === 1, `${sel} missing`);
      }
      assert(await page1.getAttribute('#code-input', 'autocomplete') === 'off', 'code field has autocomplete on');
      assert(await page1.locator('label[for="code-input"]').count() === 1, 'code field has no label');
      assert(await page1.getAttribute('#message', 'aria-live') === 'polite', '#message is not an aria-live region');
      assert(await page1.evaluate(() => document.activeElement?.id) === 'code-input', 'the code field is not focused on load');
      await screens(page1, '01-entry');

      // Unknown code, typed the way people paste it: spaces and dashes are dropped.
      const unknown = randomCode();
      const submitBox = await page1.locator('#code-submit').boundingBox();
      const r = await submitCode(page1, `  ${unknown.slice(0, 4)}-${unknown.slice(4, 8)} ${unknown.slice(8)} `);
      assert(r.status === 401, `unknown code answered ${r.status}`);
      const invalid = await messageOf(page1, 'invalid');
      assert(/couldn.t find|not recogni|invalid/i.test(invalid), `invalid-code message says "${invalid}"`);
      assert(await page1.inputValue('#code-input') === unknown, `the field holds "${await page1.inputValue('#code-input')}", not the cleaned code`);
      const after = await page1.locator('#code-submit').boundingBox();
      assert(Math.abs(after.y - submitBox.y) < 0.5, `the form moved by ${after.y - submitBox.y}px when the message appeared`);

      // Empty submit (Enter in the field).
      await page1.fill('#code-input', '   ');
      await page1.press('#code-input', 'Enter');
      const required = await messageOf(page1, 'required');
      assert(/enter|required/i.test(required), `required message says "${required}"`);
      assert(await state(page1) === 'entry', 'an empty submit left the entry screen');
    });

    // The future event's start moves early in the run: the portal notices at its next
    // status poll (every 30 s), and the steps after this one run while that page waits,
    // each on an event of its own; the last of them checks that it started by itself.
    // The page has a browser window of its own (a context): as a second tab of the
    // desktop window it would push the other steps' players into a background tab,
    // where Chromium holds video back.
    let preEvent = null;
    await step('a future event shows the countdown; its start moves in the config file', async () => {
      const soon = await browser.newContext({ viewport: DESKTOP });
      const page4 = await openPage(soon, 'viewer-4');
      pages.push(page4);
      const r = await submitCode(page4, SOON_CODES[0]);
      assert(r.status === 200, `validate answered ${r.status}: ${JSON.stringify(r.body)}`);
      await page4.locator('#pre-event').waitFor({ state: 'visible' });
      assert(await state(page4) === 'pre-event', `state is ${await state(page4)}`);
      const title = (await page4.textContent('#pre-title')).trim();
      assert(title === r.body.event.title, `pre-event title "${title}", event "${r.body.event.title}"`);
      if (r.body.event.description) {
        assert((await page4.textContent('#pre-description')).trim() === r.body.event.description.trim(), 'description missing');
      }
      const left = Number(await page4.getAttribute('#countdown', 'data-seconds'));
      const want = Math.floor((Date.parse(r.body.event.startsAt) - Date.now()) / 1000);
      assert(left > 0 && Math.abs(left - want) < 5, `countdown shows ${left} s, want about ${want} s`);
      await sleep(1100);
      const left2 = Number(await page4.getAttribute('#countdown', 'data-seconds'));
      assert(left2 < left, 'the countdown does not count down');
      await screens(page4, '05-pre-event');

      await page4.evaluate(() => { window.__sgNoReload = true; });
      const start = await moveStartToNow();
      const t0 = Date.now();
      console.log(`     ${path.basename(CONFIG_PATH)}: "${SOON_MARKER}" -> "starts_at = ${start}"`);
      // Checked as soon as it starts (currentTime advancing, the time taken), and kept
      // for the later step: a failure before then is reported there, not unhandled.
      const started = page4.waitForFunction(() => window.__sg.state === 'playing', null, { timeout: PRE_EVENT_BOUND_MS, polling: 250 })
        .then(() => waitPlaying(page4, 2, 30_000))
        .then(() => ({ secs: (Date.now() - t0) / 1000 }), (error) => ({ error }));
      preEvent = { soon, page4, started };
    });

    await step('redeem code 1: plays, currentTime advances, the token travels as a header', async () => {
      const r = await submitCode(page1, code1);
      assert(r.status === 200, `validate answered ${r.status}: ${JSON.stringify(r.body)}`);
      hlsBase = new URL(r.body.playbackBaseUrl).origin;
      await page1.locator('#player').waitFor({ state: 'visible' });
      const { from, to } = await waitPlaying(page1, 2, 30_000);
      console.log(`     currentTime ${from.toFixed(2)} -> ${to.toFixed(2)} s`);
      assert(page1.csp.includes(hlsBase), `the page's CSP does not name the HLS origin ${hlsBase}`);
      const token = await page1.evaluate(() => window.__sg.token());
      assert(/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token || ''), 'window.__sg.token() is not a JWT');
      const reqs = page1.hlsRequests.filter((q) => q.url().startsWith(hlsBase) && q.method() === 'GET');
      const playlists = reqs.filter((q) => /\.m3u8(\?|$)/.test(q.url()));
      const segments = reqs.filter((q) => /\.(ts|m4s|mp4|aac)(\?|$)/.test(q.url()));
      assert(playlists.length >= 2 && segments.length >= 1, `${playlists.length} playlist and ${segments.length} segment requests to ${hlsBase}`);
      for (const q of reqs) {
        const h = await q.allHeaders();
        assert(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/.test(h.authorization || ''), `${q.url()} went without an Authorization header`);
        assert(!/[?&]__token=/.test(q.url()), `${q.url()} carries the token in the URL`);
      }
      assert(reqs.some((q) => q.headers().authorization === `Bearer ${token}`), 'no request carried the current token');
      console.log(`     ${playlists.length} playlist + ${segments.length} segment requests, all with Authorization: Bearer, none with __token`);

      // The player around the picture.
      assert(await page1.getAttribute('#badge', 'data-kind') === 'live', `badge is "${await page1.getAttribute('#badge', 'data-kind')}" on a live stream`);
      assert(await page1.locator('#seek-row').isHidden(), 'the seek bar is shown on a live stream');
      assert((await page1.textContent('#player-title')).trim().length > 0, 'no event title under the player');
      await page1.hover('#stage');
      await page1.click('#quality');
      await page1.locator('#quality-menu').waitFor({ state: 'visible' });
      const items = await page1.locator('#quality-menu [role="menuitemradio"]').allTextContents();
      const levels = await page1.evaluate(() => document.querySelectorAll('#quality-menu [data-level]:not([data-level="-1"])').length);
      assert(items[0] === 'Auto' && levels >= 2 && items.length === levels + 1, `quality menu holds ${JSON.stringify(items)}`);
      await page1.keyboard.press('Escape');
      await page1.locator('#quality-menu').waitFor({ state: 'hidden' });
      assert(await page1.evaluate(() => document.activeElement?.id) === 'quality', 'Esc did not return focus to the quality button');
      // M mutes and is remembered; M again unmutes.
      await page1.locator('#video').focus().catch(() => {});
      await page1.evaluate(() => document.activeElement?.blur());
      await page1.keyboard.press('m');
      assert(await page1.evaluate(() => document.querySelector('#video').muted && localStorage.getItem('streamgate.muted') === '1'), 'M did not mute (or it was not remembered)');
      await page1.keyboard.press('m');
      assert(await page1.evaluate(() => !document.querySelector('#video').muted && localStorage.getItem('streamgate.muted') === '0'), 'M did not unmute');
      await page1.keyboard.press('ArrowDown');
      assert(await page1.evaluate(() => Math.abs(Number(localStorage.getItem('streamgate.volume')) - (document.querySelector('#video').volume)) < 1e-6 && document.querySelector('#video').volume < 1), 'ArrowDown did not lower (and remember) the volume');
      await page1.keyboard.press('ArrowUp');
      await page1.hover('#stage');
      await screens(page1, '02-player');
    });

    await step('a second context with code 1 gets "in use"; after the first page closes it can redeem', async () => {
      const other = await browser.newContext({ viewport: DESKTOP });
      const page2 = await openPage(other, 'viewer-2');
      pages.push(page2);
      const r = await submitCode(page2, code1);
      assert(r.status === 409 && r.body.inUse === true, `second device answered ${r.status}: ${JSON.stringify(r.body)}`);
      const msg = await messageOf(page2, 'in-use');
      assert(/another device/i.test(msg), `in-use message says "${msg}"`);
      await screens(page2, '03-in-use');

      await page1.close({ runBeforeUnload: true });
      pages.splice(pages.indexOf(page1), 1);
      // The release is a beacon: wait until the platform has ended the session.
      const t0 = Date.now();
      let status = '';
      while (Date.now() - t0 < 10_000) {
        status = (await codeRow(LIVE_EVENT, code1)).status;
        if (status !== 'active') break;
        await sleep(250);
      }
      assert(status !== 'active', 'the session of the closed page is still active after 10 s (no release beacon?)');
      console.log(`     session released ${((Date.now() - t0) / 1000).toFixed(1)} s after the page closed (code status "${status}")`);
      let ok = null;
      for (let i = 0; i < 5 && !ok; i++) {
        const again = await submitCode(page2, code1);
        if (again.status === 200) ok = again;
        else if (again.status === 409) await sleep(1000);
        else throw new Error(`redeem after release answered ${again.status}: ${JSON.stringify(again.body)}`);
      }
      assert(ok, 'the second context could not redeem code 1 after the first page closed');
      await waitPlaying(page2, 2, 30_000);
      await page2.close({ runBeforeUnload: true });
      pages.splice(pages.indexOf(page2), 1);
      await other.close();
    });

    await step('revoking code 2 through the admin API shows the revoked overlay', async () => {
      const page3 = await openPage(desktop, 'viewer-3');
      pages.push(page3);
      const r = await submitCode(page3, code2);
      assert(r.status === 200, `validate answered ${r.status}: ${JSON.stringify(r.body)}`);
      await waitPlaying(page3, 2, 30_000);
      const row = await codeRow(LIVE_EVENT, code2);
      const t0 = Date.now();
      const rev = await admin('POST', `/api/admin/tokens/${encodeURIComponent(row.id)}/revoke`);
      assert(rev.status === 200, `revoke answered ${rev.status}: ${rev.text}`);
      await page3.locator('#overlay[data-kind="revoked"]').waitFor({ state: 'visible', timeout: REVOKE_BOUND_MS });
      const secs = (Date.now() - t0) / 1000;
      console.log(`     revoked overlay visible ${secs.toFixed(1)} s after the revoke call`);
      notes.push(`revocation shown in ${secs.toFixed(1)} s`);
      const after = await page3.evaluate(() => ({
        state: window.__sg.state,
        token: window.__sg.token(),
        paused: document.querySelector('#video').paused,
        text: document.querySelector('#overlay').textContent,
      }));
      assert(after.state === 'overlay' && after.token === null && after.paused, `after revocation: ${JSON.stringify(after)}`);
      assert(/revoked/i.test(after.text), `overlay says "${after.text.trim()}"`);
      await screens(page3, '04-revoked');
      await page3.close({ runBeforeUnload: true });
      pages.splice(pages.indexOf(page3), 1);
    });

    await step('where hls.js cannot run, the video element plays natively with ?__token=, and a token refresh renews it in place', async () => {
      // Without MediaSource, hls.js reports itself unsupported (as on iPhone Safari); this
      // Chromium plays HLS natively, so the page must fall back to <video src="...?__token=">.
      const native = await browser.newContext({ viewport: DESKTOP });
      // A clock the test can move, to reach the 50-minute token refresh in seconds.
      await native.clock.install();
      await native.addInitScript(() => {
        delete window.MediaSource;
        delete window.ManagedMediaSource;
        delete window.WebKitMediaSource;
      });
      const page5 = await openPage(native, 'viewer-native');
      pages.push(page5);
      const can = await page5.evaluate(() => ({
        hlsjs: typeof window.Hls === 'function' && window.Hls.isSupported(),
        native: document.createElement('video').canPlayType('application/vnd.apple.mpegurl'),
      }));
      assert(!can.hlsjs, 'hls.js still reports support without MediaSource');
      if (!can.native) {
        console.log('     skipped: this Chromium has no native HLS playback (canPlayType is empty)');
        notes.push('native HLS path not exercised');
      } else {
        // A recording, where "where it was" is a position to come back to.
        const r = await submitCode(page5, env.SG_RECORDING_CODE || CODES[2]);
        assert(r.status === 200, `validate answered ${r.status}: ${JSON.stringify(r.body)}`);
        const { from, to } = await waitPlaying(page5, 2, 30_000);
        const reqs = page5.hlsRequests.filter((q) => q.url().startsWith(hlsBase) && q.method() === 'GET');
        const segs = reqs.filter((q) => /\.ts(\?|$)/.test(q.url()));
        assert(reqs.length >= 3 && segs.length >= 1, `${reqs.length} requests (${segs.length} segments) to ${hlsBase}`);
        for (const q of reqs) {
          assert(/[?&]__token=[\w-]+\.[\w-]+\.[\w-]+/.test(q.url()), `${q.url().replace(/__token=[^&]+/, '__token=…')} went without ?__token=`);
        }
        console.log(`     native playback (canPlayType "${can.native}"): currentTime ${from.toFixed(2)} -> ${to.toFixed(2)} s, ${reqs.length} requests all with ?__token=`);

        // The scheduled refresh (50 minutes in): the video element is handed the new
        // token at once, before the old one runs out, and plays on from where it was.
        const token = (u) => new URL(u).searchParams.get('__token');
        const before = await page5.evaluate(() => ({ src: document.querySelector('#video').src, t: document.querySelector('#video').currentTime }));
        // Where playback starts again with the new source: the first `playing` after it.
        await page5.evaluate((old) => {
          const v = document.querySelector('#video');
          window.__resumedAt = null;
          v.addEventListener('playing', () => {
            if (window.__resumedAt === null && v.src !== old) window.__resumedAt = v.currentTime;
          });
        }, before.src);
        await page5.clock.fastForward('50:05');
        await page5.waitForFunction((old) => document.querySelector('#video').src !== old, before.src, { timeout: 20_000 });
        await page5.waitForFunction(() => window.__resumedAt !== null, null, { timeout: 20_000 });
        await waitPlaying(page5, 2, 30_000);
        const after = { from: await page5.evaluate(() => window.__resumedAt) };
        const src = await page5.evaluate(() => document.querySelector('#video').src);
        assert(token(src) && token(src) !== token(before.src), 'the native source kept the old token after the refresh');
        const live = await page5.evaluate(() => window.__sg.live);
        if (!live) {
          assert(Math.abs(after.from - before.t) < 2, `the recording restarted at ${after.from.toFixed(1)} s instead of about ${before.t.toFixed(1)} s`);
        }
        const state = await page5.evaluate(() => window.__sg.state);
        assert(state === 'playing', `after the refresh the player is ${state}`);
        console.log(`     token refreshed at 50 min: source renewed, ${live ? 'live edge' : 'recording'} resumed at ${after.from.toFixed(1)} s (was ${before.t.toFixed(1)} s), playing on`);
      }
      await page5.close({ runBeforeUnload: true });
      pages.splice(pages.indexOf(page5), 1);
      await native.close();
    });

    if (env.SG_RECORDING_CODE) {
      await step('a recording played from its buffer stops within seconds of a revoke (pushed, not heartbeat)', async () => {
        const page7 = await openPage(desktop, 'viewer-7');
        pages.push(page7);
        const r = await submitCode(page7, env.SG_RECORDING_CODE);
        assert(r.status === 200, `validate answered ${r.status}: ${JSON.stringify(r.body)}`);
        await waitPlaying(page7, 2, 30_000);
        // Everything buffered: the player asks the HLS server for nothing more, so only
        // the pushed session event can stop it before the next heartbeat.
        await page7.waitForFunction(() => {
          const v = document.querySelector('#video');
          return v.buffered.length > 0 && v.buffered.end(v.buffered.length - 1) >= v.duration - 0.5;
        }, null, { timeout: 30_000, polling: 250 });
        const row = await codeRow('recording', env.SG_RECORDING_CODE);
        const before = page7.hlsRequests.length;
        const beats = [];
        page7.on('request', (q) => { if (q.url().includes('/api/playback/heartbeat')) beats.push(q.url()); });
        const t0 = Date.now();
        const rev = await admin('POST', `/api/admin/tokens/${encodeURIComponent(row.id)}/revoke`);
        assert(rev.status === 200, `revoke answered ${rev.status}: ${rev.text}`);
        await page7.locator('#overlay[data-kind="revoked"]').waitFor({ state: 'visible', timeout: REVOKE_BOUND_MS });
        const secs = (Date.now() - t0) / 1000;
        const asked = page7.hlsRequests.length - before;
        console.log(`     buffered recording: revoked overlay ${secs.toFixed(1)} s after the revoke call (${asked} HLS requests meanwhile)`);
        notes.push(`revocation on a buffered recording shown in ${secs.toFixed(1)} s`);
        assert(await page7.evaluate(() => document.querySelector('#video').paused), 'the video plays on under the overlay');
        // Neither a heartbeat nor a refused segment told it: the pushed session event did.
        assert(beats.length === 0 && asked === 0, `stopped by ${beats.length} heartbeat(s) and ${asked} HLS request(s), not by the pushed event`);
        await page7.close({ runBeforeUnload: true });
        pages.splice(pages.indexOf(page7), 1);
      });
    }

    if (env.SG_NOSTREAM_CODE) {
      await step('an event past its start with no stream yet says it waits for the broadcast, not a zero countdown', async () => {
        const page6 = await openPage(desktop, 'viewer-6');
        pages.push(page6);
        const r = await submitCode(page6, env.SG_NOSTREAM_CODE);
        assert(r.status === 200, `validate answered ${r.status}: ${JSON.stringify(r.body)}`);
        await page6.locator('#pre-event').waitFor({ state: 'visible' });
        await page6.waitForFunction(() => /waiting for the broadcast/i.test(document.querySelector('#pre-eyebrow').textContent), null, { timeout: 5_000 });
        assert(await page6.locator('#countdown').isHidden(), 'a zero countdown is still shown');
        const note = (await page6.textContent('#pre-note')).trim();
        assert(/starts here by itself/.test(note), `pre-event note: ${note}`);
        await screens(page6, '07-waiting-for-broadcast');
        await page6.close({ runBeforeUnload: true });
        pages.splice(pages.indexOf(page6), 1);
      });
    }

    if (CODES[3]) {
      await step('on a phone the controls keep to the bottom third, hide by themselves, and a tap toggles them without pausing', async () => {
        const phone = await browser.newContext({ viewport: PHONE, hasTouch: true, isMobile: true });
        const page8 = await openPage(phone, 'viewer-phone');
        pages.push(page8);
        // Typed and submitted with a tap, as on a phone.
        await page8.fill('#code-input', CODES[3]);
        const [res] = await Promise.all([
          page8.waitForResponse((q) => q.url() === `${BASE}/api/tokens/validate` && q.request().method() === 'POST'),
          page8.tap('#code-submit'),
        ]);
        assert(res.status() === 200, `validate answered ${res.status()}`);
        await waitPlaying(page8, 2, 30_000);
        const idle = () => page8.evaluate(() => document.querySelector('#stage').classList.contains('is-idle'));
        const playing = () => page8.evaluate(() => !document.querySelector('#video').paused);
        // Nobody touches it: the controls hide by themselves and the video plays on.
        await page8.waitForFunction(() => document.querySelector('#stage').classList.contains('is-idle'), null, { timeout: 10_000 });
        assert(await playing(), 'the video paused while the controls hid');
        // A tap shows them without pausing; the share of the picture they cover, measured.
        await page8.tap('#video');
        assert(!(await idle()) && await playing(), 'a tap on hidden controls did not show them (or paused)');
        const cover = await page8.evaluate(() => {
          const stage = document.querySelector('#stage').getBoundingClientRect();
          const controls = document.querySelector('#controls').getBoundingClientRect();
          return controls.height / stage.height;
        });
        console.log(`     phone: the controls cover ${(cover * 100).toFixed(0)}% of the picture's height`);
        notes.push(`phone controls cover ${(cover * 100).toFixed(0)}% of the picture`);
        assert(cover <= 1 / 3, `the controls cover ${(cover * 100).toFixed(0)}% of the picture`);
        for (const id of ['#quality-label', '#time']) {
          const lines = await page8.evaluate((sel) => {
            const e = document.querySelector(sel);
            if (!e || !e.offsetParent) return 0; // not shown at this width
            const lh = parseFloat(getComputedStyle(e).lineHeight) || parseFloat(getComputedStyle(e).fontSize) * 1.3;
            return Math.round(e.getBoundingClientRect().height / lh);
          }, id);
          assert(lines <= 1, `${id} wraps onto ${lines} lines on a phone`);
        }
        // A second tap hides them; neither tap paused.
        await page8.tap('#video');
        assert(await idle() && await playing(), 'a tap on shown controls did not hide them (or paused)');
        // A tap where the hidden play button is does not press it: it shows the controls.
        const play = await page8.locator('#play').boundingBox();
        await page8.touchscreen.tap(play.x + play.width / 2, play.y + play.height / 2);
        assert(await playing(), 'a tap on the invisible play button paused the video');
        assert(!(await idle()), 'a tap on the hidden controls did not show them');
        await screenshot(page8, path.join(SHOTS, 'phone-08-controls.png'));
        await page8.close({ runBeforeUnload: true });
        pages.splice(pages.indexOf(page8), 1);
        await phone.close();
      });
    }

    await step('the future event starts by itself when its start moves, without a reload', async () => {
      assert(preEvent, 'the pre-event step did not get as far as moving the start');
      const { soon, page4, started } = preEvent;
      const { secs, error } = await started;
      if (error) throw error;
      assert(await page4.evaluate(() => window.__sgNoReload === true), 'the page was reloaded');
      console.log(`     playing (currentTime advancing) ${secs.toFixed(1)} s after the config edit, without a reload`);
      notes.push(`pre-event start in ${secs.toFixed(1)} s`);
      await page4.hover('#stage');
      await screens(page4, '06-pre-event-started');
      await page4.close({ runBeforeUnload: true });
      pages.splice(pages.indexOf(page4), 1);
      await soon.close();
    });

    await step('every screen exists at 1280x800 and 375x740, none wider than the phone', async () => {
      for (const name of SCREENS) {
        for (const w of ['desktop', 'phone']) {
          const file = path.join(SHOTS, `${w}-${name}.png`);
          const st = await fs.stat(file).catch(() => null);
          assert(st && st.size > 1000, `${file} missing or empty`);
        }
      }
      assert(overflows.length === 0, overflows.join('; '));
    });

    await step('no CSP violations or page errors', async () => {
      assert(problems.length === 0, problems.join(' | '));
    });
  } catch (e) {
    for (const [i, p] of pages.entries()) {
      if (!p.isClosed()) await screenshot(p, path.join(SHOTS, `FAILURE-${i + 1}.png`)).catch(() => {});
    }
    if (problems.length) console.log(`     also seen: ${problems.join(' | ')}`);
    const last = consoleErrors.slice(-8);
    if (last.length) console.log(`     last console errors:\n       ${last.map((t) => t.slice(0, 300)).join('\n       ')}`);
    throw e;
  } finally {
    await browser.close();
  }
}

run(main, { steps, limitMs: OVERALL_LIMIT_MS, describe: () => `screenshots in ${SHOTS}` });
