// The API client: JSON calls with the session's token, and the live event stream.
//
// With tokens configured on the server, calls answer 401 until a token is given: the
// page then asks for one (`askToken`, set by app.js), keeps it in sessionStorage (this
// tab only, gone when it closes) and sends it as `Authorization: Bearer`. The event
// stream is read with fetch() rather than EventSource, which cannot send that header.

const TOKEN_KEY = 'vigie.token';

/** An API error: HTTP status, the API's error code and message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

let askToken = async () => { throw new ApiError(401, 'unauthorized', 'a token is required'); };
let tokenPromise = null;

/** Sets how the page asks for a token (returns a promise of the token typed). */
export function setTokenPrompt(fn) { askToken = fn; }

export function token() {
  try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; }
}

export function setToken(t) {
  try {
    if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY);
  } catch { /* storage refused (private mode): the token lives for this page only */ }
  memoryToken = t || '';
}
let memoryToken = '';

function headers(extra) {
  const h = Object.assign({ Accept: 'application/json' }, extra || {});
  const t = token() || memoryToken;
  if (t) h.Authorization = 'Bearer ' + t;
  return h;
}

/** One prompt at a time, however many calls are waiting for it. */
async function promptOnce(reason) {
  if (!tokenPromise) {
    tokenPromise = askToken(reason).finally(() => { tokenPromise = null; });
  }
  setToken(await tokenPromise);
}

async function decodeError(res) {
  let code = 'http_' + res.status;
  let message = res.statusText || ('HTTP ' + res.status);
  try {
    const body = await res.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
    }
  } catch { /* not JSON: keep the status line */ }
  return new ApiError(res.status, code, message);
}

/**
 * Calls the API: `path` under this origin, `opts.method`, `opts.body` (sent as JSON).
 * Resolves to the decoded JSON; rejects with an ApiError. A 401 asks for a token and
 * retries (a wrong token asks again, saying why).
 */
export async function api(path, opts = {}) {
  for (let attempt = 0; ; attempt++) {
    const init = { method: opts.method || 'GET', headers: headers(), cache: 'no-store' };
    if (opts.body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(opts.body);
    }
    const res = await fetch(path, init);
    if (res.status === 401 && attempt < 5) {
      const err = await decodeError(res);
      await promptOnce(attempt === 0 && !token() ? '' : err.message);
      continue;
    }
    if (!res.ok) throw await decodeError(res);
    if (res.status === 204) return null;
    return res.json();
  }
}

/**
 * Follows the live stream (`/api/v1/stream`, Server-Sent Events) until `stop()`:
 * calls `onEvent(name, data)` per event and `onState(state)` with `open`,
 * `reconnecting` or `closed`; reconnects with a growing delay (1 s to 15 s).
 */
export function follow(onEvent, onState) {
  let stopped = false;
  let ctrl = null;
  let delay = 1000;
  const run = async () => {
    while (!stopped) {
      ctrl = new AbortController();
      try {
        const res = await fetch('/api/v1/stream', {
          headers: headers({ Accept: 'text/event-stream' }),
          signal: ctrl.signal,
          cache: 'no-store',
        });
        if (res.status === 401) {
          await promptOnce((await decodeError(res)).message);
          continue;
        }
        if (!res.ok || !res.body) throw await decodeError(res);
        await readEvents(res.body, (name, data) => {
          if (name === 'ready') { delay = 1000; onState('open'); }
          onEvent(name, data);
        });
      } catch (e) {
        if (stopped) break;
        if (!(e instanceof ApiError) && e.name !== 'TypeError' && e.name !== 'AbortError') {
          // Unexpected: say so once in the status line, not in the console.
          onState('reconnecting', String(e.message || e));
        }
      }
      if (stopped) break;
      onState('reconnecting');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15000);
    }
    onState('closed');
  };
  run();
  return { stop() { stopped = true; if (ctrl) ctrl.abort(); } };
}

/** Parses an SSE body: `event:` and `data:` lines, events separated by a blank line. */
async function readEvents(body, emit) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  let name = 'message';
  let data = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let nl;
    while ((nl = buf.search(/\r?\n/)) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + (buf[nl] === '\r' ? 2 : 1));
      if (line === '') {
        if (data.length) {
          let parsed = null;
          try { parsed = JSON.parse(data.join('\n')); } catch { parsed = data.join('\n'); }
          emit(name, parsed);
        }
        name = 'message';
        data = [];
      } else if (line.startsWith(':')) {
        // keep-alive comment
      } else {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let val = colon < 0 ? '' : line.slice(colon + 1);
        if (val.startsWith(' ')) val = val.slice(1);
        if (field === 'event') name = val;
        else if (field === 'data') data.push(val);
      }
    }
  }
}
