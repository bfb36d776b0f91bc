"""Markup and script typed by a user (prompts, media titles, timeline names, token and
template names, export file names) or sent by a provider (error text, logs) is shown as
text everywhere it appears: the workspace and every panel fragment, the fragments the
websocket pushes, and the admin change lists and change forms."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse

from editor import services as editor_services
from editor.live import push_export, push_timeline
from editor.models import Export
from generation.live import push_job
from generation.models import GenerationJob, PromptTemplate
from generation.services.tokens import api_token_create
from media_library import services as media_services
from media_library.models import MediaItem

pytestmark = pytest.mark.django_db(transaction=True)

# No "/" in the payload: titles lose everything up to the last slash (a path), which would
# hide the markup instead of testing it.
PAYLOAD = "<img src=x onerror=alert(1)><svg onload=alert(2)><b id=pwned>x<iframe srcdoc=y>"
RAW = ("<img src=x", "<svg onload", "<b id=pwned", "<iframe srcdoc")
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
SCRIPT_PROMPT = f"</textarea></script><script>alert('p')</script>{PAYLOAD}"


def assert_inert(html: str, where: str) -> None:
    for raw in RAW:
        assert raw not in html, f"{where}: raw {raw!r} in the markup"
    assert "<script>alert(" not in html, f"{where}: raw script"


@pytest.fixture
def world(user, tmp_path, settings, monkeypatch):
    """One of everything, each carrying the payload in every free-text field."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    monkeypatch.setattr("media_library.tasks.process_media.delay", lambda media_id: None)
    from media_library.testing import make_image_bytes

    path = tmp_path / "pic.png"
    path.write_bytes(make_image_bytes("PNG"))
    item = media_services.media_create_from_file(
        owner=user,
        path_or_file=path,
        title=PAYLOAD,
        source=MediaItem.Source.GENERATED,
        metadata={"prompt": SCRIPT_PROMPT, "model": PAYLOAD},
    )
    MediaItem.objects.filter(pk=item.pk).update(status="ready")
    failed_item = media_services.media_create_from_file(
        owner=user, path_or_file=path, title="second " + PAYLOAD, source="upload"
    )
    MediaItem.objects.filter(pk=failed_item.pk).update(status="failed", error_message=PAYLOAD)
    queued = GenerationJob.objects.create(
        owner=user,
        model_id="local",
        provider="local",
        prompt=SCRIPT_PROMPT,
        negative_prompt=PAYLOAD,
        params={"duration": 4, "resolution": "480p", "aspect_ratio": "16:9"},
    )
    failed = GenerationJob.objects.create(
        owner=user,
        model_id="hailuo",
        provider="fal",
        prompt=SCRIPT_PROMPT,
        params={"duration": 6},
        status="failed",
        error_code="provider_error",
        error_message=PAYLOAD,
        provider_detail=SCRIPT_PROMPT,
        logs_tail=SCRIPT_PROMPT,
        estimated_cost=Decimal("0.27"),
    )
    timeline = editor_services.timeline_create(owner=user, name=PAYLOAD)
    export = Export.objects.create(
        timeline=timeline,
        owner=user,
        width=1280,
        height=720,
        fps=30,
        file_name=PAYLOAD,
        status="failed",
        error_message=PAYLOAD,
    )
    token, _raw = api_token_create(user=user, name=PAYLOAD)
    template = PromptTemplate.objects.create(owner=user, title=PAYLOAD, prompt=SCRIPT_PROMPT)
    return {
        "item": item,
        "failed_item": failed_item,
        "queued": queued,
        "failed": failed,
        "timeline": timeline,
        "export": export,
        "token": token,
        "template": template,
    }


def test_every_page_and_fragment_shows_the_payload_as_text(client, user, world):
    client.force_login(user)
    urls = [
        reverse("editor:workspace"),
        reverse("media_library:panel"),
        reverse("media_library:grid"),
        reverse("media_library:card", args=[world["item"].pk]),
        reverse("media_library:details", args=[world["item"].pk]),
        reverse("media_library:details", args=[world["failed_item"].pk]),
        reverse("generation:panel"),
        reverse("generation:queue"),
        reverse("generation:history"),
        reverse("generation:templates"),
        reverse("generation:tokens"),
        reverse("editor:editor_panel"),
        reverse("editor:timeline_list"),
        reverse("editor:timeline", args=[world["timeline"].pk]),
        reverse("editor:export_list", args=[world["timeline"].pk]),
    ]
    escaped_seen = []
    for url in urls:
        response = client.get(url, HTTP_HX_REQUEST="true")
        assert response.status_code == 200, url
        html = response.content.decode()
        assert_inert(html, url)
        if ESCAPED in html:
            escaped_seen.append(url)
    # The payload is actually shown (escaped) — not silently dropped — where it lives.
    for must in (
        reverse("media_library:grid"),
        reverse("generation:history"),
        reverse("generation:tokens"),
        reverse("editor:timeline_list"),
        reverse("editor:export_list", args=[world["timeline"].pk]),
    ):
        assert must in escaped_seen, f"{must} does not show the payload as text"


def test_socket_fragments_carry_escaped_text(live_client, user, world):
    tab = live_client(user)
    assert tab.connected
    with transaction.atomic():
        # The pipeline's own push (after commit), as every job change sends it.
        push_job(world["queued"])
        push_job(world["failed"])
        media_services.media_rename(item=world["item"], title=PAYLOAD + " renamed")
        push_timeline(world["timeline"])
        push_export(world["export"])
    job_dom = f"job-{world['queued'].pk}"
    for needle in (
        job_dom,
        f"job-{world['failed'].pk}",
        f"media-{world['item'].pk}",
        world["timeline"].dom_id,
    ):
        tab.wait_for(lambda m, n=needle: n in m)
    tab.wait_for(lambda m: "renamed" in m)
    tab.wait_for(lambda m: f"export-{world['export'].pk}" in m)
    for message in tab.messages:
        assert_inert(message, "websocket push")
    assert any(ESCAPED in m for m in tab.messages)
    assert any(
        "&lt;script&gt;alert(&#x27;p&#x27;)" in m or "&lt;script&gt;" in m for m in tab.messages
    )


def test_admin_lists_and_forms_show_the_payload_as_text(client, django_user_model, world):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-x-123456")
    client.force_login(admin)
    pages = []
    for obj in world.values():
        opts = obj._meta
        pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
    pages.append(reverse("admin:generation_generationjob_changelist") + "?q=%3Cimg")
    pages.append(reverse("admin:auth_user_change", args=[world["item"].owner_id]))
    for url in dict.fromkeys(pages):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_inert(response.content.decode(), url)
