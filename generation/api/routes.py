"""The API's routes. Thin: selectors read, services write, schemas shape."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse

from media_library import services as media_services
from media_library.models import MediaItem
from media_library.selectors import media_list
from media_library.serving import file_response
from media_library.signing import download_token, item_for_download_token
from media_library.sniffing import clean_title
from media_library.views import single_upload_limit
from project.body_limits import MULTIPART_SLACK

from .. import catalog, pricing, selectors
from ..catalog.spec import short_side
from ..models import GenerationJob
from ..services.jobs import (
    MAX_VARIATIONS,
    JobInvalid,
    job_cancel,
    job_estimate,
    job_retry,
    jobs_create_batch,
)
from .base import api
from .schemas import (
    CreatedOut,
    ErrorOut,
    EstimateOut,
    GenerateIn,
    GenerateVideoIn,
    JobOut,
    JobStatusFilter,
    MediaOut,
    MediaPageOut,
    ModelOut,
)


def request_params(body: GenerateIn) -> tuple[str, dict[str, Any]]:
    """The model id and the service's params from a request body (public: the editor's
    slots API reads the same fields the same way)."""
    model_id = (body.model or "").strip() or catalog.default_model_id()
    params: dict[str, Any] = {
        "prompt": body.prompt or "",
        "negative_prompt": body.negative_prompt or "",
        "duration": body.duration,
        "resolution": body.resolution,
        "aspect_ratio": body.aspect_ratio,
        "seed": body.seed,
        "image_id": body.image_media_id,
        "end_image_id": _end_image_id(body),
    }
    if body.generate_audio is not None:
        params["audio"] = body.generate_audio
    return model_id, params


def _end_image_id(body: GenerateIn) -> int | None:
    a, b = body.end_image_media_id, body.end_image_id
    if a is not None and b is not None and a != b:
        raise JobInvalid(
            {"end_image_media_id": "end_image_media_id and end_image_id name different images."}
        )
    return a if a is not None else b


def _money(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _media_url(request, media_id: int | None, owner_id: int) -> str | None:
    """A signed link that works without a session (scripts holding only a token)."""
    if media_id is None:
        return None
    item = MediaItem(pk=media_id, owner_id=owner_id)
    path = reverse("api:media_download", kwargs={"media_id": media_id})
    return request.build_absolute_uri(f"{path}?sig={download_token(item)}")


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
        "media_url": _media_url(request, job.media_item_id, job.owner_id),
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


def _created_job(job: GenerationJob) -> dict[str, Any]:
    return {
        "job_id": job.pk,
        "status": job.status,
        "estimated_cost": _money(job.estimated_cost),
        "seed": job.params.get("seed"),
    }


# --- routes ---------------------------------------------------------------------------------
ERRORS = {400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut, 429: ErrorOut}
UPLOAD_ERRORS = {400: ErrorOut, 401: ErrorOut, 413: ErrorOut, 429: ErrorOut}


@api.post(
    "/generate-video",
    response={202: CreatedOut, **ERRORS},
    # `jobs` is left out of the answer unless the request asked for variations.
    exclude_unset=True,
    summary=f"Start a generation (or up to {MAX_VARIATIONS} variations of it)",
)
def generate_video(request, body: GenerateVideoIn):
    model_id, params = request_params(body)
    jobs = jobs_create_batch(
        user=request.user, model_id=model_id, params=params, variations=body.variations or 1
    )
    out = _created(jobs[0])
    if body.variations is not None:
        out["jobs"] = [_created_job(job) for job in jobs]
    return 202, out


@api.post("/estimate-cost", response={200: EstimateOut, **ERRORS}, summary="Price a request")
def estimate_cost(request, body: GenerateIn):
    # The stills are needed to generate, not to price: an image-to-video model is priced
    # before they are chosen (a given image is still checked).
    model_id, params = request_params(body)
    estimate = job_estimate(model_id=model_id, params=params, owner=request.user, pricing_only=True)
    return 200, {
        "model": estimate.model_id,
        "estimated_cost": float(estimate.cost),
        "expensive": estimate.expensive,
        "formula": estimate.formula,
        "params": {k: v for k, v in estimate.params.items() if k != "prompt"},
    }


@api.get("/jobs", response={200: list[JobOut], **ERRORS}, summary="Your jobs, newest first")
def jobs(request, status: JobStatusFilter | None = None, limit: int = 50):
    wanted = status.value if status else None
    return 200, [
        job_out(request, j)
        for j in selectors.job_list(owner=request.user, status=wanted, limit=limit)
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
    """The models offered for new work (retired ones are left out), options ascending."""
    default = catalog.default_model_id()
    out = []
    for spec in catalog.offered_models():
        available, reason = catalog.available(spec)
        out.append(
            {
                "id": spec.id,
                "name": spec.name,
                "provider": spec.provider,
                "endpoint": spec.endpoint,
                "family": spec.family,
                "kind": spec.kind,
                "needs_image": spec.needs_image,
                "takes_end_image": spec.takes_end_image,
                "needs_end_image": spec.needs_end_image,
                "durations": sorted(spec.durations),
                "resolutions": sorted(spec.resolutions, key=short_side),
                "aspect_ratios": list(spec.aspect_ratios),
                "default_duration": spec.durations[0] if spec.durations else None,
                "default_resolution": spec.resolutions[0] if spec.resolutions else None,
                "default_aspect_ratio": spec.aspect_ratios[0] if spec.aspect_ratios else None,
                "audio": spec.audio,
                "negative_prompt": spec.negative_prompt,
                "seed": spec.seed,
                "max_prompt_chars": spec.max_prompt_chars,
                "price_basis": catalog.price_basis(spec),
                "price_date": spec.price_date,
                "price_source": spec.price_source,
                "price_note": spec.price_note,
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
        "items": [media_out(request, item) for item in page.items],
        "next_cursor": page.next_cursor,
    }


UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "title": {"type": "string", "description": "Defaults to the file name."},
                },
            }
        }
    },
}


def _refused(exc: media_services.MediaRejected) -> tuple[int, dict[str, Any]]:
    # The same mapping as the browser upload view: size refusals are 413.
    status = 413 if exc.code in media_services.MediaRejected.TOO_LARGE else 400
    return status, {"message": exc.message, "errors": {}}


@api.post(
    "/media",
    response={201: MediaOut, **UPLOAD_ERRORS},
    openapi_extra={"requestBody": UPLOAD_BODY},
    summary="Upload a small video, audio or image file in one request",
    description=(
        "Multipart: `file` and an optional `title`, for files up to SMALL_UPLOAD_MAX_MB "
        f"(here {settings.SMALL_UPLOAD_MAX_MB:,} MB). Larger files go through the resumable, chunked upload: "
        "POST /api/uploads, then PATCH the chunks (see that route)."
    ),
)
def upload_media(request):
    """Multipart: `file` and an optional `title`. Validated and processed exactly like an
    upload in the browser; a refused file leaves nothing stored. The item is `processing`
    until its probe finishes (follow it with GET /api/media). Only for small files
    (SMALL_UPLOAD_MAX_MB): larger ones go through POST /api/uploads."""
    # Before the body is read, like the browser upload: an oversized request is refused
    # from its declared length.
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    cap, too_large = single_upload_limit()
    if declared > cap + MULTIPART_SLACK:
        return 413, {"message": too_large, "errors": {}}
    try:
        uploaded = request.FILES.get("file")
        title = request.POST.get("title")
    except RequestDataTooBig:
        return 413, {"message": "This request is too large.", "errors": {}}
    except (MultiPartParserError, SuspiciousOperation):
        return 400, {
            "message": "This upload could not be read as multipart form data.",
            "errors": {},
        }
    if uploaded is None:
        return 400, {
            "message": "No file was received: send it as the multipart form field `file`.",
            "errors": {"file": "This field is required."},
        }
    if uploaded.size > cap:
        return 413, {"message": too_large, "errors": {}}
    if title is not None and not clean_title(title, fallback=""):
        return 400, {"message": "Please enter a name.", "errors": {"title": "Please enter a name."}}
    try:
        item = media_services.media_upload_create(owner=request.user, uploaded_file=uploaded)
    except media_services.MediaRejected as exc:
        return _refused(exc)
    if title is not None:
        item = media_services.media_rename(item=item, title=title)
    return 201, media_out(request, item)


def media_out(request, item: MediaItem) -> dict[str, Any]:
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
        "url": _media_url(request, item.pk, item.owner_id),
        "created_at": item.created_at,
        "job_id": job_id if isinstance(job_id, int) else None,
    }


@api.get(
    "/media/{media_id}/download",
    auth=None,
    response={200: None, 400: ErrorOut, 404: ErrorOut, 429: ErrorOut},
    openapi_extra={
        "responses": {
            "200": {"description": "The file", "content": {"application/octet-stream": {}}}
        }
    },
    url_name="media_download",
    summary="Download a media file with the signed link from media_url",
)
def media_download(request, media_id: int, sig: str):
    item = item_for_download_token(media_id, sig)
    if item is None or not item.file:
        return 404, {"message": "This download link is not valid or has expired.", "errors": {}}
    ext = item.file.name.rsplit(".", 1)[-1]
    return file_response(
        request,
        item.file,
        content_type=item.mime_type or "application/octet-stream",
        filename=f"{item.title}.{ext}"
        if not item.title.lower().endswith(f".{ext}")
        else item.title,
        download=True,
        modified=item.updated_at,
    )
