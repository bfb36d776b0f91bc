"""The dependency rules (scripts/check_imports.py) hold for the tree, and the checker
itself catches each kind of violation on a small synthetic tree."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_imports.py"


@pytest.fixture
def checker():
    spec = importlib.util.spec_from_file_location("check_imports", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_tree_follows_the_dependency_rules(checker):
    problems = checker.check(checker.source_files())
    assert problems == []


def write(root: Path, files: dict[str, str]) -> list[Path]:
    paths = []
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        paths.append(path)
    return paths


def test_the_checker_finds_each_kind_of_violation(checker, tmp_path, monkeypatch):
    monkeypatch.setattr(checker, "ROOT", tmp_path)
    files = write(
        tmp_path,
        {
            "generation/__init__.py": "",
            "generation/services/__init__.py": "",
            "generation/services/a.py": "from .b import _helper\n",
            "generation/services/b.py": "def _helper(): ...\n",
            "generation/services/c.py": "from generation.tasks import run\n",  # top level
            "generation/services/d.py": "def go():\n    from generation.tasks import run\n",
            "generation/providers/__init__.py": "",
            "generation/providers/local.py": "def go():\n    from generation.tasks import run\n",
            "generation/tasks.py": "def run(): ...\n",
            "media_library/__init__.py": "",
            "media_library/selectors.py": "from editor.models import Clip\n",
            "editor/__init__.py": "",
            "editor/models.py": "from editor import x\n",
            "editor/x.py": "from editor import models\n",
        },
    )
    problems = "\n".join(checker.check(files))
    assert "imports private generation.services.b._helper" in problems
    assert "generation.services.c (lower layer) imports generation.tasks" in problems
    assert "generation.services.d" not in problems  # a lazy enqueue from a service is fine
    assert "generation.providers.local (lower layer) imports generation.tasks" in problems
    assert "media_library must not import editor" in problems
    assert "import cycle at module level: editor.models -> editor.x" in problems
