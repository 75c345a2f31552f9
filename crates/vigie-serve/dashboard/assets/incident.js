// One incident (`#/incident/ID`): its facts and the analyst's actions (acknowledge,
// assign, close with a verdict, reopen: `PATCH /api/v1/incidents/{id}`), the decision in
// customer-hours (the plan next to isolate-everything), the kill chain (tactics in
// ATT&CK order, their techniques and first times), the compromised assets and the
// attack graph with the plan, the restore timeline, the detections (paged) and the
// history. Data: `GET /api/v1/incidents/{id}` (summary, `incident`, `decision`,
// `history`), `/api/v1/incidents/{id}/drawings` (the HTML report's SVG drawings),
// `/api/v1/detections?incident=ID`, `/assets/tactics.json`.

import { api, ApiError } from './api.js';
import { h, fill, num, hours, time, timeEl, severity, stateBadge, svgNode, plural } from './dom.js';

const DETECTION_PAGE = 50;
let tacticsList = null;
// The outcome of the last action, kept a few seconds so the redraw the stream causes
// right after it does not wipe it.
let lastNotice = { id: null, text: '', at: 0 };

async function tactics() {
  if (!tacticsList) {
    const res = await fetch('/assets/tactics.json');
    tacticsList = res.ok ? (await res.json()).tactics : [];
  }
  return tacticsList;
}

/** `credential_access`, `Credential Access` and `credential-access` are one tactic. */
const norm = (t) => String(t || '').trim().toLowerCase().replace(/[_ ]/g, '-');

