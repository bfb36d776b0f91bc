"""Request validation in plain words, and the text cleaning every entry point shares.

    normalize(model_id, params) -> params with defaults filled and values in canonical form
    validate(model_id, params, owner=None) -> {field: message}; empty means valid

Params (all optional except prompt): prompt, negative_prompt, duration (6, "6" or "6s"),
resolution, aspect_ratio, audio, seed, image_id and end_image_id (MediaItem ids of the
first and last frame).
Nothing reaches a provider without passing validate().
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from generation import catalog
from generation.catalog import ModelSpec

SEED_MAX = 2**32 - 1
_KEEP = {"\n"}
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u3000]+")
_DURATION = re.compile(r"^\s*(\d+(?:\.0+)?)\s*(?:s|sec|secs|seconds?)?\s*$", re.IGNORECASE)
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def clean_text(value: Any, max_len: int | None = None) -> str:
    """Remove control and invisible formatting characters (bidi overrides, zero-width
    joiners, NUL …), normalise Unicode and spaces, trim; cut to max_len when given."""
    text = unicodedata.normalize("NFC", "" if value is None else str(value))
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = "".join(
        ch for ch in text if ch in _KEEP or unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co"}
    )
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n")).strip()
    text = re.sub(r"\n{3,}", "\n\n", text)
    if max_len is not None:
        text = text[:max_len].rstrip()
    return text


def _duration(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return int(float(match.group(1)))
    return value


def _choice(value: Any, options: tuple[str, ...]) -> Any:
    if not isinstance(value, str):
        return value
    wanted = value.strip().replace(" ", "").lower()
    for option in options:
        if option.lower() == wanted:
            return option
    return value.strip()


def _bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    return value


def _int_or_none(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    # isdecimal, not isdigit: "²" is a digit that int() refuses.
    if isinstance(value, str) and value.strip().isdecimal():
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def normalize(model_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """Fill the model's defaults (first duration, resolution, aspect ratio; its audio
    default) and put every value in canonical form. Values that cannot be read are left
    as given so validate() can say what is wrong with them."""
    p = dict(params or {})
    p["prompt"] = clean_text(p.get("prompt"))
    p["negative_prompt"] = clean_text(p.get("negative_prompt"))
    if "image_id" not in p and "image" in p:
        p["image_id"] = p.pop("image")
    p["image_id"] = _int_or_none(p.get("image_id"))
    if "end_image_id" not in p and "end_image" in p:
        p["end_image_id"] = p.pop("end_image")
    p["end_image_id"] = _int_or_none(p.get("end_image_id"))
    p["seed"] = _int_or_none(p.get("seed"))
    if not catalog.exists(model_id):
        return p
    spec = catalog.get(model_id)
    p["duration"] = (
        _duration(p.get("duration")) if p.get("duration") not in (None, "") else spec.durations[0]
    )
    p["resolution"] = (
        _choice(p["resolution"], spec.resolutions) if p.get("resolution") else spec.resolutions[0]
    )
    if spec.aspect_ratios:
        p["aspect_ratio"] = (
            _choice(p["aspect_ratio"], spec.aspect_ratios)
            if p.get("aspect_ratio")
            else spec.aspect_ratios[0]
        )
    else:
        # Left as given when it is not text (1.0, [..]) so validate() refuses it.
        ratio = p.get("aspect_ratio")
        p["aspect_ratio"] = (ratio.strip() or None) if isinstance(ratio, str) else (ratio or None)
    if spec.audio == catalog.AUDIO_OPTIONAL:
        p["audio"] = _bool(p["audio"]) if p.get("audio") not in (None, "") else spec.audio_default
    elif spec.audio == catalog.AUDIO_ALWAYS:
        p["audio"] = True
    else:
        # Silent models: an explicit "on" is kept so validate() can refuse it.
        p["audio"] = _bool(p.get("audio")) if p.get("audio") not in (None, "") else False
    if not spec.seed:
        p["seed"] = None
    return p


def _or_list(values: list[str]) -> str:
    if len(values) == 1:
        return values[0]
    return ", ".join(values[:-1]) + " or " + values[-1]


def _seconds(spec: ModelSpec) -> str:
    return _or_list([f"{d} s" for d in sorted(spec.durations)])


def validate(model_id: str, params: dict[str, Any], *, owner=None) -> dict[str, str]:
    """Field-level errors in plain words. With an owner, the image must be one of the
    owner's ready images; without one only its presence is checked."""
    if not model_id or not catalog.exists(str(model_id)):
        return {"model": f"Unknown model “{clean_text(model_id, 80)}”. Choose one from the list."}
    spec = catalog.get(model_id)
    p = normalize(model_id, params)
    errors: dict[str, str] = {}

    prompt = p["prompt"]
    if not prompt:
        errors["prompt"] = "Write a prompt describing the video."
    elif len(prompt) < spec.min_prompt_chars:
        errors["prompt"] = (
            f"{spec.name} needs a prompt of at least {spec.min_prompt_chars} characters."
        )
    elif len(prompt) > spec.max_prompt_chars:
        errors["prompt"] = (
            f"The prompt is {len(prompt):,} characters long; {spec.name} takes at most "
            f"{spec.max_prompt_chars:,}. Shorten it."
        )
    negative = p["negative_prompt"]
    if negative and not spec.negative_prompt:
        errors["negative_prompt"] = f"{spec.name} does not take a negative prompt; leave it empty."
    elif len(negative) > spec.max_prompt_chars:
        errors["negative_prompt"] = (
            f"The negative prompt is {len(negative):,} characters long; at most "
            f"{spec.max_prompt_chars:,} are allowed."
        )

    duration = p["duration"]
    if not isinstance(duration, int) or isinstance(duration, bool):
        errors["duration"] = f"Duration must be a whole number of seconds: {_seconds(spec)}."
    elif duration not in spec.durations:
        only = " only" if len(spec.durations) == 1 else ""
        errors["duration"] = f"{spec.name} makes {_seconds(spec)} clips{only}, not {duration} s."

    if p["resolution"] not in spec.resolutions:
        errors["resolution"] = (
            f"{spec.name} offers {_or_list(list(spec.resolutions))}, "
            f"not {clean_text(p['resolution'], 20)}."
        )
    if spec.aspect_ratios and p["aspect_ratio"] not in spec.aspect_ratios:
        errors["aspect_ratio"] = (
            f"{spec.name} offers the aspect ratios {_or_list(list(spec.aspect_ratios))}, "
            f"not {clean_text(p['aspect_ratio'], 20)}."
        )
    elif not spec.aspect_ratios and p["aspect_ratio"]:
        errors["aspect_ratio"] = (
            f"{spec.name} keeps the shape of your image; leave the aspect ratio empty."
        )

    if not isinstance(p["audio"], bool):
        errors["audio"] = "Sound must be on or off."
    elif p["audio"] and spec.audio == catalog.AUDIO_NONE:
        errors["audio"] = f"{spec.name} makes silent video; turn sound off."

    seed = p["seed"]
    if seed is not None and (
        not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= SEED_MAX
    ):
        errors["seed"] = (
            f"The seed must be a whole number from 0 to {SEED_MAX}, or empty for a random one."
        )

    image_error = _image_error(spec, p["image_id"], owner)
    if image_error:
        errors["image"] = image_error
    end_error = _end_image_error(spec, p["end_image_id"], owner)
    if end_error:
        errors["end_image"] = end_error
    if spec.retired and not errors:
        errors["model"] = f"{spec.name} is no longer offered by its provider. Choose another model."
    return errors


