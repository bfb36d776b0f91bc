"""Every validation message, and the cleaning every entry point shares."""

import pytest

from generation.validation import clean_text, normalize, validate


def test_clean_text_strips_controls_and_invisible_characters():
    assert clean_text("  a\x00b\u202ec\u200bd\r\n\r\n\r\n\r\ne\t f  ") == "abcd\n\ne f"
    assert clean_text(None) == ""
    assert clean_text("abcdef", 3) == "abc"


def test_valid_request_has_no_errors():
    assert validate("hailuo", {"prompt": "a calm ocean", "duration": "6"}) == {}
    assert (
        validate(
            "veo3",
            {"prompt": "x", "duration": "8s", "resolution": "1080P", "audio": "on", "seed": "12"},
        )
        == {}
    )


def test_normalize_fills_defaults_and_canonical_forms():
    p = normalize("veo3", {"prompt": " hi ", "duration": "6s", "resolution": "1080P", "seed": "7"})
    assert p["prompt"] == "hi" and p["duration"] == 6 and p["resolution"] == "1080p"
    assert p["aspect_ratio"] == "16:9" and p["audio"] is True and p["seed"] == 7
    p = normalize("hailuo", {"prompt": "x", "seed": 5})
    assert p["duration"] == 6 and p["resolution"] == "768P" and p["audio"] is False
    assert p["seed"] is None  # Hailuo takes no seed


@pytest.mark.parametrize(
    ("model_id", "params", "field", "message"),
    [
        ("nope", {"prompt": "x"}, "model", "Unknown model “nope”. Choose one from the list."),
        ("hailuo", {"prompt": " \x00\u200b "}, "prompt", "Write a prompt describing the video."),
        (
            "hailuo",
            {"prompt": "a" * 2001},
            "prompt",
            "The prompt is 2,001 characters long; MiniMax Hailuo-02 Standard takes at most 2,000. Shorten it.",
        ),
        (
            "hailuo",
            {"prompt": "x", "duration": 5},
            "duration",
            "MiniMax Hailuo-02 Standard makes 6 s or 10 s clips, not 5 s.",
        ),
        (
            "hailuo-pro",
            {"prompt": "x", "duration": 10},
            "duration",
            "MiniMax Hailuo-02 Pro (1080P) makes 6 s clips only, not 10 s.",
        ),
        (
            "hailuo",
            {"prompt": "x", "duration": "six"},
            "duration",
            "Duration must be a whole number of seconds: 6 s or 10 s.",
        ),
        (
            "veo3",
            {"prompt": "x", "resolution": "4k"},
            "resolution",
            "Google Veo 3 offers 720p or 1080p, not 4k.",
        ),
        (
            "kling-2.1-master",
            {"prompt": "x", "aspect_ratio": "4:3"},
            "aspect_ratio",
            "Kling 2.1 Master offers the aspect ratios 16:9, 9:16 or 1:1, not 4:3.",
        ),
        (
            "kling-2.1-pro-i2v",
            {"prompt": "x", "image_id": 1, "aspect_ratio": "4:3"},
            "aspect_ratio",
            "Kling 2.1 Pro (image to video) keeps the shape of your image; leave the aspect ratio empty.",
        ),
        (
            "hailuo",
            {"prompt": "x", "audio": True},
            "audio",
            "MiniMax Hailuo-02 Standard makes silent video; turn sound off.",
        ),
        ("veo3", {"prompt": "x", "audio": "maybe"}, "audio", "Sound must be on or off."),
        (
            "veo3",
            {"prompt": "x", "seed": -1},
            "seed",
            "The seed must be a whole number from 0 to 4294967295, or empty for a random one.",
        ),
        (
            "veo3",
            {"prompt": "x", "seed": "abc"},
            "seed",
            "The seed must be a whole number from 0 to 4294967295, or empty for a random one.",
        ),
        (
            "hailuo",
            {"prompt": "x", "negative_prompt": "blur"},
            "negative_prompt",
            "MiniMax Hailuo-02 Standard does not take a negative prompt; leave it empty.",
        ),
        (
            "veo3",
            {"prompt": "x", "negative_prompt": "b" * 20001},
            "negative_prompt",
            "The negative prompt is 20,001 characters long; at most 20,000 are allowed.",
        ),
        (
            "kling-2.1-standard-i2v",
            {"prompt": "x"},
            "image",
            "Kling 2.1 Standard (image to video) animates a still image: choose one of your images.",
        ),
        (
            "hailuo",
            {"prompt": "x", "image_id": 3},
            "image",
            "MiniMax Hailuo-02 Standard makes video from text only; remove the image or choose an image-to-video model.",
        ),
        (
            "kling-2.1-standard-i2v",
            {"prompt": "x", "image_id": "abc"},
            "image",
            "That image is not one of your ready images.",
        ),
    ],
)
def test_messages(model_id, params, field, message):
    errors = validate(model_id, params)
    assert errors.get(field) == message, errors


@pytest.mark.django_db
def test_image_must_be_an_owned_ready_image(django_user_model):
    from django.core.files.base import ContentFile

    from media_library.models import MediaItem

    alice = django_user_model.objects.create_user("alice", password="pw-alice-123456")
    bob = django_user_model.objects.create_user("bob", password="pw-bob-12345678")

    def item(owner, kind="image", status="ready"):
        media = MediaItem(owner=owner, kind=kind, title="t", status=status)
        media.file.save("t.png", ContentFile(b"x"), save=True)
        return media

    mine, theirs = item(alice), item(bob)
    processing, video = item(alice, status="processing"), item(alice, kind="video")
    params = {"prompt": "x", "duration": 5}
    assert validate("kling-2.1-pro-i2v", {**params, "image_id": mine.pk}, owner=alice) == {}
    for other in (theirs, processing, video):
        errors = validate("kling-2.1-pro-i2v", {**params, "image_id": other.pk}, owner=alice)
        assert errors == {"image": "That image is not one of your ready images."}
