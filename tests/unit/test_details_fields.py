"""The Details drawer's facts: units for bit rates and seconds, values in words (never a
Python repr), a generated clip's settings as labelled fields, its input images by name."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from media_library import services, tasks
from media_library.models import MediaItem
from media_library.templatetags.media_tags import (
    generation_facts,
    media_bitrate,
    media_label,
    media_seconds,
    media_value,
    other_facts,
    probe_facts,
)
from media_library.testing import make_image_bytes, make_video


@pytest.mark.parametrize(
    ("bits", "text"),
    [
        (850_000, "850 kb/s"),
        (4_200_000, "4.2 Mb/s"),
        (4_249_999, "4.2 Mb/s"),
        (999_999, "1000 kb/s"),
        (1_000_000, "1.0 Mb/s"),
        (128_000, "128 kb/s"),
        (640, "640 b/s"),
        (250_000_000, "250 Mb/s"),
        ("850000", "850 kb/s"),
        (None, ""),
        ("fast", ""),
        (-5, ""),
    ],
)
def test_bit_rate_in_readable_units(bits, text):
    assert media_bitrate(bits) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (5, "5 s"),
        (2.5, "2.5 s"),
        (42.0, "42 s"),
        (0, "0 s"),
        (60, "1 min"),
        (95, "1 min 35 s"),
        (3725, "1 h 2 min"),
        ("6", "6 s"),
        (None, ""),
        ("soon", ""),
    ],
)
def test_seconds_with_their_unit(seconds, text):
    assert media_seconds(seconds) == text


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("pixel_format", "Pixel format"),
        ("bit_rate", "Bit rate"),
        ("aspect_ratio", "Aspect"),
        ("image_id", "Start image"),
        ("end_image_id", "End image"),
        ("guidance_scale", "Guidance scale"),
        ("start_s", "Start"),
        ("processing_ms", "Processing"),
    ],
)
def test_labels_are_humanised(key, label):
    assert media_label(key) == label


def test_values_in_words_never_a_repr():
    assert media_value(True) == "Yes" and media_value(False) == "No"
    assert media_value(None) == "—" and media_value("") == "—"
    assert media_value(1234567) == "1,234,567"
    assert media_value([1, "two"]) == "1, two"
    nested = media_value({"motion_strength": 0.5, "camera": {"pan_left": True}})
    assert nested == "Motion strength: 0.5; Camera: Pan left: Yes"
    assert "{" not in nested and "'" not in nested


def test_milliseconds_keep_their_unit():
    facts = other_facts({"processing_ms": {"probe": 33.0, "filmstrip": 1520}}, generated=False)
    assert [(f.label, f.text) for f in facts] == [("Processing", "Probe: 33 ms; Filmstrip: 1.5 s")]


def test_probe_facts_format_bit_rate_and_seconds():
    facts = probe_facts({"format": "mov,mp4", "bit_rate": 4_200_000, "start_s": 0.5})
    assert [(f.label, f.text) for f in facts] == [
        ("Format", "mov,mp4"),
        ("Bit rate", "4.2 Mb/s"),
        ("Start", "0.5 s"),
    ]


FULL_METADATA = {
    "job_id": 42,
    "prompt": "A fox in snow",
    "negative_prompt": "blur, text",
    "model": "kling-2.1-master",
    "model_name": "Kling 2.1 Master",
    "provider": "fal",
    "params": {
        "prompt": "A fox in snow",
        "duration": 5,
        "resolution": "1080p",
        "aspect_ratio": "16:9",
        "seed": 1234,
        "audio": False,
        "image_id": 7,
        "end_image_id": 8,
        "cfg_scale": 0.5,
        "extras": {"motion": "high"},
    },
    "estimated_cost": "0.25",
    "cost": "0.25",
    "currency": "USD",
    "took_s": 42,
    "provider_request_id": "req-abc",
}


def test_generation_facts_are_labelled_fields():
    class Image:
        title = "first frame.png"

    facts = generation_facts(FULL_METADATA, images={7: Image()})
    pairs = [(f.label, f.text) for f in facts]
    assert pairs == [
        ("Model", "Kling 2.1 Master"),
        ("Prompt", "A fox in snow"),
        ("Negative prompt", "blur, text"),
        ("Duration", "5 s"),
        ("Resolution", "1080p"),
        ("Aspect", "16:9"),
        ("Seed", "1234"),
        ("Sound", "Off"),
        ("Start image", "first frame.png"),
        ("End image", "media 8 (deleted)"),
        ("Cfg scale", "0.5"),
        ("Extras", "Motion: high"),
        ("Cost", "$0.25"),
        ("Provider", "fal.ai"),
        ("Took", "42 s"),
        ("Job", "#42"),
    ]
    assert facts[8].item is not None and facts[9].item is None
    # What the settings show is not repeated below; the rest is, labelled.
    rest = [(f.label, f.text) for f in other_facts(FULL_METADATA, generated=True)]
    assert rest == [("Provider request", "req-abc")]


def test_older_generated_items_show_what_they_hold():
    facts = generation_facts({"model": "veo-3", "cost_usd": 1.25})
    assert [(f.label, f.text) for f in facts] == [
        ("Model", "veo-3"),
        ("Prompt", "—"),
        ("Cost", "$1.25"),
    ]
    # An estimate differing from the actual cost is shown as well.
    facts = generation_facts({"cost": "0.0315", "estimated_cost": "0.05"})
    assert ("Estimated cost", "$0.05") in [(f.label, f.text) for f in facts]


@pytest.mark.django_db
@pytest.mark.usefixtures("media_root")
def test_drawer_of_a_generated_clip_has_labelled_fields_and_no_dict(
    client, user, other_user, tmp_path, monkeypatch
):
    monkeypatch.setattr("project.live.broadcast", lambda uid, html: True)
    monkeypatch.setattr(tasks.process_media, "delay", lambda media_id: None)
    still = services.media_create_from_file(
        owner=user, path_or_file=_png(tmp_path), title="first frame.png", source="upload"
    )
    foreign = services.media_create_from_file(
        owner=other_user, path_or_file=_png(tmp_path), title="not yours.png", source="upload"
    )
    path = make_video(tmp_path / "clip.mp4", seconds=1, width=320, height=180)
    metadata = {**FULL_METADATA, "params": {**FULL_METADATA["params"], "image_id": still.pk}}
    metadata["params"]["end_image_id"] = foreign.pk
    item = services.media_create_from_file(
        owner=user, path_or_file=path, title="fox", source="generated", metadata=metadata
    )
    services.media_process(media_id=item.pk)
    client.force_login(user)

    html = client.get(reverse("media_library:details", args=[item.pk])).content.decode()

    dl = " ".join(re.findall(r"<dl.*?</dl>", html, flags=re.S))
    assert "{" not in dl and "&#x27;" not in dl
    for label, value in [
        ("Model", "Kling 2.1 Master"),
        ("Duration", "5 s"),
        ("Aspect", "16:9"),
        ("Cost", "$0.25"),
        ("Took", "42 s"),
        ("Provider", "fal.ai"),
        ("Start image", "first frame.png"),
    ]:
        assert re.search(rf"<dt>{label}</dt>\s*<dd[^>]*>.*?{re.escape(value)}", dl, re.S), label
    # The other user's image is not named (owner-scoped lookup), only its id.
    assert "not yours" not in html and f"media {foreign.pk} (deleted)" in html
    bit_rate = MediaItem.objects.get(pk=item.pk).metadata["probe"]["bit_rate"]
    assert media_bitrate(bit_rate) in dl and f"<dd>{bit_rate}</dd>" not in dl


def _png(tmp_path):
    path = tmp_path / f"still-{len(list(tmp_path.iterdir()))}.png"
    path.write_bytes(make_image_bytes("PNG", size=(64, 64)))
    return path
