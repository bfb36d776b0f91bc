"""What a ComfyUI server's websocket says about our prompts, applied to their jobs.

ComfyUI reports progress only on its websocket (`progress {value, max, prompt_id, node}`,
`executing`, `execution_start`, `execution_success`, `execution_error`,
`execution_interrupted`), so `manage.py comfyui_listen` keeps one connection per server
and hands every message here. This is detail, never the truth: the job's state still
changes only through the poll chain (a finished prompt here just makes the next poll
happen now), so a listener that dies or lags loses progress, never a job.
"""

from __future__ import annotations

import logging
from typing import Any

from ..models import GenerationJob, JobStatus
from ..providers.comfyui import NAME, record_progress, sampler_percent
from .polling import job_webhook_received
from .transitions import IllegalTransition, job_mark_running, job_update_live

logger = logging.getLogger("generation.jobs")

LIVE = (JobStatus.IN_QUEUE, JobStatus.RUNNING)
FINISHED = ("execution_success", "execution_error", "execution_interrupted")


def comfyui_event_received(*, server: str, message: dict[str, Any]) -> bool:
    """Apply one websocket message from `server`; True when it changed a job."""
    kind = message.get("type")
    data = message.get("data") if isinstance(message.get("data"), dict) else {}
    prompt_id = str(data.get("prompt_id") or "")
    if not prompt_id or kind not in ("progress", "execution_start", *FINISHED):
        return False
    job = GenerationJob.objects.filter(
        provider=NAME, provider_request_id=prompt_id, status__in=LIVE
    ).first()
    # The id must be ours on this very server (another farm may share a prompt id space).
    if job is None or (job.provider_handle or {}).get("server") != server:
        return False
    try:
        if kind in FINISHED:
            return job_webhook_received(job=job)
        if job.status == JobStatus.IN_QUEUE:
            job = job_mark_running(job)
        if kind != "progress":
            return True
        wanted = str((job.provider_handle or {}).get("progress_node") or "")
        if wanted and str(data.get("node") or "") != wanted:
            return False  # another node's bar (a tiled decode): not the clip's progress
        percent = sampler_percent(data.get("value"), data.get("max"))
        if percent is None or percent <= job.progress:
            return False
        record_progress(prompt_id, percent)
        return job_update_live(job, progress=percent, progress_estimated=False)
    except IllegalTransition:
        logger.info("job %s moved on while its progress arrived", job.pk)
        return False
