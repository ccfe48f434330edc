// Helpers shared by the headless Chromium tests (admin.mjs, viewer.mjs): Debian's
// Chromium driven by playwright-core, one printed line per step, CSP and page-error
// watching, screenshots, and a watchdog that ends a stuck run.

import { chromium } from 'playwright-core';
import fs from 'node:fs/promises';
import path from 'node:path';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Steps print "ok   NN name (ms)" or "FAIL NN name (ms): why" and count themselves. */
export function createSteps() {
  let count = 0;
  async function step(name, fn) {
    count += 1;
    const no = String(count).padStart(2, '0');
    const t0 = Date.now();
    try {
      await fn();
    } catch (e) {
      console.log(`FAIL ${no} ${name} (${Date.now() - t0} ms): ${e.message}`);
      throw e;
    }
    console.log(`ok   ${no} ${name} (${Date.now() - t0} ms)`);
  }
  return { step, get count() { return count; } };
}

/** Debian's Chromium, headless, as CI runs it (no sandbox as root, no GPU). */
export function launchChromium(extraArgs = []) {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', ...extraArgs],
  });
}

/** Collects CSP violations and uncaught errors of `page` into `problems`. */
export function watchProblems(page, problems, label = '') {
  const where = label ? `[${label}] ` : '';
  page.on('pageerror', (e) => problems.push(`${where}page error: ${e.message}`));
  page.on('console', (m) => {
    const t = m.text();
    if (/Content Security Policy|Refused to (load|execute|apply|connect|create|frame)/i.test(t)) problems.push(`${where}CSP: ${t}`);
  });
}

/** A full-page PNG at `file` (its directory is made if missing). */
export async function screenshot(page, file) {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * Runs `main` under a watchdog and ends the process: "PASS n steps in X s; ..." and exit
 * 0, or "FAILED after X s; ..." and exit 1. `describe()` adds the closing words (where
 * the screenshots are).
 */
export function run(main, { steps, limitMs, describe = () => '' }) {
  const started = Date.now();
  const secs = () => ((Date.now() - started) / 1000).toFixed(1);
  const tail = () => {
    const d = describe();
    return d ? `; ${d}` : '';
  };
  const watchdog = setTimeout(() => {
    console.log(`FAIL timed out after ${limitMs / 1000} s`);
    process.exit(1);
  }, limitMs);
  main().then(() => {
    clearTimeout(watchdog);
    console.log(`PASS ${steps.count} steps in ${secs()} s${tail()}`);
    process.exit(0);
  }, (e) => {
    clearTimeout(watchdog);
    if (process.env.SG_DEBUG) console.error(e);
    console.log(`FAILED after ${secs()} s${tail()}`);
    process.exit(1);
  });
}
