"""The slots API: generations placed on a timeline.

    POST   /api/timelines/{id}/slots            start a generation into a slot
                                                (after a clip, or bridging two clips)
    GET    /api/timelines/{id}/slots            the timeline's slots with their job state
    DELETE /api/timelines/{id}/slots/{slot_id}  remove a slot, cancelling its running job

The routes live with the editor (generation may not import the editor) and register on
generation's NinjaAPI object (imported by EditorConfig.ready), so they share its
authentication (token or session), its per-user API rate, its error envelope and its
handlers for JobInvalid (400), LimitExceeded (429) and IllegalTransition (409). The body
is /api/generate-video's, read by the same `request_params`, and the job is started by
the same service, so validation, pricing, budget and limits are those of that route.
Another user's timeline or slot is a 404, like another user's job.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from ninja import Field, Router, Schema

from generation.api.base import api
from generation.api.routes import job_out, request_params
from generation.api.schemas import ErrorOut, GenerateIn, JobOut

from . import selectors
from .models import Slot, Timeline
from .services import slots as slot_services

router = Router(tags=["slots"])

# Which request field a refused place is about.
FIELD_OF_CODE = {
    slot_services.SLOT_NO_PLACE: "start",
    slot_services.SLOT_OVERLAP: "start",
    slot_services.SLOT_BAD_TRACK: "track_id",
    slot_services.SLOT_NO_BRIDGE: "bridge_to_clip_id",
}


class SlotIn(GenerateIn):
    track_id: int | None = Field(
        None, description="A video track of the timeline (default: after_clip_id's track)."
    )
    start: float | None = Field(None, ge=0, description="Where the slot starts, seconds.")
    after_clip_id: int | None = Field(
        None, description="Place the slot right after this clip (instead of `start`)."
    )
    bridge_to_clip_id: int | None = Field(
        None,
        description="Bridge two shots: the clip that follows `after_clip_id` on its track. "
        "The model must take a first and a last frame; unless `image_media_id` and "
        "`end_image_media_id` "
        "are given, the first clip's frame at its out point and this clip's at its in "
        "point are used. The slot goes between them; this clip and the later ones move "
        "right by its length.",
    )


class SlotOut(Schema):
    slot_id: int
    timeline_id: int
    track_id: int
    start: float
    duration: float = Field(description="The length asked for, seconds.")
    state: str = Field(
        description="`filled` once the clip is placed, else the job's status (queued, "
        "submitting, in_queue, running, downloading, succeeded, failed, cancelled)."
    )
    filled: bool
    clip_id: int | None
    fill_mode: str = Field(
        description="How the delivered clip fit: exact, rippled (later clips moved), "
        "trimmed (cut to the slot), resized (its real length, nothing after it); blank "
        "before the fill."
    )
    fill_note: str
    job: JobOut | None
    created_at: datetime


class SlotDeletedOut(Schema):
    slot_id: int
    deleted: bool
    job: JobOut | None


ERRORS = {400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut, 429: ErrorOut}


def slot_out(request, slot: Slot) -> dict[str, Any]:
    job = slot.job
    return {
        "slot_id": slot.pk,
        "timeline_id": slot.timeline_id,
        "track_id": slot.track_id,
        "start": slot.start_s,
        "duration": slot.duration_s,
        "state": "filled" if slot.filled else (job.status if job else "removed"),
        "filled": slot.filled,
        "clip_id": slot.clip_id if slot.filled else None,
        "fill_mode": slot.fill_mode,
        "fill_note": slot.fill_note,
        "job": job_out(request, job) if job else None,
        "created_at": slot.created_at,
    }


def _refused(request, exc: ValidationError):
    field = FIELD_OF_CODE.get(getattr(exc, "code", None), "slot")
    message = exc.messages[0]
    return 400, {"message": message, "errors": {field: message}}


@router.post(
    "/{timeline_id}/slots",
    response={202: SlotOut, **ERRORS},
    summary="Generate into a slot on a timeline",
    description=(
        "The body of /api/generate-video (one job) plus the place: `track_id` and `start`, "
        "or `after_clip_id` (with `bridge_to_clip_id`: a transition between two clips). "
        "The clip lands in the slot by itself when the job is done; "
        "follow it with GET …/slots."
    ),
)
def create_slot(request, timeline_id: int, body: SlotIn):
    timeline = selectors.timeline_get(owner=request.user, timeline_id=timeline_id)
    model_id, params = request_params(body)
    try:
        slot = slot_services.slot_create(
            timeline=timeline,
            user=request.user,
            model_id=model_id,
            params=params,
            track=body.track_id,
            start_s=body.start,
            after_clip=body.after_clip_id,
            bridge_to=body.bridge_to_clip_id,
        )
    except ValidationError as exc:
        return _refused(request, exc)
    return 202, slot_out(request, selectors.slot_get(timeline=timeline, slot_id=slot.pk))


@router.get(
    "/{timeline_id}/slots",
    response={200: list[SlotOut], **ERRORS},
    summary="A timeline's slots, in time order, with their job state",
)
def list_slots(request, timeline_id: int, include_filled: bool = True):
    timeline = selectors.timeline_get(owner=request.user, timeline_id=timeline_id)
    return 200, [
        slot_out(request, s)
        for s in selectors.slot_list(timeline=timeline, include_filled=include_filled)
    ]


@router.delete(
    "/{timeline_id}/slots/{slot_id}",
    response={200: SlotDeletedOut, **ERRORS},
    summary="Remove a slot (its running job is cancelled)",
)
def delete_slot(request, timeline_id: int, slot_id: int):
    timeline = selectors.timeline_get(owner=request.user, timeline_id=timeline_id)
    slot = selectors.slot_get(timeline=timeline, slot_id=slot_id)
    job = slot.job
    slot_services.slot_delete(slot=slot)
    if job is not None:
        job.refresh_from_db()
    return 200, {
        "slot_id": slot_id,
        "deleted": True,
        "job": job_out(request, job) if job else None,
    }


@api.exception_handler(Timeline.DoesNotExist)
def _on_missing_timeline(request, exc):
    return api.create_response(request, {"message": "No such timeline.", "errors": {}}, status=404)


@api.exception_handler(Slot.DoesNotExist)
def _on_missing_slot(request, exc):
    return api.create_response(request, {"message": "No such slot.", "errors": {}}, status=404)


api.add_router("/timelines", router)
