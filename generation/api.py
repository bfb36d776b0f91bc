"""The JSON API (django-ninja): typed schemas, OpenAPI at /api/openapi.json, docs at
/api/docs. Session (with CSRF) or `Authorization: Bearer <token>` from `manage.py api_token`.

Errors are JSON: {"message": "...", "errors": {"field": "plain sentence"}}. Bad input is
400, over a limit 429 with Retry-After, another user's job or media 404.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, django_auth

from media_library.models import MediaItem
from media_library.selectors import media_list

from . import catalog, pricing, selectors
from .limits import LimitExceeded
from .models import GenerationJob
from .services.jobs import JobInvalid, job_cancel, job_create, job_estimate, job_retry
from .services.tokens import api_token_authenticate
from .services.transitions import IllegalTransition


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = api_token_authenticate(raw=token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Cutroom API",
    version="1",
    description="Generate videos, follow their jobs, list your media.",
    auth=[BearerToken(), django_auth],
    urls_namespace="api",
)

# Our validator's field names -> the API's.
FIELD_NAMES = {"image": "image_media_id", "audio": "generate_audio"}


# --- schemas --------------------------------------------------------------------------------
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


class ErrorOut(Schema):
    message: str
    errors: dict[str, str] = {}


class CreatedOut(Schema):
    job_id: int
    status: str
    estimated_cost: float
    currency: str = "USD"


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
    kind: str
    durations: list[int]
    resolutions: list[str]
    aspect_ratios: list[str]
    audio: str
    negative_prompt: bool
    seed: bool
    max_prompt_chars: int
    price_basis: str
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


# --- errors ---------------------------------------------------------------------------------
def _error(request, status: int, message: str, errors: dict[str, str] | None = None, **headers):
    response = api.create_response(
        request, {"message": message, "errors": errors or {}}, status=status
    )
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


@api.exception_handler(ValidationError)
def _on_validation(request, exc: ValidationError):
    errors: dict[str, str] = {}
    for item in exc.errors:
        loc = [str(p) for p in item.get("loc", ()) if p not in ("body", "payload", "query")]
        name = loc[0] if loc else "body"
        errors.setdefault(name, str(item.get("msg", "Invalid value.")))
    return _error(request, 400, "Please correct the fields listed in errors.", errors)


@api.exception_handler(AuthenticationError)
def _on_auth(request, exc):
    return _error(
        request,
        401,
        "Sign in, or send Authorization: Bearer <token> (python manage.py api_token <username>).",
    )


@api.exception_handler(LimitExceeded)
def _on_limit(request, exc: LimitExceeded):
    headers = {"Retry_After": str(exc.retry_after)} if exc.retry_after else {}
    return _error(request, 429, exc.message, {"limit": exc.code}, **headers)


@api.exception_handler(JobInvalid)
def _on_invalid(request, exc: JobInvalid):
    errors = {FIELD_NAMES.get(k, k): v for k, v in exc.errors.items()}
    return _error(request, 400, "Please correct the fields listed in errors.", errors)


@api.exception_handler(GenerationJob.DoesNotExist)
def _on_missing_job(request, exc):
    return _error(request, 404, "No such job.")


@api.exception_handler(IllegalTransition)
def _on_conflict(request, exc):
    return _error(request, 409, "This job cannot do that in its current state.")


@api.exception_handler(HttpError)
def _on_http_error(request, exc: HttpError):
    return _error(request, exc.status_code, str(exc))


# --- helpers --------------------------------------------------------------------------------
def _params(body: GenerateIn) -> tuple[str, dict[str, Any]]:
    model_id = (body.model or "").strip() or catalog.default_model_id()
    params: dict[str, Any] = {
        "prompt": body.prompt or "",
        "negative_prompt": body.negative_prompt or "",
        "duration": body.duration,
        "resolution": body.resolution,
        "aspect_ratio": body.aspect_ratio,
        "seed": body.seed,
        "image_id": body.image_media_id,
    }
    if body.generate_audio is not None:
        params["audio"] = body.generate_audio
    return model_id, params


def _money(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _media_url(request, media_id: int | None) -> str | None:
    if media_id is None:
        return None
    return request.build_absolute_uri(reverse("media_library:file", args=[media_id]))


def job_out(request, job: GenerationJob) -> dict[str, Any]:
    error = None
    if job.status in (GenerationJob.Status.FAILED, GenerationJob.Status.CANCELLED):
        error = {"code": job.error_code or "", "message": job.error_message}
    return {
        "job_id": job.pk,
        "status": job.status,
        "model": job.model_id,
        "prompt": job.prompt,
        "progress": round(job.progress, 1),
        "progress_estimated": job.progress_estimated,
        "queue_position": job.queue_position,
        "eta_seconds": job.eta_seconds,
        "estimated_cost": _money(job.estimated_cost),
        "actual_cost": _money(job.actual_cost),
        "error": error,
        "media_item_id": job.media_item_id,
        "media_url": _media_url(request, job.media_item_id),
        "retry_of": job.retry_of_id,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
    }


def _created(job: GenerationJob) -> dict[str, Any]:
    return {
        "job_id": job.pk,
        "status": job.status,
        "estimated_cost": _money(job.estimated_cost),
        "currency": "USD",
    }


# --- routes ---------------------------------------------------------------------------------
ERRORS = {400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut, 429: ErrorOut}


@api.post("/generate-video", response={202: CreatedOut, **ERRORS}, summary="Start a generation")
def generate_video(request, body: GenerateIn):
    model_id, params = _params(body)
    job = job_create(user=request.user, model_id=model_id, params=params)
    return 202, _created(job)


@api.post("/estimate-cost", response={200: EstimateOut, **ERRORS}, summary="Price a request")
def estimate_cost(request, body: GenerateIn):
    model_id, params = _params(body)
    estimate = job_estimate(model_id=model_id, params=params, owner=request.user)
    return 200, {
        "model": estimate.model_id,
        "estimated_cost": float(estimate.cost),
        "expensive": estimate.expensive,
        "formula": estimate.formula,
        "params": {k: v for k, v in estimate.params.items() if k != "prompt"},
    }


@api.get("/jobs", response={200: list[JobOut], **ERRORS}, summary="Your jobs, newest first")
def jobs(request, status: str | None = None, limit: int = 50):
    return 200, [
        job_out(request, j)
        for j in selectors.job_list(owner=request.user, status=status, limit=limit)
    ]


@api.get("/jobs/{job_id}", response={200: JobOut, **ERRORS}, summary="One job")
def job_detail(request, job_id: int):
    return 200, job_out(request, selectors.job_get_for_owner(owner=request.user, job_id=job_id))


@api.post("/jobs/{job_id}/cancel", response={202: JobOut, **ERRORS}, summary="Cancel a job")
def cancel_job(request, job_id: int):
    job = selectors.job_get_for_owner(owner=request.user, job_id=job_id)
    job = job_cancel(job=job)
    return 202, job_out(request, selectors.job_get_for_owner(owner=request.user, job_id=job.pk))


@api.post(
    "/jobs/{job_id}/retry",
    response={202: CreatedOut, **ERRORS},
    summary="Start a new job with a failed or cancelled job's settings",
)
def retry_job(request, job_id: int):
    job = selectors.job_get_for_owner(owner=request.user, job_id=job_id)
    return 202, _created(job_retry(job=job, user=request.user))


@api.get("/models", response={200: list[ModelOut], **ERRORS}, summary="The model catalog")
def models(request):
    default = catalog.default_model_id()
    out = []
    for spec in catalog.all_models():
        available, reason = catalog.available(spec)
        out.append(
            {
                "id": spec.id,
                "name": spec.name,
                "provider": spec.provider,
                "kind": spec.kind,
                "durations": list(spec.durations),
                "resolutions": list(spec.resolutions),
                "aspect_ratios": list(spec.aspect_ratios),
                "audio": spec.audio,
                "negative_prompt": spec.negative_prompt,
                "seed": spec.seed,
                "max_prompt_chars": spec.max_prompt_chars,
                "price_basis": catalog.price_basis(spec),
                "expensive": pricing.is_expensive(spec.id),
                "typical_run_s": spec.typical_run_s,
                "available": available,
                "unavailable_reason": reason,
                "default": spec.id == default,
            }
        )
    return 200, out


@api.get("/media", response={200: MediaPageOut, **ERRORS}, summary="Your media, newest first")
def media(
    request,
    kind: str | None = None,
    source: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
):
    page = media_list(
        owner=request.user,
        kind=kind,
        source=source,
        cursor=cursor,
        limit=max(1, min(limit, 200)),
    )
    return 200, {
        "items": [_media_out(request, item) for item in page.items],
        "next_cursor": page.next_cursor,
    }


def _media_out(request, item: MediaItem) -> dict[str, Any]:
    job_id = item.metadata.get("job_id") if isinstance(item.metadata, dict) else None
    return {
        "id": item.pk,
        "kind": item.kind,
        "title": item.title,
        "status": item.status,
        "source": item.source,
        "mime_type": item.mime_type,
        "size_bytes": item.size_bytes,
        "duration_s": item.duration_s,
        "width": item.width,
        "height": item.height,
        "url": _media_url(request, item.pk),
        "created_at": item.created_at,
        "job_id": job_id if isinstance(job_id, int) else None,
    }
