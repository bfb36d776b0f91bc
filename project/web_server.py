"""How the web process is started: one definition for `make run`, the tests and benches.

uvicorn, because it streams request bodies to the app (see project/asgi.py for why not
daphne). Client addresses come from TRUSTED_PROXY_HOPS in Django, never from uvicorn's
proxy-header rewriting, which trusts the leftmost X-Forwarded-For entry a client can
write. No Django import here: scripts/devserver.py uses this before Django is set up.
"""

from __future__ import annotations


def web_server_argv(python: str, host: str, port: str) -> list[str]:
    return [
        python, "-m", "uvicorn", "project.asgi:application",
        "--host", host, "--port", port,
        "--no-proxy-headers",
        # Channels' router has no lifespan protocol; uvicorn would log an error per start.
        "--lifespan", "off",
        "--http", "httptools", "--ws", "websockets",
    ]  # fmt: skip
