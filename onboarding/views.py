"""The checklist fragment and its dismissal: thin views over the selector and service."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from . import selectors, services


@require_GET
def first_run(request):
    """The checklist, or nothing once dismissed (the slot stays empty)."""
    checklist = selectors.first_run_checklist(user=request.user)
    return render(request, "onboarding/partials/first_run.html", {"checklist": checklist})


@require_POST
def first_run_dismiss(request):
    services.first_run_dismiss(user=request.user)
    return render(request, "onboarding/partials/first_run.html", {"checklist": None})
