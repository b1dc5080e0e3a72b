// SPDX-License-Identifier: MIT
// status.js: the device status page. One socket to /ws/status/; each
// message is a whole snapshot (examples/status.c documents its fields). The
// chart keeps the last 60 rates and is drawn on a canvas: no library.
'use strict';
const SOCKET = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws/status/';
const $ = (id) => document.getElementById(id);
const HISTORY = 60;
const rx = [];
const tx = [];
let ws = null;
let retry = 1000;

function bytes(n) {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : String(Math.round(n))) + ' ' + u[i];
}
const rate = (n) => bytes(n) + '/s';

function draw() {
  const c = $('chart');
  const dpr = window.devicePixelRatio || 1;
  const w = c.clientWidth, h = c.clientHeight;
  if (c.width !== Math.round(w * dpr)) { c.width = Math.round(w * dpr); c.height = Math.round(h * dpr); }
  const g = c.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const top = Math.max(1024, ...rx, ...tx) * 1.15;
  g.strokeStyle = '#eef0f3';
  g.lineWidth = 1;
  for (let i = 1; i < 4; i++) {
    const y = Math.round(h * i / 4) + 0.5;
    g.beginPath(); g.moveTo(0, y); g.lineTo(w, y); g.stroke();
  }
  // The newest point at the right edge; until 20 points have come, they
  // spread over the width, then the last HISTORY of them do.
  const step = w / (Math.max(rx.length, 20) - 1);
  const plot = (series, colour, fill) => {
    if (series.length < 2) return;
    g.beginPath();
    series.forEach((v, i) => {
      const x = w - (series.length - 1 - i) * step;
      const y = h - 4 - (v / top) * (h - 8);
      if (i) g.lineTo(x, y); else g.moveTo(x, y);
    });
    g.strokeStyle = colour;
    g.lineWidth = 2;
    g.stroke();
    if (fill) {
      g.lineTo(w, h);
      g.lineTo(w - (series.length - 1) * step, h);
      g.closePath();
      g.fillStyle = fill;
      g.fill();
    }
  };
  plot(rx, '#2e6be6', 'rgba(46, 107, 230, 0.15)');
  plot(tx, '#12b76a', null);
  $('scale').textContent = '· top of the chart: ' + rate(top);
  c.dataset.points = String(rx.length);
}

function cell(tr, text) {
  const td = document.createElement('td');
  td.textContent = text;
  tr.appendChild(td);
}

function show(s) {
  if (s.load) {
    $('load1').textContent = s.load[0].toFixed(2);
    $('load').textContent = s.load.map((v) => v.toFixed(2)).join(' · ') + ' (1, 5, 15 min)';
  } else {
    $('load1').textContent = 'n/a';
  }
  if (s.mem) {
    $('memused').textContent = Math.round(100 * s.mem.used_kb / Math.max(1, s.mem.total_kb)) + ' %';
    $('mem').textContent = bytes(s.mem.used_kb * 1024) + ' of ' + bytes(s.mem.total_kb * 1024);
  } else {
    $('memused').textContent = 'n/a';
  }
  $('procs').textContent = s.procs ? s.procs.running + ' / ' + s.procs.total : 'n/a';
  $('seq').textContent = 'snapshot ' + s.seq;
  const body = $('ifaces').tBodies[0];
  body.textContent = '';
  let r = 0, t = 0;
  for (const f of s.net || []) {
    const tr = document.createElement('tr');
    cell(tr, f.name);
    cell(tr, rate(f.rx_bps));
    cell(tr, rate(f.tx_bps));
    cell(tr, bytes(f.rx_bytes));
    cell(tr, bytes(f.tx_bytes));
    body.appendChild(tr);
    r += f.rx_bps;
    t += f.tx_bps;
  }
  rx.push(r);
  tx.push(t);
  if (rx.length > HISTORY) { rx.shift(); tx.shift(); }
  draw();
  document.body.dataset.seq = String(s.seq);
}

function connect() {
  ws = new WebSocket(SOCKET);
  ws.onopen = () => {
    retry = 1000;
    $('state').textContent = 'Live.';
    document.body.dataset.state = 'open';
  };
  ws.onmessage = (e) => {
    let s;
    try { s = JSON.parse(e.data); } catch (err) { return; }
    if (s.type === 'status') show(s);
  };
  ws.onclose = (e) => {
    document.body.dataset.state = 'closed';
    $('state').textContent = 'Disconnected (code ' + e.code + '); retrying in ' + retry / 1000 + ' s.';
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 30000);
  };
}

$('where').textContent = SOCKET;
window.addEventListener('resize', draw);
connect();
