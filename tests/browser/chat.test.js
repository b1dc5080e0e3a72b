// SPDX-License-Identifier: MIT
// chat.test.js: the demo page in a real browser. Headless Chromium (Debian's
// /usr/bin/chromium, driven by npm playwright-core; nothing is downloaded)
// opens the page chanwired serves with --www examples/www, joins one room in
// two pages and another room in a third, chats, and then
// `chanwire-send --close chat_<room>` must put the visible close notice
// (code and reason) on both pages of that room while the third stays
// connected. Screenshots of the key moments go to $CW_BUILD/screenshots/.
// Run by tests/run.py with CW_DAEMON, CW_BUILD and NODE_PATH=tests/node_modules.
// In the TLS pass (CW_TLS=1) the daemon listens with --listen-tls and the
// test certificate (CW_TLS_CERT/CW_TLS_KEY): the page is loaded over https://
// (Chromium with --ignore-certificate-errors) and must open its sockets wss://.
'use strict';

const { execFile } = require('child_process');
const fs = require('fs');
const path = require('path');

const kit = require('../lib/browserkit');  // exits 77 without playwright-core or Chromium
const { T, TLS, SHOTS, STEP_MS, assert } = kit;

const SEND = path.join(kit.BUILD, 'chanwire-send');
const ROOM = 'kitchen';
const OTHER = 'garden';
const CONTROL = path.join(kit.tmp, 'ctl.sock');

function chanwireSend(args) {
  return new Promise((resolve) => {
    // Under emulation (CW_EXEC_PREFIX) the CLI is a target binary too.
    const prefix = (process.env.CW_EXEC_PREFIX || '').split(/\s+/).filter(Boolean);
    const argv = prefix.concat([SEND, '--socket', CONTROL], args);
    execFile(argv[0], argv.slice(1), { timeout: T(10000) }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code === undefined ? -1 : err.code) : 0, out: stdout + stderr, err });
    });
  });
}

async function shot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, name + '.png');
  await page.screenshot({ path: file, timeout: STEP_MS });
  return file;
}

// A page of the persistent context, with its errors collected.
async function openPage(label, viewport) {
  const page = await kit.context.newPage();
  page.label = label;
  page.problems = [];
  page.sockets = [];
  page.on('websocket', (w) => page.sockets.push(w.url()));
  page.on('pageerror', (e) => page.problems.push('page error: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error') page.problems.push('console error: ' + m.text()); });
  page.on('requestfailed', (r) => page.problems.push('request failed: ' + r.url() + ' ' + (r.failure() || {}).errorText));
  page.on('response', (r) => { if (r.status() >= 400) page.problems.push('HTTP ' + r.status() + ' for ' + r.url()); });
  if (viewport) await page.setViewportSize(viewport);
  page.setDefaultTimeout(STEP_MS);
  const resp = await page.goto(`${TLS ? 'https' : 'http'}://127.0.0.1:${kit.daemon.port}/`,
    { waitUntil: 'load', timeout: STEP_MS });
  assert(resp && resp.status() === 200, label + ': GET / answered ' + (resp && resp.status()));
  return page;
}

// Fills room and name through their accessible labels and presses Join.
async function join(page, room, name) {
  await page.getByLabel('Room').fill(room);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  await page.waitForSelector('body[data-state="open"]', { timeout: STEP_MS });
  const status = await page.locator('#status').innerText();
  assert(status.includes(room), page.label + ': status after join is ' + JSON.stringify(status));
  assert(await page.getByRole('button', { name: 'Leave' }).isVisible(), page.label + ': no Leave button when joined');
  const url = page.sockets[page.sockets.length - 1] || '';
  assert(url.startsWith(TLS ? 'wss://' : 'ws://'), page.label + ': the page opened its socket at ' + JSON.stringify(url));
}

async function say(page, text) {
  const box = page.getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
}

async function logLines(page) {
  return page.locator('#log li').allInnerTexts();
}

