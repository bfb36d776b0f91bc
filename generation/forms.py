"""Reading the generation panel's forms.

The composer is not a Django Form on purpose: what a request may contain is decided by the
catalog and `validation.validate`, which every entry point (panel, API) shares. This module
only turns the posted strings into the params dict those functions take, and reads the
panel-only fields (variations, confirmation, the model the settings were drawn for).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms

from generation import catalog
from generation.models import TERMINAL_STATUSES
from generation.services.jobs import MAX_VARIATIONS
from project.ids import ID_MAX

PARAM_FIELDS = ("prompt", "negative_prompt", "duration", "resolution", "aspect_ratio", "seed")


def _last(data, name: str) -> str:
    """A checkbox posts a hidden "off" and then, when ticked, "on": the last value wins."""
    values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
    values = [v for v in values if v is not None]
    return values[-1] if values else ""


@dataclass
class ComposerInput:
    model_id: str
    params: dict[str, Any]
    variations: int
    # The model whose settings the browser shows; differs from model_id right after the
    # creator picks another model, which tells the server to redraw the settings.
    rendered_model: str
    confirm_cost: Decimal | None

    @property
    def model_changed(self) -> bool:
        return self.rendered_model != self.model_id


def read_composer(data) -> ComposerInput:
    model_id = (data.get("model") or "").strip() or catalog.default_model_id()
    params: dict[str, Any] = {}
    for name in PARAM_FIELDS:
        value = data.get(name)
        if value not in (None, ""):
            params[name] = value
    params.setdefault("prompt", "")
    audio = _last(data, "audio")
    if audio:
        params["audio"] = audio
    for name in ("image_id", "end_image_id"):
        image = (data.get(name) or "").strip()
        if image:
            params[name] = image
    try:
        variations = int(data.get("variations") or 1)
    except (TypeError, ValueError):
        variations = 1
    variations = min(MAX_VARIATIONS, max(1, variations))
    try:
        confirm = Decimal(data.get("confirm_cost")) if data.get("confirm_cost") else None
    except (InvalidOperation, TypeError, ValueError):
        confirm = None
    return ComposerInput(
        model_id=model_id,
        params=params,
        variations=variations,
        rendered_model=(data.get("rendered_model") or "").strip(),
        confirm_cost=confirm,
    )


def fit_to_model(model_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """After a model switch, keep what the new model accepts and drop the rest, so the
    creator's prompt survives and settings fall back to the new model's defaults instead
    of turning into errors they did not cause."""
    if not catalog.exists(model_id):
        return params
    spec = catalog.get(model_id)
    fitted = {"prompt": params.get("prompt", "")}
    if spec.negative_prompt and params.get("negative_prompt"):
        fitted["negative_prompt"] = params["negative_prompt"]
    if spec.seed and params.get("seed"):
        fitted["seed"] = params["seed"]
    if spec.needs_image and params.get("image_id"):
        fitted["image_id"] = params["image_id"]
    if spec.takes_end_image and params.get("end_image_id"):
        fitted["end_image_id"] = params["end_image_id"]
    try:
        duration = int(str(params.get("duration", "")).rstrip("s "))
    except ValueError:
        duration = None
    if duration in spec.durations:
        fitted["duration"] = duration
    if params.get("resolution") in spec.resolutions:
        fitted["resolution"] = params["resolution"]
    if params.get("aspect_ratio") in spec.aspect_ratios:
        fitted["aspect_ratio"] = params["aspect_ratio"]
    # Sound follows the new model's default: "on" for a silent model would be an error.
    return fitted


class SaveTemplateForm(forms.Form):
    title = forms.CharField(max_length=80, strip=True)
    prompt = forms.CharField(max_length=5000, strip=True)
    negative_prompt = forms.CharField(max_length=2000, strip=True, required=False)

    def clean_title(self):
        from generation.validation import clean_text

        title = clean_text(self.cleaned_data["title"], 80)
        if not title:
            raise forms.ValidationError("Give the template a name.")
        return title

    def clean_prompt(self):
        from generation.validation import clean_text

        prompt = clean_text(self.cleaned_data["prompt"], 5000)
        if not prompt:
            raise forms.ValidationError("Write a prompt first, then save it as a template.")
        return prompt


class HistoryFilterForm(forms.Form):
    status = forms.ChoiceField(required=False)
    model = forms.ChoiceField(required=False)
    q = forms.CharField(required=False, max_length=200, strip=True)
    # Bounded like an id: Python would take any size, but nothing else should have to.
    page = forms.IntegerField(required=False, min_value=1, max_value=ID_MAX)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", "Any result")] + [
            (status.value, status.label) for status in TERMINAL_STATUSES
        ]
        self.fields["model"].choices = [("", "Any model")] + [
            (m.id, m.name) for m in catalog.all_models()
        ]

    def apply(self, queryset):
        """History is finished jobs; live ones are in the queue above it."""
        queryset = queryset.filter(status__in=TERMINAL_STATUSES)
        if not self.is_valid():
            return queryset
        data = self.cleaned_data
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
        if data.get("model"):
            queryset = queryset.filter(model_id=data["model"])
        for word in (data.get("q") or "").split()[:8]:
            queryset = queryset.filter(prompt__icontains=word)
        return queryset

    @property
    def page_number(self) -> int:
        if self.is_valid() and self.cleaned_data.get("page"):
            return self.cleaned_data["page"]
        return 1
