"""The export list, starting an export and cancelling one."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from editor import selectors, services
from editor.forms import ExportForm, first_error

from .common import _found, _own_timeline, _recent_exports, _refuse, _service_error

# --- Exports -------------------------------------------------------------------------------------


@login_required
@require_GET
def export_list(request, pk: int):
    timeline = _own_timeline(request, pk)
    return render(
        request, "editor/partials/export_list.html", {"exports": _recent_exports(request, timeline)}
    )


@login_required
@require_POST
def export_start(request, pk: int):
    timeline = _own_timeline(request, pk)
    form = ExportForm(request.POST)
    if not form.is_valid():
        return _refuse(first_error(form))
    try:
        export = services.export_start(
            timeline=timeline,
            preset=form.cleaned_data["preset"],
            fps=form.cleaned_data["fps"],
            file_name=form.cleaned_data["file_name"],
        )
    except ValidationError as exc:
        return _service_error(exc)
    return render(request, "editor/partials/export_card.html", {"export": export, "new": True})


@login_required
@require_POST
def export_cancel(request, export_id: int):
    export = _found(selectors.export_get, owner=request.user, export_id=export_id)
    try:
        export = services.export_cancel(export=export)
    except ValidationError as exc:
        return _service_error(exc)
    return render(request, "editor/partials/export_card.html", {"export": export})
