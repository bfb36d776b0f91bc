"""Job cards and the history list: the queue, cancel, retry, and past jobs."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from generation import catalog
from generation.forms import HistoryFilterForm
from generation.limits import LimitExceeded
from generation.models import GenerationJob
from generation.selectors import job_queryset, job_queue_list
from generation.services.jobs import JobInvalid, job_cancel, job_retry
from generation.services.transitions import IllegalTransition

HISTORY_PAGE_SIZE = 10


def owned_job_or_404(request, job_id: int) -> GenerationJob:
    """The signed-in user's job (the composer's "Use these settings" too). Someone else's
    job is "not found", never "forbidden": ids are not a secret, jobs are."""
    return get_object_or_404(job_queryset(owner=request.user), pk=job_id)


def history_context(request) -> dict:
    """The history list's page for the request's filters (the panel renders it too)."""
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


@require_GET
def queue(request):
    return render(
        request, "generation/partials/queue.html", {"jobs": job_queue_list(owner=request.user)}
    )


@require_POST
def job_cancel_view(request, job_id: int):
    job = owned_job_or_404(request, job_id)
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
    job = owned_job_or_404(request, job_id)
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
    return render(request, "generation/partials/history_list.html", history_context(request))
