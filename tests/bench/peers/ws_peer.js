// SPDX-License-Identifier: MIT
// ws_peer.js: the Node `ws` peer of `make bench`: /ws/echo/ sends every
// message back with its opcode; /ws/chat/<room>/ joins the room and relays
// {"message": m} to every member as {"message": m}, as chanwired does.
// Written the way a Node developer would: one WebSocketServer, a Map of
// rooms, JSON.parse / JSON.stringify.
'use strict';
const { WebSocketServer } = require('ws');

const args = process.argv.slice(2);
let port = 0;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--port') port = Number(args[++i]);
}

const rooms = new Map(); // room name -> Set of sockets
const chatPath = /^\/ws\/chat\/([A-Za-z0-9_.-]{1,48})\/$/;

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port,
  perMessageDeflate: false,
  maxPayload: 1 << 20,
});

wss.on('connection', (ws, req) => {
  if (req.url === '/ws/echo/') {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    return;
  }
  const m = chatPath.exec(req.url);
  if (!m) {
    ws.close(4404, 'no route');
    return;
  }
  const name = 'chat_' + m[1];
  let room = rooms.get(name);
  if (!room) {
    room = new Set();
    rooms.set(name, room);
  }
  room.add(ws);
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    let message;
    try {
      message = JSON.parse(data.toString()).message;
    } catch (e) {
      ws.send(JSON.stringify({ error: 'expected {"message": text}' }));
      return;
    }
    if (typeof message !== 'string') return;
    const out = JSON.stringify({ message });
    for (const member of room) member.send(out);
  });
  ws.on('close', () => {
    room.delete(ws);
    if (room.size === 0) rooms.delete(name);
  });
});

wss.on('listening', () => {
  console.log(`ws peer listening on 127.0.0.1:${wss.address().port}`);
});

process.on('SIGTERM', () => {
  for (const ws of wss.clients) ws.terminate();
  wss.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
});
