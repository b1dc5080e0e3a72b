// SPDX-License-Identifier: MIT
// channels.test.js: the Channels model from a second real client library,
// Node's `ws` (npm): two chat rooms kept apart, the chat round trip and its
// "chat" subprotocol, a group closed through chanwire-send with its code and
// reason, and /ws/users/ (401 without a token, a token minted here with
// crypto.createHmac accepted from the query, presence events in order).
// Only Node's built-in modules plus ws. Run by tests/run.py with
// NODE_PATH=tests/node_modules, CW_DAEMON=<build>/chanwired, CW_BUILD=<build>.
// In the TLS pass (CW_TLS=1) every daemon listens with --listen-tls and the
// test certificate (CW_TLS_CERT/CW_TLS_KEY); clients speak wss:// and trust
// exactly that certificate (`ca`).
'use strict';

const { spawn, execFile } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

let WebSocket;
try {
  WebSocket = require('ws');
} catch (e) {
  console.log('SKIP: npm package ws missing (cd tests && npm install)');
  process.exit(77);
}

const SLOW = Number(process.env.CW_SLOW || '1') || 1;
const SECRET = 'node-test-secret-' + crypto.randomBytes(8).toString('hex');
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'cw-chan-js-'));
const SECRET_FILE = path.join(TMP, 'jwt.secret');
fs.writeFileSync(SECRET_FILE, SECRET + '\n');
const TLS = process.env.CW_TLS === '1' && !!process.env.CW_TLS_CERT;
const TLS_CA = TLS ? fs.readFileSync(process.env.CW_TLS_CERT) : null;

function buildDir() {
  if (process.env.CW_BUILD) return process.env.CW_BUILD;
  if (process.env.CW_DAEMON) return path.dirname(process.env.CW_DAEMON);
  return path.join(__dirname, '..', '..', 'build', 'host');
}

function daemonPath() {
  return process.env.CW_DAEMON || path.join(buildDir(), 'chanwired');
}

function prefix() {
  return (process.env.CW_EXEC_PREFIX || '').split(/\s+/).filter(Boolean);
}

// Every daemon started here, killed when this process exits (a failed case
// must not leave one running).
const spawned = [];
process.on('exit', () => {
  for (const p of spawned) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  fs.rmSync(TMP, { recursive: true, force: true });
});

let nDaemons = 0;

// Starts the daemon on a free port with its own control socket and the JWT
// secret; resolves once both the listener and the control socket are up.
function startDaemon(extra = []) {
  const ctl = path.join(TMP, `ctl${nDaemons++}.sock`);
  const listen = TLS ? ['--listen-tls', '127.0.0.1:0', '--tls-cert', process.env.CW_TLS_CERT,
    '--tls-key', process.env.CW_TLS_KEY] : ['--listen', '127.0.0.1:0'];
  const argv = prefix().concat([daemonPath()], listen, ['--log-level', 'info',
    '--control', ctl, '--jwt-secret-file', SECRET_FILE, '--allow-root'], extra);
  const proc = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  spawned.push(proc);
  let log = '';
  const exited = new Promise((resolve) => proc.on('exit', (code, sig) => resolve({ code, sig })));
  const d = {
    proc,
    ctl,
    port: 0,
    log: () => log,
    url: (p) => `${TLS ? 'wss' : 'ws'}://127.0.0.1:${d.port}${p}`,
    async stop(sig = 'SIGTERM', ms = 10000) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(sig);
      const t = setTimeout(() => proc.kill('SIGKILL'), ms * SLOW);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error('daemon did not start: ' + argv.join(' ') + '\n' + log));
    }, 10000 * SLOW);
    const onData = (chunk) => {
      log += chunk.toString();
      const m = /listening on \S+ \(port (\d+)\)/.exec(log);
      if (m && log.includes('control socket ' + ctl) && !d.port) {
        d.port = Number(m[1]);
        clearTimeout(timer);
        if (TLS && !/listening on \S+ \(port \d+\) with TLS/.test(log)) {
          reject(new Error('CW_TLS=1 but the daemon does not listen with TLS:\n' + log));
        }
        resolve(d);
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('error', (e) => { clearTimeout(timer); reject(e); });
    proc.on('exit', () => {
      if (!d.port) { clearTimeout(timer); reject(new Error('daemon exited at start:\n' + log)); }
    });
  });
}

