"""ComfyUI on your own GPUs, end to end: a farm of two emulated ComfyUI servers (real
sockets, HTTP + websocket), the real Celery worker, real Redis and the real channel
layer, with the websocket listener forwarding progress."""

from __future__ import annotations

import copy
import io
import json
import threading
import uuid

import pytest
from PIL import Image

from generation.comfyui_listener import listen_forever
from generation.models import GenerationJob, JobStatus
from generation.providers.comfyui import forget_server, prompt_id_for, server_memory
from generation.services import job_cancel, job_create
from media_library.models import MediaItem
from media_library.services import media_create_from_file
from tests.emulators.comfyui import ComfyUIEmulator
from tests.integration.workers import wait_for, wait_for_job

CLIENT_ID = f"cutroom-test-{uuid.uuid4().hex[:8]}"
pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    # A server silent 2 s has lost its jobs (120 s in production): the kill test stays short.
    # A client id of this run's own: prompt ids derive from it and the job's id, and job ids
    # repeat from one test database to the next, while the worker's cache outlives them.
    pytest.mark.pipeline(COMFYUI_DOWN_AFTER_S="2", COMFYUI_CLIENT_ID=CLIENT_ID),
]

S = JobStatus
WAN = "comfyui-wan22"
PARAMS = {"prompt": "a lighthouse in a storm", "duration": 2, "resolution": "480p"}


@pytest.fixture(scope="module")
def gpus():
    with ComfyUIEmulator(steps=4, step_s=0.05) as a, ComfyUIEmulator(steps=4, step_s=0.05) as b:
        yield a, b


@pytest.fixture(scope="module")
def env(env, gpus):
    return {**env, "COMFYUI_URLS": ",".join(g.url for g in gpus)}


@pytest.fixture(scope="module")
def listener(gpus, env):
    """`manage.py comfyui_listen`'s loop, one thread per server, in this process."""
    stop = threading.Event()
    connected = [threading.Event() for _ in gpus]
    threads = [
        threading.Thread(
            target=listen_forever,
            args=(g.url, stop),
            kwargs={"connected": c, "client_id": env["COMFYUI_CLIENT_ID"]},
            daemon=True,
        )
        for g, c in zip(gpus, connected, strict=True)
    ]
    for t in threads:
        t.start()
    yield connected
    stop.set()
    for t in threads:
        t.join(timeout=5)


@pytest.fixture
def worker_cache(settings, _fresh_cache_namespace):
    """The worker's cache namespace instead of a private one per test: what the worker
    remembers of each server (skipped, silent since, its nodes) is what these tests reset
    and look at, and the listener's progress is what the worker's status call reads."""
    from project import settings as configured

    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = configured.CACHES["default"]["KEY_PREFIX"]
    settings.CACHES = caches


@pytest.fixture(autouse=True)
def fresh_farm(gpus, pipeline_settings, listener, worker_cache):
    for gpu in gpus:
        if gpu._server is None:
            gpu.revive()
        gpu.forget()
        forget_server(gpu.url)
    for c in listener:
        wait_for(c.is_set, timeout=10, what="the listener connected")
    yield
    for gpu in gpus:
        gpu.release()


def create(user, model=WAN, **params) -> GenerationJob:
    return job_create(user=user, model_id=model, params={**PARAMS, **params})


def server_of(job, gpus) -> ComfyUIEmulator:
    job.refresh_from_db()
    return next(g for g in gpus if g.url == job.provider_handle["server"])


def test_happy_path_progress_on_the_socket_and_a_real_clip(user, live_client, gpus):
    a, b = gpus
    a.hold()
    b.hold()
    tab = live_client(user)
    job = create(user, seed=7)
    # The listener's progress (the sampler's last step, 95 %), real and not estimated.
    wait_for(
        lambda: GenerationJob.objects.filter(
            pk=job.pk, status=S.RUNNING, progress=95, progress_estimated=False
        ).exists(),
        timeout=20,
        what="websocket progress on the job",
    )
    running = tab.wait_for(
        lambda m: f'id="job-{job.pk}"' in m and 'data-status="running"' in m and "95" in m
    )
    assert "(estimated)" not in running
    gpu = server_of(job, gpus)
    gpu.release()
    job = wait_for_job(job, S.SUCCEEDED, timeout=30)
    assert job.provider_request_id == prompt_id_for(job.pk)
    graph = gpu.records[job.provider_request_id]
    assert graph["5"]["inputs"]["text"] == PARAMS["prompt"]
    assert graph["8"]["inputs"]["seed"] == 7
    # 480p 16:9 on Wan's 32-pixel grid; 2 s at 24 fps on its 4k+1 frame grid.
    assert (graph["7"]["inputs"]["width"], graph["7"]["inputs"]["height"]) == (864, 480)
    assert graph["7"]["inputs"]["length"] == 49
    item = job.media_item
    assert item.metadata["model"] == WAN and item.metadata["cost"] == "0.00"
    wait_for(
        lambda: MediaItem.objects.get(pk=item.pk).status == MediaItem.Status.READY,
        timeout=30,
        what="the clip processed",
    )
    assert sum(g.count("prompts_received") for g in gpus) == 1
    tab.wait_for(lambda m: f'id="job-{job.pk}"' in m and 'data-status="succeeded"' in m)


