// @ts-check
// StreamGate viewer portal: the player's controls: play, seek (recordings), volume and
// mute (remembered across visits), full screen, picture-in-picture, the keyboard, and
// controls that fade while the video plays and nobody moves. A mouse click on the
// picture plays or pauses; a tap shows or hides the controls, as phone players do.

import { STORE_MUTED, STORE_VOLUME, announce, storageGet, storageSet, ui } from '../dom.js';
import { timers } from '../session.js';
import { app } from '../state.js';
import { tryPlay } from './player.js';
import { closeQualityMenu } from './quality.js';

const SEEK_STEP_S = 5;
const VOLUME_STEP = 0.1;
const CONTROLS_IDLE_MS = 3_000;
const video = ui.video;

/**
 * "1:02:03" or "2:03".
 * @param {number} seconds
 */
function formatClock(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) seconds = 0;
  const s = Math.floor(seconds % 60);
  const m = Math.floor((seconds / 60) % 60);
  const h = Math.floor(seconds / 3600);
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * "2 minutes 3 seconds", for screen readers.
 * @param {number} seconds
 */
function spokenDuration(seconds) {
  const m = Math.floor(seconds / 60);
  const s = Math.floor(seconds % 60);
  return m > 0 ? `${m} minutes ${s} seconds` : `${s} seconds`;
}

/** The play button as the video is: Play or Pause. */
export function renderPlay() {
  const paused = video.paused;
  ui.play.setAttribute('aria-label', paused ? 'Play' : 'Pause');
  ui.play.title = paused ? 'Play (Space)' : 'Pause (Space)';
  ui.play.classList.toggle('is-paused', paused);
}

/** The position (and, for a recording, the duration and seek bar). */
export function renderTime() {
  const t = video.currentTime || 0;
  const d = video.duration;
  if (app.isLive || !Number.isFinite(d)) {
    ui.time.textContent = formatClock(t);
    ui.time.setAttribute('aria-label', `Position ${spokenDuration(t)}`);
  } else {
    ui.time.textContent = `${formatClock(t)} / ${formatClock(d)}`;
    ui.time.setAttribute('aria-label', `${spokenDuration(t)} of ${spokenDuration(d)}`);
    if (!app.seekDragging) {
      ui.seek.max = String(d);
      ui.seek.value = String(t);
    }
    ui.seek.setAttribute('aria-valuetext', `${formatClock(t)} of ${formatClock(d)}`);
    ui.seek.style.setProperty('--progress', `${d > 0 ? (t / d) * 100 : 0}%`);
  }
}

function togglePlay() {
  if (video.paused) tryPlay();
  else video.pause();
}

// Volume and mute, remembered across visits.
/** The volume and mute the viewer chose last time. */
export function restoreVolume() {
  const v = Number(storageGet(localStorage, STORE_VOLUME));
  if (storageGet(localStorage, STORE_VOLUME) !== null && Number.isFinite(v)) video.volume = Math.min(1, Math.max(0, v));
  video.muted = storageGet(localStorage, STORE_MUTED) === '1';
  renderVolume();
}

/** The volume slider and mute button as the video is. */
export function renderVolume() {
  const level = video.muted ? 0 : video.volume;
  ui.volume.value = String(level);
  ui.volume.setAttribute('aria-valuetext', video.muted ? 'Muted' : `${Math.round(video.volume * 100)}%`);
  ui.volume.style.setProperty('--progress', `${level * 100}%`);
  ui.mute.setAttribute('aria-label', video.muted ? 'Unmute' : 'Mute');
  ui.mute.title = video.muted ? 'Unmute (M)' : 'Mute (M)';
  ui.mute.dataset.level = video.muted || level === 0 ? 'muted' : level < 0.5 ? 'low' : 'high';
}

/** @param {number} v 0 to 1 */
function setVolume(v) {
  video.volume = Math.min(1, Math.max(0, Math.round(v * 100) / 100));
  video.muted = video.volume === 0;
  storageSet(localStorage, STORE_VOLUME, String(video.volume));
  storageSet(localStorage, STORE_MUTED, video.muted ? '1' : '0');
}

function toggleMute() {
  video.muted = !video.muted;
  if (!video.muted && video.volume === 0) video.volume = 0.5;
  storageSet(localStorage, STORE_MUTED, video.muted ? '1' : '0');
  announce(video.muted ? 'Muted' : 'Sound on');
}

// Full screen (the stage, so our controls stay; iOS only has the video's own).
function toggleFullscreen() {
  if (document.fullscreenElement) {
    document.exitFullscreen().catch(() => {});
  } else if (ui.stage.requestFullscreen) {
    ui.stage.requestFullscreen().catch(() => {});
  } else if (video.webkitEnterFullscreen) {
    video.webkitEnterFullscreen();
  }
}

// Controls fade out while the video plays and nobody moves.

