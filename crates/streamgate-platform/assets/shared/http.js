// @ts-check
// StreamGate's two browser apps: reading the platform's answers. Both apps talk to the
// same JSON API, whose errors are `{"error": "..."}` and whose rate limits say when to
// come back in Retry-After.

/**
 * The answer's JSON body, or null when it has none or it does not parse.
 * @param {Response} res
 * @returns {Promise<any>} the JSON as the API documents it (openapi.yaml)
 */
export async function readJson(res) {
  try { return await res.json(); } catch { return null; }
}

/**
 * The `error` message of an API error body, or null.
 * @param {unknown} body
 * @returns {string | null}
 */
export function errorMessage(body) {
  if (body && typeof body === 'object' && 'error' in body && typeof body.error === 'string') return body.error;
  return null;
}

/**
 * Seconds until a rate-limited request may be tried again (Retry-After as seconds or an
 * HTTP date, at least 1), or null when the answer does not say.
 * @param {Response} res
 * @returns {number | null}
 */
export function retryAfterSeconds(res) {
  const raw = res.headers.get('retry-after');
  if (!raw) return null;
  const n = Number(raw);
  if (Number.isFinite(n)) return Math.max(1, Math.ceil(n));
  const at = Date.parse(raw);
  return Number.isFinite(at) ? Math.max(1, Math.ceil((at - Date.now()) / 1000)) : null;
}
