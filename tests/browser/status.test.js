// SPDX-License-Identifier: MIT
// status.test.js: the device status page (examples/www/status/, socket
// /ws/status/) in a real browser. Headless Chromium (Debian's
// /usr/bin/chromium, driven by npm playwright-core; nothing is downloaded)
// opens http://.../status/ from chanwired --www examples/www, waits for live
// updates (at least two different snapshots, the cards and the interface
// table filled, the chart drawn on its canvas) while a second socket makes
// traffic on the loopback, and saves a screenshot to
// $CW_BUILD/screenshots/status.png; with CW_DOC_SHOTS=1 also to
// docs/img/status.png (the one README shows). In the TLS pass (CW_TLS=1)
// the page is loaded over https:// and must open its socket wss://.
// Run by tests/run.py with CW_DAEMON, CW_BUILD and NODE_PATH=tests/node_modules.
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const CHROMIUM = process.env.CW_CHROMIUM || '/usr/bin/chromium';
let chromium;
try {
  ({ chromium } = require('playwright-core'));
} catch (e) {
  console.log('SKIP: npm package playwright-core missing (cd tests && npm install)');
  process.exit(77);
}
if (!fs.existsSync(CHROMIUM)) {
  console.log('SKIP: ' + CHROMIUM + ' missing (apt-get install chromium)');
  process.exit(77);
}

const ROOT = path.join(__dirname, '..', '..');
const SLOW = Number(process.env.CW_SLOW || '1') || 1;
const T = (ms) => ms * SLOW;
const BUILD = process.env.CW_BUILD || path.join(ROOT, 'build', 'host');
const DAEMON = process.env.CW_DAEMON || path.join(BUILD, 'chanwired');
const SHOTS = path.join(BUILD, 'screenshots');
const DOC_SHOT = path.join(ROOT, 'docs', 'img', 'status.png');
const WWW = path.join(ROOT, 'examples', 'www');
const DEADLINE_MS = T(120000);
const STEP_MS = T(15000);
const TLS = process.env.CW_TLS === '1' && !!process.env.CW_TLS_CERT;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cw-status-'));
let daemon = null;
let context = null;

// SIGKILLs every process this one started (the daemon, the browser and its
// process group) and removes the temp dir. Synchronous: usable from 'exit'.
function killEverything() {
  if (daemon && daemon.proc.exitCode === null && daemon.proc.signalCode === null) {
    try { daemon.proc.kill('SIGKILL'); } catch (e) { /* gone */ }
  }
  let children = [];
  try {
    children = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
      try {
        const stat = fs.readFileSync('/proc/' + d + '/stat', 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid;
      } catch (e) { return false; }
    }).map(Number);
  } catch (e) { /* no /proc */ }
  for (const pid of children) {
    try { process.kill(-pid, 'SIGKILL'); } catch (e) { /* not a group leader */ }
    try { process.kill(pid, 'SIGKILL'); } catch (e) { /* gone */ }
  }
  try { fs.rmSync(tmp, { recursive: true, force: true }); } catch (e) { /* best effort */ }
}
process.on('exit', killEverything);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => { console.log('interrupted by ' + sig); console.log('0 passed, 1 failed'); process.exit(1); });
}
const deadline = setTimeout(() => {
  console.log('FAIL: the whole test exceeded ' + DEADLINE_MS + ' ms');
  if (daemon) console.log('daemon log:\n' + daemon.log());
  console.log('0 passed, 1 failed');
  process.exit(1);
}, DEADLINE_MS);
deadline.unref();

function assert(cond, msg) {
  if (!cond) throw new Error('assertion failed: ' + msg);
}

function withTimeout(p, ms, what) {
  let t;
  return Promise.race([
    p,
    new Promise((_, rej) => { t = setTimeout(() => rej(new Error('timed out: ' + what)), ms); }),
  ]).finally(() => clearTimeout(t));
}

