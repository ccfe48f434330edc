// @ts-check
// StreamGate admin console: the admin API's fetch wrappers. The session is the
// same-origin cookie the login set (HttpOnly, SameSite=Strict, so no CSRF token is
// needed); every answer is read as JSON when it says so, and a refusal becomes an
// ApiError carrying the API's own message. A 401 anywhere but at login means the
// session ended: the handler set with `onSessionEnded` shows the sign-in form again.

import { readJson } from '../shared/http.js';

/** Where the admin API lives. */
export const API = '/api/admin';

/** A request the API refused, or that did not reach it (`status` 0). */
export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, 0 when the server could not be reached
   * @param {string} message what to show the organiser
   * @param {any} data the answer's body
   * @param {Response | null} response
   */
  constructor(status, message, data, response) {
    super(message);
    this.status = status;
    this.data = data;
    this.response = response;
    /** Already dealt with (the sign-in form is back): callers show nothing more. */
    this.handled = false;
  }
}

/** @type {() => void} */
let sessionEnded = () => {};

/**
 * What to do when the API answers 401 (the session expired or was ended elsewhere).
 * @param {() => void} handler
 */
export function onSessionEnded(handler) {
  sessionEnded = handler;
}

/**
 * One request to the admin API; resolves with the answer's body.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body] sent as JSON when given
 * @returns {Promise<any>} the JSON the API documents (openapi.yaml)
 */
export async function api(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  /** @type {RequestInit} */
  const opts = { method, credentials: 'same-origin', headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch {
    throw new ApiError(0, 'Cannot reach the server. Check your connection and try again.', null, null);
  }
  let data = null;
  const ct = res.headers.get('content-type') || '';
  if (ct.includes('json')) data = await readJson(res);
  else data = await res.text().catch(() => null);
  if (!res.ok) {
    const msg = (data && typeof data === 'object' && data.error) ? data.error : `Request failed (HTTP ${res.status})`;
    const err = new ApiError(res.status, msg, data, res);
    if (res.status === 401 && path !== `${API}/login` && path !== `${API}/session`) {
      err.handled = true;
      sessionEnded();
    }
    throw err;
  }
  return data;
}

/** @param {string} p */
export const get = (p) => api('GET', p);
/** @param {string} p @param {unknown} [b] */
export const post = (p, b = {}) => api('POST', p, b);
/** @param {string} p @param {unknown} b */
export const put = (p, b) => api('PUT', p, b);
/** @param {string} p */
export const del = (p) => api('DELETE', p);

/**
 * A query string of the parameters that have a value ("" when none has).
 * @param {Record<string, string | number | null | undefined>} params
 */
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v !== null && v !== undefined) u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}

/**
 * One page of the event list. `sort` names the key, a leading "-" reverses it: the
 * console keeps that shorter spelling in its own URL (#/events?sort=-startsAt), the API
 * takes `sort` and `order=desc`.
 * @param {{ sort?: string } & Record<string, string | number>} params
 */
export function listEvents(params) {
  const { sort = 'startsAt', ...rest } = params;
  const key = sort.replace(/^-/, '');
  const order = sort.startsWith('-') ? 'desc' : '';
  return get(`${API}/events${qs({ ...rest, sort: key, order })}`);
}
