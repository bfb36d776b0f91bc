"""The offline renderer behind the provider interface.

Deliberately thin: submit() enqueues the Celery task `generation.tasks.render_local`
(queue "media", written by the pipeline) which calls generation.rendering.render_video()
and records progress and the output on the job row. So for local jobs the pipeline reads
state from the job row, not from status()/result(); those answer only what this process
can know. Cancel is the job's cancel flag, which the task passes to render_video as
should_cancel; there is no remote request to cancel.
"""

from __future__ import annotations

from django.db import transaction

from .base import (
    CancelOutcome,
    Provider,
    ResultInfo,
    State,
    StatusReport,
    Submission,
    SubmitRequest,
)

TASK_NAME = "generation.tasks.render_local"


class LocalProvider(Provider):
    name = "local"

    def is_configured(self) -> tuple[bool, str]:
        return True, ""

    def submit(self, request: SubmitRequest) -> Submission:
        job_id = request.job_id
        transaction.on_commit(lambda: _enqueue(job_id))
        return Submission(request_id=f"local-{job_id}", handle={"job_id": job_id})

    def status(self, submission: Submission) -> StatusReport:
        # The render task writes progress to the job row; nothing to ask here.
        return StatusReport(State.RUNNING)

    def result(self, submission: Submission) -> ResultInfo:
        path = submission.handle.get("output_path", "")
        return ResultInfo(url=f"file://{path}" if path else "", content_type="video/mp4")

    def cancel(self, submission: Submission) -> CancelOutcome:
        # The render loop reads the job's cancel flag itself.
        return CancelOutcome.REQUESTED


def _enqueue(job_id: int) -> None:
    try:
        from generation.tasks import render_local
    except ImportError:  # the task module is the pipeline's; fall back to the name
        from celery import current_app

        current_app.send_task(TASK_NAME, kwargs={"job_id": job_id})
        return
    render_local.delay(job_id=job_id)
