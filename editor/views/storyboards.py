"""Storyboards from the browser: the dialog (shots written one by one or pasted as a script),
its cost line for the whole list, "Generate all", and each storyboard's buttons (Cancel all,
Retry failed, Regenerate one shot). Thin: parse the form, call one
editor.services.storyboards function, answer a template or a refusal sentence."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from editor.models import Storyboard, StoryboardShot
from editor.services import storyboards as boards
from generation import catalog
from generation.limits import LimitExceeded
from media_library.models import MediaItem

from .common import found_or_404, owned_timeline, refusal, refused_edit, timeline_response

TEMPLATE = "editor/partials/storyboard_dialog.html"
SHOTS_TEMPLATE = "editor/partials/storyboard_shots.html"


def _models() -> list[dict]:
    """Every available model with lengths: text-to-video first, then those that start
    from an image (a shot with a start image needs one). First-and-last-frame models
    need two images and are left to Bridge."""
    out = []
    for spec in catalog.offered_models():
        if not catalog.available(spec)[0] or not spec.durations or spec.needs_end_image:
            continue
        out.append(
            {
                "id": spec.id,
                "name": spec.name,
                "durations": list(spec.durations),
                "price": catalog.price_basis(spec),
                "needs_image": spec.needs_image,
            }
        )
    return sorted(out, key=lambda m: m["needs_image"])


def _images(user) -> list[MediaItem]:
    return list(
        MediaItem.objects.filter(
            owner=user, kind=MediaItem.Kind.IMAGE, status=MediaItem.Status.READY
        ).order_by("-created_at")[:50]
    )


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def shots_from(post) -> list[boards.ShotIn]:
    """The dialog's rows (prompt/model/duration/image lists, in order); with `split`, the
    pasted script instead, one shot per paragraph, with the default model and length."""
    if post.get("split"):
        return boards.parse_script(
            post.get("script", ""),
            model_id=post.get("default_model") or catalog.default_model_id(),
            duration=_int(post.get("default_duration")),
        )
    rows = zip(
        post.getlist("prompt"),
        post.getlist("model"),
        post.getlist("duration"),
        post.getlist("image_id"),
        strict=False,
    )
    return [
        boards.ShotIn(prompt=p.strip(), model_id=m, duration=_int(d), image_id=_int(i))
        for p, m, d, i in rows
        if p.strip()
    ]


def _context(request, timeline, shots, quote=None) -> dict:
    models = _models()
    return {
        "timeline": timeline,
        "models": models,
        "default_model": next((m["id"] for m in models if not m["needs_image"]), ""),
        "images": _images(request.user),
        "rows": [
            (shot, quote.costs[i] if quote else None, quote.errors.get(i) if quote else None)
            for i, shot in enumerate(shots)
        ],
        "quote": quote,
        "storyboards": boards.storyboards_of(timeline=timeline),
    }


@login_required
@require_GET
def storyboard_dialog(request, pk: int):
    timeline = owned_timeline(request, pk)
    return render(request, TEMPLATE, _context(request, timeline, []))


@login_required
@require_POST
def storyboard_quote(request, pk: int):
    """The shot rows with each shot's cost, the total and the budget left (or the first
    refusal): what "Generate all" will ask for, before anything starts."""
    timeline = owned_timeline(request, pk)
    shots = shots_from(request.POST)[: boards.MAX_SHOTS]
    quote = boards.storyboard_quote(
        user=request.user, shots=shots, chain=bool(request.POST.get("chain"))
    )
    return render(request, SHOTS_TEMPLATE, _context(request, timeline, shots, quote))


@login_required
@require_POST
def storyboard_start(request, pk: int):
    timeline = owned_timeline(request, pk)
    try:
        boards.storyboard_start(
            timeline=timeline,
            user=request.user,
            shots=shots_from(request.POST),
            chain=bool(request.POST.get("chain")),
        )
    except ValidationError as exc:
        return refused_edit(exc)
    except LimitExceeded as exc:
        return refusal(exc.message, status=429)
    return timeline_response(request, timeline)


@login_required
@require_POST
def storyboard_action(request, pk: int, board_id: int, action: str):
    timeline = owned_timeline(request, pk)
    board = found_or_404(Storyboard.objects.get, pk=board_id, timeline=timeline)
    if action == "cancel-all":
        boards.storyboard_cancel_all(storyboard=board)
    elif action == "retry-failed":
        boards.storyboard_retry_failed(storyboard=board)
    else:
        return refusal("Unknown storyboard action.", status=404)
    return render(request, TEMPLATE, _context(request, timeline, []))


@login_required
@require_POST
def shot_regenerate(request, pk: int, board_id: int, shot_id: int):
    timeline = owned_timeline(request, pk)
    shot = found_or_404(
        StoryboardShot.objects.select_related("slot", "slot__job", "storyboard").get,
        pk=shot_id,
        storyboard_id=board_id,
        storyboard__timeline=timeline,
    )
    try:
        boards.shot_regenerate(shot=shot)
    except ValidationError as exc:
        return refused_edit(exc)
    return render(request, TEMPLATE, _context(request, timeline, []))
