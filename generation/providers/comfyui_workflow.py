"""ComfyUI workflows as data: an API-format graph plus a mapping of where each of the
job's values goes, and the check of a graph against a server's /object_info.

A workflow named `wan22_t2v` is two files: `wan22_t2v.json` (the graph in ComfyUI's API
format, `{node_id: {"class_type", "inputs"}}`, an input being a literal or a link
`[node_id, output_index]`) and `wan22_t2v.map.json`:

    {"workflow": "wan22_t2v.json", "frames_step": 4, "size_step": 32, "progress_node": "8",
     "inputs": {"prompt": [{"node": "5", "input": "text"}], "width": [...], ...}}

`inputs` roles: prompt, negative_prompt, seed, width, height, length (frames), fps,
start_image (the uploaded still's name); a role may name several places (LTX-Video takes
the frame rate in its conditioning and in the video it writes). `frames_step` is the
model's frame grid (Wan: 4k+1 frames, LTX-Video: 8k+1), `size_step` its pixel grid,
`progress_node` the sampler whose websocket progress is the job's progress.

An operator's own workflows live in COMFYUI_WORKFLOWS_DIR (installed there by
`manage.py comfyui_add_workflow`, which validates them against /object_info first); a
file there replaces the shipped one of the same name, so a farm whose model files are
named differently overrides a shipped workflow without touching the code.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

SHIPPED_DIR = Path(__file__).resolve().parent / "comfyui_workflows"
ROLES = ("prompt", "negative_prompt", "seed", "width", "height", "length", "fps", "start_image")


class WorkflowError(ValueError):
    """A workflow file that cannot be used (missing, unreadable, or its mapping points at
    nodes or inputs the graph does not have)."""


@dataclass(frozen=True)
class Workflow:
    name: str
    graph: dict[str, Any]
    places: dict[str, tuple[tuple[str, str], ...]]
    frames_step: int = 4
    size_step: int = 32
    progress_node: str = ""
    source: str = ""
    class_types: frozenset[str] = field(default_factory=frozenset)

    def frames(self, duration_s: float, fps: int) -> int:
        """The frame count on the model's grid (step*k + 1) closest to duration × fps."""
        wanted = max(1, round(float(duration_s) * fps))
        k = max(1, round((wanted - 1) / self.frames_step))
        return self.frames_step * k + 1

    def on_grid(self, pixels: int) -> int:
        return max(self.size_step, int(round(pixels / self.size_step)) * self.size_step)

    def fill(self, values: dict[str, Any]) -> dict[str, Any]:
        """A copy of the graph with each role's value written where the mapping says."""
        graph = copy.deepcopy(self.graph)
        for role, value in values.items():
            for node_id, input_name in self.places.get(role, ()):
                graph[node_id]["inputs"][input_name] = value
        return graph


def workflow_dirs() -> list[Path]:
    dirs = []
    if settings.COMFYUI_WORKFLOWS_DIR:
        dirs.append(Path(settings.COMFYUI_WORKFLOWS_DIR))
    dirs.append(SHIPPED_DIR)
    return dirs


def load(name: str) -> Workflow:
    for folder in workflow_dirs():
        mapping_path = folder / f"{name}.map.json"
        if mapping_path.is_file():
            return parse(name, mapping_path)
    raise WorkflowError(f"no ComfyUI workflow named {name!r}")


def parse(name: str, mapping_path: Path) -> Workflow:
    try:
        mapping = json.loads(mapping_path.read_text())
        graph_path = mapping_path.parent / str(mapping.get("workflow") or f"{name}.json")
        graph = json.loads(graph_path.read_text())
    except (OSError, ValueError) as exc:
        raise WorkflowError(f"workflow {name!r} cannot be read: {exc}") from None
    return from_data(name, graph, mapping, source=str(graph_path))


