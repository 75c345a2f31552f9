// Drives `vigie serve`'s dashboard in headless Debian Chromium, end to end, and prints
// what a test needs to check it as one JSON document on stdout. Never downloads a
// browser: Chromium is the system's (/usr/bin/chromium, or $VIGIE_CHROMIUM);
// playwright-core only drives it. Run by `cargo test -p vigie-serve` (dashboard_browser).
//
//   node serve.js BASE_URL EVENTS.jsonl SHOT.png [--token TOKEN]
//
// 1. opens BASE_URL/ (the incident list) and waits until it is drawn and its live
//    stream is open (with --token, the token prompt must come first: it is filled in);
// 2. POSTs EVENTS.jsonl to BASE_URL/api/v1/events from Node (not from the page) and
//    times how long the first incident row takes to appear WITHOUT any navigation
//    (a marker set on `window` before the ingest must survive: no reload);
// 3. opens the incident that has a containment plan by clicking its link, reads the
//    plan's customer-hours as shown and as `data-value`, and the API's figure;
// 4. clicks Acknowledge, waits for the page to show the new state and reads the API's;
// 5. counts what the incident page drew (graph nodes, plan targets, chart bars, Gantt
//    bars, kill-chain tactics, detections, history) and takes a full-page screenshot.
// Console errors and warnings, uncaught page errors, failed requests and every request
// to anything but BASE_URL are collected for the test to fail on.
'use strict';

const fs = require('fs');
const path = require('path');

let chromium;
try {
  ({ chromium } = require('playwright-core'));
} catch (e) {
  console.error('playwright-core is not installed: run `npm ci --prefix tests/browser` (' + e.message + ')');
  process.exit(3);
}

const executablePath = process.env.VIGIE_CHROMIUM || '/usr/bin/chromium';
if (!fs.existsSync(executablePath)) {
  console.error(`no Chromium at ${executablePath}: run \`apt-get install -y chromium\``);
  process.exit(3);
}

const [base, eventsFile, shot, ...rest] = process.argv.slice(2);
if (!base || !eventsFile || !shot) {
  console.error('usage: node serve.js BASE_URL EVENTS.jsonl SHOT.png [--token TOKEN]');
  process.exit(2);
}
const token = rest[0] === '--token' ? rest[1] : null;
const origin = new URL(base).origin;
const APPEAR_MS = 5000;

function authHeaders(extra) {
  return Object.assign(token ? { Authorization: 'Bearer ' + token } : {}, extra || {});
}

async function apiGet(p) {
  const res = await fetch(origin + p, { headers: authHeaders() });
  if (!res.ok) throw new Error(`GET ${p}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Follows the whole event so the list is checked against the API as it is now. */
async function allIncidents() {
  const out = [];
  let p = '/api/v1/incidents?limit=200';
  while (p) {
    const page = await apiGet(p);
    out.push(...page.incidents);
    p = page.next || null;
  }
  return out;
}

function watch(page, out) {
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') out.console.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => out.pageErrors.push(String(e && e.stack || e)));
  page.on('request', (r) => {
    if (!r.url().startsWith(origin + '/')) out.requests.push(r.url());
  });
  page.on('requestfailed', (r) => {
    // The event stream is cut when the page closes; that is not a failure of the page.
    if (!out.closing) out.failedRequests.push(`${r.url()}: ${r.failure() && r.failure().errorText}`);
  });
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) out.navigations.push(f.url());
  });
}

/** What makes a page hard to use without a mouse or a screen: unlabelled controls,
 * nameless buttons and drawings, duplicate ids, no language, skipped heading levels. */
function a11y(page) {
  return page.evaluate(() => {
    const problems = [];
    const name = (el) => (el.getAttribute('aria-label') || el.textContent || '').trim();
    if (!document.documentElement.lang) problems.push('no lang on <html>');
    for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
      const labelled = el.getAttribute('aria-label') || (el.id && document.querySelector(`label[for="${el.id}"]`)) || el.closest('label');
      if (!labelled) problems.push(`unlabelled ${el.tagName.toLowerCase()}#${el.id}`);
    }
    for (const el of document.querySelectorAll('button, a[href]')) if (!name(el)) problems.push(`nameless ${el.outerHTML.slice(0, 80)}`);
    for (const el of document.querySelectorAll('svg[role=img]')) if (!el.getAttribute('aria-label')) problems.push('drawing without aria-label');
    const ids = new Map();
    for (const el of document.querySelectorAll('[id]')) ids.set(el.id, (ids.get(el.id) || 0) + 1);
    for (const [id, n] of ids) if (n > 1) problems.push(`id ${id} used ${n} times`);
    let level = 1;
    for (const hd of document.querySelectorAll('main h1, main h2, main h3, main h4')) {
      const l = Number(hd.tagName[1]);
      if (l > level + 1) problems.push(`heading ${hd.tagName} "${hd.textContent.slice(0, 40)}" after h${level}`);
      level = l;
    }
    return problems;
  });
}

async function ingest(out) {
  const body = fs.readFileSync(eventsFile);
  const res = await fetch(origin + '/api/v1/events?source=july2025', {
    method: 'POST',
    headers: authHeaders({ 'Content-Type': 'application/x-ndjson' }),
    body,
  });
  out.ingest = { status: res.status, body: await res.json().catch(() => null), bytes: body.length };
  if (res.status !== 202) throw new Error(`POST /api/v1/events answered ${res.status}: ${JSON.stringify(out.ingest.body)}`);
}

