"""The offline renderer behind the provider interface.

Deliberately thin: submit() only names the request; the pipeline's submit step
(generation.services.submit) enqueues the Celery task `generation.tasks.render_local`
(queue "media") which calls generation.rendering.render_video() and records progress and
the output on the job row. So for local jobs the pipeline reads
state from the job row, not from status()/result(); those answer only what this process
can know. Cancel is the job's cancel flag, which the task passes to render_video as
should_cancel; there is no remote request to cancel.
"""

from __future__ import annotations

from .base import (
    CancelOutcome,
    Provider,
    ResultInfo,
    State,
    StatusReport,
    Submission,
    SubmitRequest,
)


class LocalProvider(Provider):
    name = "local"

    def is_configured(self) -> tuple[bool, str]:
        return True, ""

    def submit(self, request: SubmitRequest) -> Submission:
        job_id = request.job_id
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
