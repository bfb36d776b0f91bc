"""Spell a normalised request the way each model's API wants it (data from the catalog)."""

from __future__ import annotations

from typing import Any

from generation import catalog

from .base import ErrorCode, ProviderError, SubmitRequest


def build_input(request: SubmitRequest) -> dict[str, Any]:
    try:
        spec = catalog.get(request.model_id)
    except KeyError:
        raise ProviderError(
            ErrorCode.INVALID_INPUT, f"unknown model {request.model_id!r}", permanent=True
        ) from None
    p = request.params
    body: dict[str, Any] = {"prompt": request.prompt, **spec.fixed_input}
    duration = p.get("duration")
    if spec.duration_field and duration is not None:
        body[spec.duration_field] = (
            int(duration)
            if spec.duration_format == "int"
            else spec.duration_format.format(s=duration)
        )
    if spec.resolution_field and p.get("resolution"):
        body[spec.resolution_field] = p["resolution"]
    if spec.aspect_field and p.get("aspect_ratio"):
        body[spec.aspect_field] = p["aspect_ratio"]
    if spec.audio_field:
        body[spec.audio_field] = bool(p.get("audio"))
    if spec.seed and p.get("seed") is not None:
        body["seed"] = int(p["seed"])
    negative = request.negative_prompt or p.get("negative_prompt") or ""
    if spec.negative_prompt and negative:
        body["negative_prompt"] = negative
    if spec.image_field:
        if not request.images.get("start"):
            raise ProviderError(
                ErrorCode.INVALID_INPUT, f"{spec.name} needs a start image", permanent=True
            )
        body[spec.image_field] = request.images["start"]
    if spec.end_image_field:
        if request.images.get("end"):
            body[spec.end_image_field] = request.images["end"]
        elif spec.needs_end_image:
            raise ProviderError(
                ErrorCode.INVALID_INPUT, f"{spec.name} needs a last frame", permanent=True
            )
    return body
