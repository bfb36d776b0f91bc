"""Models that run on the operator's own ComfyUI servers (COMFYUI_URLS). Data only.

`endpoint` names a workflow under generation/providers/comfyui_workflows/ (or the
operator's COMFYUI_WORKFLOWS_DIR, which may replace it). They are free by default: the
GPUs are yours; COMFYUI_GPU_SECOND_USD turns the history's execution time into an
accounting figure recorded as the job's actual cost. Offered only when COMFYUI_URLS is
set (see catalog.offered_models).

Frame rates and sizes follow the models' own documentation: Wan 2.2 TI2V-5B renders
24 fps at 1280×704 (720p) on a 32-pixel grid with 4k+1 frames; LTX-Video 24 fps, sides
divisible by 32, 8k+1 frames.

An operator's workflow with a new name (`manage.py comfyui_add_workflow`) becomes an entry
too when its mapping carries a `catalog` block (operator_models below):

    "catalog": {"name": "My LTX (your GPUs)", "kind": "t2v", "durations": [4, 2],
                "resolutions": ["512p"], "aspect_ratios": ["16:9"], "fps": 24,
                "description": "...", "typical_run_s": 90}

Its id is `comfyui-<workflow name>`; the first duration, resolution and shape are the
defaults. Read from COMFYUI_WORKFLOWS_DIR on every lookup, cached until a mapping file
changes, so installing one needs no restart of the web processes or workers.
"""

import json
import logging
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from generation.pricing import Free

from .spec import IMAGE_TO_VIDEO, TEXT_TO_VIDEO, ImageLimits, ModelSpec, short_side

logger = logging.getLogger("generation.catalog")

CHECKED = "2026-12-01"
# The still travels inline (a data URL) until submit uploads it to the chosen server.
COMFYUI_IMAGE_LIMITS = ImageLimits(
    formats=("png", "jpeg", "webp"), max_side=2048, max_bytes=4 * 1024 * 1024
)
SHAPES = ("16:9", "9:16", "1:1")

WAN22_COMFYUI = ModelSpec(
    id="comfyui-wan22",
    name="Wan 2.2 (your GPUs)",
    provider="comfyui",
    endpoint="wan22_t2v",
    kind=TEXT_TO_VIDEO,
    durations=(5, 2, 3),
    resolutions=("480p", "720p"),
    aspect_ratios=SHAPES,
    price=Free(),
    price_date=CHECKED,
    price_source="runs on your own ComfyUI servers",
    price_note="free; optional accounting per GPU second (COMFYUI_GPU_SECOND_USD)",
    negative_prompt=True,
    seed=True,
    fps=24,
    typical_run_s=300,
    time_limit_s=3600,
    duration_field=None,
    resolution_field=None,
    aspect_field=None,
    family="Wan 2.2 (your GPUs)",
    description="Wan 2.2 TI2V-5B through ComfyUI on your own GPUs: private and free per clip.",
)
WAN22_COMFYUI_I2V = replace(
    WAN22_COMFYUI,
    id="comfyui-wan22-i2v",
    name="Wan 2.2 (your GPUs, image to video)",
    endpoint="wan22_i2v",
    kind=IMAGE_TO_VIDEO,
    # The node scales and centre-crops the still to the chosen shape.
    image_field="start_image",
    image_limits=COMFYUI_IMAGE_LIMITS,
    description="Animates your image with Wan 2.2 on your own GPUs.",
)
LTXV_COMFYUI = replace(
    WAN22_COMFYUI,
    id="comfyui-ltxv",
    name="LTX-Video (your GPUs)",
    endpoint="ltxv_t2v",
    durations=(4, 2, 6),
    resolutions=("512p", "480p"),
    typical_run_s=90,
    family="LTX-Video (your GPUs)",
    description="LTX-Video 2B through ComfyUI on your own GPUs: fast drafts, free per clip.",
)

COMFYUI_MODELS: tuple[ModelSpec, ...] = (WAN22_COMFYUI, WAN22_COMFYUI_I2V, LTXV_COMFYUI)

SHIPPED_WORKFLOWS = frozenset(m.endpoint for m in COMFYUI_MODELS)
OPERATOR_KINDS = {"t2v": TEXT_TO_VIDEO, "i2v": IMAGE_TO_VIDEO}
# Ids go into URLs, HTML ids and the API: plain lowercase names only.
OPERATOR_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")
OPERATOR_SHAPES = ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9")
MAX_OPERATOR_DURATION_S = 60


def operator_entry_id(workflow: str) -> str:
    return f"comfyui-{workflow}"


