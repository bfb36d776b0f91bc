"""The dependency rules of docs/architecture.md, checked from the source (ast, no imports).

    python scripts/check_imports.py        # prints every violation; exit 1 if any

1. No module imports another module's `_private` names.
2. Apps depend one way: media_library knows no other app; generation may use
   media_library; editor may use both; onboarding (the first-run checklist) may use all
   three; `project` (settings, ASGI, URLs, shared helpers)
   is below every app except for its wiring modules (urls, asgi, routing), which list them.
3. Layers inside an app depend downwards: models < providers/rendering/catalog <
   services/selectors < tasks < views/api/admin. The sanctioned upward edge: a service
   enqueues its own app's Celery task (services → tasks), importing it inside the function
   that enqueues after commit — never at module level, and never from a provider.
4. No import-time cycles: the module-level imports form no cycle.

tests/unit/test_import_rules.py runs this.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("project", "generation", "media_library", "editor", "onboarding")
# Which apps each app may import (itself always).
APP_DEPENDS_ON = {
    "media_library": {"project"},
    "generation": {"project", "media_library"},
    "editor": {"project", "media_library", "generation"},
    # The first-run checklist reads all three apps; none of them imports it.
    "onboarding": {"project", "media_library", "generation", "editor"},
    "project": set(),
}
# `project` modules that wire the apps together and may import them.
PROJECT_WIRING = {"project.urls", "project.asgi", "project.routing", "project.settings"}
LAYER_RANK = {
    "models": 0,
    "migrations": 0,
    "providers": 1,
    "rendering": 1,
    "catalog": 1,
    "services": 2,
    "selectors": 2,
    "tasks": 3,
    "views": 4,
    "api": 4,
    "admin": 4,
}
# Upward edges that are part of the design, each with its reason.
ALLOWED_UPWARD = {
    # A job row stores the provider error taxonomy's codes (ErrorCode choices).
    ("generation.models", "generation.providers.base"),
}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    names: tuple[str, ...]
    line: int
    top_level: bool


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def edges_of(path: Path) -> Iterator[Edge]:
    module = module_name(path)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(), filename=str(path))
    top = {id(n) for n in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = resolve(module, is_package, node)
            names = tuple(a.name for a in node.names)
            yield Edge(module, target, names, node.lineno, id(node) in top)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield Edge(module, alias.name, (), node.lineno, id(node) in top)


def first_party(name: str) -> bool:
    return name.split(".")[0] in APPS


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) < 2:
        return None
    return (
        LAYER_RANK.get(parts[1].split("_")[0])
        if parts[1] not in LAYER_RANK
        else LAYER_RANK[parts[1]]
    )


def is_module(name: str) -> bool:
    path = ROOT / Path(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def check(files: list[Path]) -> list[str]:
    problems: list[str] = []
    graph: dict[str, set[str]] = {}
    for path in files:
        for edge in edges_of(path):
            if not first_party(edge.target):
                continue
            where = f"{path.relative_to(ROOT)}:{edge.line}"
            # 1. private names of another module
            for name in edge.names:
                if (
                    name.startswith("_")
                    and not name.startswith("__")
                    and edge.target != edge.source
                ):
                    if not is_module(f"{edge.target}.{name}"):
                        problems.append(f"{where}: imports private {edge.target}.{name}")
            # Targets named as `from package import module` are that module.
            targets = [edge.target]
            if edge.names:
                submodules = [
                    f"{edge.target}.{n}" for n in edge.names if is_module(f"{edge.target}.{n}")
                ]
                targets = submodules or targets
            src_app, tgt_app = edge.source.split(".")[0], edge.target.split(".")[0]
            # 2. app direction
            if src_app != tgt_app:
                allowed = APP_DEPENDS_ON[src_app] or set()
                if (
                    not (src_app == "project" and edge.source in PROJECT_WIRING)
                    and tgt_app not in allowed
                ):
                    problems.append(f"{where}: {src_app} must not import {tgt_app} ({edge.target})")
            for target in targets:
                # 3. layers, inside one app
                if src_app == tgt_app and src_app != "project":
                    src_layer, tgt_layer = layer_of(edge.source), layer_of(target)
                    upward = (
                        src_layer is not None and tgt_layer is not None and tgt_layer > src_layer
                    )
                    enqueues = (
                        src_layer == LAYER_RANK["services"]
                        and target == f"{src_app}.tasks"
                        and not edge.top_level
                    )
                    if upward and not enqueues and (edge.source, target) not in ALLOWED_UPWARD:
                        problems.append(f"{where}: {edge.source} (lower layer) imports {target}")
                if edge.top_level and target != edge.source:
                    graph.setdefault(edge.source, set()).add(target)
    # 4. import-time cycles (Tarjan's strongly connected components)
    problems += [f"import cycle at module level: {' -> '.join(c)}" for c in cycles(graph)]
    return problems


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            # A package's __init__ importing its own submodules is not a cycle worth naming.
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def source_files() -> list[Path]:
    files = []
    for app in APPS:
        files += [p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]
    return sorted(files)


def main() -> int:
    problems = check(source_files())
    for problem in problems:
        print(problem)
    print(f"{len(problems)} dependency rule violation(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
