"""The editor's browser modules share code only through imports: each exports just what
another module imports, and nothing is hung on `window` (no hidden global API)."""

from __future__ import annotations

import re
from pathlib import Path

JS = Path(__file__).resolve().parents[2] / "static" / "js"
EDITOR_MODULES = sorted(
    [*JS.glob("timeline*.js"), JS / "preview.js", JS / "media.js", JS / "shortcuts.js"]
)

DECLARED = re.compile(r"^export\s+(?:async\s+)?(?:function|const|let|class)\s+(\w+)", re.M)
LISTED = re.compile(r"^export\s*\{([^}]*)\}", re.M)
IMPORT = re.compile(r"import\s*\{([^}]*)\}\s*from\s*\"\./([\w.-]+)\"", re.S)


def names(block: str, side: int) -> set[str]:
    return {part.split(" as ")[side].strip() for part in block.split(",") if part.strip()}


def exports(source: str) -> set[str]:
    found = set(DECLARED.findall(source))
    for block in LISTED.findall(source):
        found |= names(block, -1)
    return found


def imported_from(module: str) -> set[str]:
    used = set()
    for path in JS.glob("*.js"):
        for block, source in IMPORT.findall(path.read_text()):
            if source == module:
                used |= names(block, 0)
    return used


def test_every_export_of_the_editor_modules_is_imported_somewhere():
    unused = {
        path.name: sorted(exports(path.read_text()) - imported_from(path.name))
        for path in EDITOR_MODULES
    }
    assert {name: left for name, left in unused.items() if left} == {}


def test_the_editor_modules_put_nothing_on_window():
    for path in EDITOR_MODULES:
        assert not re.search(r"window\.\w+\s*=[^=]", path.read_text()), path.name


def test_the_checks_see_exports_and_imports():
    # Guard against the regexes matching nothing (which would pass the tests above).
    assert "seek" in exports((JS / "preview.js").read_text())
    assert "seek" in imported_from("preview.js") and "state" in imported_from("timeline-core.js")
