"""Media panel views: thin wrappers over selectors and services, HTML fragments only."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import selectors, services
from .models import MediaItem
from .serving import file_response

# Multipart framing around a file is small; anything beyond this over the cap is refused
# before Django reads (and writes to disk) a single byte of the body.
MULTIPART_SLACK = 64 * 1024


def _filters(request) -> dict:
    q = request.GET
    return {
        "kind": q.get("kind") if q.get("kind") in MediaItem.Kind.values else "",
        "source": q.get("source") if q.get("source") in MediaItem.Source.values else "",
        "search": q.get("q", "").strip()[: selectors.SEARCH_MAX],
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


@require_POST
def upload(request):
    """One file per request, so the browser can show a progress bar per file."""
    cap = settings.MEDIA_MAX_UPLOAD_MB * 1024 * 1024
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > cap + MULTIPART_SLACK:
        return _upload_error(
            f"This file is too large: the limit is {settings.MEDIA_MAX_UPLOAD_MB:,} MB.", 413
        )
    uploaded = request.FILES.get("file")
    if uploaded is None:
        return _upload_error("No file was received. Please choose a file and try again.", 400)
    try:
        item = services.media_upload_create(owner=request.user, uploaded_file=uploaded)
    except services.MediaRejected as exc:
        status = 413 if "too large" in exc.message else 400
        return _upload_error(exc.message, status)
    response = render(request, "media_library/partials/card.html", {"item": item, "live_new": True})
    response.status_code = 201
    return response


def _upload_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@require_GET
def card(request, media_id: int):
    item = selectors.media_get_for_owner(owner=request.user, media_id=media_id)
    return render(request, "media_library/partials/card.html", {"item": item})


@require_GET
def details(request, media_id: int):
    item = selectors.media_get_for_owner(owner=request.user, media_id=media_id)
    return render(request, "media_library/partials/details.html", {"item": item})


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
