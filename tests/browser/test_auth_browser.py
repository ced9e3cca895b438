"""Sign-in and roles in a real browser (issue 12), against app servers with a store of their own.

Accounts are made with the command line, as an admin would; every step is the mouse and
the keyboard in the sidebar's form.
"""

from __future__ import annotations

import pytest

from layers.config import load_settings
from store import Store, open_store
from tests.browser.conftest import (
    PANEL,
    REPO,
    add_account,
    checked_context,
    open_page,
    sign_in,
    start_app,
    stop_app,
    wait_for_app,
    wait_for_panel_text,
)
from tests.conftest import BANJSKA_ATTACK

pytestmark = pytest.mark.browser

REFUSED = "Sign-in refused: the name or the password is wrong, or the account is disabled."


@pytest.fixture(scope="module")
def auth_store(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('auth-store') / 'store.sqlite'}"
    open_store(load_settings({"BORDER_BRIEF_DATABASE_URL": url})).close()  # created and seeded from data/
    for name, role in (("Auth Analyst", "analyst"), ("Auth Viewer", "viewer"), ("Throttled Analyst", "analyst")):
        add_account(name, role, url)
    return url


@pytest.fixture(scope="module")
def auth_app(auth_store):
    (REPO / "test-artifacts").mkdir(exist_ok=True)
    process, app_url = start_app({"BORDER_BRIEF_DATABASE_URL": auth_store})
    yield app_url
    stop_app(process)


def test_anonymous_visitors_see_no_edit_controls_and_the_edit_page_asks_to_sign_in(browser, auth_app):
    with checked_context(browser) as ctx:
        page, _ = open_page(ctx, auth_app + f"/?event={BANJSKA_ATTACK}")
        wait_for_app(page)
        wait_for_panel_text(page, "Banjska", timeout=60_000)
        assert page.locator(PANEL).get_by_role("button", name="Edit", exact=True).count() == 0
        page.get_by_text("History (").first.click()
        assert page.get_by_role("button", name="Restore r", exact=False).count() == 0
        page, _ = open_page(ctx, auth_app + "/edit")
        page.get_by_text("Sign in as an analyst to add, change or retire features").wait_for(timeout=60_000)
        assert page.get_by_role("button", name="Save", exact=True).count() == 0


def test_a_wrong_password_and_an_unknown_account_get_the_same_message(browser, auth_app):
    with checked_context(browser) as ctx:
        page, _ = open_page(ctx, auth_app + "/about")
        sign_in(page, "Auth Analyst", "not the password at all", expect_success=False)
        page.get_by_text(REFUSED).wait_for(timeout=60_000)
        wrong = page.get_by_text("Sign-in refused").inner_text()
        sign_in(page, "Nobody Of That Name", "not the password at all", expect_success=False)
        page.get_by_text(REFUSED).wait_for(timeout=60_000)
        assert page.get_by_text("Sign-in refused").inner_text() == wrong == REFUSED
        assert page.get_by_text("Signed in as").count() == 0


def test_an_analyst_signs_in_edits_survives_a_reload_and_signs_out(browser, auth_app, auth_store):
    with checked_context(browser) as ctx:
        page, _ = open_page(ctx, auth_app + "/edit")
        page.get_by_text("Sign in as an analyst").wait_for(timeout=60_000)
        sign_in(page, "Auth Analyst")
        page.get_by_text("Signed in as Auth Analyst · analyst").wait_for(timeout=60_000)
        page.get_by_text("0 complete sources").wait_for(timeout=60_000)
        wait_for_app(page)
        # a place: its kind, typed and saved
        page.get_by_role("combobox", name="Layer", exact=True).click()
        page.get_by_role("option", name="Places").first.click()
        wait_for_app(page)
        page.get_by_role("combobox", name="Feature", exact=True).click()
        page.get_by_role("option", name="Jarinje crossing").first.click()
        page.get_by_text("Editing revision 1 of").wait_for(timeout=60_000)
        kind = page.get_by_role("textbox", name="Kind", exact=True)
        kind.click()
        kind.fill("border crossing point (browser test)")
        page.keyboard.press("Enter")
        wait_for_app(page)
        page.get_by_role("button", name="Save", exact=True).click()
        page.get_by_text("Saved revision 2 of").wait_for(timeout=60_000)
        store = Store(auth_store)
        try:
            assert store.history("jarinje-crossing", "places")[-1].author == "Auth Analyst"
        finally:
            store.close()

        # the sign-in survives a reload (the cookie), and the URL never carries it
        page.reload()
        wait_for_app(page)
        page.get_by_text("Signed in as Auth Analyst · analyst").wait_for(timeout=60_000)
        assert "session" not in page.url and "token" not in page.url
        cookies = {c["name"]: c for c in ctx.cookies()}
        assert "bb_session" in cookies and cookies["bb_session"]["sameSite"] == "Strict"
        assert cookies["bb_session"]["value"] not in page.url

        # sign out: the form comes back, and after another reload it stays signed out
        page.get_by_role("button", name="Sign out", exact=True).click()
        page.get_by_role("button", name="Sign in", exact=True).wait_for(timeout=60_000)
        page.reload()
        wait_for_app(page)
        page.get_by_text("Sign in as an analyst").wait_for(timeout=60_000)
        assert page.get_by_text("Signed in as").count() == 0


def test_a_viewer_account_cannot_reach_editing(browser, auth_app):
    with checked_context(browser) as ctx:
        page, _ = open_page(ctx, auth_app + f"/?event={BANJSKA_ATTACK}")
        sign_in(page, "Auth Viewer")
        page.get_by_text("Signed in as Auth Viewer · viewer").wait_for(timeout=60_000)
        wait_for_panel_text(page, "Banjska", timeout=60_000)
        assert page.locator(PANEL).get_by_role("button", name="Edit", exact=True).count() == 0
        page, _ = open_page(ctx, auth_app + "/edit")
        page.get_by_text("viewers read the catalogue but cannot change it").wait_for(timeout=60_000)
        assert page.get_by_role("button", name="Save", exact=True).count() == 0


def test_repeated_failures_are_throttled(browser, auth_app):
    with checked_context(browser) as ctx:
        page, _ = open_page(ctx, auth_app + "/about")
        for _ in range(5):
            sign_in(page, "Throttled Analyst", "wrong password, again", expect_success=False)
            page.get_by_text(REFUSED).wait_for(timeout=60_000)
        sign_in(page, "Throttled Analyst", expect_success=False)  # the right password, too soon
        page.get_by_text("Too many failed sign-ins").wait_for(timeout=60_000)
        assert page.get_by_text("Signed in as").count() == 0


def test_without_public_read_an_anonymous_visitor_sees_only_the_sign_in_form(browser, auth_store):
    process, url = start_app({"BORDER_BRIEF_DATABASE_URL": auth_store, "BORDER_BRIEF_PUBLIC_READ": "false"})
    try:
        with checked_context(browser) as ctx:
            page, _ = open_page(ctx, url + f"/?event={BANJSKA_ATTACK}")
            page.get_by_text("open to signed-in members of the team only").wait_for(timeout=60_000)
            wait_for_app(page)
            body = page.inner_text("body")
            assert "Banjska" not in body and "Layers" not in body and "Time window" not in body
            assert page.locator("iframe").count() == 0  # no map
            sign_in(page, "Auth Viewer")
            page.get_by_text("Time window").wait_for(timeout=60_000)
    finally:
        stop_app(process)
