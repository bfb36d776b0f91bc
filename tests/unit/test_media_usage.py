"""The media library asks who uses an item through its `media_item_usage` signal and
never looks into the apps that answer: its sources import nothing of the editor."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from media_library import selectors
from media_library.models import MediaItem
from media_library.signals import media_item_usage

MEDIA_LIBRARY = Path(__file__).resolve().parents[2] / "media_library"


def test_media_library_sources_do_not_reach_into_the_editor():
    offenders = []
    for path in sorted(MEDIA_LIBRARY.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                # apps.get_model("editor", ...) / "editor.Clip": the lookup the usage
                # signal replaced; docstrings and messages merely mentioning it are fine.
                names = [node.value] if node.value in ("editor", "editor.Clip") else []
            else:
                continue
            offenders += [
                f"{path.name}:{node.lineno} {n}" for n in names if n.split(".")[0] == "editor"
            ]
    assert offenders == []
    assert "get_model" not in (MEDIA_LIBRARY / "selectors.py").read_text()


@pytest.mark.django_db
def test_usage_is_whatever_the_receivers_answer(user):
    item = MediaItem.objects.create(owner=user, kind="video", title="a", file="u1/a.mp4")
    asked = []

    def answer(sender, *, item, **kwargs):
        asked.append(item.pk)
        return ["Zeta", "", "Alpha", "Zeta"]

    media_item_usage.connect(answer, dispatch_uid="test-usage")
    try:
        # Sorted, each once, empty names dropped; the editor's answer (no clips) adds none.
        assert selectors.media_timelines_using(item=item) == ["Alpha", "Zeta"]
    finally:
        media_item_usage.disconnect(dispatch_uid="test-usage")
    assert asked == [item.pk]
    assert selectors.media_timelines_using(item=item) == []
