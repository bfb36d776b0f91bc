"""The composer: first render, the estimate fragment (every change), and Generate.

Thin views: what a request may contain is decided by generation.validation, its price by
generation.pricing, limits and job changes by generation.services / generation.limits; the
composer's derived state comes from generation.panel. Every response is a template.
"""

from __future__ import annotations

import time

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from generation.forms import read_composer
from generation.limits import LimitExceeded
from generation.panel import composer_state, model_groups
from generation.selectors import job_queue_list
from generation.services.jobs import JobInvalid, jobs_create_batch
from generation.validation import SEED_MAX
from media_library.models import MediaItem
from project.ids import InvalidId, parse_id

from .jobs import history_context, owned_job_or_404
from .templates import templates_context


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
    context.update(history_context(request))
    context.update(templates_context(request))
    context["jobs"] = job_queue_list(owner=request.user)
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
        job = owned_job_or_404(request, job_id)
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

    try:
        created = jobs_create_batch(
            user=request.user,
            model_id=state.model_id,
            params=state.params,
            variations=state.variations,
        )
    except JobInvalid as exc:
        state.errors.update(exc.errors)
        state.show_prompt_required = True
        return render(request, "generation/partials/estimate_response.html", context, status=422)
    except LimitExceeded as refusal:
        # All or none: nothing was started. The cost line shows the budget left now.
        context = _composer_context(request, composer_state(composer, user=request.user))
        context["refusal"] = refusal
        context["cooldown_until"] = (
            time.time() + refusal.retry_after if refusal.retry_after else None
        )
        response = render(
            request, "generation/partials/estimate_response.html", context, status=429
        )
        if refusal.retry_after:
            response["Retry-After"] = str(refusal.retry_after)
        return response

    # The cost line is re-rendered with the budget that is left now.
    context = _composer_context(request, composer_state(composer, user=request.user))
    context["created"] = created
    context["notice"] = (
        "Started 1 generation." if len(created) == 1 else f"Started {len(created)} variations."
    )
    response = render(request, "generation/partials/estimate_response.html", context)
    # The composer forgets its saved unsent prompt (static/js/generate.js) only on this.
    response["HX-Trigger"] = "gen:started"
    return response
