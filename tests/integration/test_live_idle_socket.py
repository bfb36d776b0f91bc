"""A websocket that has been idle longer than the channel layer's blocking read (5 s)
still receives pushes: redis-py 8's default 5 s socket timeout used to kill the
consumer at the first idle BZPOPMIN, so a tab silently missed updates until it
reconnected."""

from __future__ import annotations

import pytest

from project.live import broadcast
from tests.harness.processes import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_idle_socket_still_receives_pushes(user, daphne_server, socket_client):
    tab = socket_client(daphne_server.url, user)
    assert broadcast(user.pk, '<p id="first">first</p>')
    tab.wait_for_text("first")
    # Idle across two of channels-redis's 5 s BZPOPMIN rounds. The wait is the condition
    # under test (idleness), not a synchronisation; the log offset proves nothing crashed.
    log_start = daphne_server.log_path.stat().st_size
    with pytest.raises(TimeoutError):
        wait_until(lambda: len(tab.messages) > 1, timeout=12, what="(nothing: idle)")
    assert broadcast(user.pk, '<p id="second">second</p>')
    tab.wait_for_text("second", timeout=5)
    log = daphne_server.log_path.read_text(errors="replace")[log_start:]
    assert "Timeout reading from" not in log and "WSDISCONNECT" not in log
