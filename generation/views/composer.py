"""The composer: first render, the estimate fragment (every change), and Generate.

Thin views: what a request may contain is decided by generation.validation, its price by
generation.pricing, limits and job changes by generation.services / generation.limits; the
composer's derived state comes from generation.panel. Every response is a template.
"""

from __future__ import annotations

import random
import time

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from generation.forms import read_composer
from generation.limits import LimitExceeded
from generation.models import GenerationJob
from generation.panel import composer_state, model_groups
from generation.services.jobs import JobInvalid, job_create
from generation.validation import SEED_MAX
from media_library.models import MediaItem
from project.ids import InvalidId, parse_id

from .jobs import _history_context, _owned_job, _queue_jobs
from .templates import _template_context


def _ready_images(user):
    return list(
        MediaItem.objects.filter(
            owner=user, kind=MediaItem.Kind.IMAGE, status=MediaItem.Status.READY
        ).order_by("-created_at")[:100]
    )


def _composer_context(request, state, *, notice: str = "") -> dict:
    return {
        "state": state,
        "groups": model_groups(),
        "images": _ready_images(request.user) if state.spec and state.spec.needs_image else [],
        "seed_max": SEED_MAX,
        "notice": notice,
    }


@require_GET
def panel(request):
    state = composer_state(read_composer({}), user=request.user, refit=True)
    context = _composer_context(request, state)
    context.update(_history_context(request))
    context.update(_template_context(request))
    context["jobs"] = _queue_jobs(request.user)
    return render(request, "generation/partials/panel.html", context)


@require_GET
def composer(request):
    """The composer, empty or filled from one of the user's jobs ("Use these settings")."""
    data = {}
    if request.GET.get("from_job"):
        try:
            job_id = parse_id(request.GET["from_job"])
        except InvalidId as exc:
            # Like someone else's job: not found (ids are not a secret, jobs are).
            raise Http404 from exc
        job = _owned_job(request, job_id)
        data = {"model": job.model_id, "prompt": job.prompt, "negative_prompt": job.negative_prompt}
        for key in ("duration", "resolution", "aspect_ratio", "seed"):
            if job.params.get(key) not in (None, ""):
                data[key] = str(job.params[key])
        if "audio" in job.params:
            data["audio"] = "on" if job.params["audio"] else "off"
        for name in ("image_id", "end_image_id"):
            if job.params.get(name):
                data[name] = str(job.params[name])
        data["rendered_model"] = job.model_id
    state = composer_state(read_composer(data), user=request.user, refit=not data)
    return render(request, "generation/partials/composer.html", _composer_context(request, state))


@require_POST
def estimate(request):
    """The cost line and Generate button for the composer as it is now. When the creator
    picked another model, the model's settings are redrawn too (out of band)."""
    composer = read_composer(request.POST)
    state = composer_state(composer, user=request.user)
    context = _composer_context(request, state)
    context["redraw_settings"] = composer.model_changed
    return render(request, "generation/partials/estimate_response.html", context)


@require_POST
def generate(request):
    composer = read_composer(request.POST)
    state = composer_state(composer, user=request.user, show_prompt_required=True)
    context = _composer_context(request, state)
    context["redraw_settings"] = composer.model_changed
    if not state.can_generate:
        return render(request, "generation/partials/estimate_response.html", context, status=422)
    if state.needs_confirmation and composer.confirm_cost != state.total:
        # The price changed since the confirmation, or none was given: ask (again).
        return render(request, "generation/partials/confirm.html", context)

    created: list[GenerationJob] = []
    refusal: LimitExceeded | None = None
    for index, params in enumerate(_variation_params(state)):
        try:
            job = job_create(
                user=request.user, model_id=state.model_id, params=params, batch_index=index
            )
            created.append(job)
        except LimitExceeded as exc:
            refusal = exc
            break
        except JobInvalid as exc:
            state.errors.update(exc.errors)
            state.show_prompt_required = True
            return render(
                request, "generation/partials/estimate_response.html", context, status=422
            )

    # The cost line is re-rendered with the budget that is left now.
    state = composer_state(composer, user=request.user)
    context = _composer_context(request, state)
    context["created"] = created
    if refusal is not None:
        context["refusal"] = refusal
        context["cooldown_until"] = (
            time.time() + refusal.retry_after if refusal.retry_after else None
        )
        if created:
            context["notice"] = f"Started {len(created)} of {state.variations}."
        response = render(
            request,
            "generation/partials/estimate_response.html",
            context,
            status=429 if not created else 200,
        )
        if refusal.retry_after:
            response["Retry-After"] = str(refusal.retry_after)
        return response
    context["notice"] = (
        "Started 1 generation." if len(created) == 1 else f"Started {len(created)} variations."
    )
    return render(request, "generation/partials/estimate_response.html", context)


def _variation_params(state) -> list[dict]:
    """One params dict per variation; each variation gets its own seed where the model
    takes one (the creator's seed, then seed+1, … so a good result can be reproduced)."""
    base = dict(state.params)
    count = state.variations
    if not (state.spec and state.spec.seed):
        return [dict(base) for _ in range(count)]
    first = base.get("seed")
    if first is None and count == 1:
        return [base]
    rng = random.SystemRandom()
    out = []
    for index in range(count):
        params = dict(base)
        params["seed"] = (
            (first + index) % (SEED_MAX + 1) if first is not None else rng.randint(0, SEED_MAX)
        )
        out.append(params)
    return out
