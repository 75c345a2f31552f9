// Building the page: elements from data with text nodes only (no innerHTML of data, so
// a hostile rule title or host name stays text), and the formats numbers and times
// are shown in.

/**
 * `h('td', {class: 'num', dataset: {x: 1}}, 'text', child, [more])`: an element with
 * attributes (`class`, `dataset`, `on*` handlers, others as attributes; null/false
 * skipped) and children (strings become text nodes; arrays are flattened).
 */
export function h(tag, attrs, ...children) {
  const el = tag.startsWith('svg:')
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    else if (k === 'dataset') for (const [dk, dv] of Object.entries(v)) { if (dv !== null && dv !== undefined) el.dataset[dk] = String(dv); }
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * An SVG drawn by the server (the HTML report's drawings) as a node: parsed as XML,
 * never as HTML, and refused if it holds a script or an event handler.
 */
export function svgNode(text) {
  const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
  const root = doc.documentElement;
  if (!root || root.nodeName !== 'svg' || doc.getElementsByTagName('parsererror').length) return null;
  for (const el of root.querySelectorAll('*')) {
    if (el.localName === 'script' || el.localName === 'foreignObject') return null;
    for (const a of el.attributes) if (/^on/i.test(a.name)) return null;
  }
  return document.importNode(root, true);
}

const numberFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/** 111450000 → "111,450,000"; 12.25 → "12.3". */
export function num(x) {
  return typeof x === 'number' && Number.isFinite(x) ? numberFmt.format(x) : '—';
}

/** Hours as "3.5 h", or days and hours past two days. */
export function hours(x) {
  if (typeof x !== 'number' || !Number.isFinite(x)) return '—';
  if (x >= 48) return `${numberFmt.format(Math.floor(x / 24))} d ${numberFmt.format(x % 24)} h`;
  return `${numberFmt.format(x)} h`;
}

/** An RFC 3339 time as "2025-07-14 09:12:05 UTC" (UTC, so every analyst reads the same). */
export function time(s) {
  if (!s) return '—';
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return String(s);
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC').replace(/Z$/, ' UTC');
}

/** A <time> element for an RFC 3339 string. */
export function timeEl(s) {
  return s ? h('time', { datetime: s }, time(s)) : '—';
}

/** The severity badge the HTML report uses. */
export function severity(level) {
  const l = String(level || 'unknown').toLowerCase();
  return h('span', { class: ['sev', l], dataset: { severity: l } }, l);
}

/** An incident state badge. */
export function stateBadge(state) {
  const s = String(state || 'unknown');
  return h('span', { class: ['state-badge', s], dataset: { stateBadge: s } }, s);
}

export function plural(n, word, many) {
  return `${num(n)} ${n === 1 ? word : (many || word + 's')}`;
}
