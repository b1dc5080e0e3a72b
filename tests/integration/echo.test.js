// SPDX-License-Identifier: MIT
// echo.test.js: the daemon's echo consumer driven by Node's `ws` (npm), a
// client nobody here wrote: echo of every size class, fragmented sends
// (fin: false), ping/pong, close codes, and many concurrent clients.
// Only Node's built-in modules plus ws. Run by tests/run.py with
// NODE_PATH=tests/node_modules and CW_DAEMON=<build>/chanwired.
// In the TLS pass (CW_TLS=1) the daemons listen with --listen-tls and the
// test certificate (CW_TLS_CERT/CW_TLS_KEY), the clients speak wss:// and
// trust exactly that certificate (`ca`), and the concurrent case is capped
// at the build's TLS sessions (CONFIG_TLS_MAX_CONNS).
'use strict';

const { spawn } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

let WebSocket;
try {
  WebSocket = require('ws');
} catch (e) {
  console.log('SKIP: npm package ws missing (cd tests && npm install)');
  process.exit(77);
}

const SLOW = Number(process.env.CW_SLOW || '1') || 1;
const MAX_MESSAGE = 1048576; // CONFIG_MAX_MESSAGE_SIZE of the host boards
const SIZES = [0, 1, 125, 126, 127, 128, 4095, 4096, 4097, 65535, 65536, 65537, 262145, 500000];
const TLS = process.env.CW_TLS === '1' && !!process.env.CW_TLS_CERT;
const TLS_CA = TLS ? fs.readFileSync(process.env.CW_TLS_CERT) : null;

// An integer CONFIG_* of the build under test, or `dflt`.
function buildConfig(name, dflt) {
  const build = process.env.CW_BUILD || path.dirname(daemonPath());
  try {
    const text = fs.readFileSync(path.join(build, 'include', 'cw_config.h'), 'utf8');
    const m = new RegExp('^#define ' + name + ' (\\S+)$', 'm').exec(text);
    return m ? Number(m[1]) : dflt;
  } catch (e) {
    return dflt;
  }
}

// How many clients may be open at once: `want`, or over TLS what the
// build's TLS sessions allow (a few kept free for connections still closing).
function concurrentClients(want) {
  return TLS ? Math.max(1, Math.min(want, buildConfig('CONFIG_TLS_MAX_CONNS', 64) - 4)) : want;
}

function daemonPath() {
  if (process.env.CW_DAEMON) return process.env.CW_DAEMON;
  const build = process.env.CW_BUILD || path.join(__dirname, '..', '..', 'build', 'host');
  return path.join(build, 'chanwired');
}

