"""Exports: start, cancel, and the guarded state changes the worker makes.

States (the ALLOWED table below, applied by project.state_machine): queued -> running ->
succeeded | failed | cancelled; queued -> cancelled.
The timeline is frozen into `Export.spec` when the export starts, so edits made while it
renders do not change it. The worker (editor.tasks.export_run -> export_run) renders
into MEDIA_ROOT/tmp/exports, registers the file as a MediaItem (source export) through
media_library.services, and removes its temporary file on every outcome."""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from editor.export.graph import EmptyTimelineError, build_ffmpeg_args
from editor.export.runner import ffmpeg_binary, run_ffmpeg
from editor.export.spec import TimelineSpec
from editor.live import push_export
from editor.models import Export, Timeline
from project.state_machine import StateMachine

from .export_sources import spec_with_local_sources, timeline_spec
from .slots import unfilled_slots_sentence
from .timelines import clean_fps

logger = logging.getLogger(__name__)

PRESET_SHORT_SIDE = {"1080p": 1080, "720p": 720, "480p": 480}
PROGRESS_WRITE_EVERY_S = 1.0


Status = Export.Status

ALLOWED: dict[str, frozenset[str]] = {
    Status.QUEUED: frozenset({Status.RUNNING, Status.CANCELLED}),
    # RUNNING -> RUNNING: a redelivered task (its worker died mid-render) restarts it.
    Status.RUNNING: frozenset({Status.RUNNING, Status.SUCCEEDED, Status.FAILED, Status.CANCELLED}),
    Status.SUCCEEDED: frozenset(),
    Status.FAILED: frozenset(),
    Status.CANCELLED: frozenset(),
}

# Every transition pushes the export card after commit.
EXPORTS = StateMachine("export", Export, ALLOWED, push=lambda export: push_export(export))


def export_output_size(*, width: int, height: int, preset: str) -> tuple[int, int]:
    """The timeline's aspect ratio with the preset's short side (even numbers)."""
    if preset == Export.Preset.TIMELINE:
        return width - width % 2, height - height % 2
    short = PRESET_SHORT_SIDE.get(preset)
    if short is None:
        raise ValidationError("Pick one of the export sizes offered.")
    scale = short / min(width, height)
    w, h = round(width * scale / 2) * 2, round(height * scale / 2) * 2
    return w, h


def _clean_file_name(name: str | None, timeline: Timeline) -> str:
    base = (name or timeline.name or "export").strip()
    base = re.sub(r"\.mp4$", "", base, flags=re.IGNORECASE)
    base = re.sub(r"[\x00-\x1f/\\:*?\"<>|]+", " ", base)
    base = " ".join(base.split())[:100].strip(" .")
    if not base:
        raise ValidationError("Give the export a file name.")
    return f"{base}.mp4"


def export_start(
    *,
    timeline: Timeline,
    preset: str = Export.Preset.P1080,
    fps: float | None = None,
    file_name: str | None = None,
) -> Export:
    """Freeze the timeline, queue the render on the media queue, show the card."""
    from editor.tasks import export_run as export_task

    if preset not in Export.Preset.values:
        raise ValidationError("Pick one of the export sizes offered.")
    rate = clean_fps(fps if fps not in (None, "") else timeline.fps)
    width, height = export_output_size(width=timeline.width, height=timeline.height, preset=preset)
    name = _clean_file_name(file_name, timeline)
    with transaction.atomic():
        Timeline.objects.select_for_update().filter(pk=timeline.pk).first()
        # A slot still waiting for its generation would render as a hole: refuse, naming
        # them (editor.services.slots), rather than export something the creator didn't see.
        unfilled = unfilled_slots_sentence(timeline)
        if unfilled:
            raise ValidationError(unfilled, code="slots_unfilled")
        spec = timeline_spec(timeline)
        if spec.duration_s <= 0:
            raise ValidationError("Nothing to export: the timeline is empty.")
        active = Export.objects.filter(owner=timeline.owner, status__in=Export.LIVE_STATES)
        limit = settings.EXPORT_MAX_ACTIVE
        if active.count() >= limit:
            raise ValidationError(
                f"You already have {limit} exports running; wait for one to finish."
            )
        export = Export.objects.create(
            timeline=timeline,
            owner=timeline.owner,
            preset=preset,
            width=width,
            height=height,
            fps=rate,
            file_name=name,
            spec=spec.to_dict(),
            duration_s=round(spec.duration_s, 3),
        )
        push_export(export, new=True)
        export_task.delay_on_commit(export.pk)
    return export


def export_cancel(*, export: Export) -> Export:
    """Queued: cancelled at once. Running: flagged; the worker kills ffmpeg within about a
    second and removes the partial file. Finished: refused."""
    with transaction.atomic():
        current = Export.objects.select_for_update().get(pk=export.pk)
        if current.status == Export.Status.QUEUED:
            EXPORTS.transition_or_raise(current, Status.CANCELLED, **_finished(Status.CANCELLED))
        elif current.status == Export.Status.RUNNING:
            if not current.cancel_requested:
                current.cancel_requested = True
                current.save(update_fields=["cancel_requested", "updated_at"])
                push_export(current)
        else:
            raise ValidationError("This export has already finished.")
    return current


CANCELLED_MESSAGE = "Export cancelled."