async function enterToken(page, out) {
  await page.waitForSelector('#token-dialog[open]', { timeout: 10000 });
  out.tokenPrompt = true;
  await page.fill('#token-input', token);
  await page.click('#token-form button[type=submit]');
  out.tokenStored = await page.evaluate(() => sessionStorage.getItem('vigie.token'));
}

async function list(page, out) {
  await page.goto(origin + '/', { waitUntil: 'load' });
  if (token) await enterToken(page, out);
  await page.waitForSelector('#view[data-view=list]', { timeout: 10000 });
  await page.waitForSelector('#live[data-stream=open]', { timeout: 10000 });
  out.emptyListShown = await page.locator('[data-no-incidents]').count() > 0;
  await page.evaluate(() => { window.__vigie_mark = 'before-ingest'; });
  const navigationsBefore = out.navigations.length;
  const t0 = Date.now();
  await ingest(out);
  out.ingestMs = Date.now() - t0;
  await page.waitForSelector('[data-incident-row]', { timeout: APPEAR_MS });
  out.appearMs = Date.now() - t0;
  out.sameDocument = await page.evaluate(() => window.__vigie_mark === 'before-ingest');
  out.navigationsDuringIngest = out.navigations.length - navigationsBefore;
  // Let the burst of stream events settle, then read the list as drawn.
  await page.waitForTimeout(600);
  await page.waitForFunction(() => document.getElementById('view').getAttribute('aria-busy') === 'false');
  out.rows = await page.$$eval('[data-incident-row]', (rows) => rows.map((r) => ({ id: r.dataset.incidentRow, state: r.dataset.state })));
  out.counts = await page.$$eval('[data-count]', (els) => Object.fromEntries(els.map((e) => [e.dataset.count, e.querySelector('.kv').textContent])));
  out.a11yList = await a11y(page);
  out.apiIncidents = (await allIncidents()).map((i) => ({ id: i.id, state: i.state }));
}

async function incidentPage(page, out) {
  // The incident with a plan (the demo's July intrusion), found through the API.
  let id = null;
  for (const r of out.apiIncidents) {
    const d = await apiGet('/api/v1/incidents/' + encodeURIComponent(r.id));
    if (d.decision && d.decision.contain && d.decision.contain.plan) {
      id = r.id;
      out.apiPlanCustomerHours = d.decision.contain.plan.customer_hours;
      out.apiIsolateCustomerHours = d.decision.contain.isolate_everything.customer_hours;
      break;
    }
  }
  if (!id) throw new Error('no incident has a containment plan in the API');
  out.opened = id;
  await page.click(`[data-incident-link="${id}"]`);
  await page.waitForSelector(`section.incident[data-incident="${id}"]`, { timeout: 10000 });
  await page.waitForSelector('[data-plan-customer-hours]', { timeout: 10000 });
  const plan = page.locator('[data-plan-customer-hours]');
  out.planShown = await plan.textContent();
  out.planValue = Number(await plan.getAttribute('data-value'));
  out.isolateValue = Number(await page.locator('[data-isolate-customer-hours]').getAttribute('data-value'));
  out.stateBefore = await page.locator('section.incident').getAttribute('data-state');
  await page.click('[data-action=acknowledge]');
  await page.waitForSelector(`section.incident[data-incident="${id}"][data-state=acknowledged]`, { timeout: 10000 });
  out.stateUi = await page.locator('section.incident').getAttribute('data-state');
  out.stateApi = (await apiGet('/api/v1/incidents/' + encodeURIComponent(id))).state;
  await page.waitForFunction(() => document.getElementById('view').getAttribute('aria-busy') === 'false');
  await page.waitForTimeout(400);
  out.a11yIncident = await a11y(page);
  Object.assign(out, await page.evaluate(() => {
    const n = (sel) => document.querySelectorAll(sel).length;
    return {
      graphNodes: n('svg.attack-graph [data-node]'),
      graphCutNodes: n('svg.attack-graph [data-node][data-cut="true"]'),
      planActions: n('[data-plan-action]'),
      planBars: n('svg.segments-chart [data-bar="plan"]'),
      isolateBars: n('svg.segments-chart [data-bar="isolate"]'),
      ganttBars: n('svg.gantt [data-gantt-bar="asset"]'),
      tacticsUsed: [...document.querySelectorAll('[data-tactic][data-used="true"]')].map((e) => e.dataset.tactic),
      tacticsAll: n('[data-tactic]'),
      chainRows: n('[data-chain-tactic]'),
      detectionRows: n('[data-detection]'),
      historyActions: [...document.querySelectorAll('[data-history-action]')].map((e) => e.dataset.historyAction),
      acknowledgeDisabled: document.querySelector('[data-action=acknowledge]').disabled,
      text: document.body.innerText,
    };
  }));
}

(async () => {
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    // As root Chromium needs --no-sandbox; without the background-networking flags it
    // tries Google's hosts at start, which a closed network refuses.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const out = { base: origin, console: [], pageErrors: [], requests: [], failedRequests: [], navigations: [] };
  try {
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    watch(page, out);
    await list(page, out);
    await incidentPage(page, out);
    fs.mkdirSync(path.dirname(path.resolve(shot)), { recursive: true });
    await page.screenshot({ path: shot, fullPage: true });
    out.screenshot = shot;
    out.closing = true;
    await page.close();
  } catch (e) {
    out.error = String(e && e.stack || e);
  } finally {
    out.closing = true;
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out));
  if (out.error) {
    console.error(out.error);
    process.exit(1);
  }
})().catch((e) => {
  console.error(String(e && e.stack || e));
  process.exit(1);
});
