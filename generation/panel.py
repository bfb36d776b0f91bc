"""What the composer shows for a given input: settings, errors, cost, budget, verdict.

Views call `composer_state` for the first render, for every estimate (each change in the
composer) and for Generate, so the cost line, the errors next to fields and the Generate
button's state always come from one place — the catalog, validation and pricing modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings

from generation import catalog, limits, pricing, validation
from generation.catalog import ModelSpec
from generation.catalog.spec import short_side
from generation.forms import ComposerInput, fit_to_model
from generation.services.jobs import MAX_VARIATIONS, job_price
from project.money import usd

# Where each field's error is shown; anything else goes under the Generate button.
ERROR_SLOTS = (
    "model",
    "prompt",
    "negative_prompt",
    "duration",
    "resolution",
    "aspect_ratio",
    "audio",
    "seed",
    "image",
)
PROVIDER_NAMES = {"local": "This server", "fal": "fal.ai", "replicate": "Replicate"}


def wait_words(seconds: int) -> str:
    if seconds < 90:
        return f"~{seconds} s"
    return f"~{round(seconds / 60)} min"


@dataclass
class ModelChoice:
    spec: ModelSpec
    available: bool
    reason: str
    basis: str
    provider_name: str
    wait: str
    max_duration: int
    audio_words: str
    expensive: bool

    @property
    def label(self) -> str:
        text = (
            f"{self.spec.name} · {self.provider_name} · {self.basis} · {self.wait}"
            f" · up to {self.max_duration} s"
        )
        if self.spec.audio != catalog.AUDIO_NONE:
            text += " · audio"
        if not self.available:
            text += " — unavailable"
        return text


def _audio_words(spec: ModelSpec) -> str:
    if spec.audio == catalog.AUDIO_OPTIONAL:
        return "optional" + (" (on by default)" if spec.audio_default else "")
    if spec.audio == catalog.AUDIO_ALWAYS:
        return "always"
    return "silent"


def model_choice(spec: ModelSpec) -> ModelChoice:
    available, reason = catalog.available(spec)
    try:
        expensive = pricing.is_expensive(spec.id)
    except (KeyError, ValueError):
        expensive = False
    return ModelChoice(
        spec=spec,
        available=available,
        reason=reason,
        basis=catalog.price_basis(spec),
        provider_name=PROVIDER_NAMES.get(spec.provider, spec.provider),
        wait=wait_words(spec.typical_run_s),
        max_duration=max(spec.durations),
        audio_words=_audio_words(spec),
        expensive=expensive,
    )


def model_groups() -> list[tuple[str, list[ModelChoice]]]:
    """Models grouped by provider for the picker, local first."""
    groups: dict[str, list[ModelChoice]] = {}
    for spec in catalog.offered_models():
        choice = model_choice(spec)
        groups.setdefault(choice.provider_name, []).append(choice)
    return list(groups.items())


def aspect_box(ratio: str, size: int = 18) -> tuple[int, int]:
    """Pixel size of the small shape preview drawn next to an aspect ratio."""
    a, b = (int(x) for x in ratio.split(":"))
    if a >= b:
        return size, max(6, round(size * b / a))
    return max(6, round(size * a / b)), size


def _resolution_key(resolution: str) -> tuple[int, str]:
    # By pixel height: "4k" (2160) after "1080p", not before "720p".
    try:
        return (short_side(resolution), resolution)
    except ValueError:
        return (0, resolution)


@dataclass
class ComposerState:
    model_id: str
    spec: ModelSpec | None
    choice: ModelChoice | None
    params: dict[str, Any]
    variations: int
    errors: dict[str, str] = field(default_factory=dict)
    cost: Decimal | None = None
    total: Decimal | None = None
    formula: str = ""
    remaining: Decimal = Decimal("0")
    budget_limit: Decimal = Decimal("0")
    expensive: bool = False
    over_budget: bool = False
    show_prompt_required: bool = False

    @property
    def blocking_reason(self) -> str:
        """Why Generate is disabled, in words; empty when it may be clicked."""
        if "model" in self.errors:
            return self.errors["model"]
        if "prompt" in self.errors:
            prompt = self.params.get("prompt") or ""
            return "Write a prompt to generate." if not prompt.strip() else self.errors["prompt"]
        for key in ERROR_SLOTS:
            if key in self.errors:
                return self.errors[key]
        if self.over_budget:
            return (
                f"This costs {usd(self.total)}, more than the {usd(self.remaining)} left in "
                "your monthly budget."
            )
        return ""

    @property
    def can_generate(self) -> bool:
        return not self.blocking_reason

    @property
    def needs_confirmation(self) -> bool:
        return self.can_generate and self.expensive

    @property
    def confirm_value(self) -> str:
        return f"{self.total:.2f}" if self.total is not None else ""

    @property
    def visible_errors(self) -> dict[str, str]:
        """Errors shown next to fields. A still-empty prompt is not scolded while typing;
        the button says what is missing instead."""
        errors = dict(self.errors)
        if not self.show_prompt_required and not (self.params.get("prompt") or "").strip():
            errors.pop("prompt", None)
        return errors

    @property
    def error_slots(self) -> list[tuple[str, str]]:
        visible = self.visible_errors
        return [(key, visible.get(key, "")) for key in ERROR_SLOTS]

    @property
    def threshold(self) -> Decimal:
        return pricing.D(settings.EXPENSIVE_JOB_USD)

    @property
    def sorted_durations(self) -> list[int]:
        return sorted(self.spec.durations) if self.spec else []

    @property
    def sorted_resolutions(self) -> list[str]:
        if not self.spec:
            return []
        return sorted(self.spec.resolutions, key=_resolution_key)

    @property
    def aspect_choices(self) -> list[tuple[str, int, int]]:
        if not self.spec:
            return []
        return [(r, *aspect_box(r)) for r in self.spec.aspect_ratios]

    @property
    def variation_choices(self) -> range:
        return range(1, MAX_VARIATIONS + 1)


def composer_state(
    composer: ComposerInput, *, user, refit: bool = False, show_prompt_required: bool = False
) -> ComposerState:
    model_id = composer.model_id
    raw = dict(composer.params)
    if refit or composer.model_changed:
        raw = fit_to_model(model_id, raw)
    if not catalog.exists(model_id):
        state = ComposerState(
            model_id=model_id,
            spec=None,
            choice=None,
            params=raw,
            variations=composer.variations,
            errors=validation.validate(model_id, raw, owner=user),
        )
        return _with_budget(state, user)

    spec = catalog.get(model_id)
    params = validation.normalize(model_id, raw)
    errors = validation.validate(model_id, raw, owner=user)
    choice = model_choice(spec)
    if not choice.available:
        errors.setdefault("model", choice.reason)
    state = ComposerState(
        model_id=model_id,
        spec=spec,
        choice=choice,
        params=params,
        variations=composer.variations,
        errors=errors,
        show_prompt_required=show_prompt_required,
    )
    # A price needs readable settings only; the prompt does not change it.
    if not {"duration", "resolution", "aspect_ratio", "audio"} & errors.keys():
        try:
            estimate = job_price(model_id=model_id, params=params, variations=composer.variations)
        except (KeyError, ValueError):
            estimate = None
        if estimate is not None:
            state.cost = estimate.cost
            state.total = estimate.total
            state.formula = estimate.formula
            state.expensive = estimate.expensive
    return _with_budget(state, user)


def _with_budget(state: ComposerState, user) -> ComposerState:
    state.remaining = limits.budget_remaining(user)
    state.budget_limit = limits.budget_for(user).limit_usd
    if state.total is not None and state.total > 0:
        state.over_budget = state.total > state.remaining
    return state
