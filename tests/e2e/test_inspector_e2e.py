"""The inspector in Chromium against a real web server and worker: select a clip, set its
fade from black by typing and its fade to black with the arrow keys (one stored edit per
burst), see a refused fade's sentence by the field with nothing changed, set an audio
clip's volume and undo it, and the preview showing the fade as the export will (the
picture's opacity over black, the sound's gain)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from editor import services
from editor.models import Clip, EditOperation
from tests.e2e.test_editor_e2e import poll, ready_media

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = "/tmp/shots/h9"


def stored(clip: Clip) -> tuple[float, float, float]:
    clip.refresh_from_db()
    return (clip.fade_in_s, clip.fade_out_s, clip.volume)


def test_inspector_sets_fades_and_volume_and_the_preview_follows(
    page, daphne_server, celery_worker, make_user, login, tmp_path
):
    user = make_user("inspector")
    item = ready_media(user, tmp_path, "Dawn", seconds=3.0, audio=True)
    timeline = services.timeline_create(owner=user, name="Fades")
    v1 = timeline.tracks.get(kind="video")
    video, audio = services.clip_add(timeline=timeline, media_item=item, start_s=0, track=v1)

    login(page, daphne_server.url, "inspector")
    inspector = page.get_by_role("region", name="Clip inspector")
    expect(inspector).to_contain_text("Select a clip")
    page.locator(f"#clip-{video.pk}").click()
    expect(inspector).to_contain_text("Dawn · picture")
    expect(inspector.locator("[data-insp-audio]")).to_be_hidden()

    fade_in = inspector.get_by_label("Fade from black")
    fade_in.fill("1")
    fade_in.press("Enter")
    poll(lambda: stored(video)[0] == 1.0, what="fade in stored")
    expect(page.locator(f"#clip-{video.pk}")).to_have_attribute("data-fade-in", "1.000")
    expect(page.locator(f"#clip-{video.pk} .tl-level polyline")).to_have_attribute(
        "points", "0,100 1000,8 3000,8 3000,8"
    )

    # Three nudges in a burst are one stored edit.
    ops = EditOperation.objects.filter(timeline=timeline).count()
    fade_out = inspector.get_by_label("Fade to black")
    fade_out.focus()
    for _ in range(3):
        fade_out.press("ArrowUp")
    expect(fade_out).to_have_value("0.3")
    poll(lambda: stored(video)[1] == 0.3, what="nudged fade out stored")
    assert EditOperation.objects.filter(timeline=timeline).count() == ops + 1

    # Refused: the sentence by the field, nothing stored, the stored value shown again.
    fade_out.fill("2.5")
    fade_out.press("Enter")
    expect(inspector.get_by_role("alert")).to_have_text(
        "The fade in and fade out together can't be longer than the clip (3.00 s)."
    )
    expect(fade_out).to_have_value("0.3")
    fade_out.fill("soon")
    fade_out.press("Enter")
    expect(inspector.get_by_role("alert")).to_have_text("The fade out must be a number of seconds.")
    assert stored(video) == (1.0, 0.3, 1.0)

    # The preview at 0.5 s (frame 15 of a 30-frame fade at 30 fps) shows half the picture.
    page.keyboard.press("Escape")  # leaves the field
    page.locator("#timeline-region .tl-ruler-corner").click()
    page.keyboard.press("Escape")  # clears the selection: arrows now move the playhead
    for _ in range(15):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#preview-stage .is-active")).to_have_css("opacity", "0.5")
    for _ in range(30):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#preview-stage .is-active")).to_have_css("opacity", "1")

    # The audio clip: volume in %, undone with the keyboard.
    page.locator(f"#clip-{audio.pk}").click()
    expect(inspector).to_contain_text("Dawn · sound")
    volume = inspector.get_by_label("Volume")
    expect(volume).to_have_value("100")
    volume.fill("150")
    volume.press("Enter")
    poll(lambda: stored(audio)[2] == 1.5, what="volume stored")
    expect(volume).to_have_value("150")
    level = page.locator(f"#clip-{audio.pk} .tl-level polyline")
    expect(level).to_have_attribute("points", "0,25 0,25 3000,25 3000,25")
    # Playing: the audio track's element is heard at 150 % (a Web Audio gain).
    page.locator("#timeline-region .tl-ruler-corner").click()
    page.keyboard.press("Space")
    expect(page.locator("#preview-stage audio")).to_have_attribute("data-gain", "1.500")
    page.keyboard.press("k")
    page.locator(f"#clip-{audio.pk}").click()
    volume.fill("250")
    volume.press("Enter")
    expect(inspector.get_by_role("alert")).to_have_text("Volume must be between 0 and 200 %.")
    assert stored(audio)[2] == 1.5

    for size in [(1440, 900), (1024, 768), (390, 844)]:
        page.set_viewport_size({"width": size[0], "height": size[1]})
        inspector.scroll_into_view_if_needed()
        page.screenshot(path=f"{SHOTS}/inspector-{size[0]}x{size[1]}.png")
    page.set_viewport_size({"width": 1440, "height": 900})

    page.locator(f"#clip-{audio.pk}").click()
    page.keyboard.press("Control+z")
    poll(lambda: stored(audio)[2] == 1.0, what="volume undone")
    expect(volume).to_have_value("100")
