// Loads vigie HTML reports in headless Debian Chromium and prints what a test needs to
// check them, as one JSON document on stdout. Never downloads a browser: Chromium is
// the system's (/usr/bin/chromium, or $VIGIE_CHROMIUM); playwright-core only drives it.
//
//   node report.js PAGE.html[=SHOT.png] ...
//
// For each page: console errors and warnings, uncaught page errors, every request other
// than the page itself (the report must fetch nothing), the number of <script> elements,
// whether a planted `window.__vigie_pwned` was set, the page's text, and per incident
// section the counts of graph nodes, graph edges, segment bars and Gantt bars, the
// plan's customer-hours as printed, the notification's deadline cards (kind, RFC 3339
// deadline, label, date as shown) and its items left to complete. A full-page
// screenshot is written where asked.
'use strict';

const path = require('path');
const fs = require('fs');

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

async function check(browser, arg) {
  const [file, shot] = arg.split('=');
  const url = 'file://' + path.resolve(file);
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  const out = { file, console: [], pageErrors: [], requests: [] };
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') out.console.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => out.pageErrors.push(String(e)));
  page.on('request', (r) => {
    if (r.url() !== url) out.requests.push(r.url());
  });
  await page.goto(url, { waitUntil: 'load' });
  Object.assign(out, await page.evaluate(() => {
    const n = (root, sel) => root.querySelectorAll(sel).length;
    return {
      title: document.title,
      scripts: n(document, 'script'),
      pwned: typeof window.__vigie_pwned !== 'undefined',
      text: document.body.innerText,
      incidentRows: n(document, '[data-incident-row]'),
      incidents: [...document.querySelectorAll('section.incident')].map((s) => ({
        id: s.dataset.incident,
        graphNodes: n(s, 'svg.attack-graph [data-node]'),
        graphEdges: n(s, 'svg.attack-graph [data-edge]'),
        cutEdges: n(s, 'svg.attack-graph [data-edge][data-cut="true"]'),
        nodeIds: [...s.querySelectorAll('svg.attack-graph [data-node]')].map((g) => g.dataset.node),
        planBars: n(s, 'svg.segments-chart [data-bar="plan"]'),
        isolateBars: n(s, 'svg.segments-chart [data-bar="isolate"]'),
        ganttBars: n(s, 'svg.gantt [data-gantt-bar="asset"]'),
        ganttServices: n(s, 'svg.gantt [data-gantt-service]'),
        planCustomerHours: (s.querySelector('[data-plan-customer-hours]') || {}).textContent || null,
        planCustomerHoursValue: ((s.querySelector('[data-plan-customer-hours]') || { dataset: {} }).dataset.value) || null,
        noDecision: n(s, '[data-no-decision]') > 0,
        // The notification's deadline cards, in order. textContent, not innerText: the
        // label is upper-cased by CSS and the test compares the words.
        deadlineCards: [...s.querySelectorAll('[data-notification] [data-deadline-kind]')].map((li) => ({
          kind: li.dataset.deadlineKind,
          deadline: li.dataset.deadline === undefined ? null : li.dataset.deadline,
          label: (li.querySelector('.dl') || {}).textContent || null,
          date: (li.querySelector('.dd') || {}).textContent || null,
          datetime: (li.querySelector('.dd time') || { dateTime: null }).dateTime || null,
        })),
        toComplete: n(s, '[data-notification] [data-item][data-to-complete="true"]'),
        text: s.innerText,
      })),
    };
  }));
  if (shot) {
    fs.mkdirSync(path.dirname(shot), { recursive: true });
    await page.screenshot({ path: shot, fullPage: true });
    out.screenshot = shot;
  }
  await page.close();
  return out;
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
  try {
    const pages = [];
    for (const arg of process.argv.slice(2)) pages.push(await check(browser, arg));
    process.stdout.write(JSON.stringify({ pages }));
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(String(e && e.stack || e));
  process.exit(1);
});
