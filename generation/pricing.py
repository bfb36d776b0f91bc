"""Price rules and cost estimation.

Every hosted model bills by one of a handful of rules; each rule is a small frozen
dataclass so the catalog stays data and `GENERATION_PRICE_OVERRIDES` can replace any
figure without code changes.

Rounding: the exact figure is computed in Decimal and rounded UP to the cent. fal and
Replicate bill in fractions of a cent internally, but a reservation must never be smaller
than the bill, so we round towards the larger cent (a $0.6075 Seedance clip reserves $0.61).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from decimal import ROUND_UP, Decimal
from typing import Any

from django.conf import settings

from project.money import usd

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
MILLION = Decimal(1_000_000)
TOKEN_DIVISOR = Decimal(1024)


def D(value: Any) -> Decimal:  # noqa: N802 - short constructor used throughout the catalog
    return value if isinstance(value, Decimal) else Decimal(str(value))


@dataclass(frozen=True)
class Free:
    kind = "free"


@dataclass(frozen=True)
class PerSecond:
    """usd_per_s for every second of output; optional per-resolution and audio-on rates."""

    usd_per_s: Decimal
    by_resolution: dict[str, Decimal] = field(default_factory=dict)
    audio_usd_per_s: Decimal | None = None
    audio_by_resolution: dict[str, Decimal] = field(default_factory=dict)
    kind = "per_second"

    def rate(self, resolution: str, audio: bool) -> Decimal:
        if audio:
            if resolution in self.audio_by_resolution:
                return self.audio_by_resolution[resolution]
            if self.audio_usd_per_s is not None:
                return self.audio_usd_per_s
        return self.by_resolution.get(resolution, self.usd_per_s)


@dataclass(frozen=True)
class PerVideo:
    """A flat price per clip; optionally by resolution, and multiplied for longer clips."""

    usd: Decimal
    by_resolution: dict[str, Decimal] = field(default_factory=dict)
    duration_multiplier: dict[int, Decimal] = field(default_factory=dict)
    kind = "per_video"

    def price(self, resolution: str, duration: int) -> Decimal:
        base = self.by_resolution.get(resolution, self.usd)
        return base * self.duration_multiplier.get(duration, Decimal(1))


@dataclass(frozen=True)
class PerToken:
    """ByteDance Seedance: tokens = width × height × fps × seconds / 1024, at $/million
    (Seedance 1.5 charges a higher rate with sound). The model renders on a 16-pixel grid
    (1080p is 1920×1088), so sides are rounded up to it: never below the bill."""

    usd_per_million: Decimal
    fps: int = 24
    audio_usd_per_million: Decimal | None = None
    grid: int = 16
    kind = "per_token"

    def on_grid(self, width: int, height: int) -> tuple[int, int]:
        return (-(-width // self.grid) * self.grid, -(-height // self.grid) * self.grid)

    def tokens(self, width: int, height: int, duration: int) -> Decimal:
        w, h = self.on_grid(width, height)
        return Decimal(w * h * self.fps * duration) / TOKEN_DIVISOR

    def rate(self, audio: bool) -> Decimal:
        if audio and self.audio_usd_per_million is not None:
            return self.audio_usd_per_million
        return self.usd_per_million


@dataclass(frozen=True)
class BasePlusExtraSeconds:
    """Kling: base_usd covers base_seconds; each second beyond costs extra_usd_per_s."""

    base_usd: Decimal
    base_seconds: int
    extra_usd_per_s: Decimal
    kind = "base_plus_extra_seconds"


@dataclass(frozen=True)
class PerFrames:
    """Billed per second of *frames* generated: seconds = frames / billing_fps. Wan 2.2 on
    fal makes 81 frames for its "5 s" clip and bills 81/16 = 5.0625 s, not 5."""

    usd_per_s: Decimal
    frames_per_duration: dict[int, int]
    billing_fps: int = 16
    by_resolution: dict[str, Decimal] = field(default_factory=dict)
    kind = "per_frame_second"

    def billed_seconds(self, duration: int) -> Decimal:
        frames = self.frames_per_duration.get(duration, duration * self.billing_fps)
        return Decimal(frames) / Decimal(self.billing_fps)


PriceRule = Free | PerSecond | PerVideo | PerToken | BasePlusExtraSeconds | PerFrames


def round_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_UP)


MAX_FIGURE = Decimal(1_000_000)


def _figure(value: Any) -> Decimal:
    """A price figure from the environment: finite, not negative and not absurd ("NaN",
    "-1", "Infinity" or "1e9999" would make every estimate raise or reserve nonsense)."""
    amount = D(value)
    if not amount.is_finite() or not 0 <= amount <= MAX_FIGURE:
        raise ValueError(f"not a price: {value!r}")
    return amount.copy_abs()  # "-0" is zero, and must not print as "$-0.00"


def _coerce(name: str, template: Any, value: Any) -> Any:
    if isinstance(template, dict):
        # JSON object keys are strings; duration multipliers are keyed by whole seconds.
        int_keys = name == "duration_multiplier"
        return {(int(k) if int_keys else str(k)): _figure(v) for k, v in dict(value).items()}
    if isinstance(template, int) and not isinstance(template, bool):
        number = int(value)
        if not 0 <= number <= MAX_FIGURE:
            raise ValueError(f"not a count: {value!r}")
        return number
    return _figure(value)


def apply_overrides(model_id: str, rule: PriceRule) -> PriceRule:
    """GENERATION_PRICE_OVERRIDES = {"hailuo": {"usd_per_s": "0.05"}} replaces rule fields."""
    overrides = (settings.GENERATION_PRICE_OVERRIDES or {}).get(model_id)
    if not overrides or isinstance(rule, Free):
        return rule
    names = {f.name: f for f in dataclasses.fields(rule)}
    changes = {}
    for key, value in overrides.items():
        if key not in names:
            logger.warning("price override for %s ignores unknown field %r", model_id, key)
            continue
        try:
            changes[key] = _coerce(key, getattr(rule, key), value)
        except (ArithmeticError, TypeError, ValueError):
            logger.warning("price override for %s.%s is not a number: %r", model_id, key, value)
    return dataclasses.replace(rule, **changes) if changes else rule


@dataclass(frozen=True)
class Quote:
    """An estimate with the numbers that produced it, for the cost line under the prompt."""

    usd: Decimal
    exact: Decimal
    formula: str


def quote(
    rule: PriceRule, *, duration: int, resolution: str, width: int, height: int, audio: bool
) -> Quote:
    if isinstance(rule, Free):
        return Quote(Decimal("0.00"), Decimal(0), "free (rendered on this server)")
    if isinstance(rule, PerSecond):
        rate = rule.rate(resolution, audio)
        exact = rate * duration
        formula = f"{duration} s × {usd(rate)}/s"
    elif isinstance(rule, PerVideo):
        exact = rule.price(resolution, duration)
        mult = rule.duration_multiplier.get(duration)
        base = rule.by_resolution.get(resolution, rule.usd)
        formula = f"{usd(base)} per video"
        if mult is not None and mult != 1:
            formula = f"{usd(base)} per video × {mult.normalize()} for {duration} s"
    elif isinstance(rule, PerToken):
        tokens = rule.tokens(width, height, duration)
        rate = rule.rate(audio)
        exact = tokens * rate / MILLION
        grid_w, grid_h = rule.on_grid(width, height)
        formula = (
            f"{grid_w}×{grid_h}×{rule.fps} fps×{duration} s/1024 = {tokens.normalize():f} tokens"
            f" × {usd(rate)}/M tokens"
        )
    elif isinstance(rule, PerFrames):
        rate = rule.by_resolution.get(resolution, rule.usd_per_s)
        seconds = rule.billed_seconds(duration)
        exact = rate * seconds
        frames = rule.frames_per_duration.get(duration, duration * rule.billing_fps)
        formula = f"{frames} frames/{rule.billing_fps} = {seconds.normalize():f} s × {usd(rate)}/s"
    elif isinstance(rule, BasePlusExtraSeconds):
        extra = max(0, duration - rule.base_seconds)
        exact = rule.base_usd + rule.extra_usd_per_s * extra
        formula = f"{usd(rule.base_usd)} for {rule.base_seconds} s"
        if extra:
            formula += f" + {extra} s × {usd(rule.extra_usd_per_s)}/s"
    else:  # pragma: no cover - the union above is closed
        raise TypeError(f"unknown price rule {rule!r}")
    cents = round_cents(exact)
    return Quote(cents, exact, f"{formula} = {usd(cents)}")


def basis(rule: PriceRule) -> str:
    """One short line for the model picker: "$0.045/s", "$0.04 per video"."""
    if isinstance(rule, Free):
        return "free"
    if isinstance(rule, PerSecond):
        rates = [rule.usd_per_s, *rule.by_resolution.values()]
        text = _range(rates) + "/s"
        if rule.audio_usd_per_s is not None or rule.audio_by_resolution:
            audio = [r for r in [rule.audio_usd_per_s, *rule.audio_by_resolution.values()] if r]
            text = f"{text} ({_range(audio)}/s with audio)"
        return text
    if isinstance(rule, PerVideo):
        return _range([rule.usd, *rule.by_resolution.values()]) + " per video"
    if isinstance(rule, PerToken):
        text = f"{usd(rule.usd_per_million)} per million video tokens"
        if rule.audio_usd_per_million is not None:
            text += f" ({usd(rule.audio_usd_per_million)} with audio)"
        return text
    if isinstance(rule, PerFrames):
        rates = [rule.usd_per_s, *rule.by_resolution.values()]
        return f"{_range(rates)}/s of frames ({rule.billing_fps} fps)"
    if isinstance(rule, BasePlusExtraSeconds):
        return (
            f"{usd(rule.base_usd)} per {rule.base_seconds} s + {usd(rule.extra_usd_per_s)}/s beyond"
        )
    raise TypeError(f"unknown price rule {rule!r}")  # pragma: no cover


def _range(values: list[Decimal]) -> str:
    low, high = min(values), max(values)
    return usd(low) if low == high else f"{usd(low)}–{usd(high)}"


def quote_for(model_id: str, params: dict[str, Any], *, rule: PriceRule | None = None) -> Quote:
    """Quote a request. Params are normalised first (defaults filled, "6s" -> 6).
    `rule` replaces the catalog's (services.prices.current_rule gives the live one).
    Raises KeyError for an unknown model and ValueError for settings that cannot be read;
    call validation.validate() first to get plain-word messages instead."""
    from generation import catalog
    from generation.validation import normalize

    spec = catalog.get(model_id)
    p = normalize(model_id, params)
    duration = p.get("duration")
    if not isinstance(duration, int):
        raise ValueError(f"duration {params.get('duration')!r} is not a whole number of seconds")
    resolution = p.get("resolution") or (spec.resolutions[0] if spec.resolutions else "")
    aspect = p.get("aspect_ratio") or (spec.aspect_ratios[0] if spec.aspect_ratios else "16:9")
    width, height = catalog.dimensions(resolution, aspect) if resolution else (0, 0)
    return quote(
        rule if rule is not None else catalog.price_rule(spec),
        duration=duration,
        resolution=resolution,
        width=width,
        height=height,
        audio=bool(p.get("audio")),
    )


def estimate_cost(model_id: str, params: dict[str, Any]) -> Decimal:
    """The price in USD, rounded up to the cent (see the module docstring)."""
    return quote_for(model_id, params).usd


def is_expensive(model_id: str, params: dict[str, Any] | None = None) -> bool:
    """True above settings.EXPENSIVE_JOB_USD. Without params the model's default settings
    are priced, which is what the model picker's badge shows."""
    limit = D(settings.EXPENSIVE_JOB_USD)
    return estimate_cost(model_id, params or {}) > limit