function facts(d) {
  const inc = d.incident || {};
  const dl = [
    ['State', stateBadge(d.state)],
    ['Severity', severity(d.severity)],
    ['Risk', h('span', { class: 'risk' }, num(d.risk), h('span', { class: 'muted' }, ' / 100'))],
    ['Assignee', d.assignee || h('span', { class: 'muted' }, 'nobody')],
    ['Verdict', d.verdict ? d.verdict.replace('_', ' ') : h('span', { class: 'muted' }, 'none yet')],
    ['First seen', timeEl(d.first_seen)],
    ['Last seen', timeEl(d.last_seen)],
    ['Detections', num(d.detection_count)],
    ['Accounts', (inc.accounts || []).length ? (inc.accounts || []).map((a) => h('span', { class: 'chip' }, a)) : '—'],
    ['Addresses', (inc.ips || []).length ? (inc.ips || []).map((a) => h('span', { class: 'chip' }, a)) : '—'],
    ['Opened', timeEl(d.opened_at)],
    ['Updated', [timeEl(d.updated_at), h('span', { class: 'muted' }, ` · version ${d.version}`)]],
  ];
  return h('dl', { class: 'facts' }, dl.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

/** The analyst's buttons; `onDone(detail)` redraws with the PATCH answer. */
function actions(d, onDone) {
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite', dataset: { actionStatus: '' } });
  const comment = h('input', { id: 'act-comment', type: 'text', maxlength: 2000, placeholder: 'optional, kept in the history' });
  const assignee = h('input', { id: 'act-assignee', type: 'text', maxlength: 200, value: d.assignee || '' });
  const verdict = h('select', { id: 'act-verdict' },
    h('option', { value: 'true_positive' }, 'true positive'),
    h('option', { value: 'false_positive' }, 'false positive'));
  const buttons = [];
  const send = async (body, what) => {
    const c = comment.value.trim();
    if (c) body.comment = c;
    buttons.forEach((b) => { b.disabled = true; });
    fill(status, `${what}…`);
    status.className = 'form-status';
    try {
      const detail = await api(`/api/v1/incidents/${encodeURIComponent(d.id)}`, { method: 'PATCH', body });
      onDone(detail, `${what}: done.`);
    } catch (e) {
      const why = e instanceof ApiError && e.status === 409
        ? `not possible in state ${d.state} (${e.message})`
        : e instanceof ApiError && e.status === 403 ? `your token may not change incidents (${e.message})` : String(e.message || e);
      fill(status, `${what} failed: ${why}`);
      status.className = 'form-status error';
      buttons.forEach((b) => { b.disabled = false; });
    }
  };
  const btn = (label, attrs, body, what) => {
    const b = h('button', Object.assign({ type: 'button', onclick: () => send(body(), what) }, attrs), label);
    buttons.push(b);
    return b;
  };
  const closed = d.state === 'closed' || d.state === 'merged';
  return h('section', { class: 'actions', 'aria-labelledby': 'act-title' },
    h('h3', { id: 'act-title' }, 'Actions'),
    h('div', { class: 'act-grid' },
      h('div', { class: 'act' },
        btn('Acknowledge', { class: 'primary', disabled: d.state !== 'open', dataset: { action: 'acknowledge' } },
          () => ({ state: 'acknowledged' }), 'Acknowledge')),
      h('div', { class: 'act' },
        h('label', { for: 'act-assignee' }, 'Assignee'), assignee,
        btn('Assign', { disabled: d.state === 'merged', dataset: { action: 'assign' } },
          () => ({ assignee: assignee.value.trim() }), 'Assign')),
      h('div', { class: 'act' },
        h('label', { for: 'act-verdict' }, 'Verdict'), verdict,
        btn('Close', { disabled: closed, dataset: { action: 'close' } },
          () => ({ state: 'closed', verdict: verdict.value }), 'Close')),
      d.state === 'closed' ? h('div', { class: 'act' },
        btn('Reopen', { dataset: { action: 'reopen' } }, () => ({ state: 'open' }), 'Reopen')) : null,
      h('div', { class: 'act wide' }, h('label', { for: 'act-comment' }, 'Comment'), comment)),
    status);
}

function decisionOf(d) {
  const dec = d.decision || {};
  const inc = d.incident || {};
  return {
    contain: dec.contain || inc.contain || null,
    restore: dec.restore || inc.restore || null,
    skipped: dec.decision_skipped || inc.decision_skipped || [],
    computedAt: dec.computed_at || null,
    compromised: dec.compromised || d.compromised || [],
  };
}

function figures(dec) {
  const c = dec.contain;
  if (!c) {
    return h('p', { class: 'empty', dataset: { noDecision: 'true' } },
      dec.skipped.length ? dec.skipped.map((s) => `${s.engine}: ${s.reason}`).join('; ')
        : 'No decision: no asset is judged compromised, so there is nothing to contain or restore yet.');
  }
  const plan = c.plan;
  const iso = c.isolate_everything;
  const ratio = plan && iso && plan.customer_hours > 0 ? iso.customer_hours / plan.customer_hours : null;
  return h('div', {},
    h('div', { class: 'figures' },
      h('div', { class: 'figure plan' }, h('div', { class: 'fl' }, 'Containment plan'),
        plan ? h('div', { class: 'fv', dataset: { planCustomerHours: '', value: plan.customer_hours } }, num(plan.customer_hours))
          : h('div', { class: 'fv' }, 'none found'),
        h('div', { class: 'fu' }, 'customer-hours', plan ? ` · ${plural(plan.actions.length, 'action')}` : '')),
      h('div', { class: 'figure isolate' }, h('div', { class: 'fl' }, 'Isolate everything'),
        h('div', { class: 'fv', dataset: { isolateCustomerHours: '', value: iso ? iso.customer_hours : null } }, iso ? num(iso.customer_hours) : '—'),
        h('div', { class: 'fu' }, 'customer-hours', iso ? ` · ${plural(iso.actions.length, 'action')}` : '')),
      ratio !== null ? h('div', { class: 'figure ratio' }, h('div', { class: 'fl' }, 'Saved by the plan'),
        h('div', { class: 'fv' }, `${num(ratio)}×`), h('div', { class: 'fu' }, 'fewer customer-hours')) : null),
    h('p', { class: 'muted small' },
      c.optimality && c.optimality.optimal ? 'The plan is proven the cheapest that cuts every path to the protected assets.' : 'Best plan found within the search budget.',
      dec.computedAt ? [' Computed ', timeEl(dec.computedAt), ` for ${plural(dec.compromised.length, 'compromised asset')}.`] : ''),
    plan && plan.actions.length ? h('table', { class: 'grid-table compact', 'aria-label': 'Plan actions' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Action'), h('th', { scope: 'col' }, 'Target'), h('th', { scope: 'col' }, 'Name'))),
      h('tbody', {}, plan.actions.map((a) => h('tr', { dataset: { planAction: a.action, target: a.target } },
        h('td', {}, a.action), h('td', { class: 'mono' }, a.target), h('td', {}, a.name))))) : null);
}

/** Tactics in ATT&CK order, each with the incident's techniques and first times. */
async function killChain(inc) {
  const order = await tactics();
  const used = new Set((inc.tactics || []).map(norm));
  const steps = inc.timeline || [];
  const strip = h('ol', { class: 'tactics', 'aria-label': 'ATT&CK kill chain' },
    order.map((t) => h('li', { class: used.has(norm(t.short)) ? 'on' : null, dataset: { tactic: t.short, used: used.has(norm(t.short)) } },
      t.name, used.has(norm(t.short)) ? h('span', { class: 'sr-only' }, ' (seen)') : null)));
  const rows = [];
  for (const t of order) {
    const here = steps.filter((s) => (s.tactics || []).some((x) => norm(x) === norm(t.short)))
      .sort((a, b) => String(a.first_seen || '').localeCompare(String(b.first_seen || '')));
    here.forEach((s, i) => rows.push(h('tr', { dataset: { chainTactic: t.short, technique: s.technique } },
      i === 0 ? h('th', { scope: 'rowgroup', rowspan: here.length }, t.name, h('div', { class: 'muted small mono' }, t.id)) : null,
      h('td', { class: 'mono nowrap' }, s.technique),
      h('td', {}, s.name || h('span', { class: 'muted' }, 'unknown technique')),
      h('td', { class: 'nowrap' }, timeEl(s.first_seen)),
      h('td', { class: 'num' }, num(s.detections)))));
  }
  return h('div', {}, strip, rows.length
    ? h('table', { class: 'grid-table chain', 'aria-label': 'Techniques by tactic' },
      h('thead', {}, h('tr', {}, ['Tactic', 'Technique', 'Name', 'First seen', 'Detections'].map((c, i) => h('th', { scope: 'col', class: i === 4 ? 'num' : null }, c)))),
      h('tbody', {}, rows))
    : h('p', { class: 'empty' }, 'No ATT&CK technique tagged on its detections.'));
}

function assets(d) {
  const inc = d.incident || {};
  const comp = new Set(d.compromised || []);
  const why = new Map((inc.evidence || []).map((e) => [e.asset, e.evidence || []]));
  return h('div', {},
    h('p', {}, (d.assets || []).map((a) => h('span', { class: ['chip', comp.has(a) && 'compromised'], dataset: { asset: a, compromised: comp.has(a) } }, a))),
    comp.size ? h('table', { class: 'grid-table compact', 'aria-label': 'Why each asset is judged compromised' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Compromised asset'), h('th', { scope: 'col' }, 'Evidence'))),
      h('tbody', {}, [...comp].map((a) => h('tr', {}, h('td', { class: 'mono' }, a),
        h('td', {}, h('ul', {}, (why.get(a) || []).map((e) => h('li', {}, e.reason, ' ', h('span', { class: 'muted mono' }, e.rule_id))))))))) : null);
}

function legend(items) {
  return h('ul', { class: 'legend' }, items.map(([cls, label]) => h('li', {}, h('span', { class: ['sw', cls] }), label)));
}

function drawing(svgText, cls, label) {
  const node = svgText ? svgNode(svgText) : null;
  if (!node) return null;
  return h('div', { class: ['scroll', cls], role: 'figure', 'aria-label': label }, node);
}

function graphSection(dr) {
  if (!dr || !dr.graph) {
    return h('p', { class: 'empty' }, dr && dr.note ? `No attack graph: ${dr.note}.` : 'No attack graph.');
  }
  return h('div', {},
    legend([['sw-compromised', 'compromised'], ['sw-exposed', 'still reachable after the plan'], ['sw-protected', 'out of reach after the plan'],
      ['sw-removed', 'isolated / disabled by the plan (CUT)'], ['sw-crown', 'crown jewel ★'], ['sw-live', 'attack edge still open'], ['sw-cut', 'attack edge cut by the plan']]),
    drawing(dr.graph, 'graph', 'Attack graph with the containment plan'),
    h('p', { class: 'note' }, dr.graph_eligible > dr.graph_shown
      ? `Showing ${num(dr.graph_shown)} of ${num(dr.graph_eligible)} assets (compromised, the plan's targets, the paths to the crown jewels first). Columns are attack steps.`
      : 'Columns are attack steps from the compromised assets; hover an asset or an edge for details.'));
}

function restoreSection(dec, dr) {
  const r = dec.restore;
  if (!r) return h('p', { class: 'empty' }, 'Nothing to restore.');
  return h('div', {},
    h('p', {}, `Everything back after ${hours(r.total_hours)} (${num(r.customer_hours)} customer-hours while restoring; restoration order: ${r.order_source}${r.crews ? `, ${plural(r.crews, 'crew')}` : ''}).`),
    dr && dr.gantt ? [legend([['sw-rebuild', 'rebuild (compromised)'], ['sw-restore', 'restore after the cut'], ['sw-service', 'service back'], ['sw-segment', 'segment back']]),
      drawing(dr.gantt, 'gantt-wrap', 'Restore timeline')] : null,
    r.order && r.order.length ? h('p', { class: 'small' }, h('span', { class: 'muted' }, 'Order: '),
      r.order.map((id, i) => [i ? ' → ' : '', h('span', { class: 'mono' }, id)])) : null);
}

function segmentsSection(dr) {
  if (!dr || !dr.segments) return h('p', { class: 'empty' }, 'Neither plan takes any customer segment\'s service down.');
  return h('div', {}, legend([['sw-plan', 'optimal plan'], ['sw-isolate', 'isolate everything']]),
    drawing(dr.segments, 'segments-wrap', 'Customer-hours per segment'));
}

function fieldText(fields) {
  if (!fields || typeof fields !== 'object') return '';
  return Object.entries(fields).slice(0, 6).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join('  ');
}

/** The detections, a page at a time from the API (`next` followed on demand). */
function detections(id) {
  const body = h('tbody');
  const more = h('button', { type: 'button', class: 'ghost', dataset: { moreDetections: '' } }, 'Load more');
  const status = h('p', { class: 'muted small', role: 'status' });
  let next = `/api/v1/detections?incident=${encodeURIComponent(id)}&limit=${DETECTION_PAGE}`;
  let shown = 0;
  const page = async () => {
    more.disabled = true;
    try {
      const p = await api(next);
      for (const x of p.detections || []) {
        shown++;
        body.appendChild(h('tr', { dataset: { detection: x.id } },
          h('td', { class: 'nowrap' }, timeEl(x.timestamp)),
          h('td', {}, severity(x.level)),
          h('td', {}, x.rule_title || x.rule_id, x.correlation ? h('span', { class: 'chip' }, 'correlation') : null),
          h('td', { class: 'fields' }, fieldText(x.fields)),
          h('td', { class: 'src' }, x.source ? `${x.source}${x.record ? ':' + x.record : ''}` : '—')));
      }
      next = p.next || null;
      fill(status, `${plural(shown, 'detection')} shown${next ? '' : ' (all)'}.`);
    } catch (e) {
      fill(status, `Could not load detections: ${e.message}`);
    }
    more.hidden = !next;
    more.disabled = false;
  };
  more.addEventListener('click', page);
  const el = h('div', {},
    h('div', { class: 'table-wrap' }, h('table', { class: 'grid-table compact', 'aria-label': 'Detections' },
      h('thead', {}, h('tr', {}, ['Time', 'Level', 'Rule', 'Fields', 'Source'].map((c) => h('th', { scope: 'col' }, c)))), body)),
    status, more);
  return { el, ready: page() };
}

function history(d) {
  const rows = (d.history || []).slice().reverse();
  if (!rows.length) return h('p', { class: 'empty' }, 'No history.');
  return h('table', { class: 'grid-table compact', 'aria-label': 'History' },
    h('thead', {}, h('tr', {}, ['When', 'Who', 'What', 'Detail', 'Comment'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.map((x) => h('tr', { dataset: { historyAction: x.action } },
      h('td', { class: 'nowrap' }, timeEl(x.at)), h('td', {}, x.actor), h('td', {}, x.action),
      h('td', { class: 'fields' }, x.detail && Object.keys(x.detail).length ? JSON.stringify(x.detail) : ''),
      h('td', {}, x.comment || '')))));
}

function section(title, id, ...body) {
  return h('section', { class: 'part', 'aria-labelledby': id }, h('h3', { id }, title), body);
}

/** Draws incident `id` into `view`; resolves once drawn (detections' first page too). */
export async function render(view, sub, id, notice) {
  const path = `/api/v1/incidents/${encodeURIComponent(id)}`;
  const [d, dr] = await Promise.all([
    api(path),
    api(`${path}/drawings`).catch((e) => ({ note: `the drawings did not load (${e.message})` })),
  ]);
  await draw(view, sub, d, dr, notice);
}

async function draw(view, sub, d, dr, notice) {
  if (notice) lastNotice = { id: d.id, text: notice, at: Date.now() };
  else if (lastNotice.id === d.id && Date.now() - lastNotice.at < 8000) notice = lastNotice.text;
  const dec = decisionOf(d);
  const redraw = (detail, msg) => draw(view, sub, detail, dr, msg);
  const det = detections(d.id);
  const chain = await killChain(d.incident || {});
  fill(view,
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, '← All incidents')),
    h('section', { class: 'incident', dataset: { incident: d.id, state: d.state } },
      h('h2', {}, h('span', { class: 'mono' }, d.id), severity(d.severity), stateBadge(d.state)),
      notice ? h('p', { class: 'notice', role: 'status', tabindex: '-1', dataset: { notice: '' } }, notice) : null,
      facts(d),
      actions(d, redraw),
      section('Decision: customer-hours', 'sec-decision', figures(dec)),
      section('Kill chain', 'sec-chain', chain),
      section('Assets', 'sec-assets', assets(d)),
      section('Attack graph and containment plan', 'sec-graph', graphSection(dr)),
      dec.contain ? section('Customer-hours per segment', 'sec-segments', segmentsSection(dr)) : null,
      section('Restore timeline', 'sec-restore', restoreSection(dec, dr)),
      section('Detections', 'sec-detections', det.el),
      section('History', 'sec-history', history(d))));
  fill(sub, `${d.state} · ${plural(d.detection_count, 'detection')} · last seen ${time(d.last_seen)}`);
  // After an action the button pressed is gone (redrawn): keep the keyboard user's
  // place on the outcome instead of the top of the page.
  const n = view.querySelector('[data-notice]');
  if (n && notice && lastNotice.at > Date.now() - 1000 && document.activeElement === document.body) n.focus({ preventScroll: true });
  await det.ready;
}
