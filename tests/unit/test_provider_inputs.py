"""How normalised params are spelled for each provider (catalog data -> request body)."""

import pytest

from generation import catalog
from generation.providers.base import ErrorCode, ProviderError, SubmitRequest
from generation.providers.inputs import build_input
from generation.validation import normalize


def body(model_id, params, **extra):
    spec = catalog.get(model_id)
    p = normalize(model_id, {"prompt": "p", **params})
    return build_input(
        SubmitRequest(
            job_id=1, model_id=model_id, endpoint=spec.endpoint, prompt="p", params=p, **extra
        )
    )


def test_inputs_per_model():
    assert body("hailuo", {"duration": 10}) == {
        "prompt": "p",
        "prompt_optimizer": True,
        "duration": "10",
    }
    assert body("veo3", {"duration": 6, "audio": False, "seed": 3, "negative_prompt": "blur"}) == {
        "prompt": "p",
        "duration": "6s",
        "resolution": "720p",
        "aspect_ratio": "16:9",
        "generate_audio": False,
        "seed": 3,
        "negative_prompt": "blur",
    }
    assert body("wan-2.2", {"resolution": "580p"})["num_frames"] == 81
    assert "duration" not in body("wan-2.2", {})
    assert body("pika-2.2", {})["duration"] == 5
    assert (
        body("kling-2.1-pro-i2v", {}, images={"start": "https://x/i.png"})["image_url"]
        == "https://x/i.png"
    )
    # Each model spells its frames its own way (Kling 2.6: start_/end_image_url, Kling
    # 2.1 Pro: tail_image_url, Veo 3.1: first_/last_frame_url).
    frames = {"start": "https://x/a.png", "end": "https://x/b.png"}
    kling26 = body("kling-2.6-pro-i2v", {}, images=frames)
    assert (kling26["start_image_url"], kling26["end_image_url"]) == (
        frames["start"],
        frames["end"],
    )
    assert body("kling-2.1-pro-i2v", {}, images=frames)["tail_image_url"] == frames["end"]
    veo = body("veo3.1-flf", {}, images=frames)
    assert (veo["first_frame_url"], veo["last_frame_url"]) == (frames["start"], frames["end"])


def test_first_last_frame_model_without_its_last_frame_is_refused():
    with pytest.raises(ProviderError) as caught:
        body("veo3.1-flf", {}, images={"start": "https://x/a.png"})
    assert caught.value.code == ErrorCode.INVALID_INPUT and not caught.value.retryable


def test_image_model_without_image_url_is_refused():
    with pytest.raises(ProviderError) as caught:
        body("kling-2.1-pro-i2v", {})
    assert caught.value.code == ErrorCode.INVALID_INPUT and not caught.value.retryable
