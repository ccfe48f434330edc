// @ts-check
// StreamGate viewer portal: the platform's viewer API. Redemption is anonymous; every
// later call carries the playback token as a bearer header, except the two a browser
// cannot give headers to: sendBeacon's release (the token in a text/plain body) and
// EventSource (the token in the query, which the platform's logs redact).

/**
 * Redeems `code`: resolves with the answer, rejects when the server cannot be reached.
 * @param {string} code
 */
export function validateCode(code) {
  return fetch('/api/tokens/validate', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ code }),
    credentials: 'same-origin',
    cache: 'no-store',
  });
}

/**
 * A POST with the playback token (heartbeat, refresh).
 * @param {string} path
 * @param {string} token
 */
export function authorized(path, token) {
  return fetch(path, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
    credentials: 'same-origin',
    cache: 'no-store',
  });
}

/**
 * Ends the session on the server; `beacon` on the way out of the page, where only
 * sendBeacon is sure to be sent.
 * @param {string} token
 * @param {boolean} beacon
 */
export function releaseSession(token, beacon) {
  const payload = JSON.stringify({ token });
  if (beacon && navigator.sendBeacon) {
    // sendBeacon cannot set headers; the platform accepts the JWT in a text/plain body.
    if (navigator.sendBeacon('/api/playback/release', new Blob([payload], { type: 'text/plain' }))) return;
  }
  fetch('/api/playback/release', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: payload,
    keepalive: true,
    credentials: 'same-origin',
  }).catch(() => {});
}

/**
 * The event's status for the holder of `code` ({status, startsAt, endsAt}), or null
 * when it cannot be had.
 * @param {string} eventId
 * @param {string} code
 * @returns {Promise<{ status?: string, startsAt?: string, endsAt?: string } | null>}
 */
export async function fetchStatus(eventId, code) {
  const url = `/api/events/${encodeURIComponent(eventId)}/status?code=${encodeURIComponent(code)}`;
  try {
    const res = await fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store', credentials: 'same-origin' });
    if (!res.ok) return null;
    return await res.json();
  } catch {
    return null;
  }
}

/**
 * The stream of the session's changes (revoked, released, taken over, switched off).
 * @param {string} token
 */
export function sessionEvents(token) {
  return new EventSource(`/api/playback/events?token=${encodeURIComponent(token)}`);
}
