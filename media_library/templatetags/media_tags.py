"""Display helpers for media cards and the Details drawer.

The drawer shows what an item's metadata holds as labelled facts: every value goes
through `media_value`, so a nested dict or list is written out in words and never shown
as its Python repr; bit rates and seconds get their units."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template
from django.utils.formats import number_format

from project.templatetags.money import usd

register = template.Library()


@register.filter
def media_duration(seconds) -> str:
    """12.4 -> "0:12", 3725 -> "1:02:05"."""
    if seconds is None or seconds == "":
        return ""
    total = int(round(float(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


# Labels whose humanised key would read wrong ("Fps", "Aspect ratio" is long for a fact).
LABELS = {
    "aspect_ratio": "Aspect",
    "fps": "Frame rate",
    "bit_rate": "Bit rate",
    "nb_frames": "Frames",
    "image_id": "Start image",
    "end_image_id": "End image",
    "audio": "Sound",
    "provider_request_id": "Provider request",
    "took_s": "Took",
}


@register.filter
def media_label(key) -> str:
    """metadata keys as labels: "pixel_format" -> "Pixel format", "bit_rate" -> "Bit rate"."""
    key = str(key)
    if key in LABELS:
        return LABELS[key]
    for unit in ("_ms", "_s"):  # "start_s" -> "Start": the value carries the unit
        if key.endswith(unit) and len(key) > len(unit):
            key = key[: -len(unit)]
            break
    return key.replace("_", " ").strip().capitalize()


@register.filter
def media_bitrate(bits) -> str:
    """Bits per second in the units people read: 850_000 -> "850 kb/s", 4_200_000 ->
    "4.2 Mb/s" (decimal prefixes, as encoders and players write them)."""
    try:
        value = float(bits)
    except (TypeError, ValueError):
        return ""
    if value < 0:
        return ""
    if value >= 1_000_000:
        mbps = value / 1_000_000
        return f"{mbps:.1f} Mb/s" if mbps < 100 else f"{mbps:.0f} Mb/s"
    if value >= 1_000:
        return f"{value / 1_000:.0f} kb/s"
    return f"{value:.0f} b/s"


@register.filter
def media_seconds(seconds) -> str:
    """A length of time in seconds: 5 -> "5 s", 2.5 -> "2.5 s", 95 -> "1 min 35 s"."""
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        return ""
    if value < 60:
        text = f"{value:.1f}".rstrip("0").rstrip(".")
        return f"{text} s"
    minutes, secs = divmod(int(round(value)), 60)
    if minutes >= 60:
        hours, minutes = divmod(minutes, 60)
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if secs else f"{minutes} min"


@register.filter
def media_value(value) -> str:
    """Any metadata value as words: booleans as Yes/No, numbers with separators, a list
    comma-joined, a dict as "Label: value; …" (never a repr with braces)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int | float):
        return number_format(value, force_grouping=True)
    if isinstance(value, dict):
        parts = [f"{media_label(k)}: {media_value(v)}" for k, v in value.items()]
        return "; ".join(parts) or "—"
    if isinstance(value, list | tuple | set):
        return ", ".join(media_value(v) for v in value) or "—"
    return str(value)