def still(user, tmp_path) -> MediaItem:
    out = io.BytesIO()
    Image.new("RGB", (320, 180), (200, 40, 40)).save(out, format="PNG")
    path = tmp_path / f"still-{uuid.uuid4().hex[:6]}.png"
    path.write_bytes(out.getvalue())
    item = media_create_from_file(owner=user, path_or_file=path, title="still", source="upload")
    MediaItem.objects.filter(pk=item.pk).update(status=MediaItem.Status.READY)
    return item


def test_image_to_video_uploads_the_still_to_the_chosen_server(user, gpus, tmp_path):
    item = still(user, tmp_path)
    job = create(user, model="comfyui-wan22-i2v", image_id=item.pk)
    job = wait_for_job(job, S.SUCCEEDED, timeout=30)
    gpu = server_of(job, gpus)
    other = next(g for g in gpus if g is not gpu)
    assert gpu.count("uploads") == 1 and other.count("uploads") == 0
    name = gpu.records[job.provider_request_id]["12"]["inputs"]["image"]
    assert name.startswith("cutroom/") and name in gpu.inputs
    with Image.open(io.BytesIO(gpu.inputs[name])) as image:
        assert image.size == (320, 180)


def test_farm_spreads_jobs_and_cancel_of_a_pending_one_deletes_it(user, gpus):
    a, b = gpus
    a.hold()
    b.hold()
    first = create(user)
    wait_for_job(first, S.RUNNING, timeout=20)
    second = create(user)
    wait_for_job(second, S.RUNNING, timeout=20)
    # The shortest queue: the two running jobs are on different servers.
    assert server_of(first, gpus) is not server_of(second, gpus)
    third = create(user)
    wait_for_job(third, S.IN_QUEUE, timeout=20)
    wait_for(
        lambda: GenerationJob.objects.get(pk=third.pk).queue_position == 2,
        timeout=10,
        what="the queue position",
    )
    holder = server_of(third, gpus)
    job_cancel(job=third)
    third = wait_for_job(third, S.CANCELLED, timeout=20)
    assert holder.count("deleted") == 1 and holder.count("interrupts") == 0
    a.release()
    b.release()
    wait_for_job(first, S.SUCCEEDED, timeout=30)
    wait_for_job(second, S.SUCCEEDED, timeout=30)
    assert holder.count("executions_success") == 1  # the cancelled one never ran


def test_cancel_running_interrupts_only_our_prompt(user, gpus):
    for gpu in gpus:
        gpu.hold()
    job = create(user)
    wait_for_job(job, S.RUNNING, timeout=20)
    gpu = server_of(job, gpus)
    job_cancel(job=job)
    job = wait_for_job(job, S.CANCELLED, timeout=20)
    assert gpu.count("interrupts") == 1
    wait_for(lambda: gpu.count("executions_interrupted") == 1, timeout=10, what="interrupted")
    assert job.media_item_id is None


def test_a_missing_node_is_refused_at_submit_naming_the_node(user, gpus):
    for gpu in gpus:
        gpu.remove_node("Wan22ImageToVideoLatent")
    job = wait_for_job(create(user), S.FAILED, timeout=20)
    assert job.error_code == "invalid_input"
    assert "Wan22ImageToVideoLatent" in job.error_message
    assert sum(g.count("prompts_received") for g in gpus) == 0


def test_a_restart_that_lost_the_prompt_fails_it_plainly_once(user, gpus):
    for gpu in gpus:
        gpu.hold()
    job = create(user)
    wait_for_job(job, S.RUNNING, timeout=20)
    gpu = server_of(job, gpus)
    gpu.restart()  # still answering: /queue without it, /history/<id> {}
    job = wait_for_job(job, S.FAILED, timeout=20)
    assert "no longer knows" in job.provider_detail
    assert sum(g.count("prompts_received") for g in gpus) == 1  # never resent
    assert job.media_item_id is None


