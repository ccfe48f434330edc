// @ts-check
// StreamGate admin console: an event's page (#/events/<id>). It is made of panels, each
// in its own module: the head (event-header.js), the video's location (stream.js), the
// live ingest (ingest.js), the audience (analytics.js), the access codes
// (event-codes.js) and the viewer sessions (event-sessions.js). They share one
// EventPage: the event as last fetched, and each other's reloads (revoking a code
// changes the counts in the head and may end a session).

import { audiencePanel } from '../analytics.js';
import { API, ApiError, get, post } from '../api.js';
import { h } from '../dom.js';
import { ingestPanel } from '../ingest.js';
import { copyWithFeedback } from '../messages.js';
import { eventPhase } from '../model.js';
import { startView, viewHeading } from '../router.js';
import { streamPanel } from '../stream.js';
import { codesPanel } from './event-codes.js';
import { eventHeader } from './event-header.js';
import { sessionsPanel } from './event-sessions.js';

/**
 * What the panels of one event's page share.
 * @typedef {object} EventPage
 * @property {string} id the event id in the URL (an edit may change the event's)
 * @property {string} base the event's admin API URL
 * @property {import('../model.js').AdminEvent} ev the event as last fetched or saved
 * @property {HTMLElement} view
 * @property {() => boolean} alive whether this page is still the one shown
 * @property {() => Promise<void>} reloadEvent fetches the event and redraws the head
 * @property {() => Promise<void>} loadSessions fetches the sessions again
 */

/**
 * Renders the page of event `id`.
 * @param {string} id
 */
export async function renderEventDetail(id) {
  const { view, alive } = startView('Event', 'events');
  const base = `${API}/events/${encodeURIComponent(id)}`;
  let ev;
  try {
    ev = await get(base);
  } catch (ex) {
    if ((ex instanceof ApiError && ex.handled) || !alive()) return;
    view.append(h('p', null, h('a', { href: '#/events' }, '← All events')),
      viewHeading('Event not found'),
      h('p', { class: 'form-error', role: 'alert', id: 'event-load-error' }, ex instanceof Error ? ex.message : String(ex)));
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

  /** @type {EventPage} */
  const page = {
    id,
    base,
    ev,
    view,
    alive,
    reloadEvent: async () => {},
    loadSessions: async () => {},
  };
  const head = eventHeader(header, page);
  page.reloadEvent = head.reload;
  const loadCodes = codesPanel(codesSection, page);
  const loadSessions = sessionsPanel(sessionsSection, page);
  page.loadSessions = loadSessions;

  head.render();
  await Promise.all([loadCodes(), loadSessions(),
    audiencePanel(audienceSection, { base, eventId: ev.id, get, alive, isLive: () => eventPhase(page.ev) === 'live' })]);
}
