"""Property-based tests (hypothesis) for request validation and cost estimation.

The contract: ANY request — well-formed, junk, hostile — either comes back with a
consistent estimate (a non-negative Decimal rounded up to the cent, equal to the figure the
formula line shows, never below the exact price, and non-decreasing in duration where the
price depends on duration) or is refused with plain-word field errors. Never an exception.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_UP, Decimal

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from generation import catalog, pricing, validation
from generation.pricing import BasePlusExtraSeconds, Free, PerFrames, PerSecond, PerToken, PerVideo
from generation.services.jobs import Estimate, JobInvalid, job_estimate

FIELDS = {
    "model",
    "prompt",
    "negative_prompt",
    "duration",
    "resolution",
    "aspect_ratio",
    "end_image",
    "audio",
    "seed",
    "image",
}
MODEL_IDS = [spec.id for spec in catalog.all_models()]
PROPERTY = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(autouse=True)
def _every_provider_configured(settings):
    # Availability is a separate rule (tested elsewhere); here every model must be priced.
    settings.FAL_KEY = "k"
    settings.REPLICATE_API_TOKEN = "t"
    settings.GENERATION_PRICE_OVERRIDES = {}


# --- strategies ---------------------------------------------------------------------------
json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
)
junk = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
hostile_text = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "\u202e\u200b",
            "<script>alert(1)</script>",
            "a" * 5000,
            "６",
            "6s",
            " 10 seconds ",
            "6.0",
            "6.5",
            "-6",
            "1e3",
            "NaN",
            "Infinity",
            "99999999999999999999999999",
            "16 : 9",
            "0:0",
            "1:0",
            "720P",
            " 1080p ",
            "0p",
            "-720p",
            "on",
            "off",
            "true",
            "2",
        ]
    ),
)


@st.composite
def requests(draw, model_ids=None):
    """(model_id, params): a mix of valid choices, near misses and junk for each field."""
    model_id = draw(
        st.sampled_from(model_ids)
        if model_ids
        else st.one_of(st.sampled_from(MODEL_IDS), hostile_text, junk.map(str))
    )
    spec = catalog.get(model_id) if catalog.exists(model_id) else None
    params: dict = {}

    def field(name, valid):
        choice = draw(
            st.sampled_from(["omit", "omit", "valid", "valid", "valid", "valid", "text", "junk"])
        )
        if choice == "valid" and valid:
            params[name] = draw(st.sampled_from(valid))
        elif choice == "text":
            params[name] = draw(hostile_text)
        elif choice == "junk":
            params[name] = draw(junk)

    field("prompt", ["a red fox in the snow", "  city at night\n\n\n\nrain  ", "x" * 1999])
    field("negative_prompt", ["blur", ""])
    if spec:
        field(
            "duration",
            [
                *spec.durations,
                *(str(d) for d in spec.durations),
                *(f"{d}s" for d in spec.durations),
                *(float(d) for d in spec.durations),
            ],
        )
        field("resolution", [*spec.resolutions, *(r.lower() for r in spec.resolutions)])
        field("aspect_ratio", list(spec.aspect_ratios) or [None, ""])
    else:
        field("duration", [5, 6])
        field("resolution", ["720p"])
        field("aspect_ratio", ["16:9"])
    field("audio", [True, False, "on", "off", 0, 1])
    field("seed", [0, 42, 2**32 - 1, "7"])
    field("image_id", [1, "1", None])
    extra = draw(st.dictionaries(st.text(max_size=8), junk, max_size=2))
    for key, value in extra.items():
        params.setdefault(key, value)
    return model_id, params


# --- helpers ------------------------------------------------------------------------------
def ceil_cent(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_UP)


def _dollars(text: str) -> Decimal:
    return Decimal(text.replace("$", "").replace(",", ""))


def figure_from_formula(rule, formula: str) -> Decimal:
    """Recompute the exact price from the numbers the formula line shows the creator."""
    body = formula.rsplit(" = $", 1)[0]
    if isinstance(rule, Free):
        return Decimal(0)
    if isinstance(rule, PerSecond):
        m = re.fullmatch(r"(\d+) s × (\$[\d.]+)/s", body)
        assert m, formula
        return int(m.group(1)) * _dollars(m.group(2))
    if isinstance(rule, PerVideo):
        m = re.fullmatch(r"(\$[\d.]+) per video(?: × ([\d.]+) for \d+ s)?", body)
        assert m, formula
        return _dollars(m.group(1)) * Decimal(m.group(2) or 1)
    if isinstance(rule, PerToken):
        m = re.fullmatch(
            r"(\d+)×(\d+)×(\d+) fps×(\d+) s/1024 = ([\d.]+) tokens × (\$[\d.]+)/M tokens", body
        )
        assert m, formula
        w, h, fps, secs = (int(m.group(i)) for i in range(1, 5))
        tokens = Decimal(m.group(5))
        assert tokens == Decimal(w * h * fps * secs) / 1024, formula
        return tokens * _dollars(m.group(6)) / Decimal(1_000_000)
    if isinstance(rule, PerFrames):
        m = re.fullmatch(r"(\d+) frames/(\d+) = ([\d.]+) s × (\$[\d.]+)/s", body)
        assert m, formula
        frames, fps, seconds = int(m.group(1)), int(m.group(2)), Decimal(m.group(3))
        assert seconds == Decimal(frames) / fps, formula
        return seconds * _dollars(m.group(4))
    if isinstance(rule, BasePlusExtraSeconds):
        m = re.fullmatch(r"(\$[\d.]+) for (\d+) s(?: \+ (\d+) s × (\$[\d.]+)/s)?", body)
        assert m, formula
        extra = int(m.group(3) or 0) * (_dollars(m.group(4)) if m.group(4) else 0)
        return _dollars(m.group(1)) + extra
    raise AssertionError(f"unknown rule {rule!r}")


def assert_consistent(estimate: Estimate) -> None:
    cost = estimate.cost
    assert isinstance(cost, Decimal)
    assert cost.is_finite() and cost >= 0
    assert cost == cost.quantize(Decimal("0.01")), "estimate is not whole cents"
    rule = catalog.price_rule(estimate.model_id)
    if isinstance(rule, Free):
        assert cost == 0 and estimate.formula.startswith("free"), estimate.formula
    else:
        assert estimate.formula.endswith(f"= ${cost}"), estimate.formula
    exact = figure_from_formula(rule, estimate.formula)
    assert ceil_cent(exact) == cost, (estimate.formula, exact, cost)
    assert cost >= exact  # a reservation is never smaller than the bill
    # The normalised params are what a provider would get: they must validate cleanly and
    # price the same (normalise is idempotent on its own output).
    assert validation.validate(estimate.model_id, estimate.params) == {}
    assert pricing.estimate_cost(estimate.model_id, estimate.params) == cost


def outcome(model_id, params):
    try:
        estimate = job_estimate(model_id=model_id, params=params)
    except JobInvalid as exc:
        event(f"refused: {', '.join(sorted(exc.errors))}")
        return exc
    event("accepted")
    return estimate


def assert_field_errors(errors: dict) -> None:
    assert errors, "refused without saying why"
    assert set(errors) <= FIELDS, errors
    for message in errors.values():
        assert isinstance(message, str) and message.strip()
        assert "Traceback" not in message


# --- properties ---------------------------------------------------------------------------
# Estimates read the provider's live price (ProviderPrice): a database read.
@pytest.mark.django_db
@PROPERTY
@given(requests())
def test_any_request_is_priced_consistently_or_refused_with_field_errors(request_):
    model_id, params = request_
    errors = validation.validate(model_id, params)  # never raises
    result = outcome(model_id, params)
    if isinstance(result, JobInvalid):
        assert_field_errors(result.errors)
        assert result.errors == errors
    else:
        assert errors == {}
        assert_consistent(result)


# Estimates read the provider's live price (ProviderPrice): a database read.
@pytest.mark.django_db
@PROPERTY
@given(requests(model_ids=MODEL_IDS))
def test_catalog_models_with_hostile_params(request_):
    """Same contract, always on a real model, so every branch of every price rule runs."""
    model_id, params = request_
    result = outcome(model_id, params)
    if isinstance(result, JobInvalid):
        assert_field_errors(result.errors)
        assert "model" not in result.errors
    else:
        assert_consistent(result)


@st.composite
def valid_settings(draw):
    spec = draw(st.sampled_from(catalog.all_models()))
    params = {
        "prompt": draw(
            st.text(min_size=1, max_size=50).filter(
                lambda t: len(validation.clean_text(t)) >= spec.min_prompt_chars
            )
        ),
        "resolution": draw(st.sampled_from(spec.resolutions)),
    }
    if spec.aspect_ratios:
        params["aspect_ratio"] = draw(st.sampled_from(spec.aspect_ratios))
    if spec.audio == catalog.AUDIO_OPTIONAL:
        params["audio"] = draw(st.booleans())
    if spec.needs_image:
        params["image_id"] = draw(st.integers(min_value=1, max_value=10**6))
    if spec.needs_end_image or (spec.takes_end_image and draw(st.booleans())):
        params["end_image_id"] = draw(st.integers(min_value=1, max_value=10**6))
    return spec, params


# Estimates read the provider's live price (ProviderPrice): a database read.
@pytest.mark.django_db
@PROPERTY
@given(valid_settings())
def test_every_offered_setting_is_accepted_and_cost_never_falls_with_duration(case):
    spec, params = case
    costs = []
    for duration in sorted(spec.durations):
        estimate = job_estimate(model_id=spec.id, params={**params, "duration": duration})
        assert_consistent(estimate)
        costs.append(estimate.cost)
    assert costs == sorted(costs), f"{spec.id}: longer clip priced lower: {costs}"
    rule = catalog.price_rule(spec)
    if isinstance(rule, PerSecond | PerToken) and len(costs) > 1:
        assert costs[0] < costs[-1], f"{spec.id}: per-second price ignores duration"
    if isinstance(rule, Free):
        assert set(costs) == {Decimal("0.00")}


price_figure = st.one_of(
    st.decimals(min_value=0, max_value=1000, places=4, allow_nan=False, allow_infinity=False).map(
        str
    ),
    st.sampled_from(["-1", "-0.01", "NaN", "Infinity", "-Infinity", "sNaN", "abc", "", "1e9999"]),
    st.integers(min_value=-5, max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
)


# Estimates read the provider's live price (ProviderPrice): a database read.
@pytest.mark.django_db
@PROPERTY
@given(
    valid_settings(),
    st.dictionaries(
        st.sampled_from(
            [
                "usd_per_s",
                "audio_usd_per_s",
                "usd",
                "usd_per_million",
                "base_usd",
                "extra_usd_per_s",
                "base_seconds",
                "fps",
                "nonsense",
            ]
        ),
        price_figure,
        max_size=3,
    ),
)
def test_operator_price_overrides_never_break_or_go_negative(case, override):
    """GENERATION_PRICE_OVERRIDES comes from the environment: a typo there ("NaN", "-1",
    "abc") must be ignored with a warning, never produce a negative or NaN reservation
    or a crash on every estimate."""
    spec, params = case
    params = {**params, "duration": spec.durations[0]}
    with override_settings(GENERATION_PRICE_OVERRIDES={spec.id: override}):
        estimate = job_estimate(model_id=spec.id, params=params)
        assert_consistent(estimate)
        pricing.is_expensive(spec.id, params)  # compares against the threshold: no NaN


@PROPERTY
@given(st.text(max_size=300))
def test_clean_text_removes_invisible_characters_and_is_idempotent(text):
    cleaned = validation.clean_text(text)
    assert validation.clean_text(cleaned) == cleaned
    assert "\x00" not in cleaned and "\u202e" not in cleaned and "\u200b" not in cleaned
    assert cleaned == cleaned.strip()
    assert len(validation.clean_text(text, 20)) <= 20


@PROPERTY
@given(st.integers(min_value=-(2**80), max_value=2**80) | st.floats() | hostile_text)
def test_seed_is_a_field_error_or_a_32_bit_integer(seed):
    result = outcome("local", {"prompt": "sea", "seed": seed})
    if isinstance(result, JobInvalid):
        assert set(result.errors) == {"seed"}
    else:
        assert result.params["seed"] is None or 0 <= result.params["seed"] <= 2**32 - 1
        assert not (isinstance(seed, float) and not math.isfinite(seed))


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(image_id=st.one_of(st.integers(min_value=-(2**80), max_value=2**80), hostile_text, junk))
def test_image_reference_checked_against_the_database_never_raises(user, image_id):
    """With an owner the image id reaches a query: ids past 64 bits, negative ids and
    junk must be a field error, not an OverflowError or DataError."""
    spec = next(s for s in catalog.all_models() if s.needs_image)
    assume(image_id is not None)
    errors = validation.validate(spec.id, {"prompt": "pan left", "image_id": image_id}, owner=user)
    assert errors.get("image") == "That image is not one of your ready images." or (
        isinstance(image_id, str) and not image_id.strip() and "image" in errors
    )
