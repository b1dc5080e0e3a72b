# SPDX-License-Identifier: MIT
"""The Channels tutorial's chat consumer (part 3, asynchronous), and a
variant that also takes the messages chanwire publishes for
cw_group_broadcast and cw_group_close (README, "Scaling out and talking to
Django"). A chanwired room /ws/chat/<room>/ is the group chat_<room> here too."""
import json

from channels.generic.websocket import AsyncWebsocketConsumer


class ChatConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.room_name = self.scope["url_route"]["kwargs"]["room_name"]
        self.room_group_name = "chat_%s" % self.room_name
        await self.channel_layer.group_add(self.room_group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, close_code):
        await self.channel_layer.group_discard(self.room_group_name, self.channel_name)

    async def receive(self, text_data):
        message = json.loads(text_data)["message"]
        await self.channel_layer.group_send(
            self.room_group_name, {"type": "chat_message", "message": message})

    async def chat_message(self, event):
        await self.send(text_data=json.dumps({"message": event["message"]}))


class ChatConsumerWithGroupOps(ChatConsumer):
    # cw_group_broadcast(srv, group, text, len) arrives as
    # {"type": "websocket.send", "text": ...} (or "bytes" for binary)
    async def websocket_send(self, event):
        await self.send(text_data=event.get("text"), bytes_data=event.get("bytes"))

    # cw_group_close(srv, group, code, reason) arrives as
    # {"type": "websocket.close", "code": ..., "reason": ...}
    async def websocket_close(self, event):
        await self.close(code=event.get("code"))


class PeerConsumer(AsyncWebsocketConsumer):
    """Channel names both ways (docs/redis.md): tells its client
    self.channel_name; {"to": NAME, "type": T, "body": {...}} from the
    client is channel_layer.send(NAME, {"type": T, ...body}); the events it
    gets go to the client as {"type": T, ...}."""

    async def connect(self):
        await self.accept()
        await self.send(text_data=json.dumps({"channel": self.channel_name}))

    async def receive(self, text_data):
        m = json.loads(text_data)
        await self.channel_layer.send(m["to"], dict(m.get("body", {}), type=m["type"]))

    async def forward(self, event):
        await self.send(text_data=json.dumps(event))

    peer_msg = forward
    worker_reply = forward