// Waits until `page`'s message list holds exactly `want` (in order).
async function waitLog(page, want) {
  try {
    await page.waitForFunction((w) => {
      const got = Array.from(document.querySelectorAll('#log li'), (li) => li.textContent);
      return got.length === w.length && got.every((t, i) => t === w[i]);
    }, want, { timeout: STEP_MS, polling: 50 });
  } catch (e) {
    throw new Error(page.label + ': message list is ' + JSON.stringify(await logLines(page)) +
      ', expected ' + JSON.stringify(want));
  }
}

// The close notice must be shown (not just present), inside the viewport,
// announced as an alert, and say the code and the reason.
async function checkNotice(page, code, reason) {
  const notice = page.getByRole('alert');
  try {
    await notice.waitFor({ state: 'visible', timeout: STEP_MS });
  } catch (e) {
    throw new Error(page.label + ': no visible close notice; body state ' +
      await page.evaluate(() => document.body.dataset.state));
  }
  const text = (await notice.innerText()).trim();
  assert(text.includes(String(code)) && text.includes(reason),
    page.label + ': notice text ' + JSON.stringify(text));
  assert(text === `Connection closed (code ${code}: ${reason})`, page.label + ': notice text ' + JSON.stringify(text));
  const geo = await notice.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const cs = getComputedStyle(el);
    return { top: r.top, bottom: r.bottom, width: r.width, height: r.height, vh: innerHeight, vw: innerWidth,
      opacity: cs.opacity, visibility: cs.visibility, scrollW: el.scrollWidth, clientW: el.clientWidth };
  });
  assert(geo.width > 0 && geo.height > 0 && geo.opacity === '1' && geo.visibility === 'visible',
    page.label + ': notice not rendered ' + JSON.stringify(geo));
  assert(geo.top >= 0 && geo.bottom <= geo.vh, page.label + ': notice outside the viewport ' + JSON.stringify(geo));
  assert(geo.scrollW <= geo.clientW + 1, page.label + ': notice text overflows ' + JSON.stringify(geo));
  const state = await page.evaluate(() => [document.body.dataset.state, document.body.dataset.closeCode]);
  assert(state[0] === 'closed' && state[1] === String(code), page.label + ': body data ' + JSON.stringify(state));
  assert(await page.getByLabel('Message', { exact: true }).isDisabled(), page.label + ': message box enabled after close');
  assert(await page.getByRole('button', { name: 'Join' }).isVisible(), page.label + ': no Join button after close');
}

// Nothing on the page may be wider than the viewport (no horizontal scrolling).
async function checkNoHorizontalOverflow(page) {
  const w = await page.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
  assert(w[0] <= w[1], page.label + ': page is ' + w[0] + 'px wide in a ' + w[1] + 'px viewport');
}

// ---- the scenario -------------------------------------------------------------

const S = {};  // pages: a, b (ROOM), c (OTHER, phone-sized)
const A_SAYS = 'hello from Ada';
const B_SAYS = 'hi Ada, the long link wraps: https://device.local/' + 'x'.repeat(120) + ' <b>not bold</b>';
const C_SAYS = 'only the garden hears this';

const cases = [];
function test(name, fn) { cases.push({ name, fn }); }

test('the daemon serves the demo page to three pages', async () => {
  for (const [k, label, vp] of [['a', 'page A', null], ['b', 'page B (700x380)', { width: 700, height: 380 }],
    ['c', 'page C (360x640)', { width: 360, height: 640 }]]) {
    const p = await openPage(label, vp);
    S[k] = p;
    assert(await p.title() === 'chanwire chat', label + ': title ' + JSON.stringify(await p.title()));
    assert(!(await p.getByRole('alert').isVisible()), label + ': close notice visible before joining');
    assert(await p.getByLabel('Message', { exact: true }).isDisabled(), label + ': message box enabled before joining');
  }
  await shot(S.a, '01-before-join');
});

test('two pages join ' + ROOM + ', a third joins ' + OTHER, async () => {
  await join(S.a, ROOM, 'Ada');
  await join(S.b, ROOM, 'Bob');
  await join(S.c, OTHER, 'Cy');
  await checkNoHorizontalOverflow(S.c);
});

