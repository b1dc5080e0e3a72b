// SPDX-License-Identifier: MIT
// browserkit.js: what the browser suites (tests/browser/*.test.js) share:
// headless Chromium (Debian's /usr/bin/chromium through npm playwright-core;
// nothing is downloaded), a chanwired of their own on a free port serving
// examples/www (https:// in the TLS pass, CW_TLS=1), cleanup of every
// process they started on any exit path, a whole-run deadline, and the run
// of their cases as one story (after a failure the rest are not run, but
// the last, which stops everything), ending with "N passed, N failed".
// Loading it exits 77 ("SKIP: ...") when playwright-core or Chromium is
// missing.
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
const kit = {
  ROOT,
  T,
  BUILD,
  DAEMON: process.env.CW_DAEMON || path.join(BUILD, 'chanwired'),
  SHOTS: path.join(BUILD, 'screenshots'),
  WWW: path.join(ROOT, 'examples', 'www'),
  STEP_MS: T(15000),
  TLS: process.env.CW_TLS === '1' && !!process.env.CW_TLS_CERT,
  tmp: fs.mkdtempSync(path.join(os.tmpdir(), 'cw-browser-')),
  daemon: null,   // {proc, port, log(), stop()}
  context: null,  // the persistent browser context
};
const DEADLINE_MS = T(120000);

// SIGKILLs every process this one started (the daemon, the browser and its
// process group) and removes the temp dir. Synchronous: usable from 'exit'.
function killEverything() {
  const d = kit.daemon;
  if (d && d.proc.exitCode === null && d.proc.signalCode === null) {
    try { d.proc.kill('SIGKILL'); } catch (e) { /* gone */ }
  }
  let children = [];
  try {
    children = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        const stat = fs.readFileSync('/proc/' + p + '/stat', 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid;
      } catch (e) { return false; }
    }).map(Number);
  } catch (e) { /* no /proc */ }
  for (const pid of children) {
    try { process.kill(-pid, 'SIGKILL'); } catch (e) { /* not a group leader */ }
    try { process.kill(pid, 'SIGKILL'); } catch (e) { /* gone */ }
  }
  try { fs.rmSync(kit.tmp, { recursive: true, force: true }); } catch (e) { /* best effort */ }
}
process.on('exit', killEverything);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => { console.log('interrupted by ' + sig); console.log('0 passed, 1 failed'); process.exit(1); });
}
const deadline = setTimeout(() => {
  console.log('FAIL: the whole test exceeded ' + DEADLINE_MS + ' ms');
  if (kit.daemon) console.log('daemon log:\n' + kit.daemon.log());
  console.log('0 passed, 1 failed');
  process.exit(1);
}, DEADLINE_MS);
deadline.unref();

kit.assert = function assert(cond, msg) {
  if (!cond) throw new Error('assertion failed: ' + msg);
};

kit.withTimeout = function withTimeout(p, ms, what) {
  let t;
  return Promise.race([
    p,
    new Promise((_, rej) => { t = setTimeout(() => rej(new Error('timed out: ' + what)), ms); }),
  ]).finally(() => clearTimeout(t));
};

// Starts chanwired on a free port with the demo pages and the given extra
// arguments (a control socket, or --no-control); resolves with
// {proc, port, log(), stop()} once it logs its port.
kit.startDaemon = function startDaemon(extra) {
  const prefix = (process.env.CW_EXEC_PREFIX || '').split(/\s+/).filter(Boolean);
  const listen = kit.TLS ? ['--listen-tls', '127.0.0.1:0', '--tls-cert', process.env.CW_TLS_CERT,
    '--tls-key', process.env.CW_TLS_KEY] : ['--listen', '127.0.0.1:0'];
  const argv = prefix.concat([kit.DAEMON], listen, ['--log-level', 'info', '--www', kit.WWW,
    '--allow-root'], extra);
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
        if (kit.TLS && !/listening on \S+ \(port \d+\) with TLS/.test(log)) {
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
};

// Runs the suite: starts the daemon (daemonArgs) and the browser (a page
// of viewport), then the cases [{name, fn}] in order; onFail(name) after a
// failed case (screenshots). Exits with the suite's result line.
kit.run = async function run(cases, { daemonArgs, viewport, onFail }) {
  const t0 = Date.now();
  let passed = 0;
  let failed = 0;
  try {
    kit.daemon = await kit.startDaemon(daemonArgs);
    kit.context = await kit.withTimeout(chromium.launchPersistentContext(path.join(kit.tmp, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync']
        .concat(kit.TLS ? ['--ignore-certificate-errors'] : []),
      viewport,
      handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false,
      timeout: T(30000),
    }), T(40000), 'launching ' + CHROMIUM);
  } catch (e) {
    console.log('FAIL setup: ' + (e && e.stack || e));
    if (kit.daemon) console.log('daemon log:\n' + kit.daemon.log());
    console.log(`0 passed, ${cases.length} failed`);
    process.exit(1);
  }
  let broken = null;  // the scenario is one story: after a failure the rest cannot run
  for (const c of cases) {
    if (broken && c.name !== cases[cases.length - 1].name) {
      failed++;
      console.log('FAIL ' + c.name + ': not run, an earlier step failed (' + broken + ')');
      continue;
    }
    const t = Date.now();
    try {
      await kit.withTimeout(c.fn(), T(60000), c.name);
      passed++;
      console.log(`ok   ${c.name} (${Date.now() - t} ms)`);
    } catch (e) {
      failed++;
      broken = broken || c.name;
      console.log(`FAIL ${c.name}: ${e && e.message || e}`);
      if (onFail) {
        try { await onFail(c.name); } catch (e2) { /* page gone */ }
      }
    }
  }
  if (failed && kit.daemon) console.log('daemon log:\n' + kit.daemon.log());
  if (fs.existsSync(kit.SHOTS)) console.log('screenshots in ' + kit.SHOTS);
  console.log(`(${Date.now() - t0} ms)`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
};

// The last case of every suite: the browser closes, the daemon exits 0.
kit.closeEverything = async function closeEverything() {
  await kit.withTimeout(kit.context.close(), T(15000), 'closing the browser');
  kit.context = null;
  const r = await kit.daemon.stop();
  kit.assert(r.code === 0, 'daemon exit ' + JSON.stringify(r) + '\n' + kit.daemon.log());
};

module.exports = kit;
