"""The generation panel: composer, cost estimate, Generate, job cards, history, templates.

Thin views: what a request may contain is decided by generation.validation, its price by
generation.pricing, limits and job changes by generation.services / generation.limits; the
composer's derived state comes from generation.panel. Every response is a template.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from generation import catalog, prompt_templates
from generation.forms import (
    HistoryFilterForm,
    SaveTemplateForm,
    read_composer,
)
from generation.limits import LimitExceeded
from generation.models import LIVE_STATUSES, GenerationJob, PromptTemplate
from generation.panel import composer_state, model_groups
from generation.selectors import job_queryset
from generation.services.jobs import JobInvalid, job_cancel, job_create, job_retry
from generation.services.transitions import IllegalTransition
from generation.validation import SEED_MAX
from media_library.models import MediaItem

HISTORY_PAGE_SIZE = 10
QUEUE_LIMIT = 20
# Finished jobs stay in the queue this long, so a Done card can still be clicked.
QUEUE_RECENT = timedelta(minutes=30)
MY_TEMPLATES = "Mine"


# --- Reads ----------------------------------------------------------------------------------
def _queue_jobs(user):
    recent = timezone.now() - QUEUE_RECENT
    return list(
        job_queryset(owner=user)
        .filter(Q(status__in=LIVE_STATUSES) | Q(updated_at__gte=recent))
        .order_by("-created_at", "-id")[:QUEUE_LIMIT]
    )


def _owned_job(request, job_id: int) -> GenerationJob:
    # Someone else's job is "not found", never "forbidden": ids are not a secret, jobs are.
    return get_object_or_404(job_queryset(owner=request.user), pk=job_id)


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


def _history_context(request) -> dict:
    form = HistoryFilterForm(request.GET or None)
    jobs = form.apply(job_queryset(owner=request.user))
    page = Paginator(jobs.order_by("-created_at", "-id"), HISTORY_PAGE_SIZE).get_page(
        form.page_number
    )
    names = _model_names()
    for job in page.object_list:
        job.model_name = names.get(job.model_id, job.model_id)
    return {"history_form": form, "history_page": page}


def _model_names() -> dict[str, str]:
    return {m.id: m.name for m in catalog.all_models()}


def _template_context(
    request, *, category: str = "", query: str = "", message: str = "", form=None
) -> dict:
    category = category if category in (*prompt_templates.CATEGORIES, MY_TEMPLATES) else ""
    query = (query or "").strip()[:100]
    builtins = (
        [] if category == MY_TEMPLATES else prompt_templates.search(category=category, query=query)
    )
    mine = PromptTemplate.objects.filter(owner=request.user)
    if category and category != MY_TEMPLATES:
        mine = mine.none()
    for word in query.split()[:8]:
        mine = mine.filter(Q(title__icontains=word) | Q(prompt__icontains=word))
    return {
        "categories": prompt_templates.CATEGORIES,
        "my_category": MY_TEMPLATES,
        "category": category,
        "query": query,
        "builtins": builtins,
        "mine": list(mine[:50]),
        "tpl_message": message,
        "tpl_form": form,
    }


# --- Panel and composer -------------------------------------------------------------------------
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
            job = _owned_job(request, int(request.GET["from_job"]))
        except ValueError as exc:
            raise Http404 from exc
        data = {"model": job.model_id, "prompt": job.prompt, "negative_prompt": job.negative_prompt}
        for key in ("duration", "resolution", "aspect_ratio", "seed"):
            if job.params.get(key) not in (None, ""):
                data[key] = str(job.params[key])
        if "audio" in job.params:
            data["audio"] = "on" if job.params["audio"] else "off"
        if job.params.get("image_id"):
            data["image_id"] = str(job.params["image_id"])
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


# --- Jobs -----------------------------------------------------------------------------------------
@require_GET
def queue(request):
    return render(request, "generation/partials/queue.html", {"jobs": _queue_jobs(request.user)})


@require_POST
def job_cancel_view(request, job_id: int):
    job = _owned_job(request, job_id)
    message = ""
    try:
        job = job_cancel(job=job)
    except IllegalTransition:
        job.refresh_from_db()
        message = f"This job is already {job.get_status_display().lower()}."
    response = render(
        request, "generation/partials/job_card.html", {"job": job, "card_message": message}
    )
    if job.is_terminal:
        # The history list below the queue gains this job.
        response["HX-Trigger"] = "gen:history"
    return response


@require_POST
def job_retry_view(request, job_id: int):
    job = _owned_job(request, job_id)
    try:
        new_job = job_retry(job=job, user=request.user)
    except IllegalTransition:
        return render(
            request,
            "generation/partials/job_card.html",
            {
                "job": job,
                "oob": True,
                "card_message": "Only failed or cancelled jobs can be retried.",
            },
            status=409,
        )
    except (LimitExceeded, JobInvalid) as exc:
        message = exc.message if isinstance(exc, LimitExceeded) else "; ".join(exc.errors.values())
        response = render(
            request,
            "generation/partials/job_card.html",
            # Retry buttons swap nothing themselves (hx-swap="none"): the answer is
            # shown on the card, out of band, wherever the card is.
            {"job": job, "oob": True, "card_message": message},
            status=429 if isinstance(exc, LimitExceeded) else 422,
        )
        if isinstance(exc, LimitExceeded) and exc.retry_after:
            response["Retry-After"] = str(exc.retry_after)
        return response
    new_job.refresh_from_db()
    return render(
        request, "generation/partials/retry_response.html", {"job": job, "new_job": new_job}
    )


@require_GET
def history(request):
    return render(request, "generation/partials/history_list.html", _history_context(request))


# --- Prompt templates -------------------------------------------------------------------------------
@require_GET
def template_list(request):
    context = _template_context(
        request, category=request.GET.get("category", ""), query=request.GET.get("q", "")
    )
    return render(request, "generation/partials/template_list.html", context)


@require_POST
def template_save(request):
    form = SaveTemplateForm(request.POST)
    if not form.is_valid():
        context = _template_context(request, form=form)
        return render(request, "generation/partials/template_list.html", context, status=422)
    PromptTemplate.objects.create(owner=request.user, **form.cleaned_data)
    context = _template_context(
        request, category=MY_TEMPLATES, message=f"Saved “{form.cleaned_data['title']}”."
    )
    return render(request, "generation/partials/template_list.html", context)


@require_POST
def template_delete(request, template_id: int):
    template = get_object_or_404(PromptTemplate, pk=template_id, owner=request.user)
    title = template.title
    template.delete()
    context = _template_context(request, category=MY_TEMPLATES, message=f"Deleted “{title}”.")
    return render(request, "generation/partials/template_list.html", context)
