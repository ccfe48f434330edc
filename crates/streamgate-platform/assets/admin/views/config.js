// @ts-check
// StreamGate admin console: the configuration's state (#/config): the file, when it was
// last applied, what waits for a restart, and the last refused change with its
// diagnostics.

import { API, get } from '../api.js';
import { badge, h, row, tableWrap } from '../dom.js';
import { fmtNum, fmtTime, relTime } from '../format.js';
import { route, startView, viewHeading } from '../router.js';

/**
 * One problem of a refused configuration, where it is and what to do.
 * @typedef {object} Diagnostic
 * @property {string} [file]
 * @property {number} [line]
 * @property {number} [column]
 * @property {string} [path]
 * @property {string} message
 * @property {string} [hint]
 */

/** Renders the configuration page. */
export async function renderConfig() {
  const { view, alive } = startView('Config', 'config');
  view.append(viewHeading('Configuration',
    h('button', { type: 'button', class: 'btn', id: 'config-refresh', onclick: () => route() }, 'Refresh')));
  const c = await get(`${API}/config`);
  if (!alive()) return;
  const restart = /** @type {unknown[]} */ (c.restartRequired || []);
  const err = c.lastError;
  view.append(
    h('section', { class: 'panel', 'aria-labelledby': 'cfg-status-h', 'data-testid': 'config-status', id: 'config-status' },
      h('h2', { id: 'cfg-status-h' }, 'Status'),
      h('dl', { class: 'details' },
        row('File', c.path ? h('span', { class: 'mono break' }, c.path) : h('span', { class: 'muted' }, 'No config file')),
        row('Last applied', c.lastAppliedAt ? [fmtTime(c.lastAppliedAt), h('span', { class: 'muted small' }, ` (${relTime(c.lastAppliedAt)})`)] : h('span', { class: 'muted' }, 'Never')),
        row('Applied', h('span', { id: 'config-applies' }, fmtNum(c.applies))),
        row('Rejected', h('span', { id: 'config-rejected' }, fmtNum(c.rejected))),
        typeof c.watching === 'boolean' ? row('Watching the file', c.watching ? 'Yes — changes apply on save' : 'No — restart or reload to apply changes') : null,
        row('Health', err ? badge('Last change rejected', 'danger') : badge('OK', 'ok')))),
    h('section', { class: 'panel', 'aria-labelledby': 'cfg-restart-h' },
      h('h2', { id: 'cfg-restart-h' }, 'Restart required'),
      restart.length === 0
        ? h('p', { class: 'muted', id: 'restart-none' }, 'No pending changes need a restart.')
        : [h('p', null, 'These settings changed in the file but only take effect after a restart:'),
          h('ul', { class: 'plain-list', id: 'restart-required' }, restart.map((r) => h('li', { class: 'mono' }, typeof r === 'string' ? r : JSON.stringify(r))))]),
    h('section', { class: 'panel', 'aria-labelledby': 'cfg-error-h', id: 'config-last-error' },
      h('h2', { id: 'cfg-error-h' }, 'Last error'),
      !err
        ? h('p', { class: 'muted' }, 'None.')
        : [
          h('p', { class: 'error-box', role: 'note' }, h('strong', null, err.message), ' ', h('span', { class: 'muted small' }, '— '), fmtTime(err.at)),
          (err.diagnostics || []).length === 0 ? null : tableWrap('Configuration diagnostics', h('table', { id: 'config-diagnostics' },
            h('thead', null, h('tr', null, ['Location', 'Key', 'Problem', 'Hint'].map((t) => h('th', { scope: 'col' }, t)))),
            h('tbody', null, err.diagnostics.map((/** @type {Diagnostic} */ d) => h('tr', null,
              h('td', { class: 'mono' }, [d.file, d.line, d.column].filter((x) => x !== null && x !== undefined && x !== '').join(':')),
              h('td', { class: 'mono' }, d.path || '—'),
              h('td', null, d.message),
              h('td', null, d.hint || h('span', { class: 'muted' }, '—'))))))),
        ]));
}
