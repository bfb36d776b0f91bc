"""The shortcut list in static/js/shortcuts.js is what the `?` sheet shows and the only way
a key reaches the editor (timeline.js dispatches through it): every listed shortcut has a
handler, and every handler is listed, so the sheet cannot promise a key that does nothing
or hide one that does something."""

from __future__ import annotations

import re
from pathlib import Path

JS = Path(__file__).resolve().parents[2] / "static" / "js"


ENTRY = re.compile(r'^\s*\{ id: "([\w-]+)",.*?keys: \[([^\]]*)\](.*)$', re.M)
ELSEWHERE = re.compile(r'elsewhere: "([\w.-]+)"')


def entries() -> list[tuple[str, str, str]]:
    """(id, keys, the module handling it when that is not timeline.js) per listed shortcut."""
    found = []
    for ident, keys, rest in ENTRY.findall((JS / "shortcuts.js").read_text()):
        other = ELSEWHERE.search(rest)
        found.append((ident, keys, other.group(1) if other else ""))
    return found


def listed_ids() -> list[str]:
    """The shortcuts timeline.js itself runs."""
    return [ident for ident, _keys, elsewhere in entries() if not elsewhere]


def handler_ids() -> set[str]:
    source = (JS / "timeline.js").read_text()
    block = re.search(r"const keyActions = \{(.*?)\n\};", source, re.S)
    assert block, "timeline.js must keep its key handlers in `const keyActions = {...}`"
    return set(re.findall(r'^  "?([\w-]+)"?(?::|,)', block.group(1), re.M))


def test_every_listed_shortcut_has_a_handler_and_every_handler_is_listed():
    ids = listed_ids()
    assert len(ids) == len(set(ids)), "a shortcut id is listed twice"
    assert set(ids) == handler_ids()


def test_keys_another_module_handles_are_handled_there():
    # Listed for the sheet, run by their own module: that module must check for that key.
    others = [(ident, keys, where) for ident, keys, where in entries() if where]
    assert others, "the slots' G and C are on the sheet"
    for ident, keys, where in others:
        key = keys.strip().strip('"').lower()
        assert f'"{key}"' in (JS / where).read_text(), f"{ident}: {where} does not handle {key}"


def test_keys_reach_the_editor_only_through_the_list():
    source = (JS / "timeline.js").read_text()
    # No key comparisons of its own: a handler outside the list would not be on the sheet.
    assert not re.search(r"\bkey\s*===|event\.key\s*===", source)
    assert "shortcutFor(event)" in source


def test_the_checks_see_the_lists():
    # Guard against the patterns matching nothing (which would pass the tests above).
    assert {"split", "undo", "shortcuts", "play"} <= set(listed_ids())
    assert {"split", "undo", "shortcuts", "play"} <= handler_ids()
