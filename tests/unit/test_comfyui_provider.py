"""The ComfyUI provider against the emulator in this process: the farm's choice, the
refusal naming a missing node, status from /queue then /history, cancel, accounting."""

from __future__ import annotations

import pytest

from generation import catalog
from generation.providers.base import CancelOutcome, ErrorCode, ProviderError, State, SubmitRequest
from generation.providers.comfyui import (
    ComfyUIProvider,
    forget_server,
    gpu_cost,
    prompt_id_for,
    refused_prompt,
)
from generation.providers.comfyui_workflow import load
from generation.providers.http import Caller
from tests.emulators.comfyui import ComfyUIEmulator
from tests.harness.processes import wait_until


@pytest.fixture
def farm(settings):
    with ComfyUIEmulator(steps=2, step_s=0.01) as a, ComfyUIEmulator(steps=2, step_s=0.01) as b:
        settings.COMFYUI_URLS = [a.url, b.url]
        settings.PROVIDER_HTTP_TIMEOUT_S = 1.0
        for gpu in (a, b):
            forget_server(gpu.url)
        yield a, b
        for gpu in (a, b):
            forget_server(gpu.url)


def request(job_id=1, model="comfyui-wan22", **params) -> SubmitRequest:
    spec = catalog.get(model)
    return SubmitRequest(
        job_id=job_id,
        model_id=model,
        endpoint=spec.endpoint,
        prompt="a paper boat",
        params={"duration": 2, "resolution": "480p", **params},
    )


def test_entries_are_offered_only_with_servers(settings):
    settings.COMFYUI_URLS = []
    assert "comfyui-wan22" not in {m.id for m in catalog.offered_models()}
    assert catalog.get("comfyui-wan22").name == "Wan 2.2 (your GPUs)"
    settings.COMFYUI_URLS = ["http://gpu1:8188"]
    assert {"comfyui-wan22", "comfyui-wan22-i2v", "comfyui-ltxv"} <= {
        m.id for m in catalog.offered_models()
    }


def test_workflows_put_values_on_the_models_grids():
    wan, ltx = load("wan22_t2v"), load("ltxv_t2v")
    assert wan.frames(5, 24) == 121 and ltx.frames(4, 24) == 97
    assert wan.on_grid(854) == 864 and ltx.frames(2, 24) % 8 == 1
    graph = ltx.fill({"fps": 24.0, "prompt": "x"})
    assert graph["5"]["inputs"]["frame_rate"] == 24.0 and graph["9"]["inputs"]["fps"] == 24.0


def test_submit_goes_to_the_shortest_queue_with_our_prompt_id(farm):
    a, b = farm
    a.hold()
    provider = ComfyUIProvider()
    first = provider.submit(request(1))
    second = provider.submit(request(2))
    assert first.request_id == prompt_id_for(1)
    assert {first.handle["server"], second.handle["server"]} == {a.url, b.url}
    a.release()


def test_a_server_without_the_node_is_passed_over_and_none_is_refused_by_name(farm):
    a, b = farm
    a.remove_node("KSampler")
    provider = ComfyUIProvider()
    assert provider.submit(request(1)).handle["server"] == b.url
    b.remove_node("KSampler")
    forget_server(b.url)
    with pytest.raises(ProviderError) as caught:
        provider.submit(request(2))
    assert caught.value.code == ErrorCode.INVALID_INPUT and caught.value.permanent
    assert "the node KSampler is not installed" in caught.value.user_message


def test_no_server_answering_is_a_retried_network_error(settings):
    settings.COMFYUI_URLS = ["http://127.0.0.1:9"]
    forget_server("http://127.0.0.1:9")
    with pytest.raises(ProviderError) as caught:
        ComfyUIProvider().submit(request(1))
    assert caught.value.code == ErrorCode.NETWORK and caught.value.retryable


def test_status_walks_queue_then_history_and_a_lost_prompt_fails(farm):
    a, b = farm
    b.remove_node("KSampler")  # everything goes to a
    a.hold()
    provider = ComfyUIProvider()
    running = provider.submit(request(1))
    waiting = provider.submit(request(2))
    wait_until(lambda: a.queue_snapshot()["running"], timeout=5, what="running")
    assert provider.status(running).state == State.RUNNING
    report = provider.status(waiting)
    assert report.state == State.IN_QUEUE and report.queue_position == 2
    assert provider.cancel(waiting) == CancelOutcome.CANCELLED
    a.release()
    wait_until(lambda: provider.status(running).state == State.COMPLETED, timeout=5, what="done")
    result = provider.status(running).result
    assert result.url.startswith(f"{a.url}/view?") and result.file_name.endswith(".mp4")
    a.restart()
    lost = provider.status(running)
    assert lost.state == State.FAILED and "no longer knows" in lost.error.detail


def test_execution_error_names_the_node(farm):
    a, b = farm
    b.remove_node("KSampler")
    a.fail_execution("CUDA out of memory")
    provider = ComfyUIProvider()
    submission = provider.submit(request(1))
    wait_until(lambda: provider.status(submission).state == State.FAILED, timeout=5, what="fail")
    error = provider.status(submission).error
    assert "KSampler" in error.detail and "CUDA out of memory" in error.detail


def test_reconcile_finds_our_prompt_on_whichever_server_has_it(farm):
    a, b = farm
    a.hold()
    b.hold()
    provider = ComfyUIProvider()
    sent = provider.submit(request(7))
    assert provider.reconcile(request(7)).handle["server"] == sent.handle["server"]
    with pytest.raises(ProviderError) as caught:
        provider.reconcile(request(8))
    assert caught.value.request_sent and caught.value.permanent
    a.release()
    b.release()


def test_refused_prompt_names_the_node():
    import httpx

    body = {
        "error": {
            "type": "invalid_prompt",
            "message": "Cannot execute because node X does not exist.",
        },
        "node_errors": {},
    }
    error = refused_prompt(httpx.Response(400, json=body), Caller("comfyui"), "http://gpu")
    assert "node X does not exist" in error.user_message and error.permanent


def test_gpu_seconds_become_an_accounting_cost(settings):
    messages = {"execution_start": {"timestamp": 1000}, "execution_success": {"timestamp": 13500}}
    settings.COMFYUI_GPU_SECOND_USD = ""
    assert gpu_cost(messages) is None
    settings.COMFYUI_GPU_SECOND_USD = "0.0004"
    assert gpu_cost(messages) == "0.0050"


def test_a_listener_covers_every_server_or_a_named_group_of_them(settings):
    from django.core.management import CommandError, call_command

    from generation.comfyui_listener import listener_servers

    settings.COMFYUI_URLS = ["http://gpu1:8188", "http://gpu2:8188", "http://gpu3:8188"]
    assert listener_servers() == settings.COMFYUI_URLS
    assert listener_servers(["http://gpu3:8188/", "http://gpu1:8188", "http://gpu3:8188"]) == [
        "http://gpu3:8188",
        "http://gpu1:8188",
    ]
    # A typo must not quietly leave a real server without a listener.
    with pytest.raises(CommandError, match="not in COMFYUI_URLS: http://gpu4:8188"):
        call_command("comfyui_listen", "--server", "http://gpu4:8188")
