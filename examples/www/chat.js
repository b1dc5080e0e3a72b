// SPDX-License-Identifier: MIT
// chat.js: the demo page's client. Same code a Channels site would use.
'use strict';
const SOCKET_HOST = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host;
const $ = (id) => document.getElementById(id);
let ws = null;

function line(text, cls) {
  const li = document.createElement('li');
  if (cls) li.className = cls;
  li.textContent = text;
  $('log').appendChild(li);
  li.scrollIntoView({block: 'end'});
}

function setOpen(open) {
  $('message').disabled = !open;
  $('send-btn').disabled = !open;
  $('join-btn').textContent = open ? 'Leave' : 'Join';
}

$('where').textContent = SOCKET_HOST;

$('join').addEventListener('submit', (ev) => {
  ev.preventDefault();
  if (ws) { ws.close(1000, 'left the room'); return; }
  const room = $('room').value.trim();
  $('notice').hidden = true;
  ws = new WebSocket(SOCKET_HOST + '/ws/chat/' + encodeURIComponent(room) + '/');
  $('status').textContent = 'Connecting to ' + room + '…';
  ws.onopen = () => {
    $('status').textContent = 'Connected to room ' + room + '.';
    document.body.dataset.state = 'open';
    setOpen(true);
    $('message').focus();
  };
  ws.onmessage = (e) => {
    let data;
    try { data = JSON.parse(e.data); } catch (err) { line(e.data, 'raw'); return; }
    if (data.message !== undefined)
      line((data.name ? data.name + ': ' : '') + data.message);
    else if (data.error)
      line('error: ' + data.error, 'error');
    else
      line(e.data, 'raw');
  };
  ws.onclose = (e) => {
    const why = e.reason ? ': ' + e.reason : '';
    $('notice').textContent = 'Connection closed (code ' + e.code + why + ')';
    $('notice').hidden = false;
    $('notice').scrollIntoView({block: 'nearest'});
    $('status').textContent = 'Not connected.';
    document.body.dataset.state = 'closed';
    document.body.dataset.closeCode = String(e.code);
    setOpen(false);
    ws = null;
  };
});

$('send').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const text = $('message').value;
  if (!ws || ws.readyState !== WebSocket.OPEN || !text) return;
  ws.send(JSON.stringify({message: text, name: $('name').value}));
  $('message').value = '';
});
