"""The hostile upload corpus through the real upload view: each file is refused with a
clear sentence and leaves nothing behind (no row, no file, no push, no task), or is
accepted as exactly what its bytes are and served so a browser can never run it."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from media_library import tasks
from media_library.models import MediaItem
from media_library.sniffing import TITLE_MAX
from media_library.testing import make_image_bytes
from tests.hostile_corpus import HOSTILE_NAMES, Accepted, Refused, corpus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


@pytest.fixture
def recorded(monkeypatch):
    pushes: list[tuple[int, str]] = []
    queued: list[int] = []
    monkeypatch.setattr(
        "project.live.broadcast", lambda uid, html: pushes.append((uid, html)) or True
    )
    monkeypatch.setattr(tasks.process_media, "delay", lambda media_id: queued.append(media_id))
    return pushes, queued


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture
def alice(client, user):
    client.force_login(user)
    return client


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def post(client, name: str, data: bytes, content_type: str = "application/octet-stream"):
    return client.post(
        reverse("media_library:upload"),
        {"file": SimpleUploadedFile(name, data, content_type=content_type)},
    )


CORPUS_NAMES = [
    "png then html (valid png, html trailer)",
    "png signature then html",
    "gif header then javascript",
    "valid gif then javascript",
    "svg with script",
    "html named mp4",
    "hls playlist reading a local file",
    "ffconcat reading a local file",
    "png header declaring 100k x 100k",
    "real 1-bit png just over the pixel cap",
    "gif logical screen 65535 x 65535",
    "jpeg claiming 65000 x 65000",
    "gif 7000 x 7000 canvas, 100 one-pixel frames (2 kB)",
    "animated webp 7000 x 7000 canvas, 100 frames",
    "small animated gif",
    "png declaring zero width",
    "png 60000 x 1 (absurd shape, under the cap)",
    "png 1 x 40000",
    "zero bytes",
    "mp4 cut at 40 percent",
    "mp4 with index last, cut in half",
    "webm cut in half",
    "mp4 header only (first 64 bytes)",
    "mp4 with zeroed media data",
    "mp4 claiming 100x its length",
    "mp4 claiming a tenth of its length",
    "mp4 with garbage in its second half",
    "random bytes named mov",
]


def test_corpus_names_listed_here_cover_the_whole_corpus(hostile):
    assert sorted(CORPUS_NAMES) == sorted(hostile)


@pytest.mark.parametrize("case", CORPUS_NAMES)
def test_hostile_upload_refused_cleanly_or_stored_as_what_it_is(
    case, hostile, alice, user, media_root, recorded, django_capture_on_commit_callbacks
):
    name, data, expected = hostile[case]
    # The browser's content type is a lie the attacker controls: claim HTML every time.
    with django_capture_on_commit_callbacks(execute=True):
        response = post(alice, name, data, content_type="text/html")
    pushes, queued = recorded
    if isinstance(expected, Refused):
        assert response.status_code == expected.status, response.content
        assert response["Content-Type"] == "application/json"
        message = response.json()["error"]
        assert expected.message in message
        assert message.endswith(".") and "Traceback" not in message and "av." not in message
        assert MediaItem.objects.count() == 0
        assert files_under(media_root) == []
        assert pushes == [] and queued == []
        return

    assert isinstance(expected, Accepted)
    assert response.status_code == 201, response.content
    item = MediaItem.objects.get()
    assert (item.kind, item.mime_type, item.status) == (expected.kind, expected.mime, "processing")
    assert queued == [item.pk] and len(pushes) == 1
    stored = Path(item.file.path)
    assert stored.is_relative_to(media_root / f"u{user.pk}")
    assert stored.suffix == "." + expected.mime.split("/")[1].replace("jpeg", "jpg")
    # Served with the sniffed type and nosniff, so an HTML/JS tail is never interpreted.
    served = alice.get(reverse("media_library:file", args=[item.pk]))
    assert served.status_code == 200
    assert served["Content-Type"] == expected.mime
    assert served["X-Content-Type-Options"] == "nosniff"
    assert b"".join(served.streaming_content) == data


@pytest.mark.parametrize("label", sorted(HOSTILE_NAMES))
def test_hostile_file_names_become_safe_titles_and_never_storage_paths(
    label, alice, user, media_root, recorded, django_capture_on_commit_callbacks
):
    name = HOSTILE_NAMES[label]
    with django_capture_on_commit_callbacks(execute=True):
        response = post(alice, name, make_image_bytes("PNG"), content_type="image/png")
    assert response.status_code == 201, response.content
    item = MediaItem.objects.get()
    title = item.title
    assert 0 < len(title) <= TITLE_MAX
    assert "/" not in title and "\\" not in title
    assert not any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in title), repr(title)
    assert "\u202e" not in title
    # Stored under a generated name in the owner's folder, with the sniffed extension.
    stored = Path(item.file.path).resolve()
    assert stored.parent == (media_root / f"u{user.pk}").resolve()
    assert stored.suffix == ".png"
    for fragment in ("passwd", "win.ini", "escape", "onerror", "CON", "exe", "Clip"):
        assert fragment not in stored.name
    assert files_under(media_root) == [stored]
    # The title is shown as text in the card the upload returns and the push carries.
    html = response.content.decode()
    pushed = recorded[0][0][1]
    for fragment in (html, pushed):
        assert "<img src=x" not in fragment and "<script" not in fragment.lower()
    if label == "markup":
        assert "&lt;img src=x onerror=" in html
    # The download name is quoted, never a header break.
    served = alice.get(reverse("media_library:file", args=[item.pk]) + "?download=1")
    disposition = served["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition
    assert served["Content-Type"] == "image/png"


def test_refused_upload_after_accepted_one_leaves_the_first_intact(
    hostile, alice, media_root, recorded, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ok = post(alice, "fine.png", make_image_bytes("PNG"))
        bad = post(alice, *hostile["mp4 claiming a tenth of its length"][:2])
    assert (ok.status_code, bad.status_code) == (201, 400)
    assert MediaItem.objects.count() == 1
    assert len(files_under(media_root)) == 1