// Every daemon started here, killed when this process exits (a failed case
// must not leave one running).
const spawned = [];
process.on('exit', () => {
  for (const p of spawned) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

// Starts the daemon on a free port; resolves with {proc, port, log(), stop()}.
function startDaemon(extra = []) {
  const prefix = (process.env.CW_EXEC_PREFIX || '').split(/\s+/).filter(Boolean);
  const listen = TLS ? ['--listen-tls', '127.0.0.1:0', '--tls-cert', process.env.CW_TLS_CERT,
    '--tls-key', process.env.CW_TLS_KEY] : ['--listen', '127.0.0.1:0'];
  const argv = prefix.concat([daemonPath()], listen, ['--log-level', 'info',
    '--no-control', '--allow-root'], extra);
  const proc = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  spawned.push(proc);
  let log = '';
  const exited = new Promise((resolve) => proc.on('exit', (code, sig) => resolve({ code, sig })));
  const d = {
    proc,
    port: 0,
    log: () => log,
    url: (p = '/ws/echo/') => `${TLS ? 'wss' : 'ws'}://127.0.0.1:${d.port}${p}`,
    async stop(sig = 'SIGTERM', ms = 10000) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(sig);
      const t = setTimeout(() => proc.kill('SIGKILL'), ms * SLOW);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
    exited,
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error('daemon did not start: ' + argv.join(' ') + '\n' + log));
    }, 10000 * SLOW);
    const onData = (chunk) => {
      log += chunk.toString();
      const m = /listening on \S+ \(port (\d+)\)/.exec(log);
      if (m && !d.port) {
        d.port = Number(m[1]);
        clearTimeout(timer);
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
function open(url, opts = {}) {
  return new Promise((resolve, reject) => {
    const tls = url.startsWith('wss:') ? { ca: TLS_CA } : {};
    const ws = new WebSocket(url, Object.assign({ perMessageDeflate: false, maxPayload: 0 }, tls, opts));
    const queue = [];
    const waiters = [];
    ws.closed = new Promise((res) => ws.on('close', (code, reason) => {
      ws.closeCode = code;
      ws.closeReason = reason.toString();
      res(code);
      while (waiters.length) waiters.shift().reject(new Error('closed with ' + code));
    }));
    ws.on('message', (data, isBinary) => {
      const m = { data: isBinary ? Buffer.from(data) : data.toString(), isBinary };
      if (waiters.length) waiters.shift().resolve(m);
      else queue.push(m);
    });
    ws.next = (ms = 20000) => {
      if (queue.length) return Promise.resolve(queue.shift());
      if (ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error('not open: ' + ws.closeCode));
      return withTimeout(new Promise((res, rej) => waiters.push({ resolve: res, reject: rej })), ms, 'a message');
    };
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (req, res) => reject(new Error('HTTP ' + res.statusCode)));
  });
}

function sendP(ws, data, opts = {}) {
  return new Promise((res, rej) => ws.send(data, opts, (err) => (err ? rej(err) : res())));
}

async function roundtrip(ws, data) {
  const binary = Buffer.isBuffer(data);
  await sendP(ws, data, { binary });
  const m = await ws.next();
  assert(m.isBinary === binary, `opcode changed for ${data.length} bytes`);
  if (binary) assert(Buffer.compare(m.data, data) === 0, `binary echo differs at ${data.length} bytes`);
  else assert(m.data === data, `text echo differs at ${data.length} chars`);
}

async function closeP(ws, code, reason) {
  ws.close(code, reason);
  return withTimeout(ws.closed, 5000, 'close');
}

function textOf(n) {
  // n bytes of UTF-8 mixing 1-, 2-, 3- and 4-byte characters.
  const alphabet = ['a', 'Z', '9', ' ', 'é', '€', '𝄞', '中'];
  let s = '';
  let size = 0;
  let i = 0;
  while (size < n) {
    let ch = alphabet[(i++ * 7) % alphabet.length];
    let b = Buffer.byteLength(ch);
    if (size + b > n) { ch = 'x'; b = 1; }
    s += ch;
    size += b;
  }
  return s;
}

// ---- cases ----

const cases = [];
function test(name, fn, timeoutMs = 60000) { cases.push({ name, fn, timeoutMs }); }

let shared;

test('echo_text_sizes', async () => {
  const ws = await open(shared.url());
  for (const n of SIZES) await roundtrip(ws, textOf(n));
  await closeP(ws, 1000);
  assert(ws.closeCode === 1000, 'close code ' + ws.closeCode);
});

test('echo_binary_sizes', async () => {
  const ws = await open(shared.url());
  for (const n of SIZES) await roundtrip(ws, crypto.randomBytes(n));
  await closeP(ws, 1000);
  assert(ws.closeCode === 1000, 'close code ' + ws.closeCode);
});

test('echo_large_up_to_the_limit', async () => {
  const ws = await open(shared.url());
  for (const n of [MAX_MESSAGE - 4096, MAX_MESSAGE - 1, MAX_MESSAGE]) await roundtrip(ws, crypto.randomBytes(n));
  await roundtrip(ws, textOf(MAX_MESSAGE));
  await roundtrip(ws, 'after');
  await closeP(ws, 1000);
});

test('fragmented_text', async () => {
  const ws = await open(shared.url());
  await sendP(ws, 'Hel', { fin: false });
  await sendP(ws, 'lo, ', { fin: false });
  await sendP(ws, 'world', { fin: true });
  let m = await ws.next();
  assert(!m.isBinary && m.data === 'Hello, world', 'got ' + JSON.stringify(m.data));
  // A multi-byte character split across fragment boundaries.
  const bytes = Buffer.from('κόσμε€𝄞', 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    await sendP(ws, bytes.subarray(i, i + 1), { binary: false, fin: i === bytes.length - 1 });
  }
  m = await ws.next();
  assert(m.data === 'κόσμε€𝄞', 'split characters came back as ' + JSON.stringify(m.data));
  await closeP(ws, 1000);
});

test('fragmented_binary_many_fragments', async () => {
  const ws = await open(shared.url());
  const parts = [];
  for (let i = 0; i < 1000; i++) parts.push(Buffer.from([i & 255]));
  for (let i = 0; i < parts.length; i++) ws.send(parts[i], { binary: true, fin: i === parts.length - 1 });
  let m = await ws.next();
  assert(m.isBinary && Buffer.compare(m.data, Buffer.concat(parts)) === 0, '1000 fragments');
  const big = [crypto.randomBytes(70000), crypto.randomBytes(0), crypto.randomBytes(300000)];
  for (let i = 0; i < big.length; i++) ws.send(big[i], { binary: true, fin: i === big.length - 1 });
  m = await ws.next();
  assert(Buffer.compare(m.data, Buffer.concat(big)) === 0, 'large fragments');
  await closeP(ws, 1000);
});

test('pipelined_in_order', async () => {
  const ws = await open(shared.url());
  const n = 5000;
  for (let i = 0; i < n; i++) ws.send('m' + i);
  for (let i = 0; i < n; i++) {
    const m = await ws.next();
    assert(m.data === 'm' + i, `message ${i} came back as ${m.data}`);
  }
  await closeP(ws, 1000);
});

test('ping_pong', async () => {
  const ws = await open(shared.url());
  for (const payload of [Buffer.alloc(0), Buffer.from('x'), Buffer.alloc(125, 0x70)]) {
    const got = new Promise((res) => ws.once('pong', res));
    ws.ping(payload);
    const data = await withTimeout(got, 5000, 'pong');
    assert(Buffer.compare(data, payload) === 0, 'pong payload differs');
  }
  // Pings interleaved with data: every pong, every echo, in order.
  const pongs = [];
  const allPongs = new Promise((res) => ws.on('pong', (d) => { pongs.push(d.toString()); if (pongs.length === 50) res(); }));
  for (let i = 0; i < 50; i++) { ws.ping('p' + i); ws.send('d' + i); }
  await withTimeout(allPongs, 5000, '50 pongs');
  for (let i = 0; i < 50; i++) {
    assert(pongs[i] === 'p' + i, `pong ${i} is ${pongs[i]}`);
    assert((await ws.next()).data === 'd' + i, 'echo ' + i);
  }
  // A ping inside a fragmented message.
  ws.send('frag', { fin: false });
  const p = new Promise((res) => ws.once('pong', res));
  ws.ping('mid');
  ws.send('ment', { fin: true });
  assert((await withTimeout(p, 5000, 'pong mid-message')).toString() === 'mid', 'pong mid-message');
  assert((await ws.next()).data === 'fragment', 'message around a ping');
  await closeP(ws, 1000);
});

test('close_codes_echoed', async () => {
  for (const [code, reason] of [[1000, 'bye'], [1001, ''], [3000, 'app'], [4999, 'é'.repeat(30)]]) {
    const ws = await open(shared.url());
    await closeP(ws, code, reason);
    assert(ws.closeCode === code, `sent ${code}, server answered ${ws.closeCode}`);
  }
  // No status code at all: the server answers with an empty close (1005).
  const ws = await open(shared.url());
  await closeP(ws);
  assert(ws.closeCode === 1005, 'empty close answered with ' + ws.closeCode);
});

test('close_1009_too_big', async () => {
  const d = await startDaemon(['--max-message', '1000']);
  try {
    let ws = await open(d.url());
    await roundtrip(ws, crypto.randomBytes(1000));
    ws.send(crypto.randomBytes(1001));
    await withTimeout(ws.closed, 5000, 'close after 1001 bytes');
    assert(ws.closeCode === 1009, 'close code ' + ws.closeCode);
    ws = await open(d.url());
    ws.send(Buffer.alloc(600), { fin: false });
    ws.send(Buffer.alloc(600), { fin: true });
    await withTimeout(ws.closed, 5000, 'close after 1200 fragmented bytes');
    assert(ws.closeCode === 1009, 'fragmented: close code ' + ws.closeCode);
    ws = await open(d.url());
    await roundtrip(ws, 'still serving');
    await closeP(ws, 1000);
  } finally {
    const r = await d.stop();
    assert(r.code === 0, 'daemon exit ' + JSON.stringify(r) + '\n' + d.log());
  }
});

test('unknown_path_404', async () => {
  let err;
  try { await open(shared.url('/nope/')); } catch (e) { err = e; }
  assert(err && /HTTP 404/.test(err.message), 'expected HTTP 404, got ' + err);
});

test('concurrent_200_clients', async () => {
  const n = concurrentClients(200);
  if (n !== 200) console.log(`  ${n} clients (the build's TLS sessions)`);
  const rounds = 20;
  // A crowd comes from several addresses (127.0.0.1-8), as on a real
  // network: none holds more than its fair share of the server's pools.
  const clients = await Promise.all(Array.from({ length: n }, (_, i) =>
    open(shared.url(), { localAddress: `127.0.0.${1 + (i % 8)}` })));
  await Promise.all(clients.map(async (ws, i) => {
    for (let r = 0; r < rounds; r++) {
      const msg = `c${i} r${r} ` + 'x'.repeat((i * 7) % 300);
      await roundtrip(ws, msg);
    }
    await roundtrip(ws, crypto.randomBytes(3000 + i));
  }));
  await Promise.all(clients.map((ws) => closeP(ws, 1000)));
  assert(clients.every((ws) => ws.closeCode === 1000), 'close codes');
}, 120000);

test('terminated_clients_do_not_disturb_others', async () => {
  const others = await Promise.all(Array.from({ length: 5 }, () => open(shared.url())));
  for (let i = 0; i < 10; i++) {
    const victim = await open(shared.url());
    victim.send(crypto.randomBytes(400000)); // still being written when it dies
    victim.send('part', { fin: false });
    setImmediate(() => victim.terminate());
    await victim.closed;
    await Promise.all(others.map((ws, j) => roundtrip(ws, `round ${i} client ${j}`)));
  }
  await Promise.all(others.map((ws) => roundtrip(ws, crypto.randomBytes(70000))));
  await Promise.all(others.map((ws) => closeP(ws, 1000)));
});

test('close_1001_on_sigterm', async () => {
  const d = await startDaemon();
  const clients = await Promise.all(Array.from({ length: 10 }, () => open(d.url())));
  for (const ws of clients) await roundtrip(ws, 'before');
  d.proc.kill('SIGTERM');
  await withTimeout(Promise.all(clients.map((ws) => ws.closed)), 5000, 'closes after SIGTERM');
  for (const ws of clients) assert(ws.closeCode === 1001, 'close code ' + ws.closeCode);
  const r = await withTimeout(d.exited, 5000, 'daemon exit');
  assert(r.code === 0, 'daemon exit ' + JSON.stringify(r));
});

async function main() {
  let passed = 0;
  let failed = 0;
  const only = process.argv.slice(2);
  // Over TLS the handshake deadline (from accept, TLS included) is longer:
  // dozens of full handshakes at once on a busy machine can take more than
  // the default 5 s, and no case here tests it.
  shared = await startDaemon(TLS ? ['--handshake-timeout', '20000'] : []);
  if (TLS && !/listening on \S+ \(port \d+\) with TLS/.test(shared.log())) {
    throw new Error('CW_TLS=1 but the daemon does not listen with TLS:\n' + shared.log());
  }
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
  const r = await shared.stop();
  if (r.code !== 0) {
    failed++;
    console.log(`FAIL - shared daemon exited with ${JSON.stringify(r)}\n${shared.log().slice(-3000)}`);
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.log('FAIL - harness: ' + (e && e.stack ? e.stack : e));
  console.log('0 passed, 1 failed');
  process.exit(1);
});