# --- the Details drawer's facts ---------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    """One row of the drawer: a label and its text, or a media item to show as a
    thumbnail (an input image of a generation). `wide` facts (prompts) get the row."""

    label: str
    text: str = ""
    item: Any = None
    wide: bool = False


# How each probe value is written; the rest go through media_value.
PROBE_FORMAT = {"bit_rate": media_bitrate}

PROVIDERS = {"fal": "fal.ai", "replicate": "Replicate", "local": "Local renderer"}

# Metadata of a generated clip that is shown elsewhere or merged into another fact.
GENERATED_SHOWN = {
    "job_id",
    "prompt",
    "negative_prompt",
    "model",
    "model_name",
    "provider",
    "params",
    "cost",
    "cost_usd",
    "estimated_cost",
    "currency",
    "took_s",
    "probe",
}
# Params shown in this order, each in its own way; other params follow with their keys.
PARAM_ORDER = ("duration", "resolution", "aspect_ratio", "seed", "audio")
IMAGE_PARAMS = ("image_id", "end_image_id")


def _milliseconds(value) -> str:
    try:
        ms = float(value)
    except (TypeError, ValueError):
        return media_value(value)
    return f"{ms:.0f} ms" if ms < 1000 else media_seconds(ms / 1000)


def fact_text(key: str, value) -> str:
    """A value written for its key: bit rates, `*_s` seconds and `*_ms` milliseconds (or a
    dict of them: {"probe": 33.0} -> "Probe: 33 ms") with their units."""
    key = str(key)
    if (key == "seed" or key.endswith("_id")) and isinstance(value, int | str):
        return str(value)  # an identifier: "1234", never "1,234"
    if key.endswith("_ms"):
        if isinstance(value, dict):
            return "; ".join(f"{media_label(k)}: {_milliseconds(v)}" for k, v in value.items())
        return _milliseconds(value)
    if key in PROBE_FORMAT:
        return PROBE_FORMAT[key](value) or media_value(value)
    if (key == "duration" or key.endswith("_s")) and not isinstance(value, bool):
        return media_seconds(value) or media_value(value)
    return media_value(value)


def probe_facts(probe: dict | None) -> list[Fact]:
    return [Fact(media_label(key), fact_text(key, value)) for key, value in (probe or {}).items()]


def _param_text(key: str, value) -> str:
    if key == "audio":
        return "On" if value else "Off"
    return fact_text(key, value)


def _cost_text(value) -> str:
    # An unreadable amount (older metadata) is still shown, as it was written.
    return usd(value) or ("" if value in (None, "") else media_value(value))


def generation_facts(metadata: dict | None, *, images: dict | None = None) -> list[Fact]:
    """The settings a generated clip was made with, as labelled facts, from what its
    metadata holds (older items hold less; an absent value is left out, not guessed).
    `images` maps an input image's id to its MediaItem, when the owner still has it."""
    meta = metadata or {}
    params = meta.get("params") if isinstance(meta.get("params"), dict) else {}
    images = images or {}
    facts: list[Fact] = []
    model = meta.get("model_name") or meta.get("model")
    if model:
        facts.append(Fact("Model", str(model)))
    prompt = meta.get("prompt") or params.get("prompt")
    facts.append(Fact("Prompt", str(prompt) if prompt else "—", wide=True))
    negative = meta.get("negative_prompt") or params.get("negative_prompt")
    if negative:
        facts.append(Fact("Negative prompt", str(negative), wide=True))
    for key in PARAM_ORDER:
        if params.get(key) not in (None, ""):
            facts.append(Fact(media_label(key), _param_text(key, params[key])))
    for key in IMAGE_PARAMS:
        image_id = params.get(key)
        if image_id in (None, ""):
            continue
        image = images.get(image_id) or images.get(str(image_id))
        if image is not None:
            facts.append(Fact(media_label(key), image.title, item=image))
        else:
            facts.append(Fact(media_label(key), f"media {image_id} (deleted)"))
    for key, value in params.items():
        if key in PARAM_ORDER or key in IMAGE_PARAMS or key in ("prompt", "negative_prompt"):
            continue
        facts.append(Fact(media_label(key), _param_text(key, value)))
    cost = _cost_text(meta.get("cost_usd", meta.get("cost")))
    if cost:
        facts.append(Fact("Cost", cost))
    estimate = _cost_text(meta.get("estimated_cost"))
    if estimate and estimate != cost:
        facts.append(Fact("Estimated cost", estimate))
    if meta.get("provider"):
        provider = str(meta["provider"])
        facts.append(Fact("Provider", PROVIDERS.get(provider, provider.capitalize())))
    if meta.get("took_s") not in (None, ""):
        facts.append(Fact("Took", media_seconds(meta["took_s"])))
    if meta.get("job_id"):
        facts.append(Fact("Job", f"#{meta['job_id']}"))
    return facts


def other_facts(metadata: dict | None, *, generated: bool) -> list[Fact]:
    """Metadata keys no other fact shows, each with a humanised label."""
    skip = GENERATED_SHOWN if generated else {"probe"}
    return [
        Fact(media_label(key), fact_text(key, value))
        for key, value in (metadata or {}).items()
        if key not in skip
    ]


def image_param_ids(metadata: dict | None) -> list[int]:
    """The ids of a generation's input images, for the view to look up (owner-scoped)."""
    params = (metadata or {}).get("params")
    if not isinstance(params, dict):
        return []
    ids = []
    for key in IMAGE_PARAMS:
        try:
            ids.append(int(params[key]))
        except (KeyError, TypeError, ValueError):
            continue
    return ids
