"""Writes for generation jobs (HackSoft style: `<noun>_<verb>(*, keyword_only)`).

Split by stage: jobs (what a creator does), transitions (the guarded state changes),
submit / polling / finalize / local_render (the pipeline steps the tasks call),
recovery (cancel at the provider, the sweeper), tokens (API tokens).
"""

from .finalize import job_finalize
from .jobs import (
    Estimate,
    JobInvalid,
    job_cancel,
    job_create,
    job_estimate,
    job_retry,
    jobs_create_batch,
)
from .local_render import job_render_local
from .polling import job_poll, job_webhook_received
from .recovery import job_cancel_work, job_sweep
from .submit import job_submit
from .tokens import api_token_authenticate, api_token_create, api_token_revoke
from .transitions import IllegalTransition, job_fail, job_mark_cancelled, transition

__all__ = [
    "Estimate",
    "IllegalTransition",
    "JobInvalid",
    "api_token_authenticate",
    "api_token_create",
    "api_token_revoke",
    "job_cancel",
    "job_cancel_work",
    "job_create",
    "job_estimate",
    "job_fail",
    "job_finalize",
    "job_mark_cancelled",
    "job_poll",
    "job_render_local",
    "job_retry",
    "job_submit",
    "job_sweep",
    "job_webhook_received",
    "jobs_create_batch",
    "transition",
]
