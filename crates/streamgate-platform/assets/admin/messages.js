// @ts-check
// StreamGate admin console: what it tells the organiser. Messages go to one aria-live
// region (#flash) and belong to the page they were shown on; questions go to one
// <dialog> (#confirm-dialog); copying to the clipboard says whether it worked.

import { ApiError } from './api.js';
import { $, h, maybe$ } from './dom.js';

/** The timer that clears a success message. */
let flashTimer = 0;

/**
 * Shows a message in the live region. `keep`: survive the next navigation (for messages
 * about an action that navigates, e.g. "Event created" then the event's page).
 * @param {string} message
 * @param {'info' | 'success' | 'error'} [kind]
 * @param {boolean} [keep]
 */
export function flash(message, kind = 'info', keep = false) {
  const region = $('#flash');
  clearTimeout(flashTimer);
  region.replaceChildren(
    h('div', { class: `flash flash-${kind}`, 'data-kind': kind, 'data-keep': keep ? '1' : null },
      h('span', { class: 'flash-text', 'data-testid': 'flash-text' }, message),
      h('button', { type: 'button', class: 'flash-close', 'aria-label': 'Dismiss message', onclick: clearFlash }, '×')));
  if (kind === 'success') flashTimer = setTimeout(clearFlash, 10000);
}

/** Removes the message. */
export function clearFlash() {
  clearTimeout(flashTimer);
  $('#flash').replaceChildren();
}

/** Clears the message after a navigation, unless it was flagged to survive it. */
export function clearFlashIfStale() {
  const f = maybe$('#flash .flash');
  if (!f) return;
  if (f.dataset.keep === '1') delete f.dataset.keep;
  else clearFlash();
}

/**
 * Shows what went wrong: in `where` (an inline role="alert" message) when given, else
 * as an error message. Errors already handled (the session ended) show nothing.
 * @param {unknown} err
 * @param {HTMLElement} [where]
 */
export function showError(err, where) {
  if (err instanceof ApiError && err.handled) return;
  const msg = err instanceof Error ? err.message : String(err);
  if (where) {
    // The inline message (role="alert") is the live region here; no second toast.
    where.textContent = msg;
    where.hidden = false;
    return;
  }
  flash(msg, 'error');
}

/**
 * Asks a yes/no question in the modal dialog; resolves true on confirm, false on
 * cancel or Esc, and gives focus back to what had it.
 * @param {{ title: string, message: string, confirmLabel?: string, danger?: boolean }} question
 * @returns {Promise<boolean>}
 */
export function confirmDialog({ title, message, confirmLabel = 'Confirm', danger = true }) {
  const dialog = $('#confirm-dialog', HTMLDialogElement);
  const cancel = $('#confirm-cancel');
  $('#confirm-title').textContent = title;
  $('#confirm-message').textContent = message;
  const ok = $('#confirm-ok');
  ok.textContent = confirmLabel;
  ok.className = danger ? 'btn btn-danger' : 'btn btn-primary';
  const opener = document.activeElement;
  return new Promise((resolve) => {
    const done = (/** @type {boolean} */ result) => {
      ok.removeEventListener('click', onOk);
      cancel.removeEventListener('click', onCancel);
      dialog.removeEventListener('close', onClose);
      if (dialog.open) dialog.close();
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
      resolve(result);
    };
    const onOk = () => done(true);
    const onCancel = () => done(false);
    const onClose = () => done(false); // Esc
    ok.addEventListener('click', onOk);
    cancel.addEventListener('click', onCancel);
    dialog.addEventListener('close', onClose);
    dialog.showModal();
    cancel.focus();
  });
}

/**
 * Copies `text` to the clipboard (the legacy way where the Clipboard API is missing);
 * resolves whether it worked.
 * @param {string} text
 */
async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch { /* fall through to the legacy path */ }
  const ta = h('textarea', { class: 'offscreen', readonly: true, 'aria-hidden': 'true', tabindex: '-1' });
  ta.value = text;
  document.body.append(ta);
  const prev = document.activeElement;
  ta.select();
  let ok = false;
  try { ok = document.execCommand('copy'); } catch { ok = false; }
  ta.remove();
  if (prev instanceof HTMLElement) prev.focus();
  return ok;
}

/**
 * Copies `text` and says so; `button` shows "Copied" for a moment.
 * @param {string} text
 * @param {EventTarget | null} button
 * @param {string} what what was copied, for the message
 */
export async function copyWithFeedback(text, button, what) {
  const ok = await copyText(text);
  if (ok) {
    flash(`Copied ${what} to the clipboard.`, 'success');
    if (button instanceof HTMLElement) {
      const orig = button.textContent;
      button.textContent = 'Copied';
      button.classList.add('is-copied');
      setTimeout(() => { button.textContent = orig; button.classList.remove('is-copied'); }, 1500);
    }
  } else {
    flash(`Could not copy automatically. ${what}: ${text}`, 'error');
  }
}
