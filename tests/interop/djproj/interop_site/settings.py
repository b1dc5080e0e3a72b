# SPDX-License-Identifier: MIT
"""The smallest Django Channels site that shares groups with chanwired: the
tutorial chat under channels_redis's RedisChannelLayer or
RedisPubSubChannelLayer ($CW_LAYER). The Redis and
the prefix come from the environment so the tests can pick a free port;
a real site writes them in (README: "Scaling out and talking to Django")."""
import os

SECRET_KEY = "chanwire-interop-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["channels", "chat"]
ROOT_URLCONF = "interop_site.urls"
ASGI_APPLICATION = "interop_site.asgi.application"
DATABASES = {}
USE_TZ = True

# CW_LAYER=core: Django's default layer (chanwired --redis-layer core);
# pubsub: the Pub/Sub one (chanwired --redis-layer pubsub).
BACKENDS = {"core": "channels_redis.core.RedisChannelLayer",
            "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer"}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": BACKENDS[os.environ.get("CW_LAYER", "pubsub")],
        "CONFIG": {
            "hosts": [os.environ.get("CW_REDIS_URL", "redis://127.0.0.1:6379")],
            "prefix": os.environ.get("CW_REDIS_PREFIX", "asgi"),  # chanwired --redis-prefix
        },
    },
}

LOGGING = {
    "version": 1,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