def _image_error(spec: ModelSpec, image_id: Any, owner) -> str:
    if not spec.needs_image:
        if image_id is not None:
            return (
                f"{spec.name} makes video from text only; remove the image or choose an "
                "image-to-video model."
            )
        return ""
    if image_id is None:
        if spec.needs_end_image:
            return f"{spec.name} fills the time between two stills: choose the first frame."
        return f"{spec.name} animates a still image: choose one of your images."
    return _ready_image_error(image_id, owner)


def _end_image_error(spec: ModelSpec, image_id: Any, owner) -> str:
    if not spec.takes_end_image:
        if image_id is not None:
            return f"{spec.name} takes no last frame; remove it or choose a model that does."
        return ""
    if image_id is None:
        if spec.needs_end_image:
            return f"{spec.name} fills the time between two stills: choose the last frame."
        return ""
    return _ready_image_error(image_id, owner)


def _ready_image_error(image_id: Any, owner) -> str:
    if not isinstance(image_id, int) or isinstance(image_id, bool):
        return "That image is not one of your ready images."
    if owner is None:
        return ""
    from media_library.models import MediaItem

    ready = MediaItem.objects.filter(
        pk=image_id, owner=owner, kind=MediaItem.Kind.IMAGE, status=MediaItem.Status.READY
    ).exists()
    return "" if ready else "That image is not one of your ready images."
