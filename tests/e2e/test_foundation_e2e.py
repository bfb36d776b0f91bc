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