def _finished(status: str, message: str = "", result=None) -> dict:
    """The fields a transition to a final state writes with it."""
    if status == Status.CANCELLED:
        message = message or CANCELLED_MESSAGE
    fields = {"error_message": message[:300], "finished_at": timezone.now(), "eta_s": None}
    if status == Status.SUCCEEDED:
        fields.update(progress=1.0, result=result)
    return fields


def export_mark_running(*, export_id: int) -> Export | None:
    """Queued -> running. A running export seen again is a redelivered task (the worker
    died mid-render): it restarts. Anything else (cancelled, finished, gone, or moved by
    someone else meanwhile) -> None."""
    with transaction.atomic():
        export = Export.objects.filter(pk=export_id).first()
        if export is None or export.status not in Export.LIVE_STATES:
            return None
        if export.cancel_requested:
            EXPORTS.transition(export, Status.CANCELLED, **_finished(Status.CANCELLED))
            return None
        if not EXPORTS.transition(export, Status.RUNNING, started_at=timezone.now(), progress=0):
            return None
    return export


def export_set_progress(*, export: Export, fraction: float, eta_s: float | None) -> None:
    # A queryset update: never overwrites the cancel flag a user sets meanwhile.
    Export.objects.filter(pk=export.pk, status=Export.Status.RUNNING).update(
        progress=round(min(max(fraction, 0.0), 0.999), 4),
        eta_s=None if eta_s is None else round(eta_s, 1),
        updated_at=timezone.now(),
    )
    export.progress, export.eta_s = fraction, eta_s
    push_export(export)


def _mark_terminal(export_id: int, status: str, message: str = "", result=None) -> Export:
    """The worker's outcome for a running export. Raises IllegalTransition when it is no
    longer running (cancelled, or failed by the sweeper, meanwhile)."""
    export = Export.objects.get(pk=export_id)
    with transaction.atomic():
        # from_state: an outcome only ends a render, even where the table has another
        # way into the final state (queued -> cancelled is export_cancel's, not ours).
        EXPORTS.transition_or_raise(
            export, status, from_state=Status.RUNNING, **_finished(status, message, result)
        )
    return export


def export_mark_succeeded(*, export_id: int, result) -> Export:
    return _mark_terminal(export_id, Export.Status.SUCCEEDED, result=result)


def export_mark_failed(*, export_id: int, message: str) -> Export:
    return _mark_terminal(export_id, Export.Status.FAILED, message)


def export_mark_cancelled(*, export_id: int) -> Export:
    return _mark_terminal(export_id, Export.Status.CANCELLED)


def export_work_dir() -> Path:
    """Where renders and their fetched sources live while an export runs."""
    path = Path(settings.MEDIA_ROOT) / "tmp" / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_run(*, export_id: int) -> Export | None:
    """The worker's whole job for one export (the Celery task only calls this)."""
    sources = export_work_dir() / f"export-{export_id}-sources"
    try:
        return _export_run(export_id=export_id, sources=sources)
    finally:
        shutil.rmtree(sources, ignore_errors=True)


def _export_run(*, export_id: int, sources: Path) -> Export | None:
    from media_library.services import MediaRejected, media_create_from_file

    export = export_mark_running(export_id=export_id)
    if export is None:
        return None
    output = str(export_work_dir() / f"export-{export.pk}.mp4")
    spec = TimelineSpec.from_dict(export.spec)
    try:
        spec = spec_with_local_sources(spec, sources)
    except OSError as exc:
        logger.warning("export %s: could not fetch a source: %s", export.pk, exc)
        return export_mark_failed(
            export_id=export.pk, message="A clip's file could not be read from storage."
        )
    try:
        args = build_ffmpeg_args(
            spec,
            output_path=output,
            width=export.width,
            height=export.height,
            fps=export.fps,
            ffmpeg=ffmpeg_binary(),
            x264_preset=settings.EXPORT_X264_PRESET,
            crf=settings.EXPORT_CRF,
        )
    except EmptyTimelineError as exc:
        return export_mark_failed(export_id=export.pk, message=str(exc))

    def cancelled() -> bool:
        return Export.objects.filter(pk=export.pk, cancel_requested=True).exists()

    def progressed(p) -> None:
        export_set_progress(export=export, fraction=p.fraction, eta_s=p.eta_s)

    result = run_ffmpeg(
        args,
        output_path=output,
        duration_s=spec.duration_s,
        on_progress=progressed,
        should_cancel=cancelled,
        stall_timeout_s=settings.EXPORT_STALL_TIMEOUT_S,
    )
    if result.outcome == "cancelled":
        return export_mark_cancelled(export_id=export.pk)
    if result.outcome != "succeeded":
        logger.warning("export %s %s: %s", export.pk, result.outcome, result.stderr_tail[-500:])
        return export_mark_failed(export_id=export.pk, message=result.message)
    try:
        item = media_create_from_file(
            owner=export.owner,
            path_or_file=output,
            title=export.file_name,
            source="export",
            metadata={
                "export_id": export.pk,
                "timeline_id": export.timeline_id,
                "preset": export.preset,
                "render_s": round(result.elapsed_s, 2),
            },
        )
    except MediaRejected as exc:
        return export_mark_failed(export_id=export.pk, message=str(exc))
    finally:
        if os.path.exists(output):
            os.remove(output)
    return export_mark_succeeded(export_id=export.pk, result=item)
