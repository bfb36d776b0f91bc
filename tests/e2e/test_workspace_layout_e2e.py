"""The workspace at every size, and htmx errors that land in place.

Below 1440 px Media and Generate are side tabs beside the editor; on a phone a tab bar switches
Media / Generate / Edit, each panel in the viewport. A refused or failed htmx request shows the
server's sentence (in the dialog or a toast) and the workspace stays."""

import json

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def open_workspace(page, base_url, width, height):
    page.set_viewport_size({"width": width, "height": height})
    page.goto(base_url + "/")
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "connected")
    expect(page.locator("#editor")).to_be_attached()
    expect(page.locator("#media-panel")).to_be_attached()
    expect(page.locator("#generation-panel")).to_be_attached()


def box(page, selector):
    return page.locator(selector).bounding_box()


def within(b, width, height):
    """The whole box is on screen (1 px slack for rounding)."""
    return (
        b is not None
        and b["x"] >= -1
        and b["y"] >= -1
        and b["x"] + b["width"] <= width + 1
        and b["y"] + b["height"] <= height + 1
    )


def answer(status, content_type, body):
    def handler(route):
        route.fulfill(status=status, content_type=content_type, body=body)

    return handler


def test_side_tabs_beside_the_editor_at_1024(page, daphne_server, make_user, login):
    make_user("tablet")
    login(page, daphne_server.url, "tablet")
    open_workspace(page, daphne_server.url, 1024, 768)

    tabs = page.get_by_role("tablist", name="Workspace panels")
    expect(tabs).to_be_visible()
    expect(tabs).to_have_attribute("aria-orientation", "vertical")
    # The editor is always in view here, so only Media and Generate are tabs.
    expect(page.get_by_role("tab", name="Edit")).to_be_hidden()

    page.get_by_role("tab", name="Media").click()
    expect(page.get_by_role("tab", name="Media")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#media-panel")).to_be_visible()
    expect(page.locator("#generation-panel")).to_be_hidden()
    media, editor = box(page, "#media-panel-slot"), box(page, "#editor-slot")
    assert within(media, 1024, 768) and within(editor, 1024, 768)
    assert media["x"] + media["width"] <= editor["x"] + 1  # side by side, not stacked
    assert editor["width"] >= 560
    expect(page.get_by_role("region", name="Timeline")).to_be_visible()

    page.get_by_role("tab", name="Generate").click()
    expect(page.locator("#media-panel")).to_be_hidden()
    prompt = page.locator("#gen-prompt")
    expect(prompt).to_be_visible()
    assert within(box(page, "#gen-prompt"), 1024, 768)
    assert within(box(page, "#generation-panel-slot"), 1024, 768)
    # The panel scrolls inside itself; the page never grows below the fold.
    assert page.evaluate("document.documentElement.scrollHeight") <= 768

    # Keyboard: arrows move between the tabs and show their panel.
    page.get_by_role("tab", name="Generate").focus()
    page.keyboard.press("ArrowUp")
    expect(page.get_by_role("tab", name="Media")).to_be_focused()
    expect(page.get_by_role("tab", name="Media")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#media-panel")).to_be_visible()

    # The choice survives a reload.
    page.get_by_role("tab", name="Generate").click()
    open_workspace(page, daphne_server.url, 1024, 768)
    expect(page.get_by_role("tab", name="Generate")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#gen-prompt")).to_be_visible()


def test_phone_tab_bar_switches_media_generate_edit(page, daphne_server, make_user, login):
    make_user("phone")
    login(page, daphne_server.url, "phone")
    open_workspace(page, daphne_server.url, 390, 844)

    bar = page.get_by_role("tablist", name="Workspace panels")
    expect(bar).to_have_attribute("aria-orientation", "horizontal")
    bar_box = bar.bounding_box()
    assert within(bar_box, 390, 844) and bar_box["y"] > 844 - 100  # a bar at the bottom

    panels = {
        "Media": ("#media-panel-slot", "#media-panel .media-upload-button"),
        "Generate": ("#generation-panel-slot", "#gen-prompt"),
        "Edit": ("#editor-slot", "#timeline-region"),
    }
    for name, (slot, inner) in panels.items():
        page.get_by_role("tab", name=name).click()
        expect(page.get_by_role("tab", name=name)).to_have_attribute("aria-selected", "true")
        expect(page.locator(slot)).to_be_visible()
        expect(page.locator(slot)).to_have_attribute("role", "tabpanel")
        expect(page.locator(inner)).to_be_visible()
        slot_box = box(page, slot)
        assert within(slot_box, 390, 844), (name, slot_box)
        assert slot_box["y"] + slot_box["height"] <= bar_box["y"] + 1  # not under the bar
        assert within(box(page, inner), 390, 844), name
        for other, (other_slot, _) in panels.items():
            if other != name:
                expect(page.locator(other_slot)).to_be_hidden()
        assert page.evaluate("document.documentElement.scrollHeight") <= 844

    # Generating is fully usable here: the Generate button is on screen under the prompt.
    page.get_by_role("tab", name="Generate").click()
    page.locator("#gen-prompt").fill("A lighthouse in a storm")
    generate = page.locator("#gen-submit .btn-primary")
    expect(generate).to_be_visible()
    assert within(generate.bounding_box(), 390, 844)


def test_wide_layout_keeps_three_panels_and_no_tabs(page, daphne_server, make_user, login):
    make_user("wide")
    login(page, daphne_server.url, "wide")
    open_workspace(page, daphne_server.url, 1440, 900)
    expect(page.get_by_role("tablist", name="Workspace panels")).to_be_hidden()
    media, editor, gen = (
        box(page, s) for s in ("#media-panel-slot", "#editor-slot", "#generation-panel-slot")
    )
    assert media["x"] < editor["x"] < gen["x"]
    assert all(within(b, 1440, 900) for b in (media, editor, gen))
    # Side by side the panels are plain regions, not tab panels.
    assert page.locator("#editor-slot").get_attribute("role") is None


def test_export_of_empty_timeline_is_refused_in_the_dialog(page, daphne_server, make_user, login):
    """The reported defect: the 400 replaced the whole workspace with a white page."""
    make_user("exporter")
    login(page, daphne_server.url, "exporter")
    open_workspace(page, daphne_server.url, 1440, 900)

    first = page.locator("#editor").get_attribute("data-timeline-id")
    page.locator("#timeline-picker > summary").click()
    expect(page.locator(".tlist-new")).to_be_visible()
    page.locator(".tlist-new button[type=submit]").click()
    # The editor panel is swapped for the new (empty) timeline's.
    expect(page.locator("#editor")).not_to_have_attribute("data-timeline-id", first)
    export_button = page.locator("#editor [data-action=export-open]")
    # Export is disabled on an empty timeline, and says why.
    expect(export_button).to_be_disabled()
    expect(export_button).to_have_attribute("title", "Add a clip to the timeline to export it.")
    # The server refuses it too (another tab may have emptied the timeline meanwhile): the
    # refusal lands in the dialog. Enable the button as that stale tab would have it.
    page.evaluate("document.querySelector('#editor [data-action=export-open]').disabled = false")
    export_button.click()
    with page.expect_response(lambda r: r.url.endswith("/export/") and r.status == 400):
        page.locator("#export-dialog button[type=submit]").click()

    expect(page.locator("#export-error")).to_have_text("Nothing to export: the timeline is empty.")
    expect(page.locator("#export-dialog")).to_be_visible()
    # The workspace is still there, styled.
    expect(page.locator(".app-header")).to_be_visible()
    expect(page.locator("#media-panel")).to_be_attached()
    expect(page.locator("#editor")).to_be_attached()
    assert page.locator("link[rel=stylesheet][href*='app']").count() == 1
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != "rgb(255, 255, 255)"


def test_refused_and_failed_requests_show_a_toast_and_keep_the_workspace(
    page, daphne_server, make_user, login
):
    make_user("unlucky")
    login(page, daphne_server.url, "unlucky")
    open_workspace(page, daphne_server.url, 1440, 900)
    results = page.locator("#media-results")
    expect(results).to_contain_text("Your clips will appear here")
    kind = page.locator("#media-filters select[name=kind]")
    toasts = page.locator("#toasts .toast")

    answers = [
        # A JSON refusal: its sentence is shown.
        (400, "application/json", json.dumps({"error": "Search is resting for a minute."})),
        # A server error page: never shown, only a sentence with the status.
        (500, "text/html", "<!doctype html><html><body><h1>Server Error (500)</h1></body></html>"),
    ]
    expected = ["Search is resting for a minute.", "The server hit an error (500)"]
    for (status, content_type, body), sentence in zip(answers, expected, strict=True):
        page.unroute("**/media/grid/**")
        page.route("**/media/grid/**", answer(status, content_type, body))
        kind.select_option("image" if kind.input_value() != "image" else "")
        toast = toasts.filter(has_text=sentence)
        expect(toast).to_have_count(1)
        expect(toast).to_be_visible()
        # Nothing was swapped: the grid and the rest of the workspace are as they were.
        expect(results).to_contain_text("Your clips will appear here")
        expect(page.locator("#editor")).to_be_attached()
        expect(page.locator("h1", has_text="Server Error")).to_have_count(0)

    # Dismissible.
    toasts.filter(has_text=expected[0]).get_by_role("button", name="Dismiss").click()
    expect(toasts.filter(has_text=expected[0])).to_have_count(0)

    # The network fails: one toast says so.
    page.unroute("**/media/grid/**")
    page.route("**/media/grid/**", lambda route: route.abort("internetdisconnected"))
    kind.select_option("image" if kind.input_value() != "image" else "")
    expect(toasts.filter(has_text="Could not reach the server")).to_have_count(1)
    expect(results).to_contain_text("Your clips will appear here")
    assert page.locator("#toasts").get_attribute("aria-live") == "polite"
