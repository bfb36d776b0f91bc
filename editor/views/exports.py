"""The export list, starting an export and cancelling one."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from editor import selectors, services
from editor.forms import ExportForm, first_error

from .common import found_or_404, owned_timeline, recent_exports, refusal, refused_edit

# --- Exports -------------------------------------------------------------------------------------


@login_required
@require_GET
def export_list(request, pk: int):
    timeline = owned_timeline(request, pk)
    return render(
        request, "editor/partials/export_list.html", {"exports": recent_exports(request, timeline)}
    )


@login_required
@require_POST
def export_start(request, pk: int):
    timeline = owned_timeline(request, pk)
    form = ExportForm(request.POST)
    if not form.is_valid():
        return refusal(first_error(form))
    try:
        export = services.export_start(
            timeline=timeline,
            preset=form.cleaned_data["preset"],
            fps=form.cleaned_data["fps"],
            file_name=form.cleaned_data["file_name"],
        )
    except ValidationError as exc:
        return refused_edit(exc)
    return render(request, "editor/partials/export_card.html", {"export": export, "new": True})


@login_required
@require_POST
def export_cancel(request, export_id: int):
    export = found_or_404(selectors.export_get, owner=request.user, export_id=export_id)
    try:
        export = services.export_cancel(export=export)
    except ValidationError as exc:
        return refused_edit(exc)
    return render(request, "editor/partials/export_card.html", {"export": export})
