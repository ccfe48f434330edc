// @ts-check
// StreamGate admin console: audience analytics (issue 21). The event page's
// concurrent-viewer chart with its summary figures, and the dashboard's "viewers now"
// chart. Hand-drawn SVG (no chart library), built with createElementNS and attributes
// only (the CSP allows no inline styles); every chart has a text alternative: an SVG
// <title>/<desc> and the figures as a table.

import { h } from './dom.js';
import { dateTimeFmt, numFmt, timeFmt } from '../shared/format.js';

const SVG = 'http://www.w3.org/2000/svg';
const REFRESH_MS = 10000;

/**
 * An SVG element with `attrs` (`text` sets textContent) and children.
 * @param {string} tag
 * @param {Record<string, string | number>} [attrs]
 * @param {...(SVGElement | null | undefined)} children
 * @returns {SVGElement}
 */
function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'text') node.textContent = String(v);
    else node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c) node.append(c);
  return node;
}

/**
 * Minutes as "1 h 05 min" / "12.5 min".
 * @param {number} minutes
 */
export function fmtMinutes(minutes) {
  if (!Number.isFinite(minutes)) return '—';
  if (minutes < 60) return `${numFmt.format(Math.round(minutes * 10) / 10)} min`;
  const h = Math.floor(minutes / 60);
  const m = Math.round(minutes - h * 60);
  return `${numFmt.format(h)} h ${String(m).padStart(2, '0')} min`;
}

/**
 * A round upper bound for the y axis.
 * @param {number} n
 */
function niceMax(n) {
  if (n <= 4) return Math.max(1, n);
  const pow = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (n <= step * pow) return step * pow;
  return 10 * pow;
}

/**
 * An event's audience as the analytics endpoint returns it.
 * @typedef {object} Analytics
 * @property {{ at: string, viewers: number }[]} [timeline]
 * @property {number} [intervalSeconds]
 * @property {number} peakConcurrentViewers
 * @property {string | null} [peakAt]
 * @property {number} [viewersNow]
 * @property {number} [uniqueViewers]
 * @property {number} [watchMinutes]
 * @property {number} [averageWatchMinutes]
 * @property {number} [sessions]
 * @property {string} generatedAt
 */

/**
 * The concurrent-viewer chart of `data` (the analytics JSON) as an SVG element.
 * @param {Analytics} data
 * @param {{ width?: number, height?: number }} [size]
 */
