// @ts-check
// StreamGate viewer portal: the screen before the event: title, description, poster,
// a countdown, and the event's status asked every 30 s (and at once when the countdown
// reaches zero), so the player starts by itself when the broadcast does.

import { fetchStatus } from '../api.js';
import { announce, show, ui } from '../dom.js';
import { endSession, timers } from '../session.js';
import { app, setState } from '../state.js';
import { backToEntry, setMessage } from './entry.js';
import { startPlayback } from './player.js';

const STATUS_POLL_MS = 30_000;
const WAITING_AFTER_MS = 60_000; // past the start this long without a stream: "waiting for the broadcast"

const dateFormat = new Intl.DateTimeFormat(undefined, {
  weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit',
});

/** The event's status for this session's code, or null. */
function sessionStatus() {
  const session = app.session;
  if (!session || !session.eventId) return Promise.resolve(null);
  return fetchStatus(session.eventId, session.code);
}

/** Asks the event's status once: plays, ends, or shows the pre-event screen. */
export async function decideFromStatus() {
  const mine = app.session;
  const st = await sessionStatus();
  if (!app.session || app.session !== mine) return;
  let status = st ? st.status : null;
  if (st) applySchedule(st);
  if (!status) status = Date.now() < app.session.startsAt ? 'not-started' : 'live';
  if (status === 'live' || status === 'recording') startPlayback();
  else if (status === 'ended') eventEnded();
  else showPreEvent();
}

/**
 * Takes the schedule from a status answer (the organiser may have moved the event).
 * @param {{ startsAt?: string, endsAt?: string }} st
 */
function applySchedule(st) {
  if (!app.session) return;
  const starts = Date.parse(st.startsAt || '');
  const ends = Date.parse(st.endsAt || '');
  if (Number.isFinite(starts)) app.session.startsAt = starts;
  if (Number.isFinite(ends)) app.session.endsAt = ends;
}

function eventEnded() {
  const code = app.session ? app.session.code : '';
  endSession({ release: true });
  backToEntry(code);
  setMessage('event-ended');
}

function showPreEvent() {
  if (!app.session) return;
  const ev = app.session.event;
  ui.preTitle.textContent = ev.title || 'Your event';
  ui.preDescription.textContent = ev.description || '';
  ui.preDescription.hidden = !ev.description;
  if (ev.posterUrl) {
    ui.prePoster.src = ev.posterUrl;
    ui.prePoster.alt = `Poster: ${ev.title || 'the event'}`;
    ui.prePoster.hidden = false;
    ui.prePosterWrap.classList.add('has-poster');
  } else {
    ui.prePoster.removeAttribute('src');
    ui.prePoster.hidden = true;
    ui.prePosterWrap.classList.remove('has-poster');
  }
  show(ui.pre);
  setState('pre-event');
  renderCountdown();
  scheduleStatusPoll();
  ui.preTitle.setAttribute('tabindex', '-1');
  ui.preTitle.focus({ preventScroll: true });
}

/** The countdown, and what the screen says when it reaches zero or goes past it. */
export function renderCountdown() {
  const session = app.session;
  if (!session) return;
  const ms = Math.max(0, session.startsAt - Date.now());
  const total = Math.floor(ms / 1000);
  ui.cdDays.textContent = String(Math.floor(total / 86400));
  ui.cdHours.textContent = String(Math.floor(total / 3600) % 24).padStart(2, '0');
  ui.cdMinutes.textContent = String(Math.floor(total / 60) % 60).padStart(2, '0');
  ui.cdSeconds.textContent = String(total % 60).padStart(2, '0');
  ui.countdown.dataset.seconds = String(total);
  const due = Date.now() >= session.startsAt;
  ui.preWhen.textContent = session.startsAt ? `${due ? 'Was due to start' : 'Starts'} ${dateFormat.format(new Date(session.startsAt))}` : '';
  // Past the start and still no stream: not a zero countdown forever, but what is
  // going on (the organiser has not started the broadcast yet).
  const waiting = total === 0 && Date.now() - session.startsAt > WAITING_AFTER_MS;
  ui.countdown.hidden = waiting;
  if (waiting) {
    ui.preEyebrow.textContent = 'Waiting for the broadcast to start';
    ui.preNote.textContent = 'The event was due to start at the time above, and the broadcast has not begun yet. Keep this page open — it starts here by itself as soon as it does.';
    if (!app.countdownZeroPolled) {
      app.countdownZeroPolled = true;
      pollStatus();
    }
  } else if (total === 0) {
    ui.preEyebrow.textContent = 'Starting any moment';
    ui.preNote.textContent = 'The stream is about to begin — it will start here by itself.';
    if (!app.countdownZeroPolled) {
      // The clock says now: ask at once rather than wait for the next poll.
      app.countdownZeroPolled = true;
      pollStatus();
    }
  } else {
    app.countdownZeroPolled = false;
    ui.preEyebrow.textContent = 'Starting soon';
    ui.preNote.textContent = 'Keep this page open — the stream starts here by itself.';
  }
}

function scheduleStatusPoll() {
  timers.after('status', STATUS_POLL_MS, pollStatus);
}

async function pollStatus() {
  timers.clear('status');
  if (!app.session || app.state !== 'pre-event') return;
  const mine = app.session;
  const st = await sessionStatus();
  if (app.session !== mine || app.state !== 'pre-event') return;
  if (st) {
    applySchedule(st);
    if (st.status === 'live' || st.status === 'recording') {
      announce('The event is starting.');
      startPlayback();
      return;
    }
    if (st.status === 'ended') {
      eventEnded();
      return;
    }
    renderCountdown();
  }
  scheduleStatusPoll();
}

/** Hides the poster when it does not load. */
export function initPreEvent() {
  ui.prePoster.addEventListener('error', () => {
    ui.prePoster.hidden = true;
    ui.prePosterWrap.classList.remove('has-poster');
  });
}
