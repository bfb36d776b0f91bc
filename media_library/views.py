"""Media panel views: thin wrappers over selectors and services, HTML fragments only."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from project.body_limits import MULTIPART_SLACK

from . import selectors, services, uploads
from .models import MediaItem
from .serving import file_response
from .templatetags import media_tags


def _filters(request) -> dict:
    q = request.GET
    return {
        "kind": q.get("kind") if q.get("kind") in MediaItem.Kind.values else "",
        "source": q.get("source") if q.get("source") in MediaItem.Source.values else "",
        # PostgreSQL refuses NUL in text parameters; no title can contain one anyway.
        "search": q.get("q", "").replace("\x00", "").strip()[: selectors.SEARCH_MAX],
    }


def _grid_context(request, *, cursor: str | None = None) -> dict:
    filters = _filters(request)
    page = selectors.media_list(
        owner=request.user,
        kind=filters["kind"] or None,
        source=filters["source"] or None,
        search=filters["search"] or None,
        cursor=cursor,
    )
    more_url = None
    if page.next_cursor:
        params = request.GET.copy()
        params["cursor"] = page.next_cursor
        more_url = f"{reverse('media_library:grid')}?{params.urlencode()}"
    return {
        "page": page,
        "items": page.items,
        "more_url": more_url,
        "filters": filters,
        "filtered": any(filters.values()),
    }


@require_GET
def panel(request):
    ctx = _grid_context(request)
    ctx.update(
        kinds=MediaItem.Kind.choices,
        sources=MediaItem.Source.choices,
        max_upload_mb=settings.MEDIA_MAX_UPLOAD_MB,
        upload_sessions_url=reverse("media_library:upload_sessions"),
    )
    return render(request, "media_library/partials/panel.html", ctx)


@require_GET
def grid(request):
    """First page (filters changed, or a re-sync) or a following page (cursor)."""
    cursor = request.GET.get("cursor") or None
    ctx = _grid_context(request, cursor=cursor)
    template = (
        "media_library/partials/grid_page.html" if cursor else "media_library/partials/grid.html"
    )
    return render(request, template, ctx)


def single_upload_limit() -> tuple[int, str]:
    """The cap of a single-request (multipart) upload and its refusal: SMALL_UPLOAD_MAX_MB
    (larger files go chunked, see uploads.py), or the media limit when that is lower."""
    if settings.MEDIA_MAX_UPLOAD_MB <= settings.SMALL_UPLOAD_MAX_MB:
        mb = settings.MEDIA_MAX_UPLOAD_MB
        return mb * 1024 * 1024, f"This file is too large: the limit is {mb:,} MB."
    mb = settings.SMALL_UPLOAD_MAX_MB
    return mb * 1024 * 1024, (
        f"This file is too large for a single-request upload (the limit is {mb:,} MB): "
        "send larger files in chunks through the resumable upload (POST /media/uploads/ "
        "in the browser, POST /api/uploads in the API)."
    )


@require_POST
def upload(request):
    """One small file per request (the panel sends larger ones in chunks, see below)."""
    cap, too_large = single_upload_limit()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > cap + MULTIPART_SLACK:
        return _upload_error(too_large, 413)
    uploaded = request.FILES.get("file")
    if uploaded is None:
        return _upload_error("No file was received. Please choose a file and try again.", 400)
    if uploaded.size > cap:
        return _upload_error(too_large, 413)
    try:
        item = services.media_upload_create(owner=request.user, uploaded_file=uploaded)
    except services.MediaRejected as exc:
        status = 413 if exc.code in services.MediaRejected.TOO_LARGE else 400
        return _upload_error(exc.message, status)
    return _card_created(request, item)


def _card_created(request, item: MediaItem):
    response = render(request, "media_library/partials/card.html", {"item": item, "live_new": True})
    response.status_code = 201
    return response


# --- chunked uploads (media_library/uploads.py; protocol in docs/uploads.md) ----------------


def _with_headers(response: HttpResponse, headers: dict[str, str]) -> HttpResponse:
    for name, value in headers.items():
        response[name] = value
    return response


def _upload_refused(exc: uploads.UploadError) -> JsonResponse:
    status, body, headers = uploads.refusal(exc, message_key="error")
    return _with_headers(JsonResponse(body, status=status), headers)


def _session_json(request, session) -> dict:
    data = {
        "id": str(session.pk),
        "url": reverse("media_library:upload_session", args=[session.pk]),
        **uploads.session_fields(session),
    }
    if session.error_message:
        data["error"] = session.error_message
    if session.media_item_id:
        data["media_id"] = session.media_item_id
        data["card_url"] = reverse("media_library:card", args=[session.media_item_id])
    return data


@require_POST
def upload_sessions(request):
    """Open a chunked upload: JSON {filename, size, type} -> 201 {id, url, offset, chunk_size}."""
    try:
        payload = json.loads(request.read(64 * 1024) or b"{}")
        if not isinstance(payload, dict):
            raise ValueError
    except ValueError:
        return _upload_refused(uploads.UploadError("invalid", "Send JSON: {filename, size, type}."))
    try:
        session = uploads.upload_create(
            owner=request.user,
            filename=str(payload.get("filename") or ""),
            size=payload.get("size"),
            content_type=str(payload.get("type") or ""),
        )
    except uploads.UploadError as exc:
        return _upload_refused(exc)
    response = JsonResponse(_session_json(request, session), status=201)
    response["Location"] = reverse("media_library:upload_session", args=[session.pk])
    response["Upload-Offset"] = "0"
    return response


@require_http_methods(["GET", "HEAD", "PATCH", "DELETE"])
def upload_session(request, upload_id):
    """HEAD/GET: the stored offset. PATCH: one chunk at Upload-Offset (204, or 201 with the
    card on the last). DELETE: cancel."""
    try:
        if request.method in ("GET", "HEAD"):
            session = uploads.upload_get(owner=request.user, session_id=upload_id)
            response = JsonResponse(_session_json(request, session))
        elif request.method == "DELETE":
            uploads.upload_abort(owner=request.user, session_id=upload_id)
            return HttpResponse(status=204)
        else:
            session = uploads.upload_append(
                owner=request.user, session_id=upload_id, **uploads.chunk_from_request(request)
            )
            if session.status == session.Status.DONE:
                response = _card_created(request, session.media_item)
            else:
                response = HttpResponse(status=204)
    except uploads.UploadError as exc:
        return _upload_refused(exc)
    return _with_headers(response, uploads.session_headers(session))


def _upload_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@require_GET
def card(request, media_id: int):
    item = selectors.media_get_for_owner(owner=request.user, media_id=media_id)
    return render(request, "media_library/partials/card.html", {"item": item})


@require_GET
def details(request, media_id: int):
    item = selectors.media_get_for_owner(owner=request.user, media_id=media_id)
    meta = item.metadata if isinstance(item.metadata, dict) else {}
    generated = item.source == MediaItem.Source.GENERATED
    images = {}
    if generated:
        # A generation's start/end images, when the owner still has them (thumbnails).
        for image_id in media_tags.image_param_ids(meta):
            try:
                images[image_id] = selectors.media_get_for_owner(
                    owner=request.user, media_id=image_id
                )
            except Http404:
                pass
    context = {
        "item": item,
        "probe_facts": media_tags.probe_facts(meta.get("probe")),
        "generation_facts": media_tags.generation_facts(meta, images=images) if generated else [],
        "other_facts": media_tags.other_facts(meta, generated=generated),
    }
    return render(request, "media_library/partials/details.html", context)


@require_http_methods(["GET", "POST"])
def rename(request, media_id: int):
    item = selectors.media_get_for_owner(owner=request.user, media_id=media_id)
    error = ""
    if request.method == "POST":
        try:
            services.media_rename(item=item, title=request.POST.get("title", ""))
        except services.MediaRejected as exc:
            error = exc.message
        else:
            return render(
                request, "media_library/partials/action_done.html", {"item": item, "updated": True}
            )
    return render(request, "media_library/partials/rename.html", {"item": item, "error": error})


@require_http_methods(["GET", "POST"])
def delete(request, media_id: int):
    item = selectors.media_get_for_owner(owner=request.user, media_id=media_id)
    if request.method == "POST":
        dom_id = item.dom_id
        try:
            services.media_delete(item=item)
        except ProtectedError:
            error = "It is still used in a timeline. Remove its clips from the timeline first."
        except ValidationError as exc:  # a receiver (the editor) refused, e.g. a locked track
            error = " ".join(exc.messages)
        else:
            return render(
                request, "media_library/partials/action_done.html", {"removed_dom_id": dom_id}
            )
    else:
        error = ""
    timelines = selectors.media_timelines_using(item=item)
    return render(
        request,
        "media_library/partials/delete_confirm.html",
        {"item": item, "timelines": timelines, "error": error},
    )


# --- files -----------------------------------------------------------------------------

DERIVED = {"poster": "image/jpeg", "filmstrip": "image/jpeg", "waveform": "image/png"}


@require_http_methods(["GET", "HEAD"])
def media_file(request, media_id: int):
    item = selectors.media_get_for_owner(owner=request.user, media_id=media_id)
    if not item.file:
        raise Http404("No file.")
    ext = item.file.name.rsplit(".", 1)[-1]
    title = item.title if item.title.lower().endswith(f".{ext}") else f"{item.title}.{ext}"
    return file_response(
        request,
        item.file,
        content_type=item.mime_type or "application/octet-stream",
        filename=title,
        download=request.GET.get("download") == "1",
        modified=item.updated_at,
    )


@require_http_methods(["GET", "HEAD"])
def derived_file(request, media_id: int, variant: str):
    if variant not in DERIVED:
        raise Http404
    item = selectors.media_get_for_owner(owner=request.user, media_id=media_id)
    fieldfile = getattr(item, variant)
    if not fieldfile:
        raise Http404("Not made yet.")
    ext = "png" if variant == "waveform" else "jpg"
    return file_response(
        request,
        fieldfile,
        content_type=DERIVED[variant],
        filename=f"{variant}-{item.pk}.{ext}",
        modified=item.updated_at,
    )


def empty(_request):
    return HttpResponse("")