// Starts chanwired on a free port with the demo pages.
function startDaemon() {
  const prefix = (process.env.CW_EXEC_PREFIX || '').split(/\s+/).filter(Boolean);
  const listen = TLS ? ['--listen-tls', '127.0.0.1:0', '--tls-cert', process.env.CW_TLS_CERT,
    '--tls-key', process.env.CW_TLS_KEY] : ['--listen', '127.0.0.1:0'];
  const argv = prefix.concat([DAEMON], listen, ['--log-level', 'info', '--www', WWW,
    '--no-control', '--allow-root']);
  const proc = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const exited = new Promise((resolve) => proc.on('exit', (code, sig) => resolve({ code, sig })));
  const d = {
    proc, port: 0, log: () => log,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), T(10000));
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error('daemon did not start: ' + argv.join(' ') + '\n' + log));
    }, T(10000));
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

const S = {};
const cases = [];
function test(name, fn) { cases.push({ name, fn }); }

test('the daemon serves the status page at /status/', async () => {
  const page = await context.newPage();
  page.problems = [];
  page.sockets = [];
  page.on('websocket', (w) => page.sockets.push(w.url()));
  page.on('pageerror', (e) => page.problems.push('page error: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error') page.problems.push('console error: ' + m.text()); });
  page.on('requestfailed', (r) => page.problems.push('request failed: ' + r.url()));
  page.on('response', (r) => { if (r.status() >= 400) page.problems.push('HTTP ' + r.status() + ' for ' + r.url()); });
  page.setDefaultTimeout(STEP_MS);
  const resp = await page.goto(`${TLS ? 'https' : 'http'}://127.0.0.1:${daemon.port}/status/`,
    { waitUntil: 'load', timeout: STEP_MS });
  assert(resp && resp.status() === 200, 'GET /status/ answered ' + (resp && resp.status()));
  assert(await page.title() === 'chanwire status', 'title ' + JSON.stringify(await page.title()));
  S.page = page;
});

test('the page connects to /ws/status/ and shows a snapshot at once', async () => {
  const page = S.page;
  await page.waitForSelector('body[data-state="open"]', { timeout: STEP_MS });
  await page.waitForFunction(() => document.body.dataset.seq !== undefined, null, { timeout: T(3000) });
  const url = page.sockets[0] || '';
  assert(url.endsWith('/ws/status/') && url.startsWith(TLS ? 'wss://' : 'ws://'), 'socket ' + JSON.stringify(url));
  assert(/^\d+\.\d\d$/.test(await page.locator('#load1').innerText()), 'load card: ' + await page.locator('#load1').innerText());
  assert(/^\d+ %$/.test(await page.locator('#memused').innerText()), 'memory card: ' + await page.locator('#memused').innerText());
  const names = await page.locator('#ifaces tbody td:first-child').allInnerTexts();
  assert(names.includes('lo'), 'interfaces: ' + JSON.stringify(names));
});

