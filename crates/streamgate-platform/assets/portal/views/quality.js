// @ts-check
// StreamGate viewer portal: the quality menu: Auto plus each rendition hls.js found, a
// menu button with arrow keys, Home, End and Esc, closed by a click anywhere else.
// Native HLS (Safari) picks the rendition itself: no menu there.

import { h } from '../../shared/dom.js';
import { ui } from '../dom.js';
import { app } from '../state.js';
import { showControls } from './controls.js';

/**
 * A rendition's name: its height, else its bitrate.
 * @param {HlsLevel} level
 */
function levelName(level) {
  if (level.height) return `${level.height}p`;
  if (level.bitrate) return `${Math.round(level.bitrate / 1000)} kbit/s`;
  return 'Stream';
}

/** The menu of Auto plus each rendition hls.js found, best first. */
export function buildQualityMenu() {
  ui.qualityMenu.replaceChildren();
  const hls = app.hls;
  if (!hls || !hls.levels || hls.levels.length < 1) {
    ui.quality.hidden = true;
    return;
  }
  /** @type {{ index: number, label: string }[]} */
  const entries = [{ index: -1, label: 'Auto' }];
  hls.levels
    .map((level, index) => ({ index, label: levelName(level), height: level.height || 0, bitrate: level.bitrate || 0 }))
    .sort((a, b) => b.height - a.height || b.bitrate - a.bitrate)
    .forEach((e) => entries.push(e));
  for (const entry of entries) {
    const pick = () => {
      if (app.hls) app.hls.currentLevel = entry.index;
      renderQualityLabel();
      closeQualityMenu(true);
    };
    ui.qualityMenu.append(h('li', { role: 'none' },
      h('button', { type: 'button', role: 'menuitemradio', dataset: { level: String(entry.index) }, onclick: pick }, entry.label)));
  }
  ui.quality.hidden = false;
  renderQualityLabel();
}

/** The quality button's label and the menu's checked entry. */
export function renderQualityLabel() {
  const hls = app.hls;
  if (!hls) return;
  const auto = hls.autoLevelEnabled;
  const current = hls.levels[hls.currentLevel];
  const name = current ? levelName(current) : '';
  // "Auto (360p)" on wide screens; on a phone only "360p" beside the gear, on one line.
  if (auto && name) {
    ui.qualityLabel.replaceChildren(
      h('span', { class: 'label-long' }, 'Auto ('), name, h('span', { class: 'label-long' }, ')'));
  } else {
    ui.qualityLabel.textContent = auto ? 'Auto' : name;
  }
  ui.quality.setAttribute('aria-label', `Quality: ${auto ? (name ? `Auto (${name})` : 'Auto') : name}`);
  const manual = hls.manualLevel;
  for (const btn of ui.qualityMenu.querySelectorAll('button')) {
    const idx = Number(btn.dataset.level);
    btn.setAttribute('aria-checked', String(auto ? idx === -1 : idx === manual));
  }
}

/** The menu's entries. */
function menuItems() { return Array.from(ui.qualityMenu.querySelectorAll('button')); }

function openQualityMenu() {
  ui.qualityMenu.hidden = false;
  ui.quality.setAttribute('aria-expanded', 'true');
  showControls();
  const items = menuItems();
  (items.find((b) => b.getAttribute('aria-checked') === 'true') || items[0])?.focus();
}

/**
 * Closes the menu; `focusButton` gives focus back to the quality button.
 * @param {boolean} [focusButton]
 */
export function closeQualityMenu(focusButton) {
  if (ui.qualityMenu.hidden) return;
  ui.qualityMenu.hidden = true;
  ui.quality.setAttribute('aria-expanded', 'false');
  if (focusButton) ui.quality.focus();
}

/** Wires the quality button and menu. */
export function initQuality() {
  ui.quality.addEventListener('click', () => {
    if (ui.qualityMenu.hidden) openQualityMenu();
    else closeQualityMenu(true);
  });
  ui.qualityMenu.addEventListener('keydown', (e) => {
    const items = menuItems();
    const i = items.findIndex((b) => b === document.activeElement);
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      e.stopPropagation();
      const next = (i + (e.key === 'ArrowDown' ? 1 : -1) + items.length) % items.length;
      items[next].focus();
    } else if (e.key === 'Home' || e.key === 'End') {
      e.preventDefault();
      items[e.key === 'Home' ? 0 : items.length - 1].focus();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      closeQualityMenu(true);
    } else if (e.key === 'Tab') {
      closeQualityMenu(false);
    }
  });
  document.addEventListener('click', (e) => {
    if (!ui.qualityMenu.hidden && !(e.target instanceof Element && e.target.closest('.menu-wrap'))) closeQualityMenu(false);
  });
}