def catalog_block_problems(workflow: str, mapping: Any) -> list[str]:
    """Sentences naming what keeps a mapping's `catalog` block from being an entry (an
    empty list: it is one). A mapping without the block is not an entry, not a problem."""
    block = mapping.get("catalog") if isinstance(mapping, dict) else None
    if block is None:
        return []
    if workflow in SHIPPED_WORKFLOWS:
        return [
            f"{workflow} replaces a shipped workflow, whose catalog entry stays: "
            "remove the 'catalog' block, or install it under a new name"
        ]
    if not OPERATOR_NAME.match(workflow):
        return [f"the name {workflow!r} must be lowercase letters, digits, '-' or '_'"]
    if any(m.id == operator_entry_id(workflow) for m in COMFYUI_MODELS):
        return [f"{operator_entry_id(workflow)} is already a shipped model's id"]
    if not isinstance(block, dict):
        return ["'catalog' must be an object"]
    problems = []
    if not str(block.get("name") or "").strip():
        problems.append("catalog.name (what the composer shows) is missing")
    kind = block.get("kind")
    if kind not in OPERATOR_KINDS:
        problems.append(f"catalog.kind must be one of {', '.join(OPERATOR_KINDS)}, not {kind!r}")
    roles = mapping.get("inputs") if isinstance(mapping.get("inputs"), dict) else {}
    if kind == "i2v" and not roles.get("start_image"):
        problems.append("an i2v workflow's mapping must say where start_image goes")
    if kind == "t2v" and roles.get("start_image"):
        problems.append("a t2v workflow takes no start_image (use kind i2v)")
    durations = block.get("durations")
    if not _list_of(durations, int) or not all(0 < d <= MAX_OPERATOR_DURATION_S for d in durations):
        problems.append(
            f"catalog.durations must be a list of whole seconds, 1 to {MAX_OPERATOR_DURATION_S}"
        )
    resolutions = block.get("resolutions")
    if not _list_of(resolutions, str) or not all(_is_resolution(r) for r in resolutions):
        problems.append('catalog.resolutions must be a list like ["480p", "720p"]')
    shapes = block.get("aspect_ratios", ["16:9"])
    if not _list_of(shapes, str) or not set(shapes) <= set(OPERATOR_SHAPES):
        problems.append(f"catalog.aspect_ratios must be taken from {', '.join(OPERATOR_SHAPES)}")
    for number, high in (("fps", 120), ("typical_run_s", 86400)):
        value = block.get(number)
        if value is not None and not (type(value) is int and 0 < value <= high):
            problems.append(f"catalog.{number} must be a whole number from 1 to {high}")
    return problems


def _list_of(value: Any, kind: type) -> bool:
    # bool is an int to Python; True is not a duration.
    return (
        isinstance(value, list)
        and bool(value)
        and all(type(item) is kind for item in value)
        and len(set(value)) == len(value)
    )


def _is_resolution(value: str) -> bool:
    try:
        return 64 <= short_side(value) <= 4320
    except (ValueError, KeyError, TypeError):
        return False


def operator_spec(workflow: str, block: dict[str, Any]) -> ModelSpec:
    """The entry for a checked block (see catalog_block_problems)."""
    base = WAN22_COMFYUI_I2V if block["kind"] == "i2v" else WAN22_COMFYUI
    name = str(block["name"]).strip()[:80]
    return replace(
        base,
        id=operator_entry_id(workflow),
        name=name,
        endpoint=workflow,
        durations=tuple(block["durations"]),
        resolutions=tuple(block["resolutions"]),
        aspect_ratios=tuple(block.get("aspect_ratios") or ("16:9",)),
        fps=int(block.get("fps") or base.fps),
        typical_run_s=int(block.get("typical_run_s") or base.typical_run_s),
        family=name,
        description=str(block.get("description") or f"{name}: your own ComfyUI workflow.")[:300],
        price_source="your own ComfyUI workflow, on your own servers",
    )


_loaded: dict[str, Any] = {"key": None, "models": ()}


def operator_models(folder: str) -> tuple[ModelSpec, ...]:
    """The entries of the operator's workflows in `folder` (COMFYUI_WORKFLOWS_DIR), in name
    order. A mapping whose block has problems is left out, logged once per change."""
    if not folder:
        return ()
    try:
        with os.scandir(folder) as entries:
            stamp = tuple(
                sorted(
                    (e.name, e.stat().st_mtime_ns)
                    for e in entries
                    if e.name.endswith(".map.json") and e.is_file()
                )
            )
    except OSError:
        return ()
    key = (folder, stamp)
    if _loaded["key"] != key:
        _loaded["models"] = _read_operator_models(Path(folder), [n for n, _ in stamp])
        _loaded["key"] = key
    return _loaded["models"]


def _read_operator_models(folder: Path, names: list[str]) -> tuple[ModelSpec, ...]:
    models = []
    for file_name in names:
        workflow = file_name.removesuffix(".map.json")
        try:
            mapping = json.loads((folder / file_name).read_text())
        except (OSError, ValueError) as exc:
            logger.warning("ComfyUI workflow %s: mapping unreadable (%s)", workflow, exc)
            continue
        if not isinstance(mapping, dict) or "catalog" not in mapping:
            continue  # an override of a shipped workflow, or not offered
        problems = catalog_block_problems(workflow, mapping)
        if problems:
            logger.warning("ComfyUI workflow %s not offered: %s", workflow, "; ".join(problems))
            continue
        models.append(operator_spec(workflow, mapping["catalog"]))
    return tuple(models)