test('live updates arrive about once a second and the chart is drawn', async () => {
  const page = S.page;
  // Traffic on the loopback for the chart: echo 32 KiB messages for a while.
  await page.evaluate((u) => {
    const ws = new WebSocket(u);
    const blob = 'x'.repeat(32768);
    ws.onopen = () => { window.pump = setInterval(() => { if (ws.bufferedAmount < 1 << 20) ws.send(blob); }, 5); };
    window.pumpWs = ws;
  }, `${TLS ? 'wss' : 'ws'}://127.0.0.1:${daemon.port}/ws/echo/`);
  const first = Number(await page.evaluate(() => document.body.dataset.seq));
  const seen = new Set([first]);
  const t0 = Date.now();
  while (seen.size < 6 && Date.now() - t0 < T(15000)) {
    await page.waitForTimeout(200);
    seen.add(Number(await page.evaluate(() => document.body.dataset.seq)));
  }
  assert(seen.size >= 6, 'snapshots seen: ' + JSON.stringify([...seen]));
  assert(Date.now() - t0 > 3500, 'five updates in ' + (Date.now() - t0) + ' ms: faster than once a second');
  await page.evaluate(() => { clearInterval(window.pump); window.pumpWs.close(); });
  const chart = await page.evaluate(() => {
    const c = document.getElementById('chart');
    const g = c.getContext('2d');
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let blue = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 2] > 150 && d[i] < 120 && d[i + 3] > 0) blue++;
    return { points: Number(c.dataset.points), blue, w: c.width, h: c.height };
  });
  assert(chart.points >= 6, 'chart points ' + JSON.stringify(chart));
  assert(chart.blue > 50, 'no receive line drawn on the chart ' + JSON.stringify(chart));
  const scale = await page.locator('#scale').innerText();
  assert(/top of the chart: .*\/s/.test(scale), 'scale text ' + JSON.stringify(scale));
  const rates = await page.locator('#ifaces tbody tr').first().locator('td').allInnerTexts();
  assert(rates.length === 5 && /\/s$/.test(rates[1]), 'first interface row ' + JSON.stringify(rates));
});

test('screenshot', async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, 'status.png');
  await S.page.screenshot({ path: file, fullPage: true, timeout: STEP_MS });
  assert(fs.statSync(file).size > 10000, 'screenshot too small');
  if (process.env.CW_DOC_SHOTS === '1') {
    fs.mkdirSync(path.dirname(DOC_SHOT), { recursive: true });
    fs.copyFileSync(file, DOC_SHOT);
    console.log('  saved ' + DOC_SHOT);
  }
});

test('no page errors, failed requests or error responses', async () => {
  assert(S.page.problems.length === 0, S.page.problems.join('\n'));
});

test('the browser closes and the daemon exits cleanly on SIGTERM', async () => {
  await withTimeout(context.close(), T(15000), 'closing the browser');
  context = null;
  const r = await daemon.stop();
  assert(r.code === 0, 'daemon exit ' + JSON.stringify(r) + '\n' + daemon.log());
});

async function main() {
  let passed = 0;
  let failed = 0;
  try {
    daemon = await startDaemon();
    context = await withTimeout(chromium.launchPersistentContext(path.join(tmp, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync']
        .concat(TLS ? ['--ignore-certificate-errors'] : []),
      viewport: { width: 900, height: 760 },
      handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false,
      timeout: T(30000),
    }), T(40000), 'launching ' + CHROMIUM);
  } catch (e) {
    console.log('FAIL setup: ' + (e && e.stack || e));
    if (daemon) console.log('daemon log:\n' + daemon.log());
    console.log(`0 passed, ${cases.length} failed`);
    process.exit(1);
  }
  let broken = null;  // one story: after a failure the rest cannot run
  for (const c of cases) {
    if (broken && c.name !== cases[cases.length - 1].name) {
      failed++;
      console.log('FAIL ' + c.name + ': not run, an earlier step failed (' + broken + ')');
      continue;
    }
    const t = Date.now();
    try {
      await withTimeout(c.fn(), T(60000), c.name);
      passed++;
      console.log(`ok   ${c.name} (${Date.now() - t} ms)`);
    } catch (e) {
      failed++;
      broken = broken || c.name;
      console.log(`FAIL ${c.name}: ${e && e.message || e}`);
      if (S.page) {
        try {
          fs.mkdirSync(SHOTS, { recursive: true });
          await S.page.screenshot({ path: path.join(SHOTS, 'status-fail.png') });
          console.log('  shot: ' + path.join(SHOTS, 'status-fail.png'));
        } catch (e2) { /* page gone */ }
      }
    }
  }
  if (failed && daemon) console.log('daemon log:\n' + daemon.log());
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.log('FAIL: ' + (e && e.stack || e));
  console.log('0 passed, 1 failed');
  process.exit(1);
});
