// The dashboard's entry: hash routing (`#/` the list, `#/incident/ID` one incident),
// the live stream (redraws what is shown when an incident opens or changes), and the
// token prompt. See docs/dashboard.md.

import { follow, setTokenPrompt, setToken, token } from './api.js';
import { h, fill } from './dom.js';
import * as list from './list.js';
import * as incident from './incident.js';

const view = document.getElementById('view');
const title = document.getElementById('page-title');
const sub = document.getElementById('page-sub');
const live = document.getElementById('live');
const tokenButton = document.getElementById('token-button');

function route() {
  const m = /^#\/incident\/(.+)$/.exec(location.hash);
  return m ? { name: 'incident', id: decodeURIComponent(m[1]) } : { name: 'list' };
}

let drawing = Promise.resolve();
let pending = false;
let generation = 0;

/**
 * Redraws the current view. Draws never overlap: a redraw asked during one runs once
 * after it (a burst of stream events costs one more load, not one per event).
 */
function redraw(opts = {}) {
  if (pending && !opts.navigate) return drawing;
  pending = true;
  const mine = ++generation;
  drawing = drawing.then(async () => {
    pending = false;
    if (mine !== generation) return;
    const r = route();
    view.setAttribute('aria-busy', 'true');
    try {
      if (r.name === 'incident') {
        fill(title, 'Incident');
        document.title = `vigie · ${r.id}`;
        await incident.render(view, sub, r.id, opts.notice);
      } else {
        fill(title, 'Incidents');
        document.title = 'vigie · incidents';
        await list.render(view, sub);
      }
      view.dataset.view = r.name;
      view.dataset.drawn = String(Date.now());
    } catch (e) {
      fill(view, h('p', { class: 'empty error', role: 'alert', dataset: { loadError: e.code || 'error' } },
        e.status === 404 ? `No such incident: ${r.id}. ` : `Could not load this view: ${e.message}. `,
        h('a', { href: '#/' }, 'Back to the list')));
    } finally {
      view.setAttribute('aria-busy', 'false');
    }
    if (opts.navigate) title.focus({ preventScroll: false });
  });
  return drawing;
}

function onChange(name, data) {
  if (name === 'resync') { redraw(); return; }
  if (!name.startsWith('incident.') && name !== 'detections') return;
  const r = route();
  // The list redraws on any incident change; an incident page only on its own (or
  // on detections, whose counts it shows).
  if (r.name === 'list' || name === 'detections' || (data && data.id === r.id)) redraw();
}

function liveState(state, detail) {
  live.dataset.stream = state;
  fill(live, state === 'open' ? '● live' : state === 'reconnecting' ? '○ reconnecting…' : state);
  live.title = detail || (state === 'open' ? 'updates arrive as they happen' : 'the live stream is down; retrying');
  // Anything may have changed while the stream was down: redraw once it is back.
  if (state === 'open' && live.dataset.wasDown === 'true') redraw();
  live.dataset.wasDown = String(state !== 'open');
}

/** Asks for a token in the dialog; resolves with what was typed. */
function askToken(reason) {
  const dialog = document.getElementById('token-dialog');
  const form = document.getElementById('token-form');
  const input = document.getElementById('token-input');
  const err = document.getElementById('token-error');
  err.hidden = !reason;
  fill(err, reason ? `Token refused: ${reason}` : '');
  input.value = '';
  return new Promise((resolve) => {
    const done = (ev) => {
      ev.preventDefault();
      const t = input.value.trim();
      if (!t) return;
      form.removeEventListener('submit', done);
      dialog.close();
      tokenButton.hidden = false;
      resolve(t);
    };
    form.addEventListener('submit', done);
    // Escape would leave the page without data: keep the dialog until a token is given.
    dialog.addEventListener('cancel', (ev) => ev.preventDefault(), { once: true });
    if (!dialog.open) dialog.showModal();
    input.focus();
  });
}

setTokenPrompt(askToken);
tokenButton.hidden = !token();
tokenButton.addEventListener('click', async () => {
  setToken(await askToken(''));
  redraw();
});
title.setAttribute('tabindex', '-1');
window.addEventListener('hashchange', () => redraw({ navigate: true }));

/** With tokens configured, ask for one before the first call (a 401 would do it too,
 * but the browser logs every 401 as an error). */
async function start() {
  try {
    const res = await fetch('/assets/auth.json', { cache: 'no-store' });
    const auth = res.ok ? await res.json() : {};
    if (auth.tokens === true && !token()) setToken(await askToken(''));
  } catch { /* unknown: the API's 401 will ask */ }
  redraw();
  follow(onChange, liveState);
}
start();
