"""Live pushes of the editor's state to the owner's open tabs (after commit)."""

from __future__ import annotations

import logging

from django.template import TemplateDoesNotExist

from editor.models import Export
from project.live import broadcast_on_commit, render_fragment

logger = logging.getLogger(__name__)

TIMELINE_TEMPLATE = "editor/partials/timeline.html"
# The card wrapped to insert itself into an export list that lacks it (a tab that did not start
# the export has no #export-<id> to replace).
EXPORT_PUSH_TEMPLATE = "editor/partials/export_push.html"


def _safe(template: str, ctx: dict) -> str:
    # A push is best effort: a rendering problem must never undo a committed edit.
    try:
        return render_fragment(template, ctx)
    except TemplateDoesNotExist:
        logger.warning("live push skipped: template %s is missing", template)
    except Exception:
        logger.exception("live push of %s failed to render", template)
    return ""


def timeline_fragment(timeline) -> str:
    return _safe(TIMELINE_TEMPLATE, {"timeline": timeline, "oob": True})


def push_timeline(timeline) -> None:
    """Re-render the timeline for every tab of its owner once the edit commits."""
    broadcast_on_commit(timeline.owner_id, lambda: timeline_fragment(timeline))


def export_fragment(export, *, new: bool = False) -> str:
    return _safe(EXPORT_PUSH_TEMPLATE, {"export": export, "new": new})


def push_export(export, *, new: bool = False) -> None:
    """Push the export's card after commit, rendered from the row as it is then: the
    worker's in-memory copy can be older than a cancel the creator pressed meanwhile (its
    progress push would bring the Cancel button back)."""
    export_id = export.pk

    def html() -> str:
        fresh = Export.objects.filter(pk=export_id).select_related("timeline").first()
        return export_fragment(fresh, new=new) if fresh else ""

    broadcast_on_commit(export.owner_id, html)
