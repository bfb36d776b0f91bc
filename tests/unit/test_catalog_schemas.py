"""Every hosted catalog entry against its provider's published schema and price.

The strict emulators refuse any request that breaks the published schema; these tests
check the same thing without a socket, for the full cartesian product of every option each
entry offers (the pipeline test sends each option value through the real pipeline).
"""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from generation import catalog
from generation.catalog import entries
from generation.pricing import BasePlusExtraSeconds, PerFrames, PerSecond, PerToken, PerVideo
from generation.providers.base import SubmitRequest
from generation.providers.inputs import build_input
from generation.validation import normalize, validate
from tests.emulators import strict

HOSTED = [m for m in catalog.all_models() if m.provider != "local"]


def option_grid(spec):
    """Every combination of the options the composer offers for this model."""
    audio = (True, False) if spec.audio_choice else (None,)
    aspects = spec.aspect_ratios or (None,)
    end = (
        (True, False)
        if spec.takes_end_image and not spec.needs_end_image
        else (spec.needs_end_image,)
    )
    for duration, resolution, aspect, sound, with_end in itertools.product(
        spec.durations, spec.resolutions, aspects, audio, end
    ):
        params = {"prompt": "a lighthouse at dusk", "duration": duration, "resolution": resolution}
        if aspect:
            params["aspect_ratio"] = aspect
        if sound is not None:
            params["audio"] = sound
        if spec.needs_image:
            params["image_id"] = 1
        if with_end:
            params["end_image_id"] = 2
        yield params


def request_for(spec, params) -> SubmitRequest:
    images = {}
    if params.get("image_id"):
        images["start"] = "https://v3.fal.media/files/start.png"
    if params.get("end_image_id"):
        images["end"] = "https://v3.fal.media/files/end.png"
    return SubmitRequest(
        job_id=1,
        model_id=spec.id,
        endpoint=spec.endpoint,
        prompt=params["prompt"],
        params=normalize(spec.id, params),
        images=images,
    )


@pytest.mark.parametrize("spec", HOSTED, ids=lambda s: s.id)
def test_every_option_of_every_model_matches_the_published_schema(spec):
    schema = strict.load(spec.provider, spec.endpoint)
    assert schema is not None, f"no published schema recorded for {spec.endpoint}"
    combos = 0
    for params in option_grid(spec):
        assert validate(spec.id, params) == {}, params
        body = build_input(request_for(spec, params))
        problems = strict.violations(schema, body)
        assert problems == [], f"{spec.id} {params}: {problems}"
        combos += 1
    assert combos >= 1


@pytest.mark.parametrize("spec", HOSTED, ids=lambda s: s.id)
def test_image_fields_are_ones_the_provider_fetches(spec):
    schema = strict.load(spec.provider, spec.endpoint)
    for name in (spec.image_field, spec.end_image_field):
        if name is not None:
            assert name in schema.image_inputs, f"{spec.id}: {name} is not an image input"
    if spec.needs_image and spec.image_field not in schema.required:
        # Cutroom asks for the still even where the provider would go without (Luma):
        # the entry is the image-to-video variant, and its text-to-video sibling exists.
        assert catalog.exists(spec.id.removesuffix("-i2v"))


def _figures(rule) -> dict[str, Decimal]:
    if isinstance(rule, PerSecond):
        out = {"usd_per_s": rule.usd_per_s}
        if rule.audio_usd_per_s is not None:
            out["audio_usd_per_s"] = rule.audio_usd_per_s
        out.update({f"by_resolution.{k}": v for k, v in rule.by_resolution.items()})
        out.update({f"audio_by_resolution.{k}": v for k, v in rule.audio_by_resolution.items()})
        return out
    if isinstance(rule, PerVideo):
        return {"usd": rule.usd, **{f"by_resolution.{k}": v for k, v in rule.by_resolution.items()}}
    if isinstance(rule, BasePlusExtraSeconds):
        return {"base_usd": rule.base_usd, "extra_usd_per_s": rule.extra_usd_per_s}
    if isinstance(rule, PerToken):
        out = {"usd_per_million": rule.usd_per_million}
        if rule.audio_usd_per_million is not None:
            out["audio_usd_per_million"] = rule.audio_usd_per_million
        return out
    if isinstance(rule, PerFrames):
        return {f"by_resolution.{k}": v for k, v in rule.by_resolution.items()}
    raise AssertionError(f"unknown rule {rule!r}")


def _recorded(rule: dict, key: str):
    if "." in key:
        group, name = key.split(".", 1)
        value = (rule.get(group) or {}).get(name)
    else:
        value = rule.get(key)
    return None if value is None else Decimal(str(value))


@pytest.mark.parametrize("spec", HOSTED, ids=lambda s: s.id)
def test_catalog_price_is_the_recorded_published_price(spec):
    """Each figure equals the one recorded (with its evidence) beside the schema — or,
    where the endpoint's own price was not published, the entry says it uses a sibling's."""
    schema = strict.load(spec.provider, spec.endpoint)
    rule = schema.price.get("rule") or {}
    if rule.get("kind") in (None, "other") or schema.price.get("verified") is False:
        assert spec.price_note != entries.VERIFIED, (
            f"{spec.id}: this endpoint's own page gave no price; price_note must say whence"
        )
    if rule.get("kind") in (None, "other"):
        return
    for key, value in _figures(spec.price).items():
        recorded = _recorded(rule, key)
        if recorded is not None:
            assert value == recorded, f"{spec.id} {key}: catalog {value}, published {recorded}"


@pytest.mark.parametrize(
    "model_id, params, usd",
    [
        # The two Kling prices the review found below the bill.
        ("kling-2.1-standard-i2v", {"duration": 5}, "0.28"),
        ("kling-2.1-standard-i2v", {"duration": 10}, "0.56"),
        ("kling-2.1-pro-i2v", {"duration": 5}, "0.49"),
        ("kling-2.1-pro-i2v", {"duration": 10}, "0.98"),
        # Wan 2.2 is billed per num_frames / 16 s: 81 frames = 5.0625 s.
        ("wan-2.2", {"resolution": "720p"}, "0.41"),
        ("wan-2.2", {"resolution": "480p"}, "0.21"),
        # fal's own examples.
        ("kling-2.6-pro-i2v", {"duration": 5, "audio": True}, "0.70"),
        ("seedance-1.5-pro", {"duration": 5, "resolution": "720p", "audio": True}, "0.26"),
        ("seedance-1-pro", {"duration": 5, "resolution": "1080p"}, "0.62"),
        ("hailuo-2.3", {"duration": 10}, "0.56"),
        ("veo3.1", {"duration": 8, "resolution": "4k", "audio": True}, "4.80"),
        ("luma-ray-2-flash", {"duration": 9, "resolution": "1080p"}, "1.60"),
    ],
)
def test_prices_match_the_providers_examples(model_id, params, usd):
    from generation.pricing import estimate_cost

    assert estimate_cost(model_id, {"prompt": "x", **params}) == Decimal(usd)
