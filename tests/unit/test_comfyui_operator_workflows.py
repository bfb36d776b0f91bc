"""An operator's own ComfyUI workflow under a new name (manage.py comfyui_add_workflow)
becomes a catalog entry from its mapping's `catalog` block, and runs on the emulator."""

from __future__ import annotations

import json
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from generation import catalog
from generation.catalog.comfyui_entries import catalog_block_problems
from generation.providers.base import SubmitRequest
from generation.providers.comfyui import ComfyUIProvider, forget_server
from generation.providers.comfyui_workflow import SHIPPED_DIR
from tests.emulators.comfyui import ComfyUIEmulator

BLOCK = {
    "name": "LTX drafts (your GPUs)",
    "kind": "t2v",
    "durations": [3, 6],
    "resolutions": ["512p"],
    "aspect_ratios": ["9:16", "16:9"],
    "fps": 25,
}


@pytest.fixture
def gpu(settings, tmp_path):
    with ComfyUIEmulator(steps=2, step_s=0.01) as emulator:
        settings.COMFYUI_URLS = [emulator.url]
        settings.COMFYUI_WORKFLOWS_DIR = str(tmp_path / "workflows")
        settings.PROVIDER_HTTP_TIMEOUT_S = 1.0
        forget_server(emulator.url)
        yield emulator
        forget_server(emulator.url)


def files(tmp_path, shipped="ltxv_t2v", **mapping_changes):
    """The shipped graph, and its mapping with `mapping_changes`, as an operator's files."""
    graph = tmp_path / "mine.json"
    graph.write_text((SHIPPED_DIR / f"{shipped}.json").read_text())
    mapping = {**json.loads((SHIPPED_DIR / f"{shipped}.map.json").read_text()), **mapping_changes}
    mapping_path = tmp_path / "mine.map.json"
    mapping_path.write_text(json.dumps(mapping))
    return str(graph), str(mapping_path)


def add(name, graph, mapping) -> str:
    out = StringIO()
    call_command("comfyui_add_workflow", name, graph, mapping, stdout=out)
    return out.getvalue()


def test_a_new_workflow_with_a_catalog_block_is_offered_and_runs(gpu, tmp_path):
    assert not catalog.exists("comfyui-ltx_drafts")
    said = add("ltx_drafts", *files(tmp_path, catalog=BLOCK))
    assert "Offered as 'LTX drafts (your GPUs)' (comfyui-ltx_drafts)" in said
    spec = catalog.get("comfyui-ltx_drafts")
    assert (spec.name, spec.kind, spec.provider, spec.endpoint) == (
        "LTX drafts (your GPUs)",
        catalog.TEXT_TO_VIDEO,
        "comfyui",
        "ltx_drafts",
    )
    assert spec.durations == (3, 6) and spec.resolutions == ("512p",) and spec.fps == 25
    assert spec.aspect_ratios == ("9:16", "16:9") and not spec.needs_image
    assert spec in catalog.offered_models()
    assert catalog.price_basis(spec) == catalog.price_basis("comfyui-ltxv")  # free
    # It runs with its own defaults: 3 s at 25 fps on LTX's 8k+1 grid, 512p portrait.
    submission = ComfyUIProvider().submit(
        SubmitRequest(
            job_id=41,
            model_id=spec.id,
            endpoint=spec.endpoint,
            prompt="a paper boat",
            params={},
        )
    )
    graph = gpu.records[submission.request_id]
    latent = graph["6"]["inputs"]
    assert (latent["width"], latent["height"], latent["length"]) == (512, 896, 73)
    assert graph["5"]["inputs"]["frame_rate"] == 25.0
    # Without servers it is not offered, like the shipped ComfyUI models.
    from django.conf import settings

    settings.COMFYUI_URLS = []
    assert spec not in catalog.offered_models()


def test_a_bad_catalog_block_is_refused_naming_the_problem_and_nothing_installed(
    gpu, tmp_path, settings
):
    bad = {**BLOCK, "kind": "i2v", "durations": [0], "resolutions": ["huge"]}
    with pytest.raises(CommandError) as caught:
        add("ltx_drafts", *files(tmp_path, catalog=bad))
    message = str(caught.value)
    assert "must say where start_image goes" in message
    assert "catalog.durations" in message and "catalog.resolutions" in message
    assert not (tmp_path / "workflows").exists()
    assert not catalog.exists("comfyui-ltx_drafts")


def test_a_shipped_name_keeps_its_entry_and_a_plain_override_is_no_new_entry(gpu, tmp_path):
    with pytest.raises(CommandError, match="replaces a shipped workflow"):
        add("ltxv_t2v", *files(tmp_path, catalog=BLOCK))
    said = add("ltx_plain", *files(tmp_path))
    assert "Not offered in the composer" in said
    assert not catalog.exists("comfyui-ltx_plain")
    before = len(catalog.offered_models())
    add("ltxv_t2v", *files(tmp_path))  # an override of the shipped one: same entry
    assert len(catalog.offered_models()) == before
    assert catalog.get("comfyui-ltxv").name == "LTX-Video (your GPUs)"


def test_block_checks():
    i2v = json.loads((SHIPPED_DIR / "wan22_i2v.map.json").read_text())
    assert catalog_block_problems("my_i2v", {**i2v, "catalog": {**BLOCK, "kind": "i2v"}}) == []
    t2v_with_image = {**i2v, "catalog": BLOCK}
    assert catalog_block_problems("x", t2v_with_image) == [
        "a t2v workflow takes no start_image (use kind i2v)"
    ]
    assert "lowercase" in catalog_block_problems("My Flow", {"catalog": BLOCK})[0]
    assert catalog_block_problems("x", {"catalog": {**BLOCK, "durations": [True]}})
    assert catalog_block_problems("x", {"inputs": {}}) == []  # no block: not an entry


@pytest.mark.django_db
def test_the_composer_offers_the_new_entry_with_its_own_settings(gpu, tmp_path, client, user):
    add("ltx_drafts", *files(tmp_path, catalog=BLOCK))
    client.force_login(user)
    page = client.get(reverse("generation:composer")).content.decode()
    assert 'value="comfyui-ltx_drafts"' in page and "LTX drafts (your GPUs)" in page
    estimate = client.post(
        reverse("generation:estimate"),
        {"model": "comfyui-ltx_drafts", "prompt": "a paper boat", "previous_model": "local"},
    ).content.decode()
    # The settings are redrawn for the picked model: its own durations, in its order.
    assert re.findall(r'name="duration" value="(\d+)"', estimate) == ["3", "6"]
