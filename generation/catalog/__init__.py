"""The model catalog: what each model offers, what it costs, whether it can run here.

from generation import catalog
catalog.get("hailuo")            -> ModelSpec (KeyError for an unknown id)
catalog.all_models()             -> every ModelSpec, local first
catalog.available(spec)          -> (True, "") or (False, "Needs a fal.ai key …")
catalog.default_model_id()       -> "local" unless a provider key is configured
catalog.price_rule(spec)         -> the rule after GENERATION_PRICE_OVERRIDES
catalog.price_basis("hailuo")    -> "$0.045/s"
catalog.price_formula("hailuo", {"duration": 6}) -> "6 s × $0.045/s = $0.27"
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from generation.pricing import PriceRule, apply_overrides, basis

from .comfyui_entries import COMFYUI_MODELS, operator_models
from .entries import MODELS
from .spec import (
    AUDIO_ALWAYS,
    AUDIO_NONE,
    AUDIO_OPTIONAL,
    FIRST_LAST_FRAME,
    IMAGE_TO_VIDEO,
    KINDS,
    TEXT_TO_VIDEO,
    ImageLimits,
    ModelSpec,
    dimensions,
)

__all__ = [
    "AUDIO_ALWAYS",
    "AUDIO_NONE",
    "AUDIO_OPTIONAL",
    "FIRST_LAST_FRAME",
    "IMAGE_TO_VIDEO",
    "ImageLimits",
    "KINDS",
    "PROVIDER_KEYS",
    "TEXT_TO_VIDEO",
    "ModelSpec",
    "all_models",
    "offered_models",
    "available",
    "default_model_id",
    "dimensions",
    "exists",
    "get",
    "price_basis",
    "price_formula",
    "price_rule",
]

_BY_ID: dict[str, ModelSpec] = {m.id: m for m in (*MODELS, *COMFYUI_MODELS)}

# provider -> (settings name of its key, what the creator reads when it is missing)
PROVIDER_KEYS: dict[str, tuple[str, str]] = {
    "fal": ("FAL_KEY", "Needs a fal.ai API key: set FAL_KEY in the server environment."),
    "replicate": (
        "REPLICATE_API_TOKEN",
        "Needs a Replicate API token: set REPLICATE_API_TOKEN in the server environment.",
    ),
    "comfyui": (
        "COMFYUI_URLS",
        "Needs your own ComfyUI servers: set COMFYUI_URLS in the server environment.",
    ),
}


def _operator_models() -> tuple[ModelSpec, ...]:
    """The operator's own ComfyUI workflows that carry a catalog block (comfyui_entries)."""
    return operator_models(settings.COMFYUI_WORKFLOWS_DIR)


def get(model_id: str) -> ModelSpec:
    spec = _BY_ID.get(model_id)
    if spec is None and model_id.startswith("comfyui-"):
        spec = next((m for m in _operator_models() if m.id == model_id), None)
    if spec is None:
        raise KeyError(model_id)
    return spec


def exists(model_id: str) -> bool:
    try:
        get(model_id)
    except KeyError:
        return False
    return True


def all_models() -> list[ModelSpec]:
    """Every model; the ones on your own ComfyUI servers only when COMFYUI_URLS is set
    (`get` still finds them, so jobs made while it was set stay readable)."""
    if provider_configured("comfyui")[0]:
        return [*MODELS, *COMFYUI_MODELS, *_operator_models()]
    return list(MODELS)


def offered_models() -> list[ModelSpec]:
    """What the composer and the API offer for new work: every model but retired ones."""
    return [m for m in all_models() if not m.retired]


def provider_configured(provider: str) -> tuple[bool, str]:
    if provider == "local":
        return True, ""
    if provider not in PROVIDER_KEYS:
        return False, f"Unknown provider {provider!r}."
    setting, reason = PROVIDER_KEYS[provider]
    return (True, "") if getattr(settings, setting) else (False, reason)


def available(model: ModelSpec | str) -> tuple[bool, str]:
    spec = get(model) if isinstance(model, str) else model
    return provider_configured(spec.provider)


def default_model_id() -> str:
    """Hailuo when fal is configured (cheap, the id older scripts use), else a Replicate
    model when only Replicate is, else the offline renderer."""
    if provider_configured("fal")[0]:
        return "hailuo"
    for spec in MODELS:
        if spec.provider == "replicate" and provider_configured("replicate")[0]:
            return spec.id
    return "local"


def price_rule(model: ModelSpec | str) -> PriceRule:
    spec = get(model) if isinstance(model, str) else model
    return apply_overrides(spec.id, spec.price)


def price_basis(model: ModelSpec | str) -> str:
    return basis(price_rule(model))


def price_formula(model_id: str, params: dict[str, Any]) -> str:
    from generation.pricing import quote_for

    return quote_for(model_id, params).formula
