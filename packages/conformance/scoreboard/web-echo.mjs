// An echo client for the fuzzing server written against the WHATWG WebSocket
// interface only, so one file serves undici (Node's global WebSocket), Deno,
// Bun and Chromium (chromium-client.html). Each case is its own connection to
// /runCase?case=N&agent=A; every message is sent back with its type until the
// server closes. A case whose handshake the client refuses is no reason to
// stop: the next case gets a new connection.

/** Longest a case may stay open before the client gives it up (the server's own deadlines are shorter). */
const ABANDON_AFTER_MS = 30_000;
/** WHATWG WebSockets fire close right after error; how long to wait for it before moving on. */
const CLOSE_AFTER_ERROR_MS = 2_000;

/** One connection: echoes until closed; resolves with what the application saw. */
function runOne(WebSocketImpl, url) {
  return new Promise((resolve) => {
    let ws;
    let opened = false;
    let errored = false;
    let done = false;
    const finish = (result) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(result);
    };
    // No close event in time: the case is given up, and the line says so (the scoreboard counts these).
    const abandon = () => {
      try {
        ws?.close();
      } catch {}
      finish({ opened, errored, code: null, noCloseEvent: true });
    };
    let timer = setTimeout(abandon, ABANDON_AFTER_MS);
    try {
      ws = new WebSocketImpl(url);
    } catch (error) {
      finish({ opened, errored: true, code: null, thrown: String(error) });
      return;
    }
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      opened = true;
    };
    ws.onmessage = (ev) => {
      if (ws.readyState !== 1) return;
      try {
        ws.send(ev.data);
      } catch {}
    };
    ws.onerror = () => {
      errored = true;
      clearTimeout(timer);
      timer = setTimeout(abandon, CLOSE_AFTER_ERROR_MS);
    };
    ws.onclose = (ev) => finish({ opened, errored, code: ev.code });
  });
}

/** The number of cases the fuzzing server has: its /getCaseCount sends it as one text message. */
function caseCount(WebSocketImpl, base) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocketImpl(`${base}/getCaseCount`);
    let count;
    ws.onmessage = (ev) => {
      count = Number(ev.data);
    };
    ws.onclose = () =>
      Number.isInteger(count) ? resolve(count) : reject(new Error(`no case count from ${base}/getCaseCount`));
  });
}

/**
 * Runs the given cases (all when `cases` is empty) one after another; `log`
 * sees one line per case. Resolves with how many ran.
 */
export async function echoCases(WebSocketImpl, { url, agent, cases = [], log = () => {} }) {
  const base = url.replace(/\/+$/, '');
  const list = cases.length > 0 ? cases : Array.from({ length: await caseCount(WebSocketImpl, base) }, (_, i) => i + 1);
  for (const n of list) {
    const seen = await runOne(WebSocketImpl, `${base}/runCase?case=${n}&agent=${encodeURIComponent(agent)}`);
    log(`case ${n}: ${JSON.stringify(seen)}`);
  }
  return list.length;
}

/** `--url U --agent A [--cases 1,2,3]` from a runtime's argument list. */
export function echoArgs(argv) {
  const args = { url: 'ws://127.0.0.1:9001', agent: 'web-echo', cases: [] };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i];
    const value = argv[++i];
    if (value === undefined) throw new Error(`${name} needs a value`);
    if (name === '--url') args.url = value;
    else if (name === '--agent') args.agent = value;
    else if (name === '--cases') args.cases = value.split(',').map(Number);
    else throw new Error(`unknown argument ${name}`);
  }
  return args;
}
