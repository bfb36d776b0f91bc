"""Bridge two shots in Chromium: with no first-and-last-frame model available (the
session's server has no provider key) B on two selected clips says so and changes
nothing; on a server with a fal key, right-clicking a clip followed by another offers
"Bridge to the next clip", and the dialog shows both frames extracted on the server and
only the models that take a first and a last frame, with their price. Nothing is
generated (no provider is reachable here: tests/integration covers the provider side).
Screenshots at three sizes go to /tmp/shots/<slot>/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from editor import services
from editor.models import Clip, Slot, Timeline
from tests.e2e.test_editor_e2e import ready_media
from tests.e2e.test_slots_e2e import poll, shoot
from tests.harness.processes import DaphneServer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def two_clips(user, tmp_path):
    timeline = Timeline.objects.get(owner=user)
    shot = ready_media(user, tmp_path, "Harbour", seconds=2.0)
    track = timeline.tracks.get(kind="video")
    (a,) = services.clip_add(timeline=timeline, media_item=shot, start_s=0.0, track=track)
    (b,) = services.clip_add(
        timeline=timeline, media_item=shot, start_s=a.end_s, track=track, in_s=0.5
    )
    return a, b


def test_bridge_without_a_model_says_so_and_changes_nothing(
    page, daphne_server, celery_worker, make_user, login, tmp_path
):
    user = make_user("bridger")
    login(page, daphne_server.url, "bridger")
    expect(page.locator(".tl-doc")).to_be_visible()
    a, b = two_clips(user, tmp_path)
    expect(page.locator(f"#clip-{b.pk}")).to_be_visible()
    page.locator(f"#clip-{a.pk}").click()
    page.locator(f"#clip-{b.pk}").click(modifiers=["Shift"])
    page.keyboard.press("b")
    expect(page.get_by_text("No model that takes a first and a last frame")).to_be_visible(
        timeout=20_000
    )
    assert not Slot.objects.exists()
    assert Clip.objects.get(pk=b.pk).start_s == b.start_s


def test_bridge_from_the_context_menu_shows_both_frames(
    page, process_env, celery_worker, make_user, login, tmp_path
):
    server = DaphneServer({**process_env, "FAL_KEY": "e2e-not-a-real-key"})
    server.start()
    try:
        user = make_user("bridge-menu")
        login(page, server.url, "bridge-menu")
        expect(page.locator(".tl-doc")).to_be_visible()
        a, b = two_clips(user, tmp_path)
        el = page.locator(f"#clip-{a.pk}")
        expect(page.locator(f"#clip-{b.pk}")).to_be_visible()
        el.click(button="right")
        item = page.get_by_role(
            "button", name="✦ Bridge to the next clip (a transition between them)"
        )
        expect(item).to_be_visible()
        item.click()
        dialog = page.locator("#slot-dialog")
        expect(dialog.get_by_role("heading", name="Bridge two shots")).to_be_visible(timeout=20_000)
        for name in (
            "The first frame: the end of the first clip",
            "The last frame: the start of the second clip",
        ):
            img = dialog.get_by_role("img", name=name)
            poll(lambda img=img: img.evaluate("i => i.naturalWidth") > 0, what=f"{name} loaded")
        models = dialog.locator("[data-slot-model] option")
        values = models.evaluate_all("os => os.map(o => o.value)")
        assert values and values[0].endswith("-flf")  # the purpose-made ones first
        assert "hailuo" not in values and "veo3.1-fast-i2v" not in values
        expect(dialog.locator("[data-slot-price]")).to_contain_text("Cost")
        shoot(page, "bridge-dialog")
        dialog.get_by_role("button", name="Cancel").click()
        expect(dialog).to_be_hidden()
        assert not Slot.objects.exists()
    finally:
        server.stop()
