// @ts-check
// StreamGate viewer portal: its state, in one object, so that no module keeps a
// variable of its own that another one must know about. The timers are the exception:
// session.js owns them all, with the EventSource, so one stop() ends them.

/**
 * The live session after a successful redemption.
 * @typedef {object} Session
 * @property {string} code the access code, as typed (normalised)
 * @property {string} token the playback JWT; a refresh replaces it
 * @property {string} eventId
 * @property {EventInfo} event
 * @property {string} baseUrl the HLS server's public URL, no trailing slash
 * @property {string} streamPath the playlist's path there
 * @property {number} expiresAt when the code's access ends (ms), Infinity when never
 * @property {number} startsAt the event's start (ms), 0 when unknown
 * @property {number} endsAt the event's end (ms), 0 when unknown
 */

/**
 * The event as the validate answer describes it.
 * @typedef {object} EventInfo
 * @property {string} [id]
 * @property {string} [title]
 * @property {string} [description]
 * @property {string} [posterUrl]
 * @property {string} [startsAt]
 * @property {string} [endsAt]
 * @property {boolean} [isLive]
 */

/** "entry" | "pre-event" | "loading" | "playing" | "overlay"
 *  @typedef {'entry' | 'pre-event' | 'loading' | 'playing' | 'overlay'} Screen */

/** Everything the portal's views remember between events. */
export const app = {
  /** @type {Screen} */
  state: 'entry',
  /** @type {Session | null} */
  session: null,
  /** @type {HlsPlayer | null} the hls.js player, when hls.js plays the stream */
  hls: null,
  /** Whether the stream is live (else a recording, which can seek). */
  isLive: true,
  /** Network errors retried since the stream last played. */
  networkRetries: 0,
  /** Media errors hls.js recovered from since the stream was loaded. */
  mediaRecoveries: 0,
  /** @type {Promise<void> | null} the refresh in flight after a 403 from the HLS server */
  deniedRefresh: null,
  /** When a refresh after a 403 last succeeded (ms). */
  lastDeniedRefreshAt: 0,
  /** The kind of the last pointer press anywhere ('mouse', 'touch', 'pen'): taps and clicks differ. */
  lastPointer: 'mouse',
  /** The "access ends soon" banner was shown for this session. */
  warnedAccessEnd: false,
  /** The viewer closed the banner: it stays closed for this session. */
  bannerDismissed: false,
  /** A code is being checked. */
  submitting: false,
  /** The code the overlay's button fills in again ("" for none). */
  overlayKeepCode: '',
  /** @type {string | null} the code of the session released when the page was hidden */
  releasedOnHide: null,
  /** The countdown reached zero and the status was asked at once. */
  countdownZeroPolled: false,
  /** The viewer is dragging the seek bar: time updates leave it alone. */
  seekDragging: false,
  /** The tap that is going on found the controls hidden. */
  tapFoundIdle: false,
};

/**
 * Moves to `next` (also on <body data-state>, which the stylesheet and tests read).
 * @param {Screen} next
 */
export function setState(next) {
  app.state = next;
  document.body.dataset.state = next;
}

// The browser tests read the state, the stream's kind and the token from here.
window.__sg = {
  get state() { return app.state; },
  get live() { return app.isLive; },
  token() { return app.session ? app.session.token : null; },
};