/** Shows the controls (and arms their fade-out). */
export function showControls() {
  ui.stage.classList.remove('is-idle');
  armIdle();
}
/** Hides the controls after CONTROLS_IDLE_MS unless something keeps them. */
export function armIdle() {
  timers.after('idle', CONTROLS_IDLE_MS, () => {
    // A keyboard user's focus in the controls keeps them; a tapped button's does not.
    if (!video.paused && ui.qualityMenu.hidden && !ui.controls.querySelector(':focus-visible')) {
      ui.stage.classList.add('is-idle');
    }
  });
}
function hideControls() {
  timers.clear('idle');
  if (!video.paused && ui.qualityMenu.hidden) ui.stage.classList.add('is-idle');
}

/**
 * Keyboard: Space, F, M, arrows, Esc (not while typing in a field).
 * @param {KeyboardEvent} e
 */
function onKey(e) {
  if (app.state !== 'playing' && app.state !== 'loading') return;
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target instanceof HTMLElement ? e.target : null;
  const tag = t && t.tagName;
  const onRange = t instanceof HTMLInputElement && t.type === 'range';
  if (tag === 'INPUT' && !onRange) return;
  if (tag === 'TEXTAREA' || tag === 'SELECT' || (t && t.isContentEditable)) return;
  if (t && t.closest('#quality-menu')) return;
  const onButton = tag === 'BUTTON';
  let handled = true;
  switch (e.key) {
    case ' ':
    case 'Spacebar':
    case 'k':
    case 'K':
      if (onButton && e.key !== 'k' && e.key !== 'K') { handled = false; break; } // the button's own action
      togglePlay();
      break;
    case 'f':
    case 'F':
      toggleFullscreen();
      break;
    case 'm':
    case 'M':
      toggleMute();
      break;
    case 'ArrowLeft':
    case 'ArrowRight':
      if (onRange || app.isLive || !Number.isFinite(video.duration)) { handled = false; break; }
      video.currentTime = Math.min(video.duration, Math.max(0, video.currentTime + (e.key === 'ArrowRight' ? SEEK_STEP_S : -SEEK_STEP_S)));
      announce(`${formatClock(video.currentTime)} of ${formatClock(video.duration)}`);
      break;
    case 'ArrowUp':
    case 'ArrowDown':
      if (onRange) { handled = false; break; }
      setVolume((video.muted ? 0 : video.volume) + (e.key === 'ArrowUp' ? VOLUME_STEP : -VOLUME_STEP));
      announce(`Volume ${Math.round(video.volume * 100)}%`);
      break;
    case 'Escape':
      if (!ui.qualityMenu.hidden) closeQualityMenu(true);
      else if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
      else handled = false;
      break;
    default:
      handled = false;
  }
  if (handled) {
    e.preventDefault();
    showControls();
  }
}

/** Wires the controls, the picture's clicks and taps, and the keyboard. */
export function initControls() {
  ui.seek.addEventListener('input', () => {
    app.seekDragging = true;
    video.currentTime = Number(ui.seek.value);
  });
  ui.seek.addEventListener('change', () => { app.seekDragging = false; });
  ui.play.addEventListener('click', togglePlay);
  // A mouse click on the picture plays or pauses, as on desktop players. A tap does what
  // phone players do: it shows the controls when they are hidden and hides them when
  // they are shown, never pausing by surprise; on a paused video it plays.
  video.addEventListener('click', () => {
    if (app.lastPointer !== 'touch' && app.lastPointer !== 'pen') { togglePlay(); return; }
    if (video.paused) tryPlay();
    else if (app.tapFoundIdle) showControls();
    else hideControls();
  });
  ui.mute.addEventListener('click', toggleMute);
  ui.volume.addEventListener('input', () => setVolume(Number(ui.volume.value)));
  ui.fullscreen.addEventListener('click', toggleFullscreen);
  document.addEventListener('fullscreenchange', () => {
    const on = document.fullscreenElement === ui.stage;
    ui.fullscreen.setAttribute('aria-label', on ? 'Exit full screen' : 'Full screen');
    ui.fullscreen.title = on ? 'Exit full screen (F)' : 'Full screen (F)';
    ui.stage.classList.toggle('is-fullscreen', on);
  });
  if (!document.fullscreenEnabled && !video.webkitEnterFullscreen) ui.fullscreen.hidden = true;
  // Picture-in-picture, where the browser has it.
  if (document.pictureInPictureEnabled && !video.disablePictureInPicture) {
    ui.pip.hidden = false;
    ui.pip.addEventListener('click', async () => {
      try {
        if (document.pictureInPictureElement) await document.exitPictureInPicture();
        else await video.requestPictureInPicture();
      } catch { /* refused (no video yet): nothing to do */ }
    });
  }
  ui.stage.addEventListener('pointermove', (e) => { if (e.pointerType === 'mouse') showControls(); });
  ui.stage.addEventListener('pointerdown', (e) => {
    app.tapFoundIdle = ui.stage.classList.contains('is-idle');
    // A tap on hidden controls must not reach the button under the finger: they come
    // back on the tap's click (on the picture), not while it is still being pressed.
    if (e.pointerType === 'touch' || e.pointerType === 'pen') {
      if (!app.tapFoundIdle) armIdle();
      return;
    }
    showControls();
  });
  ui.stage.addEventListener('focusin', showControls);
  document.addEventListener('keydown', onKey);
}