export function viewersChart(data, { width = 720, height = 220 } = {}) {
  const points = data.timeline || [];
  const m = { left: 44, right: 12, top: 24, bottom: 26 };
  const iw = width - m.left - m.right;
  const ih = height - m.top - m.bottom;
  const step = (data.intervalSeconds || 60) * 1000;
  const t0 = points.length ? Date.parse(points[0].at) : Date.now();
  const t1 = points.length ? Date.parse(points[points.length - 1].at) + step : t0 + step;
  const ymax = niceMax(Math.max(data.peakConcurrentViewers || 0, ...points.map((p) => p.viewers)));
  const x = (/** @type {number} */ t) => m.left + ((t - t0) / (t1 - t0)) * iw;
  const y = (/** @type {number} */ v) => m.top + ih - (v / ymax) * ih;

  const desc = points.length
    ? `Peak ${numFmt.format(data.peakConcurrentViewers)} viewers at ${timeFmt.format(new Date(/** @type {string} */ (data.peakAt)))}; `
      + `${numFmt.format(points.length)} points from ${dateTimeFmt.format(new Date(t0))} to ${dateTimeFmt.format(new Date(t1))}.`
    : 'Nobody has watched yet.';
  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`, class: 'viewers-chart', role: 'img',
    'aria-labelledby': 'viewers-chart-title viewers-chart-desc', 'data-testid': 'viewers-chart',
    'data-points': points.length, 'data-peak': data.peakConcurrentViewers || 0,
  },
  svg('title', { id: 'viewers-chart-title', text: 'Concurrent viewers' }),
  svg('desc', { id: 'viewers-chart-desc', text: desc }));

  for (const v of [0, ymax / 2, ymax]) {
    root.append(svg('line', { class: 'chart-grid', x1: m.left, x2: width - m.right, y1: y(v), y2: y(v) }),
      svg('text', { class: 'chart-label', x: m.left - 6, y: y(v) + 4, 'text-anchor': 'end', text: numFmt.format(v) }));
  }
  // Start and end, and the middle when the span is long enough to tell them apart.
  /** @type {[number, string][]} */
  const ticks = points.length ? [[t0, 'start'], [t1, 'end']] : [];
  if (t1 - t0 >= 4 * 60_000) ticks.push([(t0 + t1) / 2, 'middle']);
  for (const [t, anchor] of ticks) {
    root.append(svg('text', { class: 'chart-label', x: x(t), y: height - 8, 'text-anchor': anchor, text: timeFmt.format(new Date(t)) }));
  }
  if (!points.length) {
    root.append(svg('text', { class: 'chart-empty', x: width / 2, y: height / 2, 'text-anchor': 'middle', text: 'No viewers yet' }));
    return root;
  }
  // A step line: each point holds for its bucket.
  let d = `M ${x(t0)} ${y(0)}`;
  for (const p of points) {
    const at = Date.parse(p.at);
    d += ` L ${x(at)} ${y(p.viewers)} L ${x(at + step)} ${y(p.viewers)}`;
  }
  const line = d.slice(d.indexOf('L') + 1);
  root.append(svg('path', { class: 'chart-area', d: `${d} L ${x(t1)} ${y(0)} Z` }),
    svg('path', { class: 'chart-line', d: `M ${line}` }));
  if (data.peakAt) {
    const px = x(Date.parse(data.peakAt) + step / 2);
    const py = y(data.peakConcurrentViewers);
    root.append(svg('circle', { class: 'chart-peak', cx: px, cy: py, r: 4 }),
      svg('text', { class: 'chart-label chart-peak-label', x: px, y: py - 8, 'text-anchor': px > width * 0.8 ? 'end' : 'middle', text: `peak ${numFmt.format(data.peakConcurrentViewers)}` }));
  }
  return root;
}

/**
 * The chart's data as a table: only the points where the viewers change.
 * @param {Analytics} data
 */
function changesTable(data) {
  const rows = [];
  let last = null;
  for (const p of data.timeline || []) {
    if (p.viewers === last) continue;
    last = p.viewers;
    rows.push(h('tr', null, h('td', { text: dateTimeFmt.format(new Date(p.at)) }), h('td', { class: 'num', text: numFmt.format(p.viewers) })));
  }
  return h('table', { id: 'viewers-table', 'data-testid': 'viewers-table' },
    h('caption', { class: 'visually-hidden', text: 'Concurrent viewers over time (changes only)' }),
    h('thead', null, h('tr', null, h('th', { scope: 'col', text: 'From' }), h('th', { scope: 'col', class: 'num', text: 'Viewers' }))),
    h('tbody', null, rows.length ? rows : h('tr', null, h('td', { colspan: '2', class: 'muted', text: 'Nobody has watched yet.' }))));
}

/**
 * @param {string} id
 * @param {string} label
 * @param {string} value
 */
function figure(id, label, value) {
  return h('div', { class: 'stat', id, 'data-testid': id },
    h('span', { class: 'stat-value', text: value }), h('span', { class: 'stat-label', text: label }));
}

/** Fills `section` with the event's audience and keeps it current while `isLive()`
 *  and the view is `alive()`. `get` is the console's authenticated GET.
 * @param {HTMLElement} section
 * @param {{ base: string, eventId: string, get: (path: string) => Promise<any>, alive: () => boolean,
 *   isLive: () => boolean }} deps
 */
export function audiencePanel(section, { base, eventId, get, alive, isLive }) {
  const body = h('div', { id: 'audience-body', 'aria-live': 'off' }, h('p', { class: 'muted', text: 'Loading…' }));
  const status = h('p', { class: 'muted small', id: 'audience-updated', 'aria-live': 'polite' });
  section.append(
    h('div', { class: 'section-head' },
      h('h2', { id: 'audience-h', tabindex: '-1', text: 'Audience' }),
      h('a', { class: 'btn', id: 'export-analytics', 'data-testid': 'export-analytics', href: `${base}/analytics/export`, download: `${eventId}-analytics.csv` }, 'Export per-code CSV')),
    body, status);
  let timer = 0;
  async function load() {
    let data;
    try {
      data = await get(`${base}/analytics`);
    } catch (ex) {
      if (!alive()) return;
      status.textContent = `Could not load the audience figures: ${ex instanceof Error ? ex.message : String(ex)}`;
      schedule();
      return;
    }
    if (!alive()) return;
    body.replaceChildren(
      h('div', { class: 'stats audience-stats' },
        figure('aud-now', 'Watching now', numFmt.format(data.viewersNow)),
        figure('aud-peak', 'Peak concurrent', numFmt.format(data.peakConcurrentViewers)),
        figure('aud-peak-at', 'Peak at', data.peakAt ? dateTimeFmt.format(new Date(data.peakAt)) : '—'),
        figure('aud-unique', 'Unique viewers', numFmt.format(data.uniqueViewers)),
        figure('aud-watch', 'Watch time', fmtMinutes(data.watchMinutes)),
        figure('aud-average', 'Per viewer', fmtMinutes(data.averageWatchMinutes)),
        figure('aud-sessions', 'Sessions', numFmt.format(data.sessions))),
      h('div', { class: 'chart-wrap' }, viewersChart(data)),
      h('details', { class: 'chart-data', id: 'viewers-data' }, h('summary', { text: 'Chart data as a table' }), changesTable(data)));
    status.textContent = `Updated ${timeFmt.format(new Date(data.generatedAt))}${isLive() ? ' · refreshes every 10 s while the event is live' : ''}`;
    schedule();
  }
  function schedule() {
    clearTimeout(timer);
    if (alive() && isLive()) timer = setTimeout(() => { if (alive()) load(); }, REFRESH_MS);
  }
  return load();
}

/**
 * The dashboard's card: viewers now per event as horizontal bars.
 * @param {(path: string) => Promise<any>} get
 * @param {() => boolean} alive
 */
export async function viewersNowCard(get, alive) {
  const card = h('section', { class: 'panel', 'aria-labelledby': 'dash-now-h', id: 'dash-viewers-now' },
    h('h2', { id: 'dash-now-h', text: 'Viewers now by event' }), h('p', { class: 'muted', text: 'Loading…' }));
  const data = await get('/api/admin/analytics/viewers').catch(() => null);
  if (!alive() || !data) return card;
  const items = /** @type {{ title: string, viewers: number }[]} */ (data.events || []);
  const bar = 22;
  const width = 640;
  const labelW = 220;
  const max = Math.max(1, ...items.map((e) => e.viewers));
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${Math.max(1, items.length) * bar + 4}`, class: 'now-chart', role: 'img',
    'aria-labelledby': 'now-chart-title', 'data-testid': 'now-chart',
  }, svg('title', { id: 'now-chart-title', text: `Viewers now: ${numFmt.format(data.total)} in all` }));
  items.forEach((e, i) => {
    const w = ((width - labelW - 60) * e.viewers) / max;
    const yy = i * bar + 2;
    chart.append(
      svg('text', { class: 'chart-label', x: labelW - 8, y: yy + 15, 'text-anchor': 'end', text: e.title.length > 30 ? `${e.title.slice(0, 29)}…` : e.title }),
      svg('rect', { class: 'now-bar', x: labelW, y: yy + 3, width: Math.max(w, 2), height: bar - 8, rx: 3 }),
      svg('text', { class: 'chart-label', x: labelW + Math.max(w, 2) + 6, y: yy + 15, text: numFmt.format(e.viewers) }));
  });
  const list = h('ul', { class: 'visually-hidden', id: 'now-list' },
    items.map((e) => h('li', null, `${e.title}: ${numFmt.format(e.viewers)}`)));
  card.replaceChildren(/** @type {ChildNode} */ (card.firstChild),
    items.length
      ? h('div', { class: 'chart-wrap' }, chart)
      : h('p', { class: 'muted', id: 'now-empty', text: 'Nobody is watching right now.' }),
    list);
  return card;
}
