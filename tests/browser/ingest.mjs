// Headless Chromium plays a stream StreamGate takes from an encoder (live ingest):
//
//   SG_BASE_URL=http://127.0.0.1:3401 SG_CODE=abcd1234efgh SG_SCREENSHOTS=/tmp/shots \
//   node tests/browser/ingest.mjs
//
// The caller runs `streamgate up` with an event that has [events.ingest] and an
// encoder publishing to it. The page redeems SG_CODE, hls.js picks a rendition of the
// ingest's ladder, and the video's currentTime must advance with the token in the
// Authorization header only. Prints one line per step and "PASS n steps in X s".

import os from 'node:os';
import path from 'node:path';
import { assert, createSteps, launchChromium, run, screenshot, watchProblems } from './lib.mjs';

const env = process.env;
const BASE = (env.SG_BASE_URL || '').replace(/\/+$/, '');
const CODE = env.SG_CODE || '';
const PASSWORD = env.SG_ADMIN_PASSWORD || '';
const PUBLISH_URL = env.SG_PUBLISH_URL || '';
const SHOTS = env.SG_SCREENSHOTS || path.join(os.tmpdir(), 'streamgate-ingest-screenshots');
if (!BASE || !CODE || !PASSWORD || !PUBLISH_URL) {
  console.error('missing: SG_BASE_URL, SG_CODE, SG_ADMIN_PASSWORD and SG_PUBLISH_URL');
  process.exit(2);
}

const steps = createSteps();
const { step } = steps;
const problems = [];

async function main() {
  const browser = await launchChromium(['--autoplay-policy=no-user-gesture-required']);
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    watchProblems(page, problems, 'ingest');
    const streamRequests = [];
    page.on('request', (r) => {
      if (/\/streams\//.test(new URL(r.url()).pathname)) streamRequests.push(r);
    });
    await step('open the portal', async () => {
      const res = await page.goto(`${BASE}/`, { waitUntil: 'load' });
      assert(res && res.status() === 200, `GET / answered ${res && res.status()}`);
      await page.waitForFunction(() => window.__sg && window.__sg.state === 'entry');
    });
    await step('redeem the code: the ingest plays and currentTime advances', async () => {
      await page.fill('#code-input', CODE);
      const [res] = await Promise.all([
        page.waitForResponse((r) => r.url() === `${BASE}/api/tokens/validate` && r.request().method() === 'POST'),
        page.click('#code-submit'),
      ]);
      assert(res.status() === 200, `validate answered ${res.status()}`);
      await page.waitForFunction(() => window.__sg.state === 'playing', null, { timeout: 60_000 });
      const t0 = await page.evaluate(() => document.querySelector('#video').currentTime);
      await page.waitForFunction(
        (start) => document.querySelector('#video').currentTime >= start + 3,
        t0, { timeout: 60_000, polling: 250 },
      );
      const t1 = await page.evaluate(() => document.querySelector('#video').currentTime);
      console.log(`     currentTime ${t0.toFixed(2)} -> ${t1.toFixed(2)} s`);
    });
    await step('the renditions come from the ingest, through the gate, token in the header', async () => {
      const paths = streamRequests.map((r) => new URL(r.url()).pathname);
      assert(paths.some((p) => /\/streams\/live\/(240p|160p)\/seg_\d+\.ts$/.test(p)), `no ingest segment fetched: ${paths.join(' ')}`);
      for (const r of streamRequests) {
        const auth = (await r.allHeaders()).authorization || '';
        assert(auth.startsWith('Bearer '), `${r.url()} without the Authorization header`);
        assert(!r.url().includes('__token='), `${r.url()} carries the token in the URL`);
      }
      await screenshot(page, path.join(SHOTS, 'desktop-ingest-playing.png'));
    });
    const admin = await context.newPage();
    admin.setDefaultTimeout(20_000);
    watchProblems(admin, problems, 'console');
    await step('the console shows the encoder connected and its health', async () => {
      await admin.goto(`${BASE}/admin`, { waitUntil: 'domcontentloaded' });
      await admin.fill('#login-password', PASSWORD);
      await admin.click('#login-submit');
      await admin.locator('#dashboard').waitFor({ state: 'visible', timeout: 30_000 });
      await admin.goto(`${BASE}/admin#/events/live`);
      await admin.waitForFunction(() => document.querySelector('#ingest-state')?.dataset.state === 'publishing', null, { timeout: 30_000 });
      const fps = (await admin.textContent('#ingest-fps')).trim();
      assert(/\d+(\.\d)? fps/.test(fps), `frame rate shows "${fps}"`);
      const protocol = (await admin.textContent('#ingest-protocol')).trim();
      assert(/^SRT on port \d+$/.test(protocol), `protocol shows "${protocol}"`);
      assert(!(await admin.content()).includes(PUBLISH_URL), 'the publish URL is on the page before it was asked for');
    });
    await step('the publish URL appears only when revealed, and can be copied', async () => {
      await admin.click('#ingest-reveal');
      const shown = (await admin.locator('#ingest-url').textContent()).trim();
      assert(shown === PUBLISH_URL, `the console shows ${shown}, ingest-url printed ${PUBLISH_URL}`);
      await admin.click('#ingest-copy');
      await admin.locator('#ingest-copy.is-copied, .flash, [role=status]').first().waitFor({ state: 'attached', timeout: 5_000 });
      await screenshot(admin, path.join(SHOTS, 'desktop-console-ingest.png'));
      await admin.click('#ingest-hide');
      await admin.locator('#ingest-reveal').waitFor({ state: 'visible' });
    });
    assert(problems.length === 0, `page problems: ${problems.join('; ')}`);
  } finally {
    await browser.close();
  }
}

run(main, { steps, limitMs: 180_000, describe: () => `screenshots in ${SHOTS}` });