def from_data(name: str, graph: Any, mapping: Any, *, source: str = "") -> Workflow:
    problems = graph_shape_problems(graph)
    if not isinstance(mapping, dict) or not isinstance(mapping.get("inputs"), dict):
        problems.append("the mapping has no 'inputs' object")
    if problems:
        raise WorkflowError(f"workflow {name!r}: " + "; ".join(problems))
    places: dict[str, tuple[tuple[str, str], ...]] = {}
    for role, spots in mapping["inputs"].items():
        if role not in ROLES:
            problems.append(f"unknown role {role!r} (known: {', '.join(ROLES)})")
            continue
        found = []
        for spot in spots if isinstance(spots, list) else []:
            node_id = str(spot.get("node", "")) if isinstance(spot, dict) else ""
            input_name = str(spot.get("input", "")) if isinstance(spot, dict) else ""
            if node_id not in graph:
                problems.append(f"{role} points at node {node_id!r}, which the graph lacks")
                continue
            found.append((node_id, input_name))
        places[role] = tuple(found)
    if "prompt" not in places or not places["prompt"]:
        problems.append("the mapping does not say where the prompt goes")
    progress_node = str(mapping.get("progress_node") or "")
    if progress_node and progress_node not in graph:
        problems.append(f"progress_node {progress_node!r} is not in the graph")
    if problems:
        raise WorkflowError(f"workflow {name!r}: " + "; ".join(problems))
    return Workflow(
        name=name,
        graph=graph,
        places=places,
        frames_step=int(mapping.get("frames_step") or 4),
        size_step=int(mapping.get("size_step") or 32),
        progress_node=progress_node,
        source=source,
        class_types=frozenset(node["class_type"] for node in graph.values()),
    )


def graph_shape_problems(graph: Any) -> list[str]:
    """What makes a graph not API format (a UI-format export has "nodes" and "links")."""
    if not isinstance(graph, dict) or not graph:
        return ["the workflow is not a JSON object of nodes"]
    if "nodes" in graph and "links" in graph:
        return ["this is a UI-format export; save it with 'Export (API)' instead"]
    problems = []
    for node_id, node in graph.items():
        if not isinstance(node, dict) or not isinstance(node.get("class_type"), str):
            problems.append(f"node {node_id!r} has no class_type")
        elif not isinstance(node.get("inputs", {}), dict):
            problems.append(f"node {node_id!r} has no inputs object")
    return problems


# --- the check against a server's /object_info --------------------------------------------
def combo_options(spec: Any) -> list[Any] | None:
    """The allowed values of a combo input, in either spelling /object_info uses: the
    classic `[[...values], {...}]` or the V3 schema's `["COMBO", {"options": [...]}]`."""
    if not isinstance(spec, list) or not spec:
        return None
    if isinstance(spec[0], list):
        return spec[0]
    if spec[0] == "COMBO" and len(spec) > 1 and isinstance(spec[1], dict):
        options = spec[1].get("options")
        return options if isinstance(options, list) else None
    return None


def missing_nodes(graph: dict[str, Any], object_info: dict[str, Any]) -> list[str]:
    return sorted({node["class_type"] for node in graph.values()} - set(object_info))


def problems_against(
    graph: dict[str, Any],
    object_info: dict[str, Any],
    *,
    skip: frozenset[tuple[str, str]] = frozenset(),
) -> list[str]:
    """Sentences naming what this server lacks for the graph: node classes, required
    inputs the graph leaves out, and model files (combo values) it does not have.
    `skip` names (node, input) places filled per job (the start image's name), not checked."""
    missing = missing_nodes(graph, object_info)
    problems = [f"the node {name} is not installed" for name in missing]
    for node_id, node in graph.items():
        info = object_info.get(node["class_type"])
        if not isinstance(info, dict):
            continue
        spec_inputs = info.get("input") or {}
        required = spec_inputs.get("required") or {}
        optional = spec_inputs.get("optional") or {}
        inputs = node.get("inputs") or {}
        for name in required:
            if name not in inputs:
                problems.append(f"node {node_id} ({node['class_type']}) lacks the input {name}")
        for name, value in inputs.items():
            if (node_id, name) in skip or isinstance(value, list):
                continue
            options = combo_options(required.get(name) or optional.get(name))
            if options is not None and value not in options:
                problems.append(
                    f"node {node_id} ({node['class_type']}): {value!r} is not on this server "
                    f"(input {name})"
                )
    return problems
