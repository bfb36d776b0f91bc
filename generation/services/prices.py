"""Prices that stay current: the daily refresh from the providers' pricing APIs, and the
rule an estimate uses.

fal publishes one unit price per endpoint (`GET {FAL_API_URL}/v1/models/pricing`). The
catalog stays the fallback and the detail (per resolution, with audio, per token); the
refresh stores what fal reports in ProviderPrice, keeping the previous figure so the admin
shows old → new and when. An estimate scales the catalog rule up by (fal's figure ÷ the
catalog's figure for the same unit) when fal's is higher, so a reservation is never below
the provider's current price. A lower figure is shown in the admin for an operator to adopt
(GENERATION_PRICE_OVERRIDES): one number per endpoint cannot say which of a model's
options it prices, so it is never used to reserve less than the catalog says.
"""

from __future__ import annotations

import dataclasses
import logging
from decimal import Decimal

from django.utils import timezone

from .. import catalog
from ..catalog import ModelSpec
from ..models import ProviderPrice
from ..pricing import BasePlusExtraSeconds, PerFrames, PerSecond, PerToken, PerVideo, PriceRule
from ..providers.base import ProviderError
from .providers import get_provider

logger = logging.getLogger("generation.prices")

# The units fal's pricing API uses, by what they count.
SECOND_UNITS = {"second", "seconds", "sec", "s", "video second", "video seconds"}
VIDEO_UNITS = {"video", "videos", "request", "requests", "generation", "generations"}
TOKEN_UNITS = {"1m tokens", "million tokens", "tokens"}
BATCH = 50


def prices_refresh() -> dict[str, int]:
    """Read every offered fal endpoint's price; record new figures and changes."""
    endpoints = sorted({m.endpoint for m in catalog.all_models() if m.provider == "fal"})
    counts = {"checked": 0, "changed": 0, "failed": 0}
    if not endpoints or not catalog.provider_configured("fal")[0]:
        return counts
    provider = get_provider("fal")
    now = timezone.now()
    for start in range(0, len(endpoints), BATCH):
        batch = endpoints[start : start + BATCH]
        try:
            reported = provider.prices(batch)
        except ProviderError as exc:
            counts["failed"] += len(batch)
            logger.warning("price refresh failed", extra={"error_code": exc.code})
            continue
        for price in reported:
            counts["checked"] += 1
            if _record(price, now):
                counts["changed"] += 1
    logger.info("price refresh", extra=counts)
    return counts


def _record(price, now) -> bool:
    row = ProviderPrice.objects.filter(provider="fal", endpoint=price.endpoint).first()
    if row is None:
        ProviderPrice.objects.create(
            provider="fal",
            endpoint=price.endpoint,
            unit_price=price.unit_price,
            unit=price.unit,
            currency=price.currency,
            checked_at=now,
        )
        return False
    changed = row.unit_price != price.unit_price or row.unit != price.unit
    if changed:
        row.previous_unit_price = row.unit_price
        row.changed_at = now
        logger.warning(
            "provider price changed",
            extra={
                "endpoint": price.endpoint,
                "old": str(row.unit_price),
                "new": str(price.unit_price),
            },
        )
    row.unit_price, row.unit, row.currency, row.checked_at = (
        price.unit_price,
        price.unit,
        price.currency,
        now,
    )
    row.save()
    return changed


def current_rule(spec: ModelSpec) -> PriceRule:
    """The rule an estimate uses: the catalog's, raised to the provider's current price."""
    rule = catalog.price_rule(spec)
    if spec.provider != "fal":
        return rule
    row = ProviderPrice.objects.filter(provider="fal", endpoint=spec.endpoint).first()
    if row is None or row.currency.upper() != "USD":
        return rule
    reference = reference_figure(rule, row.unit)
    if reference is None or reference <= 0 or row.unit_price <= reference:
        return rule
    return scaled(rule, row.unit_price / reference)


def reference_figure(rule: PriceRule, unit: str) -> Decimal | None:
    """The catalog figure that prices the same unit fal reports, if the rule has one."""
    unit = unit.strip().lower()
    if isinstance(rule, PerSecond | PerFrames) and unit in SECOND_UNITS:
        return rule.usd_per_s
    if isinstance(rule, PerVideo) and unit in VIDEO_UNITS:
        return rule.usd
    if isinstance(rule, BasePlusExtraSeconds):
        if unit in VIDEO_UNITS:
            return rule.base_usd
        if unit in SECOND_UNITS:
            return rule.extra_usd_per_s
    if isinstance(rule, PerToken) and unit in TOKEN_UNITS:
        return rule.usd_per_million
    return None


def scaled(rule: PriceRule, factor: Decimal) -> PriceRule:
    """Every money figure of the rule times factor (counts and fps unchanged)."""
    changes = {}
    for f in dataclasses.fields(rule):
        value = getattr(rule, f.name)
        if f.name in ("base_seconds", "fps", "frames_per_duration", "billing_fps"):
            continue
        if isinstance(value, Decimal):
            changes[f.name] = value * factor
        elif (
            isinstance(value, dict)
            and value
            and all(isinstance(v, Decimal) for v in value.values())
        ):
            if f.name == "duration_multiplier":
                continue
            changes[f.name] = {k: v * factor for k, v in value.items()}
    return dataclasses.replace(rule, **changes)
