// @ts-check
// StreamGate admin console: making an event's access codes (how many, an optional
// label), and showing the new ones once, to copy. Events that streamgate.toml declares
// get their codes from there: a note says so instead.

import { post } from '../api.js';
import { $, field, h } from '../dom.js';
import { copyWithFeedback, flash, showError } from '../messages.js';

/** @typedef {import('./event-detail.js').EventPage} EventPage */
/** @typedef {import('../model.js').AccessCode} AccessCode */

/**
 * The generate form (or the read-only note), its error line and the new codes' box;
 * `onGenerated` runs after codes were made (the list and the counts change).
 * @param {EventPage} page
 * @param {() => Promise<void>} onGenerated
 * @returns {HTMLElement[]}
 */
export function generatePanel(page, onGenerated) {
  const genError = h('p', { class: 'form-error', id: 'gen-error', 'data-testid': 'gen-error', role: 'alert', hidden: true });
  const generated = h('div', { id: 'generated-codes', 'data-testid': 'generated-codes', hidden: true });
  let genArea;
  if (page.ev.readOnly) {
    genArea = h('p', { class: 'note', id: 'gen-readonly-note' }, 'Codes for this event are declared in streamgate.toml; add more there. You can still revoke and unrevoke them here.');
  } else {
    const genForm = h('form', { id: 'generate-form', 'data-testid': 'generate-form', class: 'inline-form', novalidate: true, 'aria-label': 'Generate codes' },
      field('gen-count', 'Number of codes', h('input', { type: 'number', id: 'gen-count', name: 'count', min: '1', max: '500', step: '1', value: '10', inputmode: 'numeric', required: true })),
      field('gen-label', 'Label (optional)', h('input', { type: 'text', id: 'gen-label', name: 'label', maxlength: '200', placeholder: 'e.g. press, VIP' })),
      h('button', { type: 'submit', class: 'btn btn-primary', id: 'gen-submit', 'data-testid': 'gen-submit' }, 'Generate codes'));
    genForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      genError.hidden = true;
      const count = Number($('#gen-count', HTMLInputElement).value);
      if (!Number.isInteger(count) || count < 1 || count > 500) {
        genError.textContent = 'Enter a whole number of codes from 1 to 500.';
        genError.hidden = false;
        $('#gen-count').focus();
        return;
      }
      const label = $('#gen-label', HTMLInputElement).value.trim();
      const btn = $('#gen-submit', HTMLButtonElement);
      btn.disabled = true;
      try {
        const res = await post(`${page.base}/tokens`, label ? { count, label } : { count });
        const list = (res.tokens || []).map((/** @type {AccessCode} */ t) => t.code);
        flash(`Generated ${res.generated ?? list.length} code${(res.generated ?? list.length) === 1 ? '' : 's'}.`, 'success');
        showGenerated(list);
        await onGenerated();
      } catch (ex) {
        showError(ex, genError);
      } finally {
        btn.disabled = false;
      }
    });
    genArea = genForm;
  }

  /** @param {string[]} list */
  function showGenerated(list) {
    const text = list.join('\n');
    generated.replaceChildren(
      h('div', { class: 'generated card' },
        h('h3', null, `${list.length} new code${list.length === 1 ? '' : 's'}`),
        h('label', { for: 'generated-text', class: 'visually-hidden' }, 'New codes, one per line'),
        h('textarea', { id: 'generated-text', readonly: true, rows: String(Math.min(8, Math.max(2, list.length))), value: text, class: 'mono' }),
        h('div', { class: 'form-actions' },
          h('button', { type: 'button', class: 'btn', id: 'copy-generated', onclick: (/** @type {Event} */ e) => copyWithFeedback(text, e.currentTarget, `${list.length} codes`) }, 'Copy all'),
          h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => { generated.hidden = true; generated.replaceChildren(); } }, 'Dismiss'))));
    generated.hidden = false;
  }

  return [genArea, genError, generated];
}
