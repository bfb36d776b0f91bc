"""Every price rule pinned to the provider's published figure."""

from decimal import Decimal

import pytest

from generation import catalog
from generation.pricing import estimate_cost, is_expensive, quote_for


@pytest.mark.parametrize(
    ("model_id", "params", "usd"),
    [
        # per second
        ("hailuo", {"duration": 6}, "0.27"),  # 6 × $0.045
        ("hailuo", {"duration": "10"}, "0.45"),
        ("hailuo-pro", {}, "0.48"),  # 6 × $0.08
        # per second, by audio (Veo 3: $0.20 off / $0.40 on; Fast: $0.10 / $0.15)
        ("veo3", {"duration": 8, "audio": True}, "3.20"),
        ("veo3", {"duration": 8, "audio": False}, "1.60"),
        ("veo3", {"duration": "4s", "audio": "off", "resolution": "1080p"}, "0.80"),
        ("veo3-fast", {"duration": 4, "audio": True}, "0.60"),
        ("veo3-fast", {"duration": 6, "audio": False}, "0.60"),
        # per second of frames, by resolution (Wan 2.2: 81 frames / 16 = 5.0625 s billed)
        ("wan-2.2", {"resolution": "480p"}, "0.21"),
        ("wan-2.2", {"resolution": "580p"}, "0.31"),
        ("wan-2.2", {"resolution": "720p"}, "0.41"),
        # base + extra seconds (Kling: $1.40 per 5 s + $0.28 per extra second)
        ("kling-2.1-master", {"duration": 5}, "1.40"),
        ("kling-2.1-master", {"duration": 10}, "2.80"),
        ("kling-2.1-standard-i2v", {"duration": 10}, "0.56"),
        ("kling-2.1-pro-i2v", {"duration": 10}, "0.98"),
        # per video
        ("ltx-13b-distilled", {}, "0.04"),
        ("pika-2.2", {"resolution": "720p"}, "0.20"),
        ("pika-2.2", {"resolution": "1080p"}, "0.45"),
        ("luma-ray-2-flash", {"resolution": "540p", "duration": 5}, "0.20"),
        ("luma-ray-2-flash", {"resolution": "1080p", "duration": 9}, "1.60"),
        ("replicate-minimax-video-01", {}, "0.50"),
        # per token, on Seedance's 16-px grid: 1920×1088×24×5/1024 = 244 800 tokens × $2.50/M
        # = $0.612 -> $0.62 (fal: "roughly $0.62")
        ("seedance-1-pro", {"resolution": "1080p", "duration": 5, "aspect_ratio": "16:9"}, "0.62"),
        # 1280×720×24×5/1024 = 108 000 tokens × $1.80/M = $0.1944 -> $0.20
        ("seedance-1-lite", {"resolution": "720p", "duration": 5, "aspect_ratio": "16:9"}, "0.20"),
        ("seedance-1-lite", {"resolution": "720p", "duration": 10, "aspect_ratio": "9:16"}, "0.39"),
        ("local", {"duration": 10, "resolution": "1080p"}, "0.00"),
    ],
)
def test_price_rules(model_id, params, usd):
    assert estimate_cost(model_id, params) == Decimal(usd)


def test_token_rule_keeps_the_exact_figure_and_rounds_up():
    quote = quote_for("seedance-1-pro", {"resolution": "1080p", "duration": 5})
    assert quote.exact == Decimal("0.612")
    assert quote.usd == Decimal("0.62")
    assert "244800 tokens" in quote.formula


@pytest.mark.parametrize(
    ("model_id", "params", "formula"),
    [
        ("hailuo", {"duration": 6}, "6 s × $0.045/s = $0.27"),
        ("ltx-13b-distilled", {}, "$0.04 per video = $0.04"),
        ("kling-2.1-master", {"duration": 10}, "$1.40 for 5 s + 5 s × $0.28/s = $2.80"),
        ("veo3", {"duration": 8, "audio": True}, "8 s × $0.40/s = $3.20"),
        ("luma-ray-2-flash", {"duration": 9}, "$0.20 per video × 2 for 9 s = $0.40"),
    ],
)
def test_formula_strings(model_id, params, formula):
    assert catalog.price_formula(model_id, params) == formula


@pytest.mark.parametrize(
    ("model_id", "basis"),
    [
        ("hailuo", "$0.045/s"),
        ("ltx-13b-distilled", "$0.04 per video"),
        ("veo3", "$0.20/s ($0.40/s with audio)"),
        ("wan-2.2", "$0.04–$0.08/s of frames (16 fps)"),
        ("kling-2.1-master", "$1.40 per 5 s + $0.28/s beyond"),
        ("seedance-1-pro", "$2.50 per million video tokens"),
        ("local", "free"),
    ],
)
def test_price_basis(model_id, basis):
    assert catalog.price_basis(model_id) == basis


def test_settings_override_replaces_a_figure(settings):
    settings.GENERATION_PRICE_OVERRIDES = {
        "hailuo": {"usd_per_s": "0.05"},
        "luma-ray-2-flash": {"duration_multiplier": {"9": "1.5"}},
        "ltx-13b-distilled": {"no_such_field": 1},
    }
    assert estimate_cost("hailuo", {"duration": 10}) == Decimal("0.50")
    assert catalog.price_basis("hailuo") == "$0.05/s"
    assert estimate_cost("luma-ray-2-flash", {"duration": 9}) == Decimal("0.30")
    assert estimate_cost("ltx-13b-distilled", {}) == Decimal("0.04")  # unknown field ignored


def test_expensive_flag_uses_the_setting(settings):
    settings.EXPENSIVE_JOB_USD = Decimal("1.00")
    assert is_expensive("kling-2.1-master") is True  # $1.40 by default
    assert is_expensive("hailuo") is False
    assert is_expensive("hailuo", {"duration": 10}) is False
    assert is_expensive("veo3", {"duration": 4, "audio": False}) is False  # $0.80
    assert is_expensive("veo3", {"duration": 8, "audio": True}) is True
    settings.EXPENSIVE_JOB_USD = Decimal("0.25")
    assert is_expensive("hailuo") is True  # $0.27


def test_unreadable_duration_and_unknown_model_raise():
    with pytest.raises(ValueError):
        estimate_cost("hailuo", {"duration": "six"})
    with pytest.raises(KeyError):
        estimate_cost("nope", {})
