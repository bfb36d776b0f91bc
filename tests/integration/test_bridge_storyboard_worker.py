"""Bridge two shots and storyboards with a real Celery worker. Bridge, with the strict fal
emulator: both frames (A's at its out point, B's at its in point) reach the provider, and
B ripples by the delivered length when the slot fills. Storyboard, with the offline
`local` renderer and a concurrency limit of 2 (in the worker too): three shots fill their
slots in order on a new track, the third started by the worker when a place freed up.
One module, one worker restart for both."""

from __future__ import annotations

import io

import pytest

from editor import services
from editor.models import Clip, Slot, Track
from editor.services import slots
from editor.services import storyboards as boards
from media_library.models import MediaItem
from tests.integration.workers import wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.pipeline(fal_polls=(1, 1), GENERATION_MAX_CONCURRENT="2"),
    pytest.mark.usefixtures("pipeline_settings"),
]


def test_bridge_sends_both_frames_and_b_ripples_by_the_delivered_length(user, fal, tmp_path):
    import av
    from PIL import Image, ImageChops, ImageStat

    from media_library.services import media_create_from_file
    from media_library.testing import make_video

    timeline = services.timeline_create(owner=user, name="Bridge")
    v1 = timeline.tracks.get(kind=Track.Kind.VIDEO)
    path = make_video(tmp_path / "harbour.mp4", seconds=3.0, width=320, height=180, fps=24)
    item = media_create_from_file(
        owner=user, path_or_file=str(path), title="Harbour", source=MediaItem.Source.UPLOAD
    )
    wait_for(
        lambda: MediaItem.objects.get(pk=item.pk).status == MediaItem.Status.READY,
        timeout=60,
        what="the clip processed",
    )
    item.refresh_from_db()
    (a,) = services.clip_add(timeline=timeline, media_item=item, start_s=0, track=v1, out_s=2.0)
    (b,) = services.clip_add(
        timeline=timeline, media_item=item, start_s=2.0, track=v1, in_s=0.5, out_s=1.5
    )
    slot = slots.slot_create(
        timeline=timeline,
        user=user,
        model_id="veo3.1-fast-flf",
        params={"prompt": "the tide turns the boat around", "duration": 4},
        after_clip=a,
        bridge_to=b,
    )
    b.refresh_from_db()
    assert (slot.start_s, b.start_s) == (2.0, 6.0)

    def filled():
        return Slot.objects.get(pk=slot.pk).filled

    wait_for(filled, timeout=60, what="the bridge slot filled")
    slot.refresh_from_db()

    with av.open(str(path)) as container:
        decoded = [f.to_image() for f in container.decode(video=0)]

    def diff(x, y):
        return sum(ImageStat.Stat(ImageChops.difference(x, y.resize(x.size))).mean) / 3

    # What the provider's runner downloaded for each input field.
    (record,) = fal.records.values()
    assert record.endpoint == "fal-ai/veo3.1/fast/first-last-frame-to-video"
    first = Image.open(io.BytesIO(record.fetched["first_frame_url"])).convert("RGB")
    last = Image.open(io.BytesIO(record.fetched["last_frame_url"])).convert("RGB")
    # A's out point 2.0 s at 24 fps: frame 47 is the last shown; B's in point 0.5 s: frame 12.
    assert diff(first, decoded[47]) < 2.0 and diff(first, decoded[48]) > 2.0
    assert diff(last, decoded[12]) < 2.0 and diff(last, decoded[11]) > 2.0

    clip = Clip.objects.get(pk=slot.clip_id)
    b.refresh_from_db()
    assert clip.start_s == 2.0
    assert b.start_s == pytest.approx(2.0 + clip.media_item.duration_s, abs=0.001)


def test_a_storyboard_of_three_fills_its_slots_in_order_on_a_new_track(user):
    timeline = services.timeline_create(owner=user, name="Board")
    before = set(timeline.tracks.values_list("pk", flat=True))
    shots = [
        boards.ShotIn(prompt=f"shot {i} of the harbour", model_id="local", duration=2)
        for i in (1, 2, 3)
    ]
    board = boards.storyboard_start(timeline=timeline, user=user, shots=shots)
    assert board.track_id not in before
    # The limit of 2: the third waits for a place.
    states = list(board.shots.order_by("position").values_list("state", flat=True))
    assert states == ["started", "started", "waiting"]

    def all_filled():
        return Slot.objects.filter(track_id=board.track_id, filled=True).count() == 3

    wait_for(all_filled, timeout=90, what="the storyboard's three slots filled")
    placed = list(
        Clip.objects.filter(track_id=board.track_id)
        .select_related("media_item")
        .order_by("start_s")
    )
    prompts = [Slot.objects.get(clip_id=c.pk).storyboard_shot.prompt for c in placed]
    assert prompts == [s.prompt for s in shots]  # in order
    ends = [c.end_s for c in placed]
    assert [c.start_s for c in placed] == [0.0, ends[0], ends[1]]  # end to end
    assert set(board.shots.values_list("state", flat=True)) == {"started"}
