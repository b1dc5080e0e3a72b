# SPDX-License-Identifier: MIT
from django.urls import re_path

from . import consumers

websocket_urlpatterns = [
    # the tutorial's consumer, unchanged
    re_path(r"ws/chat/(?P<room_name>\w+)/$", consumers.ChatConsumer.as_asgi()),
    # the same, plus the two handlers for chanwire's broadcasts and closes
    re_path(r"ws/chat2/(?P<room_name>\w+)/$", consumers.ChatConsumerWithGroupOps.as_asgi()),
    # channel names: learns and sends to chanwire's channels
    re_path(r"ws/peer/$", consumers.PeerConsumer.as_asgi()),
]
