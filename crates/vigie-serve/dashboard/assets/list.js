// The incident list (`#/`): counts by state and severity, then one row per incident,
// newest activity first. Kept live by app.js, which calls `refresh` when the stream says
// an incident opened or changed; new and changed rows are marked for a few seconds.

import { api } from './api.js';
import { h, fill, num, timeEl, severity, stateBadge, plural } from './dom.js';

const PAGE = 200;
const MAX_ROWS = 2000;
const STATES = ['open', 'acknowledged', 'closed', 'merged'];
const LEVELS = ['critical', 'high', 'medium', 'low', 'informational'];

let filter = 'active';
let seen = new Map();

/** Every incident (following `next` up to MAX_ROWS), and whether some were left. */
async function load() {
  const rows = [];
  let path = `/api/v1/incidents?limit=${PAGE}`;
  while (path && rows.length < MAX_ROWS) {
    const page = await api(path);
    rows.push(...(page.incidents || []));
    path = page.next || null;
  }
  return { rows, more: Boolean(path) };
}

function kpi(label, value, attrs) {
  return h('div', Object.assign({ class: 'kpi' }, attrs || {}),
    h('div', { class: 'kv' }, num(value)), h('div', { class: 'kl' }, label));
}

function counts(rows) {
  const byState = Object.fromEntries(STATES.map((s) => [s, 0]));
  const bySev = Object.fromEntries(LEVELS.map((s) => [s, 0]));
  for (const r of rows) {
    byState[r.state] = (byState[r.state] || 0) + 1;
    if (r.state !== 'closed' && r.state !== 'merged') bySev[r.severity] = (bySev[r.severity] || 0) + 1;
  }
  return h('section', { class: 'counts', 'aria-label': 'Counts' },
    h('div', { class: 'kpis' },
      kpi('incidents', rows.length, { dataset: { count: 'all' } }),
      STATES.map((s) => kpi(s, byState[s], { class: ['kpi', 'st-' + s], dataset: { count: s } }))),
    h('div', { class: 'sevcounts' }, h('span', { class: 'muted' }, 'Not closed, by severity:'),
      LEVELS.filter((l) => bySev[l] > 0 || l !== 'informational').map((l) =>
        h('span', { class: 'sevcount', dataset: { severityCount: l } }, severity(l), ' ', num(bySev[l])))));
}

function filters(onPick) {
  const opts = [['active', 'Open and acknowledged'], ['all', 'All'], ...STATES.map((s) => [s, s[0].toUpperCase() + s.slice(1)])];
  return h('div', { class: 'filters', role: 'group', 'aria-label': 'Show incidents' },
    opts.map(([v, label]) => h('button', {
      type: 'button', class: ['chipbtn', v === filter && 'on'], 'aria-pressed': v === filter ? 'true' : 'false',
      onclick: () => { filter = v; onPick(); },
    }, label)));
}

function shown(r) {
  if (filter === 'all') return true;
  if (filter === 'active') return r.state === 'open' || r.state === 'acknowledged';
  return r.state === filter;
}

function row(r, fresh) {
  const link = `#/incident/${encodeURIComponent(r.id)}`;
  return h('tr', { dataset: { incidentRow: r.id, state: r.state, fresh: fresh || null }, class: fresh ? 'fresh' : null },
    h('td', {}, h('a', { href: link, class: 'mono', dataset: { incidentLink: r.id } }, r.id)),
    h('td', {}, severity(r.severity)),
    h('td', {}, stateBadge(r.state)),
    h('td', { class: 'num' }, num(r.risk)),
    h('td', { class: 'num' }, num((r.compromised || []).length), h('span', { class: 'muted' }, ' / ', num((r.assets || []).length))),
    h('td', { class: 'num' }, num(r.detection_count)),
    h('td', { class: 'nowrap' }, timeEl(r.first_seen)),
    h('td', { class: 'nowrap' }, timeEl(r.last_seen)),
    h('td', {}, r.assignee || h('span', { class: 'muted' }, '—')),
    h('td', {}, r.verdict ? r.verdict.replace('_', ' ') : h('span', { class: 'muted' }, '—')));
}

function table(rows) {
  const order = rows.filter(shown).sort((a, b) =>
    String(b.updated_at || '').localeCompare(String(a.updated_at || '')) || a.id.localeCompare(b.id));
  if (!order.length) {
    return h('p', { class: 'empty', dataset: { noIncidents: 'true' } },
      rows.length ? 'No incident in this view.' : 'No incident yet. New ones appear here as detections arrive, without reloading.');
  }
  const fresh = (r) => {
    const prev = seen.get(r.id);
    if (prev === undefined) return seen.size ? 'new' : null;
    return prev !== r.version ? 'changed' : null;
  };
  const body = order.map((r) => row(r, fresh(r)));
  return h('div', { class: 'table-wrap' }, h('table', { class: 'grid-table incidents', 'aria-label': 'Incidents' },
    h('thead', {}, h('tr', {},
      ['Incident', 'Severity', 'State', 'Risk', 'Compromised / assets', 'Detections', 'First seen', 'Last seen', 'Assignee', 'Verdict']
        .map((c, i) => h('th', { scope: 'col', class: [3, 4, 5].includes(i) ? 'num' : null }, c)))),
    h('tbody', {}, body)));
}

/** Draws the list into `view`; resolves once drawn. */
export async function render(view, sub) {
  const { rows, more } = await load();
  const redraw = () => {
    fill(view,
      counts(rows),
      h('section', { class: 'list' },
        h('h2', {}, 'Incidents', h('span', { class: 'muted small' }, more ? `first ${num(rows.length)} shown` : '')),
        filters(redraw),
        table(rows)));
  };
  redraw();
  // Rows marked new or changed are the ones since the previous drawing.
  const firstDraw = seen.size === 0;
  seen = new Map(rows.map((r) => [r.id, r.version]));
  if (firstDraw && rows.length === 0) seen.set('', 0);
  fill(sub, plural(rows.filter((r) => r.state === 'open').length, 'open incident'), ' · ',
    plural(rows.length, 'incident'), ' in all');
}
