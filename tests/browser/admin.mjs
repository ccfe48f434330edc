// Headless Chromium test of the StreamGate admin console.
//
//   cd tests/browser && npm ci && cd ../..
//   SG_BASE_URL=http://127.0.0.1:3101 SG_ADMIN_PASSWORD=... SG_SCREENSHOTS=/tmp/shots \
//     node tests/browser/admin.mjs
//
// Env: SG_BASE_URL (platform base URL), SG_ADMIN_PASSWORD (required), SG_SCREENSHOTS
// (directory for full-page PNGs, created if missing), CHROMIUM_PATH (default
// /usr/bin/chromium), SG_READONLY_EVENT (id of a config-managed event to check the
// read-only view, default "demo"; set it empty to skip that step), SG_CONFIG_FILE (the
// watched streamgate.toml: when set, a bad edit is saved and the banner checked).
// Prints one line per step; exit code 0 only when every step passed.

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { assert, createSteps, launchChromium, run, screenshot, watchProblems } from './lib.mjs';

const BASE = (process.env.SG_BASE_URL || 'http://127.0.0.1:3101').replace(/\/+$/, '');
const PASSWORD = process.env.SG_ADMIN_PASSWORD || '';
const SHOTS = process.env.SG_SCREENSHOTS || path.join(os.tmpdir(), 'streamgate-admin-screenshots');
const READONLY_EVENT = process.env.SG_READONLY_EVENT ?? 'demo';
const OVERALL_LIMIT_MS = 120_000;
const CSV_HEADER = 'code,label,status,createdAt,expiresAt';
const CONFIG_FILE = process.env.SG_CONFIG_FILE || '';

if (!PASSWORD) {
  console.error('SG_ADMIN_PASSWORD is required');
  process.exit(2);
}

const steps = createSteps();
const { step } = steps;
let shotNo = 0;

async function shot(page, name) {
  shotNo += 1;
  return screenshot(page, path.join(SHOTS, `${String(shotNo).padStart(2, '0')}-${name}.png`));
}

/** "YYYY-MM-DDTHH:MM" in the browser's local time zone (same as Node's here). */
function localInput(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function parseCsvLine(line) {
  const out = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; }
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { out.push(cur); cur = ''; }
    else cur += ch;
  }
  out.push(cur);
  return out;
}

const codeRows = (page) => page.locator('#codes-table tbody tr.code-row');
const rowById = (page, id) => page.locator(`#codes-table tbody tr[data-code-id="${id}"]`);

async function waitForStatus(page, codeId, status, timeout = 10_000) {
  await page.waitForFunction(
    ([id, st]) => document.querySelector(`#codes-table tbody tr[data-code-id="${id}"]`)?.dataset.status === st,
    [codeId, status], { timeout });
}

async function confirm(page) {
  const dialog = page.locator('#confirm-dialog');
  await dialog.waitFor({ state: 'visible' });
  await page.click('#confirm-ok');
  await dialog.waitFor({ state: 'hidden' });
}

async function flashText(page) {
  return (await page.locator('#flash .flash-text').textContent({ timeout: 5000 })) || '';
}

