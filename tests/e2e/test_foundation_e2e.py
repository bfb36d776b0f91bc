"""As a newcomer: sign in, land on the workspace, see the live indicator connect, and see
it reconnect after the server restarts."""

import pytest
from playwright.sync_api import expect

from tests.harness.processes import DaphneServer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_login_lands_on_connected_workspace(page, daphne_server, make_user, login):
    make_user("newcomer")
    page.goto(daphne_server.url + "/")
    assert "/accounts/login/" in page.url  # signed-out visitors are sent to sign in
    login(page, daphne_server.url, "newcomer")
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "connected")
    expect(page.locator("#live-indicator")).to_contain_text("Live")
    # The three panels loaded their fragments into the frame.
    expect(page.get_by_role("region", name="Timeline")).to_be_visible()
    expect(page.get_by_label("User menu")).to_contain_text("newcomer")


def test_live_indicator_reconnects_after_server_restart(page, process_env, make_user, login):
    make_user("restarter")
    server = DaphneServer(process_env)
    server.start()
    try:
        login(page, server.url, "restarter")
        indicator = page.locator("#live-indicator")
        expect(indicator).to_have_attribute("data-state", "connected")
        server.stop()
        expect(indicator).to_have_attribute("data-state", "reconnecting", timeout=15_000)
        server.start()
        expect(indicator).to_have_attribute("data-state", "connected", timeout=30_000)
    finally:
        server.stop()


def test_bad_login_shows_error(page, daphne_server, make_user):
    make_user("someone")
    page.goto(daphne_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("someone")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")


def test_user_menu_closes_on_escape_and_outside_click(page, daphne_server, make_user, login):
    make_user("menuuser")
    login(page, daphne_server.url, "menuuser")
    menu = page.locator("details.user-menu")
    toggle = page.get_by_label("User menu")
    toggle.click()
    expect(menu).to_have_attribute("open", "")
    page.keyboard.press("Escape")
    expect(menu).not_to_have_attribute("open", "")
    expect(toggle).to_be_focused()  # focus goes back to the menu's button
    toggle.click()
    expect(menu).to_have_attribute("open", "")
    page.get_by_role("region", name="Timeline").click(position={"x": 5, "y": 5})
    expect(menu).not_to_have_attribute("open", "")
    # A click inside the open menu keeps it open (its links and Sign out stay usable).
    toggle.click()
    page.locator("details.user-menu .menu").click(position={"x": 2, "y": 2})
    expect(menu).to_have_attribute("open", "")
