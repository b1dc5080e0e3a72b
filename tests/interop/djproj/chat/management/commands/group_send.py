# SPDX-License-Identifier: MIT
"""manage.py group_send GROUP MESSAGE_JSON: channel_layer.group_send from a
management command (synchronous code), as a Django site does it."""
import json

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "group_send a Channels message (a JSON object with a \"type\") to GROUP"

    def add_arguments(self, parser):
        parser.add_argument("group")
        parser.add_argument("message")

    def handle(self, group, message, **options):
        channel_layer = get_channel_layer()
        async_to_sync(channel_layer.group_send)(group, json.loads(message))