async function main() {
  const browser = await launchChromium();
  const problems = []; // CSP violations and uncaught page errors
  let page;
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    watchProblems(page, problems);

    const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15);
    const title = `Browser test ${stamp}`;
    const label = `bt-${stamp.slice(-6)}`;
    let eventId = null;
    let revokedId = null;
    let redeemedCode = null;
    let codes = [];

    await step('open /admin shows the login form', async () => {
      const res = await page.goto(`${BASE}/admin`, { waitUntil: 'domcontentloaded' });
      assert(res && res.status() === 200, `GET /admin answered ${res && res.status()}`);
      const csp = res.headers()['content-security-policy'] || '';
      assert(csp.includes("script-src 'self'"), `/admin has no strict CSP header (got "${csp}")`);
      await page.locator('#login-form').waitFor({ state: 'visible' });
      assert(await page.locator('#mainnav').isHidden(), 'navigation is visible before login');
      await shot(page, 'login');
    });

    await step('wrong password shows "Invalid password"', async () => {
      await page.fill('#login-password', `wrong-${stamp}`);
      await page.click('#login-submit');
      const err = page.locator('#login-error');
      await err.waitFor({ state: 'visible', timeout: 30_000 });
      const text = await err.textContent();
      assert(/invalid password/i.test(text), `login error says "${text}"`);
      await shot(page, 'login-error');
    });

    await step('log in and see the dashboard', async () => {
      await page.fill('#login-password', PASSWORD);
      await page.click('#login-submit');
      await page.locator('#dashboard .stats').first().waitFor({ state: 'visible', timeout: 30_000 });
      assert((await page.textContent('#view-title')) === 'Dashboard', 'heading is not "Dashboard"');
      assert(await page.locator('#mainnav').isVisible(), 'navigation hidden after login');
      for (const id of ['dash-events-total', 'dash-codes-total', 'dash-codes-revoked', 'dash-active-viewers']) {
        const v = (await page.textContent(`#${id} .stat-value`)).trim();
        assert(/^\d[\d,.\s]*$/.test(v), `#${id} shows "${v}", not a number`);
      }
      const edges = (await page.locator('#edges-table').count()) + (await page.locator('#edges-empty').count());
      assert(edges === 1, 'HLS edge section shows neither a table nor the empty note');
      await shot(page, 'dashboard');
    });

    await step('create an event through the form (API error shown first)', async () => {
      await page.click('[data-testid="nav-events"]');
      await page.locator('#events-table').waitFor();
      await page.click('#new-event-toggle');
      await page.locator('#new-event-form').waitFor({ state: 'visible' });
      const startsAt = new Date(Date.now() - 5 * 60_000);
      const endsAt = new Date(Date.now() + 3 * 3600_000);
      await page.fill('#ev-title', title);
      // The id is proposed from the title, and the form says where the video is expected.
      const proposed = await page.inputValue('#ev-id');
      assert(/^browser-test-[0-9a-z-]+$/.test(proposed), `proposed id is "${proposed}"`);
      const where = await page.textContent('#ev-id-where');
      assert(where.includes(`streams/${proposed}/index.m3u8`), `the form says "${where}"`);
      await page.fill('#ev-playlist', 'hls/master.m3u8');
      const named = await page.textContent('#ev-id-where');
      assert(named.includes(`streams/${proposed}/hls/master.m3u8`), `with a playlist named the form says "${named}"`);
      await page.fill('#ev-playlist', '');
      await page.fill('#ev-description', 'Created by tests/browser/admin.mjs');
      await page.fill('#ev-starts', localInput(startsAt));
      await page.fill('#ev-ends', localInput(endsAt));
      await page.fill('#ev-window', '6');
      await page.fill('#ev-poster', 'not a url');
      await page.click('#new-event-submit');
      const err = page.locator('#new-event-error');
      await err.waitFor({ state: 'visible' });
      const msg = (await err.textContent()).trim();
      assert(msg.length > 0, 'the API error next to the form is empty');
      await shot(page, 'new-event-error');
      await page.fill('#ev-poster', 'https://example.com/poster.jpg');
      await page.click('#new-event-submit');
      await page.waitForFunction(() => /^#\/events\/[^/?]+$/.test(location.hash) && document.querySelector('#event-detail'));
      eventId = await page.getAttribute('#event-detail', 'data-event-id');
      assert(/^browser-test-[0-9a-z-]+$/.test(eventId), `the event got the id "${eventId}", not the proposed slug`);
      assert(eventId && decodeURIComponent(page.url().split('#/events/')[1]) === eventId, `detail page is not the new event (${page.url()})`);
      assert((await page.textContent('#view-title')) === title, 'detail heading is not the new title');
      // The datetime-local values went to the API as RFC 3339 UTC.
      const res = await page.request.get(`${BASE}/api/admin/events/${encodeURIComponent(eventId)}`);
      assert(res.status() === 200, `GET event answered ${res.status()}`);
      const ev = await res.json();
      const wantStart = new Date(localInput(startsAt)).getTime();
      assert(Date.parse(ev.startsAt) === wantStart, `startsAt is ${ev.startsAt}, want ${new Date(wantStart).toISOString()}`);
      assert(ev.accessWindowHours === 6 && ev.managedBy === 'api' && ev.readOnly === false, `unexpected event ${JSON.stringify(ev)}`);
      assert(await page.locator('#event-actions').isVisible(), 'actions missing on an api-managed event');
      assert(await page.locator('#readonly-badge').count() === 0, 'read-only badge shown on an api-managed event');
    });

    await step('event detail shows fields, empty codes and sessions, and where its video is expected', async () => {
      await page.locator('#codes-table').waitFor();
      await page.locator('#sessions-table').waitFor();
      assert(await codeRows(page).count() === 0, 'a new event already has codes');
      // Nothing is published for a new event: the check asks the HLS server and says where.
      await page.locator('#stream-verdict[data-found="false"]').waitFor({ timeout: 10_000 });
      const local = (await page.textContent('#stream-local')).trim();
      assert(local.endsWith(`streams/${eventId}/index.m3u8`), `the video is expected at "${local}"`);
      assert(/not found/i.test(await page.textContent('#stream-detail')), 'the check does not say "not found"');
      assert((await page.textContent('#stream-fallbacks')).includes('master.m3u8'), 'the fallbacks are not listed');
      await shot(page, 'event-detail');
    });

    await step('edit: the id and the playlist change until a code is redeemed', async () => {
      await page.click('#act-edit');
      await page.locator('#edit-event-form').waitFor({ state: 'visible' });
      assert(await page.inputValue('#edit-id') === eventId, 'the edit form does not show the id');
      const renamed = `${eventId}-x`.slice(0, 63);
      await page.fill('#edit-id', renamed);
      await page.fill('#edit-playlist', 'hls/master.m3u8');
      await page.click('#edit-event-submit');
      await page.waitForFunction((want) => document.querySelector('#event-detail')?.dataset.eventId === want, renamed);
      assert(decodeURIComponent(page.url().split('#/events/')[1]) === renamed, `the page did not follow the new id (${page.url()})`);
      assert((await page.textContent('#event-playlist')).trim() === 'hls/master.m3u8', 'the playlist is not shown');
      await page.locator('#stream-verdict[data-found="false"]').waitFor({ timeout: 10_000 });
      const local = (await page.textContent('#stream-local')).trim();
      assert(local.endsWith(`streams/${renamed}/hls/master.m3u8`), `after the edit the video is expected at "${local}"`);
      assert(await page.locator('#stream-fallbacks').count() === 0, 'fallbacks listed for a named playlist');
      await shot(page, 'event-stream-check');
      eventId = renamed;
    });

    await step('generate 10 codes with a label', async () => {
      await page.fill('#gen-count', '10');
      await page.fill('#gen-label', label);
      await page.click('#gen-submit');
      await page.waitForFunction(() => document.querySelectorAll('#codes-table tbody tr.code-row').length === 10);
      codes = await codeRows(page).evaluateAll((rows) => rows.map((r) => ({
        id: r.dataset.codeId, code: r.dataset.code, status: r.dataset.status,
        label: r.children[2].textContent.trim(),
      })));
      assert(codes.length === 10, `${codes.length} rows`);
      assert(codes.every((c) => c.status === 'unused'), `statuses ${codes.map((c) => c.status)}`);
      assert(codes.every((c) => c.label === label), `labels ${codes.map((c) => c.label)}`);
      assert(new Set(codes.map((c) => c.code)).size === 10, 'codes are not distinct');
      await page.locator('#generated-codes').waitFor({ state: 'visible' });
      await shot(page, 'codes-generated');
    });

    await step('copy a code', async () => {
      const c = codes[0];
      await rowById(page, c.id).locator('.copy-code').click();
      await page.waitForFunction(() => /copied/i.test(document.querySelector('#flash .flash-text')?.textContent || ''));
      const text = await flashText(page);
      assert(text.includes(c.code), `copy message "${text}" does not name ${c.code}`);
      const clip = await page.evaluate(() => navigator.clipboard.readText().catch((e) => `unreadable: ${e}`));
      assert(clip === c.code, `clipboard holds "${clip}", want ${c.code}`);
    });

    await step('revoke one code', async () => {
      revokedId = codes[1].id;
      await rowById(page, revokedId).locator('.revoke-code').click();
      await confirm(page);
      await waitForStatus(page, revokedId, 'revoked');
      assert(await rowById(page, revokedId).locator('.unrevoke-code').count() === 1, 'no Unrevoke button on the revoked row');
      const others = await codeRows(page).evaluateAll((rows) => rows.filter((r) => r.dataset.status === 'revoked').length);
      assert(others === 1, `${others} revoked rows, want 1`);
      await shot(page, 'code-revoked');
    });

    await step('export CSV', async () => {
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
      const file = await download.path();
      assert(file, `download failed: ${await download.failure()}`);
      const text = await fs.readFile(file, 'utf8');
      const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.length > 0);
      assert(lines[0] === CSV_HEADER, `CSV header is "${lines[0]}"`);
      const rows = lines.slice(1).map(parseCsvLine);
      assert(rows.length === 10, `CSV has ${rows.length} data lines, want 10`);
      const revoked = rows.filter((r) => r[2] === 'revoked');
      assert(revoked.length === 1 && revoked[0][0] === codes[1].code, `revoked rows in CSV: ${JSON.stringify(revoked)}`);
      assert(rows.every((r) => r[1] === label), 'CSV labels differ');
      assert(new Set(rows.map((r) => r[0])).size === 10 && rows.every((r) => codes.some((c) => c.code === r[0])), 'CSV codes differ from the table');
    });

    await step('redeem a code from Node (POST /api/tokens/validate)', async () => {
      redeemedCode = codes[2];
      const res = await fetch(`${BASE}/api/tokens/validate`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ code: redeemedCode.code }),
      });
      const body = await res.text();
      assert(res.status === 200, `validate answered ${res.status}: ${body}`);
      assert(JSON.parse(body).playbackToken, 'no playbackToken in the answer');
    });

    await step('sessions panel shows one live session', async () => {
      await page.click('#refresh-sessions');
      await page.waitForFunction(() => document.querySelectorAll('#sessions-table tbody tr.session-row').length === 1);
      const code = await page.getAttribute('#sessions-table tbody tr.session-row', 'data-code');
      assert(code === redeemedCode.code, `session is for ${code}, want ${redeemedCode.code}`);
      // At 1280 px the table fits its panel: the Force release button is inside it.
      const fit = await page.evaluate(() => {
        const table = document.querySelector('#sessions-table');
        const box = table.closest('.table-wrap') || table.parentElement;
        const button = table.querySelector('.release-session').getBoundingClientRect();
        return { table: table.scrollWidth - box.clientWidth, button: button.right - box.getBoundingClientRect().right };
      });
      assert(fit.table <= 1 && fit.button <= 1, `sessions table overflows its box by ${fit.table}px (button by ${fit.button}px)`);
      await shot(page, 'live-session');
    });

    await step('audience chart picks up the viewer while the event is live', async () => {
      // The panel refreshes itself every 10 s while the event is live: no reload.
      await page.waitForFunction(() => document.querySelector('#aud-now .stat-value')?.textContent === '1', null, { timeout: 25_000 });
      const chart = page.locator('[data-testid="viewers-chart"]');
      assert(await chart.getAttribute('data-peak') === '1', `chart peak is ${await chart.getAttribute('data-peak')}`);
      assert(Number(await chart.getAttribute('data-points')) >= 1, 'the chart has no points');
      assert(await chart.getAttribute('role') === 'img', 'the chart is not announced as an image');
      const desc = await page.textContent('#viewers-chart-desc');
      assert(/^Peak 1 viewers at /.test(desc), `chart description is "${desc}"`);
      assert(await page.locator('#viewers-chart-title').textContent() === 'Concurrent viewers', 'chart title');
      // Its text alternative: the figures as a table.
      await page.click('#viewers-data summary');
      const cells = await page.locator('#viewers-table tbody tr td.num').allTextContents();
      assert(cells.includes('1'), `chart table cells: ${JSON.stringify(cells)}`);
      assert(await page.textContent('#aud-unique .stat-value') === '1', 'unique viewers');
      assert(await page.textContent('#aud-peak .stat-value') === '1', 'peak viewers');
      await page.locator('#audience-section').screenshot({ path: path.join(SHOTS, 'audience-chart.png') });
      await shot(page, 'audience-live');
    });

    await step('dashboard charts viewers now by event', async () => {
      await page.click('[data-testid="nav-dashboard"]');
      const bars = page.locator('[data-testid="now-chart"]');
      await bars.waitFor();
      const text = await bars.textContent();
      assert(text.includes(title.slice(0, 29)) && text.includes('1'), `dashboard chart says "${text}"`);
      assert((await page.textContent('#now-list')).includes(`${title}: 1`), 'the chart\'s text alternative lacks the event');
      await shot(page, 'dashboard-viewers-now');
      await page.goto(`${BASE}/admin#/events/${encodeURIComponent(eventId)}`);
      await page.locator('#sessions-table tbody tr.session-row').waitFor();
    });

    await step('force release the session', async () => {
      await page.click('#sessions-table tbody tr.session-row .release-session');
      await confirm(page);
      await page.waitForFunction(() => document.querySelectorAll('#sessions-table tbody tr.session-row').length === 0);
      await page.click('#refresh-sessions');
      await page.waitForFunction(() => document.querySelector('#sessions-count')?.textContent.startsWith('0 sessions'));
      assert(await page.locator('#sessions-table tbody tr.session-row').count() === 0, 'session came back after a refresh');
      await shot(page, 'session-released');
    });

    await step('export the per-code audience CSV', async () => {
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-analytics')]);
      const file = await download.path();
      assert(file, `download failed: ${await download.failure()}`);
      const lines = (await fs.readFile(file, 'utf8')).split(/\r?\n/).filter((l) => l.length > 0);
      assert(lines[0] === 'code,label,firstSeen,lastSeen,sessions,watchMinutes,devices,addresses', `analytics CSV header is "${lines[0]}"`);
      const rows = lines.slice(1).map(parseCsvLine);
      assert(rows.length === 10, `analytics CSV has ${rows.length} rows, want 10`);
      const watched = rows.filter((r) => r[4] !== '0');
      assert(watched.length === 1 && watched[0][0] === redeemedCode.code, `rows with sessions: ${JSON.stringify(watched)}`);
      assert(watched[0][4] === '1' && watched[0][6] === '1' && watched[0][7] === '1' && watched[0][2] !== '', `row of the viewer: ${JSON.stringify(watched[0])}`);
    });

    await step('bulk revoke two codes via checkboxes', async () => {
      const targets = [codes[3], codes[4]];
      assert(await page.locator('#bulk-revoke').isDisabled(), 'bulk revoke enabled with nothing selected');
      for (const c of targets) await rowById(page, c.id).locator('input.select-code').check();
      const label2 = (await page.textContent('#bulk-revoke')).trim();
      assert(/2/.test(label2), `bulk button says "${label2}"`);
      await page.click('#bulk-revoke');
      await confirm(page);
      for (const c of targets) await waitForStatus(page, c.id, 'revoked');
      await page.waitForFunction(() => /revoked 2 codes/i.test(document.querySelector('#flash .flash-text')?.textContent || ''));
      const revoked = await codeRows(page).evaluateAll((rows) => rows.filter((r) => r.dataset.status === 'revoked').length);
      assert(revoked === 3, `${revoked} revoked rows, want 3`);
      assert(await page.locator('#bulk-revoke').isDisabled(), 'bulk revoke still enabled after revoking');
      await shot(page, 'bulk-revoked');
    });

    await step('events list: sort and filter', async () => {
      await page.click('[data-testid="nav-events"]');
      await page.locator('#events-table').waitFor();
      await page.selectOption('#events-sort', '-createdAt');
      await page.waitForFunction((id) => document.querySelector('#events-table tbody tr[data-event-id]')?.dataset.eventId === id, eventId);
      assert(/sort=-createdAt/.test(page.url()), `sort not kept in the URL: ${page.url()}`);
      await page.selectOption('#events-filter', 'archived');
      await page.waitForFunction((id) => document.querySelector('#events-table tbody tr') && !document.querySelector(`#events-table tbody tr[data-event-id="${id}"]`), eventId);
      await page.selectOption('#events-filter', 'live');
      await page.locator(`#events-table tbody tr[data-event-id="${eventId}"]`).waitFor();
      await shot(page, 'events-list');
      await page.selectOption('#events-filter', 'current');
      await page.selectOption('#events-sort', 'startsAt');
    });

    if (READONLY_EVENT) {
      await step(`config-managed event "${READONLY_EVENT}" is read-only`, async () => {
        await page.goto(`${BASE}/admin#/events/${encodeURIComponent(READONLY_EVENT)}`);
        await page.locator('#event-detail').waitFor();
        const badgeText = await page.textContent('#readonly-badge');
        assert(/streamgate\.toml/.test(badgeText) && /read-only/i.test(badgeText), `badge says "${badgeText}"`);
        assert(await page.locator('#event-actions').count() === 0, 'event actions shown on a read-only event');
        for (const id of ['act-activate', 'act-deactivate', 'act-archive', 'act-unarchive', 'act-edit', 'act-delete', 'generate-form']) {
          assert(await page.locator(`#${id}`).count() === 0, `#${id} present on a read-only event`);
        }
        await page.locator('#codes-table').waitFor();
        assert(await page.locator('#export-csv').isVisible(), 'no Export CSV on a read-only event');
        // Its stream is in the repository's streams/ folder: the check finds it.
        await page.locator('#stream-verdict[data-found="true"]').waitFor({ timeout: 10_000 });
        assert(/Playlist found/.test(await page.textContent('#stream-detail')), 'the demo stream is not found');
        await shot(page, 'readonly-event');
      });
    }

    await step('codes, config and audit pages render', async () => {
      await page.click('[data-testid="nav-codes"]');
      await page.locator('#all-codes-table').waitFor();
      await page.selectOption('#all-codes-event', eventId);
      await page.waitForFunction((n) => document.querySelectorAll('#all-codes-table tbody tr.code-row').length === n, 10);
      await page.selectOption('#all-codes-status', 'revoked');
      await page.waitForFunction(() => {
        const rows = document.querySelectorAll('#all-codes-table tbody tr.code-row');
        return rows.length === 3 && Array.from(rows).every((r) => r.dataset.status === 'revoked');
      });
      await shot(page, 'codes');
      await page.click('[data-testid="nav-config"]');
      await page.locator('#config-status').waitFor();
      assert(/\d/.test(await page.textContent('#config-applies')), 'config applies count missing');
      await shot(page, 'config');
      await page.click('[data-testid="nav-audit"]');
      await page.locator('#audit-table').waitFor();
      assert(await page.locator('#audit-table tbody tr[data-audit-id]').count() > 0, 'audit log is empty after admin actions');
      // Code actions name the ticket; the log filters by it.
      await page.fill('#audit-code', redeemedCode.code);
      await page.click('#audit-filter-submit');
      await page.waitForFunction((code) => {
        const rows = document.querySelectorAll('#audit-table tbody tr[data-audit-id]');
        return rows.length > 0 && Array.from(rows).every((r) => r.querySelector('[data-testid="audit-target"]').textContent.startsWith(code));
      }, redeemedCode.code);
      await shot(page, 'audit');
    });

    if (CONFIG_FILE) {
      await step('a refused config edit shows a banner on every page until it is undone', async () => {
        const good = await fs.readFile(CONFIG_FILE, 'utf8');
        // A typo'd key on line 2: refused, with its line and column.
        await fs.writeFile(CONFIG_FILE, good.replace('[platform]\n', '[platform]\nlisten_adress = "x"\n'));
        await page.waitForFunction(async () => {
          const r = await fetch('/api/admin/config', { credentials: 'same-origin' });
          return r.ok && (await r.json()).lastError !== null;
        }, null, { timeout: 15_000, polling: 200 });
        // The open page learns it by itself, without navigating.
        await page.locator('#config-banner').waitFor({ state: 'visible', timeout: 15_000 });
        for (const nav of ['dashboard', 'events', 'codes']) {
          await page.click(`[data-testid="nav-${nav}"]`);
          await page.locator('#config-banner').waitFor({ state: 'visible', timeout: 15_000 });
          const text = await page.textContent('#config-banner');
          assert(/streamgate\.toml:2:1/.test(text), `banner on ${nav} lacks file:line:col: ${text}`);
        }
        assert(await page.locator('#mainnav a[data-nav="config"].nav-alert').count() === 1, 'the Config link is not marked');
        await shot(page, 'config-refused-banner');
        await fs.writeFile(CONFIG_FILE, good);
        await page.waitForFunction(async () => {
          const r = await fetch('/api/admin/config', { credentials: 'same-origin' });
          return r.ok && (await r.json()).lastError === null;
        }, null, { timeout: 15_000, polling: 200 });
        await page.click('[data-testid="nav-dashboard"]');
        await page.locator('#config-banner').waitFor({ state: 'hidden', timeout: 10_000 });
      });
    }

    await step('phone viewport 375x740: event detail fits', async () => {
      await page.setViewportSize({ width: 375, height: 740 });
      await page.goto(`${BASE}/admin#/events/${encodeURIComponent(eventId)}`);
      await page.locator('#codes-table tbody tr.code-row').first().waitFor();
      await page.locator('#sessions-table').waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert(overflow <= 0, `page is ${overflow}px wider than the phone screen`);
      const navBox = await page.locator('#mainnav').boundingBox();
      assert(navBox && navBox.x >= 0 && navBox.x + navBox.width <= 376, 'navigation overflows the phone screen');
      await shot(page, 'phone-event-detail');
      await page.click('[data-testid="nav-dashboard"]');
      await page.locator('#dashboard .stats').first().waitFor();
      await shot(page, 'phone-dashboard');
    });

    await step('log out returns to the login form', async () => {
      await page.click('#logout');
      await page.locator('#login-form').waitFor({ state: 'visible' });
      assert(await page.locator('#mainnav').isHidden(), 'navigation still visible after logout');
      const res = await page.request.get(`${BASE}/api/admin/session`);
      assert(res.status() === 401, `session after logout answered ${res.status()}`);
      await page.reload();
      await page.locator('#login-form').waitFor({ state: 'visible' });
      await shot(page, 'logged-out');
    });

    await step('no CSP violations or page errors', async () => {
      assert(problems.length === 0, problems.join(' | '));
    });
  } catch (e) {
    if (page) await shot(page, 'FAILURE').catch(() => {});
    if (problems.length) console.log(`     also seen: ${problems.join(' | ')}`);
    throw e;
  } finally {
    await browser.close();
  }
}

run(main, { steps, limitMs: OVERALL_LIMIT_MS, describe: () => `screenshots in ${SHOTS}` });
