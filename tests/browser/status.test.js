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

const fs = require('fs');
const path = require('path');

const kit = require('../lib/browserkit');  // exits 77 without playwright-core or Chromium
const { T, TLS, SHOTS, STEP_MS, assert } = kit;

const DOC_SHOT = path.join(kit.ROOT, 'docs', 'img', 'status.png');

const S = {};
const cases = [];
function test(name, fn) { cases.push({ name, fn }); }

test('the daemon serves the status page at /status/', async () => {
  const page = await kit.context.newPage();
  page.problems = [];
  page.sockets = [];
  page.on('websocket', (w) => page.sockets.push(w.url()));
  page.on('pageerror', (e) => page.problems.push('page error: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error') page.problems.push('console error: ' + m.text()); });
  page.on('requestfailed', (r) => page.problems.push('request failed: ' + r.url()));
  page.on('response', (r) => { if (r.status() >= 400) page.problems.push('HTTP ' + r.status() + ' for ' + r.url()); });
  page.setDefaultTimeout(STEP_MS);
  const resp = await page.goto(`${TLS ? 'https' : 'http'}://127.0.0.1:${kit.daemon.port}/status/`,
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
  }, `${TLS ? 'wss' : 'ws'}://127.0.0.1:${kit.daemon.port}/ws/echo/`);
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

test('the browser closes and the daemon exits cleanly on SIGTERM', kit.closeEverything);

kit.run(cases, {
  daemonArgs: ['--no-control'],
  viewport: { width: 900, height: 760 },
  async onFail() {
    if (!S.page) return;
    fs.mkdirSync(SHOTS, { recursive: true });
    await S.page.screenshot({ path: path.join(SHOTS, 'status-fail.png') });
    console.log('  shot: ' + path.join(SHOTS, 'status-fail.png'));
  },
}).catch((e) => {
  console.log('FAIL: ' + (e && e.stack || e));
  console.log('0 passed, 1 failed');
  process.exit(1);
});