test('page A sends: both pages of the room show it', async () => {
  await say(S.a, A_SAYS);
  await waitLog(S.a, ['Ada: ' + A_SAYS]);
  await waitLog(S.b, ['Ada: ' + A_SAYS]);
  assert(await S.a.getByLabel('Message', { exact: true }).inputValue() === '', 'page A: message box not cleared');
  await shot(S.b, '02-b-sees-a');
});

test('page B replies: both pages show both messages in order', async () => {
  await say(S.b, B_SAYS);
  const want = ['Ada: ' + A_SAYS, 'Bob: ' + B_SAYS];
  await waitLog(S.a, want);
  await waitLog(S.b, want);
  // The markup in the text stays text.
  assert(await S.a.locator('#log b').count() === 0, 'page A: message text rendered as HTML');
  await checkNoHorizontalOverflow(S.a);
  await shot(S.a, '03-a-sees-reply');
});

test('the page in ' + OTHER + ' sees neither message, only its own room', async () => {
  await waitLog(S.c, []);
  await say(S.c, C_SAYS);
  await waitLog(S.c, ['Cy: ' + C_SAYS]);
  // And the kitchen did not get the garden's message.
  const want = ['Ada: ' + A_SAYS, 'Bob: ' + B_SAYS];
  await waitLog(S.a, want);
  await waitLog(S.b, want);
  await checkNoHorizontalOverflow(S.c);
  await shot(S.c, '04-other-room');
});

test('chanwire-send --close chat_' + ROOM + ' shows the close notice on both pages', async () => {
  const r = await chanwireSend(['--close', 'chat_' + ROOM, '--code', '4000', '--reason', 'room closed']);
  assert(r.code === 0, 'chanwire-send exited ' + r.code + ': ' + r.out);
  await checkNotice(S.a, 4000, 'room closed');
  await checkNotice(S.b, 4000, 'room closed');
  await shot(S.a, '05-a-closed');
  await shot(S.b, '05-b-closed');
});

test('the page in ' + OTHER + ' is still connected and chatting', async () => {
  assert(await S.c.evaluate(() => document.body.dataset.state) === 'open', 'page C: not open after the other room closed');
  assert(!(await S.c.getByRole('alert').isVisible()), 'page C: close notice visible');
  await say(S.c, 'still here');
  await waitLog(S.c, ['Cy: ' + C_SAYS, 'Cy: still here']);
  await shot(S.c, '06-other-room-open');
});

test('page A can rejoin: the notice goes away and chat works again', async () => {
  await join(S.a, ROOM, 'Ada');
  assert(!(await S.a.getByRole('alert').isVisible()), 'page A: close notice still visible after rejoining');
  await say(S.a, 'back again');
  await waitLog(S.a, ['Ada: ' + A_SAYS, 'Bob: ' + B_SAYS, 'Ada: back again']);
  // B is closed and did not rejoin: it gets nothing.
  await waitLog(S.b, ['Ada: ' + A_SAYS, 'Bob: ' + B_SAYS]);
});

test('no page errors, failed requests or error responses', async () => {
  const all = [];
  for (const k of Object.keys(S)) for (const p of S[k].problems) all.push(S[k].label + ': ' + p);
  assert(all.length === 0, all.join('\n'));
});

test('the browser closes and the daemon exits cleanly on SIGTERM', kit.closeEverything);

kit.run(cases, {
  daemonArgs: ['--control', CONTROL],
  viewport: { width: 900, height: 700 },
  async onFail() {
    for (const k of Object.keys(S)) {
      try { console.log('  ' + S[k].label + ' shot: ' + await shot(S[k], 'fail-' + k)); } catch (e) { /* page gone */ }
    }
  },
}).catch((e) => {
  console.log('FAIL: ' + (e && e.stack || e));
  console.log('0 passed, 1 failed');
  process.exit(1);
});
