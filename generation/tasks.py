"""Pipeline tasks: thin — load by id, call the service, which schedules the next step.

None of them sleeps waiting for a provider, and none is ever revoked with terminate=True:
cancelling is a flag the steps read. They are safe to run twice (late acks redeliver a
task whose worker died): every step claims the job before acting.
"""

from celery import shared_task

from . import services


@shared_task(name="generation.tasks.submit")
def submit(job_id: int) -> None:
    services.job_submit(job_id=job_id)


@shared_task(name="generation.tasks.poll")
def poll(job_id: int, seq: int) -> None:
    services.job_poll(job_id=job_id, seq=seq)


@shared_task(name="generation.tasks.finalize")
def finalize(job_id: int) -> None:
    services.job_finalize(job_id=job_id)


@shared_task(name="generation.tasks.render_local")
def render_local(job_id: int) -> None:
    services.job_render_local(job_id=job_id)


@shared_task(name="generation.tasks.cancel")
def cancel(job_id: int) -> None:
    services.job_cancel_work(job_id=job_id)


@shared_task(name="generation.tasks.sweep")
def sweep() -> dict:
    return services.job_sweep()
