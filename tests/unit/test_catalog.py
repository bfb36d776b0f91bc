from generation import catalog
from generation.catalog import dimensions


def test_required_models_exist_with_their_ids():
    ids = {m.id for m in catalog.all_models()}
    assert {
        "local",
        "hailuo",
        "hailuo-pro",
        "kling-2.1-master",
        "kling-2.1-standard-i2v",
        "kling-2.1-pro-i2v",
        "veo3",
        "veo3-fast",
        "wan-2.2",
        "ltx-13b-distilled",
        "seedance-1-pro",
        "seedance-1-lite",
        "pika-2.2",
        "luma-ray-2-flash",
    } <= ids
    assert any(m.provider == "replicate" for m in catalog.all_models())
    hailuo = catalog.get("hailuo")
    assert hailuo.endpoint == "fal-ai/minimax/hailuo-02/standard/text-to-video"
    assert hailuo.durations == (6, 10) and hailuo.resolutions == ("768P",)


def test_every_entry_is_complete():
    for spec in catalog.all_models():
        assert spec.provider in ("fal", "replicate", "local")
        assert spec.kind in catalog.KINDS
        assert spec.durations and spec.resolutions
        assert spec.price_date and spec.price_source and spec.price_note
        assert spec.typical_run_s > 0 and spec.time_limit_s > spec.typical_run_s
        if spec.kind == catalog.IMAGE_TO_VIDEO:
            assert spec.image_field


def test_availability_follows_keys(settings):
    settings.FAL_KEY = ""
    settings.REPLICATE_API_TOKEN = ""
    assert catalog.available("local") == (True, "")
    ok, reason = catalog.available("hailuo")
    assert not ok and "FAL_KEY" in reason
    ok, reason = catalog.available("replicate-minimax-video-01")
    assert not ok and "REPLICATE_API_TOKEN" in reason
    assert catalog.default_model_id() == "local"
    settings.REPLICATE_API_TOKEN = "r8_x"
    assert catalog.default_model_id() == "replicate-minimax-video-01"
    settings.FAL_KEY = "k"
    assert catalog.available("veo3") == (True, "")
    assert catalog.default_model_id() == "hailuo"


def test_dimensions():
    assert dimensions("720p", "16:9") == (1280, 720)
    assert dimensions("720p", "9:16") == (720, 1280)
    assert dimensions("1080p", "1:1") == (1080, 1080)
    assert dimensions("480p", "4:3") == (640, 480)
    assert dimensions("768P", "16:9") == (1366, 768)
