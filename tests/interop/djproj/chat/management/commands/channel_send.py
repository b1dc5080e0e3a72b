# SPDX-License-Identifier: MIT
"""manage.py channel_send CHANNEL MESSAGE_JSON: channel_layer.send from a
management command, e.g. to a worker channel on a device
("device.commands") or to a connection's channel name."""
import json

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "send a Channels message (a JSON object with a \"type\") to CHANNEL"

    def add_arguments(self, parser):
        parser.add_argument("channel")
        parser.add_argument("message")

    def handle(self, channel, message, **options):
        async_to_sync(get_channel_layer().send)(channel, json.loads(message))
