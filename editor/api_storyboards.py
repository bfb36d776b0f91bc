"""The storyboards API: many shots generated onto a new track of a timeline as ONE request.

    POST /api/storyboards        shots -> slots, all or none against budget and limits
    GET  /api/storyboards/{id}   the storyboard with each shot's state and slot

Registered on generation's NinjaAPI object like editor.api (same authentication, per-user
API rate, error envelope, and the 429 for LimitExceeded with the amount in its message).
Each shot is validated like /api/generate-video's body (generation's own service); the
first refused shot is a 400 naming it in `errors["shots"]`. Another user's timeline or
storyboard is a 404.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from ninja import Field, Router, Schema

from generation import catalog
from generation.api.base import api
from generation.api.schemas import ErrorOut

from . import selectors
from .api import SlotOut, slot_out
from .models import Storyboard
from .services import storyboards as boards

router = Router(tags=["storyboards"])


class ShotIn(Schema):
    prompt: str
    model: str | None = Field(None, description="A catalog model id (default: the default).")
    duration: int | None = Field(None, description="Seconds; one the model offers.")
    image_media_id: int | None = Field(
        None, description="A start image (a ready image of yours); needs an image model."
    )


class StoryboardIn(Schema):
    timeline_id: int
    shots: list[ShotIn] = Field(
        description=f"In order, 1 to {boards.MAX_SHOTS}. Every shot becomes a slot on a new "
        "video track, end to end."
    )
    chain: bool = Field(
        False,
        description="Continuity: each shot after the first starts from the previous "
        "clip's last frame (so it waits for it); those shots need an image-to-video model.",
    )


class ShotOut(Schema):
    position: int
    prompt: str
    model: str
    estimated_cost: str
    state: str = Field(
        description="waiting (beyond your concurrency limit: starts when one of your jobs "
        "ends), chained (waits for the previous clip's last frame), started (see "
        "`slot.state`), cancelled, refused (see `note`)."
    )
    note: str
    slot: SlotOut | None


class StoryboardOut(Schema):
    storyboard_id: int
    timeline_id: int
    track_id: int | None
    total_estimate: str
    chain: bool
    shots: list[ShotOut]
    created_at: datetime


ERRORS = {400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut, 429: ErrorOut}


def storyboard_out(request, board: Storyboard) -> dict:
    shots = board.shots.select_related("slot", "slot__job").order_by("position")
    return {
        "storyboard_id": board.pk,
        "timeline_id": board.timeline_id,
        "track_id": board.track_id,
        "total_estimate": str(board.total_estimate.normalize()),
        "chain": board.chain,
        "shots": [
            {
                "position": s.position,
                "prompt": s.prompt,
                "model": s.model_id,
                "estimated_cost": str(s.estimated_cost.normalize()),
                "state": s.state,
                "note": s.note,
                "slot": slot_out(request, s.slot) if s.slot else None,
            }
            for s in shots
        ],
        "created_at": board.created_at,
    }


@router.post(
    "",
    response={202: StoryboardOut, **ERRORS},
    summary="Generate a storyboard: shots in order onto a new track",
    description=(
        "Every shot is validated and priced; the total is checked against your budget as "
        "one request (a refusal, 429 with the amounts, starts nothing). Accepted, every shot "
        "gets a slot in order on a new video track of the timeline; the shots your "
        "concurrency limit has room for start now and the rest wait (state `waiting`) and "
        "start as your jobs finish. Each clip lands in its slot by itself."
    ),
)
def create_storyboard(request, body: StoryboardIn):
    timeline = selectors.timeline_get(owner=request.user, timeline_id=body.timeline_id)
    shots = [
        boards.ShotIn(
            prompt=s.prompt,
            model_id=(s.model or "").strip() or catalog.default_model_id(),
            duration=s.duration,
            image_id=s.image_media_id,
        )
        for s in body.shots
    ]
    try:
        board = boards.storyboard_start(
            timeline=timeline, user=request.user, shots=shots, chain=body.chain
        )
    except ValidationError as exc:
        message = exc.messages[0]
        return 400, {"message": message, "errors": {"shots": message}}
    return 202, storyboard_out(request, board)


@router.get(
    "/{storyboard_id}",
    response={200: StoryboardOut, **ERRORS},
    summary="A storyboard with each shot's state and slot",
)
def get_storyboard(request, storyboard_id: int):
    board = Storyboard.objects.get(pk=storyboard_id, owner=request.user)
    return 200, storyboard_out(request, board)


@api.exception_handler(Storyboard.DoesNotExist)
def _on_missing_storyboard(request, exc):
    return api.create_response(
        request, {"message": "No such storyboard.", "errors": {}}, status=404
    )


api.add_router("/storyboards", router)
