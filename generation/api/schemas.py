"""Request and response shapes of the JSON API (pydantic via django-ninja)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from ninja import Field, Schema

from ..models import JobStatus
from ..services.jobs import MAX_VARIATIONS

# `GET /jobs?status=`: a job status or "live" (every unfinished one). An enum, so anything
# else is a 422 naming the field (and the choices are in the OpenAPI document) instead of
# reaching the database (a NUL byte there is a PostgreSQL error, not an empty list).
JobStatusFilter = Enum(
    "JobStatusFilter", {value: value for value in ("live", *JobStatus.values)}, type=str
)


class GenerateIn(Schema):
    prompt: str | None = None
    model: str | None = None
    duration: int | str | None = None
    resolution: str | None = None
    aspect_ratio: str | None = None
    negative_prompt: str | None = None
    seed: int | None = None
    generate_audio: bool | None = None
    image_media_id: int | None = None
    # The last frame, for the models that take one (first-last-frame models need it).
    end_image_media_id: int | None = None
    end_image_id: int | None = Field(
        None, description="Same as end_image_media_id (either name is accepted)."
    )


class GenerateVideoIn(GenerateIn):
    variations: int | None = Field(
        None,
        ge=1,
        le=MAX_VARIATIONS,
        description=(
            f"Start this many jobs (1 to {MAX_VARIATIONS}) with the same settings, like the "
            "panel's variations. Where the model takes a seed each job gets its own: `seed`, "
            "seed+1, … or distinct random seeds when no seed is given. All or none: the "
            "limits and the budget are checked once for the whole batch (its total cost), "
            "and a refusal starts nothing. With `variations` the answer lists every job in "
            "`jobs` (`job_id` is the first)."
        ),
    )


class ErrorOut(Schema):
    message: str
    errors: dict[str, str] = {}


class CreatedJobOut(Schema):
    job_id: int
    status: str
    estimated_cost: float
    seed: int | None


class CreatedOut(Schema):
    job_id: int
    status: str
    estimated_cost: float
    currency: str = "USD"
    jobs: list[CreatedJobOut] | None = Field(
        None,
        description="Every job the request started, in order (only when it sent `variations`).",
    )


class JobErrorOut(Schema):
    code: str
    message: str


class JobOut(Schema):
    job_id: int
    status: str
    model: str
    prompt: str
    progress: float
    progress_estimated: bool
    queue_position: int | None
    eta_seconds: int | None
    estimated_cost: float
    actual_cost: float | None
    currency: str = "USD"
    error: JobErrorOut | None
    media_item_id: int | None
    media_url: str | None
    retry_of: int | None
    created_at: datetime
    updated_at: datetime


class EstimateOut(Schema):
    model: str
    estimated_cost: float
    currency: str = "USD"
    expensive: bool
    formula: str
    params: dict[str, Any]


class ModelOut(Schema):
    id: str
    name: str
    provider: str
    endpoint: str
    family: str
    kind: str
    needs_image: bool
    takes_end_image: bool
    needs_end_image: bool
    # Options in natural order (durations and resolutions ascending); the defaults below.
    durations: list[int]
    resolutions: list[str]
    aspect_ratios: list[str]
    default_duration: int | None
    default_resolution: str | None
    default_aspect_ratio: str | None
    audio: str
    negative_prompt: bool
    seed: bool
    max_prompt_chars: int
    price_basis: str
    price_date: str
    price_source: str
    price_note: str
    expensive: bool
    typical_run_s: int
    available: bool
    unavailable_reason: str
    default: bool


class MediaOut(Schema):
    id: int
    kind: str
    title: str
    status: str
    source: str
    mime_type: str
    size_bytes: int
    duration_s: float | None
    width: int | None
    height: int | None
    url: str
    created_at: datetime
    job_id: int | None


class MediaPageOut(Schema):
    items: list[MediaOut]
    next_cursor: str | None