def test_a_server_killed_mid_job_is_skipped_and_its_job_fails_plainly_once(user, gpus):
    for gpu in gpus:
        gpu.hold()
    job = create(user)
    wait_for_job(job, S.RUNNING, timeout=20)
    dead = server_of(job, gpus)
    alive = next(g for g in gpus if g is not dead)
    dead.kill()
    # A new job meanwhile goes to the server that answers, and finishes there.
    alive.release()
    later = wait_for_job(create(user), S.SUCCEEDED, timeout=30)
    assert later.provider_handle["server"] == alive.url
    # The dead server's job is re-checked, then fails plainly once it has been silent.
    job = wait_for_job(job, S.FAILED, timeout=30)
    assert "has not answered" in job.provider_detail and job.error_code == "provider_error"
    assert json.dumps(job.provider_handle).count(dead.url) == 1
    assert alive.count("prompts_received") == 1  # the lost job was not run again there


def test_a_slow_websocket_still_brings_progress_and_polling_finishes_the_job(user, gpus):
    for gpu in gpus:
        gpu.hold()
        gpu.ws_delay_s = 0.1  # every message a tenth of a second behind the work
    job = create(user)
    wait_for(
        lambda: GenerationJob.objects.filter(
            pk=job.pk, status=S.RUNNING, progress=95, progress_estimated=False
        ).exists(),
        timeout=30,
        what="the late websocket progress on the job",
    )
    gpu = server_of(job, gpus)
    prompt_id = job.provider_request_id
    # The messages of the nodes after the sampler are out too; from here the socket lags
    # three seconds a message, six times the slowest poll interval.
    wait_for(lambda: gpu.sent_at("executed", prompt_id), timeout=10, what="the socket drained")
    gpu.ws_delay_s = 3.0
    gpu.release()
    job = wait_for_job(job, S.SUCCEEDED, timeout=30)
    said_success = wait_for(
        lambda: gpu.sent_at("execution_success", prompt_id),
        timeout=15,
        what="the socket's execution_success",
    )
    # Polling /history saw the clip finished before the socket said so: the truth.
    assert job.downloading_at.timestamp() < said_success
    assert MediaItem.objects.filter(pk=job.media_item_id).count() == 1
    assert sum(g.count("prompts_received") for g in gpus) == 1


def test_an_execution_error_fails_the_job_with_comfyuis_sentence_once(user, live_client, gpus):
    oom = "CUDA out of memory. Tried to allocate 2.00 GiB"
    for gpu in gpus:
        gpu.fail_execution(oom)
    tab = live_client(user)
    job = wait_for_job(create(user), S.FAILED, timeout=30)
    assert job.error_code == "provider_error"
    # The creator reads ComfyUI's own words, once, not the hosted providers' "try later".
    assert job.error_message == (
        f"ComfyUI could not make this clip: KSampler (node 8) failed: {oom}."
    )
    assert "torch.OutOfMemoryError" in job.provider_detail  # the admin gets the type too
    card = tab.wait_for(lambda m: f'id="job-{job.pk}"' in m and 'data-status="failed"' in m)
    assert "CUDA out of memory" in card
    assert sum(g.count("prompts_received") for g in gpus) == 1  # failed, not retried
    assert server_of(job, gpus).count("executions_error") == 1
    assert job.media_item_id is None


def test_a_server_back_before_down_after_with_the_prompt_known_finishes_it_once(user, gpus):
    for gpu in gpus:
        gpu.hold()
    job = create(user)
    wait_for_job(job, S.RUNNING, timeout=20)
    gpu = server_of(job, gpus)
    gpu.partition()  # unreachable; its GPU carries on
    gpu.release()
    wait_for(lambda: gpu.count("executions_success") == 1, timeout=10, what="clip done offline")
    # A status poll found it silent (the mark the worker leaves in the shared cache) ...
    wait_for(
        lambda: server_memory(gpu.url)["silent_since"],
        timeout=10,
        what="a poll that found the server silent",
    )
    gpu.heal()  # ... and it is back well inside COMFYUI_DOWN_AFTER_S (2 s here)
    job = wait_for_job(job, S.SUCCEEDED, timeout=30)
    assert job.provider_handle["server"] == gpu.url
    assert MediaItem.objects.filter(pk=job.media_item_id).count() == 1
    assert sum(g.count("prompts_received") for g in gpus) == 1  # never resent
    assert server_memory(gpu.url)["silent_since"] is None  # the answer cleared the mark
