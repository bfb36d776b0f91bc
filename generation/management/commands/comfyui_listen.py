"""One websocket listener per ComfyUI server (COMFYUI_URLS), forwarding progress to jobs.

    python manage.py comfyui_listen                      # every server in COMFYUI_URLS
    python manage.py comfyui_listen --server http://gpu1:8188 --server http://gpu2:8188

Connects to ws://<server>/ws?clientId=<COMFYUI_CLIENT_ID> (ComfyUI sends a prompt's
messages to the client that queued it) and reconnects with backoff when a server goes
away. Thin: every message goes to services.comfyui_events. Polling /history stays the
source of truth, so stopping this process only loses live progress detail. A large farm
can split its servers between listeners with --server, each server in exactly one: ComfyUI
sends a client id's messages to its newest socket only, so two listeners on one server
would take them from each other.
"""

from __future__ import annotations

import json
import logging
import threading

from django.core.management.base import BaseCommand, CommandError

from generation.comfyui_listener import listen_forever, listener_servers

logger = logging.getLogger("generation.jobs")


class Command(BaseCommand):
    help = "Forward ComfyUI websocket progress to generation jobs (one listener per server)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--server", action="append", help="listen to these servers of COMFYUI_URLS only"
        )

    def handle(self, *args, server=None, **options):
        try:
            servers = listener_servers(server)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if not servers:
            self.stdout.write("COMFYUI_URLS is empty: nothing to listen to.")
            return
        stop = threading.Event()
        threads = [
            threading.Thread(target=listen_forever, args=(url, stop), daemon=True, name=url)
            for url in servers
        ]
        for thread in threads:
            thread.start()
        self.stdout.write(json.dumps({"listening": servers}))
        try:
            while any(t.is_alive() for t in threads):
                for thread in threads:
                    thread.join(timeout=1.0)
        except KeyboardInterrupt:
            stop.set()