async function stopOk(d) {
  const r = await d.stop();
  assert(r.code === 0, 'daemon exit ' + JSON.stringify(r) + '\n' + d.log().slice(-3000));
}

// chanwire-send against d; resolves with {code, stdout, stderr}.
function cwsend(d, ...args) {
  const argv = prefix().concat([path.join(buildDir(), 'chanwire-send'), '--socket', d.ctl], args);
  const env = Object.assign({}, process.env);
  delete env.CHANWIRE_SOCKET;
  return new Promise((resolve) => {
    execFile(argv[0], argv.slice(1), { env, timeout: 20000 * SLOW }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

async function delivered(d, n, ...args) {
  const r = await cwsend(d, ...args);
  const want = { code: 0, stdout: `delivered to ${n} connection(s)\n`, stderr: '' };
  assert(JSON.stringify(r) === JSON.stringify(want), `chanwire-send ${args.join(' ')}: ${JSON.stringify(r)}`);
}

function assert(cond, msg) {
  if (!cond) throw new Error('assertion failed: ' + msg);
}

function withTimeout(p, ms, what) {
  let t;
  return Promise.race([
    p,
    new Promise((_, rej) => { t = setTimeout(() => rej(new Error('timed out: ' + what)), ms * SLOW); }),
  ]).finally(() => clearTimeout(t));
}

// A client with a queue of received messages, so a test can await them in order.
function open(url, protocols, opts = {}) {
  return new Promise((resolve, reject) => {
    const tls = url.startsWith('wss:') ? { ca: TLS_CA } : {};
    const ws = new WebSocket(url, protocols, Object.assign({ perMessageDeflate: false }, tls, opts));
    const queue = [];
    const waiters = [];
    ws.closed = new Promise((res) => ws.on('close', (code, reason) => {
      ws.closeCode = code;
      ws.closeReason = reason.toString();
      res(code);
      while (waiters.length) waiters.shift().reject(new Error('closed with ' + code));
    }));
    ws.on('message', (data, isBinary) => {
      const m = isBinary ? Buffer.from(data) : data.toString();
      if (waiters.length) waiters.shift().resolve(m);
      else queue.push(m);
    });
    ws.next = (ms = 5000) => {
      if (queue.length) return Promise.resolve(queue.shift());
      if (ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error('not open: ' + ws.closeCode));
      return withTimeout(new Promise((res, rej) => waiters.push({ resolve: res, reject: rej })), ms, 'a message');
    };
    ws.pending = () => queue.length;
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (req, res) => {
      const e = new Error('HTTP ' + res.statusCode);
      e.status = res.statusCode;
      reject(e);
    });
  });
}

// The HTTP status of a refused upgrade (101 when it was accepted).
async function statusOf(url, protocols, opts) {
  try {
    const ws = await open(url, protocols, opts);
    ws.close();
    await withTimeout(ws.closed, 5000, 'close');
    return 101;
  } catch (e) {
    assert(e.status, 'no HTTP status: ' + e);
    return e.status;
  }
}

// The next messages are exactly want (objects compare as parsed JSON).
async function expect(ws, ...want) {
  for (const w of want) {
    const got = await ws.next();
    if (typeof w === 'string') assert(got === w, `got ${JSON.stringify(got)}, want ${JSON.stringify(w)}`);
    else assert(JSON.stringify(JSON.parse(got)) === JSON.stringify(w), `got ${got}, want ${JSON.stringify(w)}`);
  }
}

async function closeAll(...wss) {
  for (const ws of wss) ws.close(1000);
  await withTimeout(Promise.all(wss.map((ws) => ws.closed)), 5000, 'closes');
}

function b64u(buf) {
  return Buffer.from(buf).toString('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

// An HS256 JWT, as any backend would mint it.
function mint(claims, secret = SECRET) {
  const h = b64u(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const p = b64u(JSON.stringify(claims));
  const sig = crypto.createHmac('sha256', secret).update(`${h}.${p}`).digest();
  return `${h}.${p}.${b64u(sig)}`;
}

function userToken(id, name, extra = {}) {
  return mint(Object.assign({ user_id: id, username: name, exp: Math.floor(Date.now() / 1000) + 600,
    token_type: 'access' }, extra));
}

function presence(event, user, id) {
  return { type: 'presence', event, user, id: String(id) };
}

// ---- cases ----

const cases = [];
function test(name, fn, timeoutMs = 60000) { cases.push({ name, fn, timeoutMs }); }

test('two_rooms_isolated_chat_round_trip', async () => {
  const d = await startDaemon();
  try {
    const a = [await open(d.url('/ws/chat/alpha/')), await open(d.url('/ws/chat/alpha/'))];
    const b = [await open(d.url('/ws/chat/beta/')), await open(d.url('/ws/chat/beta/'))];
    for (const [room, members] of [['alpha', a], ['beta', b]]) {
      for (let i = 0; i < members.length; i++) {
        const body = { message: `${room} ${i}: é€𝄞 "quoted"`, name: `node-${i}` };
        members[i].send(JSON.stringify(body));
        for (const m of members) await expect(m, body);
      }
    }
    // Anything leaked across rooms would be queued before these markers.
    await delivered(d, 2, 'chat_alpha', 'end alpha');
    await delivered(d, 2, 'chat_beta', 'end beta');
    for (const m of a) await expect(m, 'end alpha');
    for (const m of b) await expect(m, 'end beta');
    // Not JSON: an error to the sender only.
    a[0].send('not json');
    const err = JSON.parse(await a[0].next());
    assert(Object.keys(err).join() === 'error' && typeof err.error === 'string', JSON.stringify(err));
    await delivered(d, 2, 'chat_alpha', 'after the error');
    for (const m of a) await expect(m, 'after the error');
    await closeAll(...a, ...b);
  } finally {
    await stopOk(d);
  }
});

test('members_that_left_get_nothing', async () => {
  const d = await startDaemon();
  try {
    const [x, y, z] = [await open(d.url('/ws/chat/lobby/')), await open(d.url('/ws/chat/lobby/')),
      await open(d.url('/ws/chat/lobby/'))];
    await delivered(d, 3, '--type', 'noop.event', 'chat_lobby', '{}');
    await closeAll(z);
    // The daemon notices z's close in its own time: bounded wait for 2.
    let n = -1;
    for (let i = 0; i < 100 && n !== 2; i++) {
      const r = await cwsend(d, '--type', 'noop.event', 'chat_lobby', '{}');
      n = Number((/delivered to (\d+)/.exec(r.stdout) || [])[1]);
      if (n !== 2) await new Promise((res) => setTimeout(res, 50));
    }
    assert(n === 2, 'members after one left: ' + n);
    x.send(JSON.stringify({ message: 'still two' }));
    await expect(x, { message: 'still two' });
    await expect(y, { message: 'still two' });
    await closeAll(x, y);
  } finally {
    await stopOk(d);
  }
});

test('chat_subprotocol', async () => {
  const d = await startDaemon();
  try {
    let ws = await open(d.url('/ws/chat/proto/'), ['chat']);
    assert(ws.protocol === 'chat', 'protocol ' + JSON.stringify(ws.protocol));
    ws.send(JSON.stringify({ message: 'hi' }));
    await expect(ws, { message: 'hi' });
    await closeAll(ws);
    ws = await open(d.url('/ws/chat/proto/'));
    assert(ws.protocol === '', 'no offer, protocol ' + JSON.stringify(ws.protocol));
    await closeAll(ws);
  } finally {
    await stopOk(d);
  }
});

test('group_close_code_and_reason', async () => {
  const d = await startDaemon();
  try {
    const r1 = [await open(d.url('/ws/chat/r1/')), await open(d.url('/ws/chat/r1/'))];
    const r2 = [await open(d.url('/ws/chat/r2/')), await open(d.url('/ws/chat/r2/'))];
    await delivered(d, 2, '--close', 'chat_r1', '--code', '4000', '--reason', 'room closed');
    await withTimeout(Promise.all(r1.map((ws) => ws.closed)), 5000, 'closes of r1');
    for (const ws of r1) {
      assert(ws.closeCode === 4000, 'close code ' + ws.closeCode);
      assert(ws.closeReason === 'room closed', 'close reason ' + JSON.stringify(ws.closeReason));
      assert(ws.pending() === 0, 'messages before the close');
    }
    // The other room did not notice.
    r2[1].send(JSON.stringify({ message: 'r2 lives', name: 'n' }));
    for (const ws of r2) await expect(ws, { message: 'r2 lives', name: 'n' });
    assert(r2.every((ws) => ws.readyState === WebSocket.OPEN), 'r2 still open');
    await delivered(d, 0, '--close', 'chat_r1', '--code', '4000');
    await closeAll(...r2);
  } finally {
    await stopOk(d);
  }
});

test('users_401_without_or_with_a_bad_token', async () => {
  const d = await startDaemon();
  try {
    assert((await statusOf(d.url('/ws/users/'))) === 401, 'no token');
    const bad = mint({ user_id: 1, exp: Math.floor(Date.now() / 1000) + 60 }, 'wrong secret');
    assert((await statusOf(d.url('/ws/users/?token=' + bad))) === 401, 'bad signature');
    const expired = userToken(1, 'x', { exp: Math.floor(Date.now() / 1000) - 60 });
    assert((await statusOf(d.url('/ws/users/?token=' + expired))) === 401, 'expired');
    const refresh = userToken(1, 'x', { token_type: 'refresh' });
    assert((await statusOf(d.url('/ws/users/?token=' + refresh))) === 401, 'refresh token');
    // A browser from another site.
    assert((await statusOf(d.url('/ws/chat/x/'), undefined, { origin: 'http://evil.example' })) === 403, 'origin');
    assert((await statusOf(d.url('/ws/chat/x/'), undefined, { origin: `http://127.0.0.1:${d.port}` })) === 101,
      'same-host origin');
  } finally {
    await stopOk(d);
  }
});

test('users_token_in_query_presence_and_targeted_send', async () => {
  const d = await startDaemon();
  try {
    const ann = await open(d.url('/ws/users/?token=' + userToken(1, 'ann')));
    await expect(ann, presence('joined', 'ann', 1));
    const ben = await open(d.url('/ws/users/?token=' + userToken(2, 'ben')));
    await expect(ben, presence('joined', 'ben', 2));
    await expect(ann, presence('joined', 'ben', 2));
    ann.send(JSON.stringify({ message: 'hello ben' }));
    const um = { type: 'user.message', user: 'ann', message: 'hello ben' };
    await expect(ann, um);
    await expect(ben, um);
    // user_2 reaches ben only.
    await delivered(d, 1, 'user_2', '{"message":"just you"}');
    await delivered(d, 2, 'users', 'end');
    await expect(ben, '{"message":"just you"}', 'end');
    await expect(ann, 'end');
    await closeAll(ben);
    await expect(ann, presence('left', 'ben', 2));
    await closeAll(ann);
  } finally {
    await stopOk(d);
  }
});

async function main() {
  let passed = 0;
  let failed = 0;
  const only = process.argv.slice(2);
  for (const c of cases) {
    if (only.length && !only.includes(c.name)) continue;
    const t0 = Date.now();
    try {
      await withTimeout(c.fn(), c.timeoutMs, c.name);
      passed++;
      console.log(`ok - ${c.name} (${((Date.now() - t0) / 1000).toFixed(2)}s)`);
    } catch (e) {
      failed++;
      console.log(`FAIL - ${c.name} (${((Date.now() - t0) / 1000).toFixed(2)}s)`);
      console.log('    ' + String(e && e.stack ? e.stack : e).split('\n').join('\n    '));
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.log('FAIL - harness: ' + (e && e.stack ? e.stack : e));
  console.log('0 passed, 1 failed');
  process.exit(1);
});
