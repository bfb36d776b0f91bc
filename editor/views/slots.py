"""Slots from the browser: the "Generate here" dialog and the slot's own buttons (cancel,
retry, place, remove). Thin: parse, call one editor.services.slots function, answer with
the stored timeline fragment (every other tab gets it pushed) or a refusal sentence."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from editor import selectors
from editor.services import slots as slot_services
from generation import catalog
from generation.limits import LimitExceeded
from generation.services.jobs import JobInvalid
from generation.services.transitions import IllegalTransition

from .common import found_or_404, owned_timeline, refusal, refused_edit, timeline_response


class SlotForm(forms.Form):
    prompt = forms.CharField(required=False, max_length=5000)
    model = forms.CharField(required=False, max_length=80)
    duration = forms.CharField(required=False, max_length=8)
    track = forms.IntegerField(required=False)
    start = forms.FloatField(min_value=0, required=False)
    # Continue this shot: the slot follows this clip, from this start image.
    after_clip = forms.IntegerField(required=False)
    image_id = forms.IntegerField(required=False)
    # Bridge two shots: the slot goes between after_clip and this one, ending on its frame.
    bridge_to = forms.IntegerField(required=False)
    end_image_id = forms.IntegerField(required=False)

    def clean(self):
        data = super().clean()
        if data.get("after_clip") is None and (
            data.get("track") is None or data.get("start") is None
        ):
            raise forms.ValidationError("Say where the generation goes.")
        return data


def model_choices(*, from_image: bool = False, bridge: bool = False) -> list[dict]:
    """The models the slot dialog offers (text-to-video, for Continue those that start
    from an image, for Bridge those that take a first and a last frame), with their
    durations and price basis (the composer's cost line, in short)."""
    out = []
    for spec in catalog.offered_models():
        available, _reason = catalog.available(spec)
        if not available or spec.needs_image != (from_image or bridge) or not spec.durations:
            continue
        if bridge and not spec.takes_end_image:
            continue
        if from_image and not bridge and spec.needs_end_image:
            continue  # Continue has one image; a first-and-last-frame model needs two
        out.append(
            {
                "id": spec.id,
                "name": spec.name,
                "durations": list(spec.durations),
                "price": catalog.price_basis(spec),
            }
        )
    if bridge:
        # The models made for it (the last frame required) first: the dialog's default.
        out.sort(key=lambda m: not catalog.get(m["id"]).needs_end_image)
    return out


@login_required
@require_GET
def slot_form(request, pk: int):
    timeline = owned_timeline(request, pk)
    state = selectors.timeline_state(timeline)
    tracks = [r for r in state.rows if r.track.kind == "video" and not r.track.locked]
    return render(
        request,
        "editor/partials/slot_form.html",
        {
            "timeline": timeline,
            "tracks": tracks,
            "models": model_choices(),
            "default_model": catalog.default_model_id(),
            "track_id": request.GET.get("track", ""),
            "start": request.GET.get("start", "0"),
        },
    )


@login_required
@require_POST
def slot_create(request, pk: int):
    timeline = owned_timeline(request, pk)
    form = SlotForm(request.POST)
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        return refusal(errors[0] if field == "__all__" else f"{field}: {errors[0]}")
    data = form.cleaned_data
    params = {"prompt": data["prompt"], "duration": data["duration"] or None}
    for name in ("image_id", "end_image_id"):
        if data[name] is not None:
            params[name] = data[name]
    try:
        slot_services.slot_create(
            timeline=timeline,
            user=request.user,
            model_id=data["model"] or catalog.default_model_id(),
            params=params,
            track=data["track"],
            start_s=data["start"],
            after_clip=data["after_clip"],
            bridge_to=data["bridge_to"],
        )
    except ValidationError as exc:
        return refused_edit(exc)
    except JobInvalid as exc:
        return refusal(next(iter(exc.errors.values()), "Please check the request."))
    except LimitExceeded as exc:
        return refusal(exc.message, status=429)
    return timeline_response(request, timeline)


@login_required
@require_POST
def slot_bridge(request, pk: int):
    """Bridge two shots: checks that the two clips follow each other on one track, takes
    A's frame at its out point and B's at its in point, and answers the dialog with the
    models that take a first and a last frame. A refusal is a sentence; nothing changes."""
    timeline = owned_timeline(request, pk)
    try:
        ids = [int(request.POST.get(name, "")) for name in ("clip_a", "clip_b")]
    except ValueError:
        return refusal("Select two clips that follow each other on a track to bridge them.")
    try:
        a, b = slot_services.bridge_pair(timeline=timeline, clip_a=ids[0], clip_b=ids[1])
        models = model_choices(bridge=True)
        if not models:
            return refusal(slot_services.NO_BRIDGE_MODEL)
        first, last = slot_services.bridge_frames(clip_a=a, clip_b=b)
    except ValidationError as exc:
        return refused_edit(exc)
    return render(
        request,
        "editor/partials/slot_form.html",
        {
            "timeline": timeline,
            "models": models,
            "default_model": models[0]["id"],
            "bridge_a": a,
            "bridge_b": b,
            "frame": first,
            "end_frame": last,
        },
    )


@login_required
@require_POST
def slot_continue(request, pk: int):
    """Continue this shot: the clip's frame at its out point becomes the start image of a
    slot right after it. Answers the dialog, prefilled (prompt of the clip's generation,
    image-to-video models, the frame)."""
    timeline = owned_timeline(request, pk)
    try:
        clip_id = int(request.POST.get("clip", ""))
    except ValueError:
        return refusal("Select a clip to continue.")
    clip = found_or_404(selectors.clip_get, timeline=timeline, clip_id=clip_id)
    try:
        frame = slot_services.clip_end_frame(clip=clip)
    except ValidationError as exc:
        return refused_edit(exc)
    models = model_choices(from_image=True)
    return render(
        request,
        "editor/partials/slot_form.html",
        {
            "timeline": timeline,
            "models": models,
            "default_model": models[0]["id"] if models else "",
            "continue_clip": clip,
            "frame": frame,
            "prompt": selectors.clip_generation_prompt(clip=clip),
        },
    )


@login_required
@require_POST
def slot_action(request, pk: int, slot_id: int, action: str):
    timeline = owned_timeline(request, pk)
    slot = found_or_404(selectors.slot_get, timeline=timeline, slot_id=slot_id)
    try:
        if action == "cancel":
            slot_services.slot_cancel(slot=slot)
        elif action == "retry":
            slot_services.slot_retry(slot=slot, user=request.user)
        elif action == "place":
            slot_services.slot_place(slot=slot)
        elif action == "remove":
            slot_services.slot_delete(slot=slot)
        else:
            return refusal("Unknown slot action.", status=404)
    except ValidationError as exc:
        return refused_edit(exc)
    except IllegalTransition:
        return refusal("This generation has already finished.", status=409)
    except LimitExceeded as exc:
        return refusal(exc.message, status=429)
    except JobInvalid as exc:
        return refusal(next(iter(exc.errors.values()), "Please check the request."))
    return timeline_response(request, timeline)
