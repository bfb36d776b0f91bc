"""The ComfyUI emulator refuses what a real ComfyUI refuses (shapes from execution.py's
validate_prompt and server.py, see tests/emulators/comfyui.py)."""

from __future__ import annotations

import copy
import json

import httpx
import pytest

from generation.providers.comfyui_workflow import SHIPPED_DIR
from tests.emulators.comfyui import ComfyUIEmulator
from tests.harness.processes import wait_until

WAN = json.loads((SHIPPED_DIR / "wan22_t2v.json").read_text())


@pytest.fixture
def emu():
    with ComfyUIEmulator(steps=2, step_s=0.01) as emulator:
        yield emulator


def post(emu, graph, **extra):
    return httpx.post(f"{emu.url}/prompt", json={"prompt": graph, **extra}, timeout=5)


def test_unknown_node_class_is_an_invalid_prompt(emu):
    graph = copy.deepcopy(WAN)
    graph["7"]["class_type"] = "Wan99Latent"
    answer = post(emu, graph)
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"]["type"] == "invalid_prompt" and body["node_errors"] == {}
    assert body["error"]["message"] == "Cannot execute because node Wan99Latent does not exist."
    assert emu.count("prompts_received") == 0


def test_a_node_without_class_type_and_a_graph_without_outputs_are_refused(emu):
    assert post(emu, {"1": {"inputs": {}}}).json()["error"]["type"] == "invalid_prompt"
    no_output = {k: v for k, v in WAN.items() if v["class_type"] != "SaveVideo"}
    assert post(emu, no_output).json()["error"]["type"] == "prompt_no_outputs"
    assert httpx.post(f"{emu.url}/prompt", json={}).json()["error"]["type"] == "no_prompt"


@pytest.mark.parametrize(
    "change, node, kind",
    [
        (lambda g: g["7"]["inputs"].pop("width"), "7", "required_input_missing"),
        (lambda g: g["7"]["inputs"].update(width="wide"), "7", "invalid_input_type"),
        (lambda g: g["7"]["inputs"].update(width=8), "7", "value_smaller_than_min"),
        (
            lambda g: g["1"]["inputs"].update(unet_name="other.safetensors"),
            "1",
            "value_not_in_list",
        ),
        (lambda g: g["11"]["inputs"].update(format="avi"), "11", "value_not_in_list"),
        (lambda g: g["8"]["inputs"].update(positive=["3", 0]), "8", "return_type_mismatch"),
        (lambda g: g["8"]["inputs"].update(positive=["5"]), "8", "bad_linked_input"),
    ],
)
def test_input_errors_come_back_as_node_errors(emu, change, node, kind):
    graph = copy.deepcopy(WAN)
    change(graph)
    answer = post(emu, graph)
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"]["type"] == "prompt_outputs_failed_validation"
    assert [e["type"] for e in body["node_errors"][node]["errors"]] == [kind]
    assert body["node_errors"][node]["dependent_outputs"] == ["11"]


def test_load_image_needs_an_uploaded_file(emu):
    graph = json.loads((SHIPPED_DIR / "wan22_i2v.json").read_text())
    graph["12"]["inputs"]["image"] = "cutroom/missing.png"
    errors = post(emu, graph).json()["node_errors"]["12"]["errors"]
    assert errors[0]["type"] == "custom_validation_failed"
    assert "Invalid image file" in errors[0]["details"]


def test_history_is_empty_while_running_and_for_unknown_ids_and_view_404s(emu):
    emu.hold()
    answer = post(emu, WAN, prompt_id="mine", client_id="c")
    assert answer.json()["prompt_id"] == "mine"
    assert httpx.get(f"{emu.url}/history/mine").json() == {}
    assert httpx.get(f"{emu.url}/history/nobody").json() == {}
    view = httpx.get(f"{emu.url}/view", params={"filename": "x.mp4", "type": "output"})
    assert view.status_code == 404
    emu.release()


def test_interrupt_with_another_prompt_id_leaves_the_running_one(emu):
    emu.hold()
    post(emu, WAN, prompt_id="theirs")
    wait_until(lambda: emu.queue_snapshot()["running"] == ["theirs"], timeout=5, what="running")
    httpx.post(f"{emu.url}/interrupt", json={"prompt_id": "mine"})
    assert emu.count("interrupts") == 0
    httpx.post(f"{emu.url}/interrupt", json={"prompt_id": "theirs"})
    assert emu.count("interrupts") == 1
    emu.release()


def test_upload_without_an_image_part_is_refused(emu):
    answer = httpx.post(f"{emu.url}/upload/image", files={"overwrite": (None, "true")})
    assert answer.status_code == 400
