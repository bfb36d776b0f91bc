"""The live websocket: auth, origin check, per-user groups — on the real Redis layer."""

import pytest

from project.live import broadcast

pytestmark = pytest.mark.django_db(transaction=True)


def test_anonymous_connection_is_refused(live_client):
    client = live_client(None)
    assert client.connected is False


def test_foreign_origin_is_refused(live_client, user):
    client = live_client(user, origin="http://evil.example")
    assert client.connected is False


def test_each_user_receives_only_their_own_broadcasts(live_client, user, other_user):
    alice = live_client(user)
    mallory = live_client(other_user)
    assert alice.connected and mallory.connected

    assert broadcast(user.id, '<div id="x" hx-swap-oob="true">for-alice</div>')
    assert broadcast(other_user.id, '<div id="x" hx-swap-oob="true">for-mallory</div>')

    alice.wait_for_text("for-alice")
    mallory.wait_for_text("for-mallory")
    assert not any("for-mallory" in m for m in alice.messages)
    assert not any("for-alice" in m for m in mallory.messages)


def test_broadcast_reaches_every_open_tab_of_the_user(live_client, user):
    tabs = [live_client(user) for _ in range(3)]
    broadcast(
        user.id, ["<p id='a' hx-swap-oob='true'>one</p>", "<p id='b' hx-swap-oob='true'>two</p>"]
    )
    for tab in tabs:
        message = tab.wait_for_text("two")
        assert "one" in message


def test_broadcast_survives_repeated_sync_calls_from_fresh_threads(live_client, user):
    """The 'Event loop is closed' trap: many sync calls, each from a new thread."""
    import threading

    tab = live_client(user)
    results = []
    for i in range(5):
        t = threading.Thread(target=lambda i=i: results.append(broadcast(user.id, f"<i>n{i}</i>")))
        t.start()
        t.join()
    assert results == [True] * 5
    for i in range(5):
        tab.wait_for_text(f"n{i}")


def test_broadcast_without_redis_reports_failure_instead_of_raising(settings, user):
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    channel_layers.backends.clear()
    try:
        assert broadcast(user.id, "<i>lost</i>") is False
    finally:
        channel_layers.backends.clear()


@pytest.mark.django_db(transaction=True)
def test_a_push_that_fails_to_render_after_commit_never_stops_the_hooks_after_it(monkeypatch):
    """The next step of a job is enqueued by a commit hook registered after the job card's
    push: a push whose rendering raises (its connection lost right after COMMIT) must not
    raise out of the commit and skip it."""
    from django.db import OperationalError, transaction

    from project import live

    sent, later = [], []
    monkeypatch.setattr(live, "broadcast", lambda user_id, html: sent.append((user_id, html)))

    def lost_connection() -> str:
        raise OperationalError("server closed the connection unexpectedly")

    with transaction.atomic():
        live.broadcast_on_commit(1, lost_connection)
        live.broadcast_on_commit(2, lambda: "<div id='x'></div>")
        transaction.on_commit(lambda: later.append("next poll enqueued"))
    assert later == ["next poll enqueued"]
    assert sent == [(2, "<div id='x'></div>")]
