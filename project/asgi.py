"""ASGI entry point: uvicorn serves HTTP (Django) and the live websocket (Channels).

Why uvicorn and not daphne: daphne is built on Twisted, whose request object parses every
multipart POST body in memory with the email parser before the ASGI app is called — an
anonymous 256 MB POST to any URL took a node from 0.6 to 3.3 GB. uvicorn hands the body
to the app as a stream, so `RequestBodyLimit` can refuse an oversized request from its
headers without reading it (see project/body_limits.py).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402 - needs Django set up first
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from .body_limits import RequestBodyLimit  # noqa: E402
from .routing import websocket_urlpatterns  # noqa: E402
from .ws_origin import SameOriginValidator  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": RequestBodyLimit(django_asgi_app),
        "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
