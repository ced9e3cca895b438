"""Sign-in and roles (issue 12): the store's permission checks, local accounts, throttling,
sessions, the role mapping and the trusted proxy, the command line, and the app (AppTest).

The store-level tests run against SQLite and a real PostGIS (the fixtures of test_store.py).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa
import streamlit as st

from layers.config import AuthSettings, ConfigurationError, load_auth_settings
from store import PermissionDenied, StoreError, users
from store.access import Identity, command_line, mapped_role
from store.schema import sign_in_throttle
from tests.conftest import BANJSKA_ATTACK, REPO
from tests.test_store import empty_store, store, store_url  # noqa: F401  (fixtures: SQLite and PostGIS)

ANALYST = Identity("Ana Analyst", "analyst")
OTHER = Identity("Otto Other", "analyst")
ADMIN = Identity("Ada Admin", "admin")
VIEWER = Identity("Vic Viewer", "viewer")
PASSWORD = "correct horse battery staple"
OPERATOR = command_line("test operator")


def banjska(s):
    feature, revision = s.head("events", BANJSKA_ATTACK)
    return copy.deepcopy(feature), revision


def _new_event(s) -> dict:
    feature, _ = banjska(s)
    feature["properties"]["id"] = "2023-09-24-permission-test-event"
    feature["properties"]["title"] = feature["properties"]["name"] = "Permission test event"
    return feature


# --- enforcement in the store ---------------------------------------------------------------

@pytest.mark.parametrize("who", [None, VIEWER], ids=["anonymous", "viewer"])
def test_every_write_function_refuses_a_viewer_and_nobody_and_writes_nothing(store, who):
    feature, revision = banjska(store)
    feature["properties"]["summary"] += " Changed."
    batch = store.import_features("events", [_new_event(store)], identity=ANALYST).batch
    version = store.version()
    attempts = {
        "save": lambda: store.save("events", feature, base_revision=revision, identity=who),
        "retire": lambda: store.retire("events", BANJSKA_ATTACK, base_revision=revision, identity=who, reason="test"),
        "import": lambda: store.import_features("events", [feature], identity=who),
        "restore": lambda: store.restore_revision("events", BANJSKA_ATTACK, 1, identity=who),
        "undo": lambda: store.undo(batch, identity=who),
    }
    for name, attempt in attempts.items():
        with pytest.raises(PermissionDenied) as caught:
            attempt()
        assert "nothing was written" in str(caught.value), name
        assert isinstance(caught.value, StoreError)
    assert store.version() == version
    assert store.head("events", BANJSKA_ATTACK)[1] == revision


def test_a_plain_name_is_not_an_identity(store):
    feature, revision = banjska(store)
    with pytest.raises(PermissionDenied):
        store.save("events", feature, base_revision=revision, identity="Ana Analyst")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        store.save("events", feature, base_revision=revision, author="Ana Analyst")  # type: ignore[call-arg]


def test_a_preview_needs_no_identity_but_writes_nothing(store):
    version = store.version()
    preview = store.import_features("events", [_new_event(store)], identity=None, dry_run=True)
    assert preview.added == 1 and preview.batch is None and store.version() == version


def test_the_revision_and_batch_carry_the_identitys_name(store):
    feature, revision = banjska(store)
    feature["properties"]["summary"] += " Checked."
    store.save("events", feature, base_revision=revision, identity=ANALYST, comment="checked")
    assert store.history(BANJSKA_ATTACK)[-1].author == "Ana Analyst"
    assert store.batch_list(1)[0]["author"] == "Ana Analyst"


def test_an_analyst_undoes_only_their_own_batches_and_an_admin_any(store):
    mine = store.import_features("events", [_new_event(store)], identity=ANALYST).batch
    feature, revision = banjska(store)
    feature["properties"]["summary"] += " By Otto."
    store.save("events", feature, base_revision=revision, identity=OTHER)
    theirs = store.batch_list(1)[0]["id"]
    with pytest.raises(PermissionDenied) as caught:
        store.undo(theirs, identity=ANALYST)
    assert "only their own batches" in str(caught.value)
    assert store.head("events", BANJSKA_ATTACK)[1] == revision + 1  # still Otto's
    undone = store.undo(mine, identity=ANALYST)
    assert store.batch_list(1)[0] == {**store.batch_list(1)[0], "id": undone, "author": "Ana Analyst", "undoes": mine}
    store.undo(theirs, identity=ADMIN)
    assert store.head("events", BANJSKA_ATTACK)[1] == revision + 2
    assert store.history(BANJSKA_ATTACK)[-1].author == "Ada Admin"


def test_the_catalogues_own_name_is_reserved(store):
    feature, revision = banjska(store)
    feature["properties"]["summary"] += " Impostor."
    with pytest.raises(PermissionDenied):
        store.save("events", feature, base_revision=revision, identity=Identity("Catalogue", "admin"))


# --- local accounts ---------------------------------------------------------------------------

def test_accounts_sign_in_and_every_refusal_says_the_same(empty_store):
    users.add_account(empty_store, "ana", "analyst", PASSWORD, by=OPERATOR)
    users.add_account(empty_store, "dora", "analyst", PASSWORD, by=OPERATOR)
    users.set_disabled(empty_store, "dora", True, by=OPERATOR)
    identity = users.sign_in(empty_store, "ana", PASSWORD, "10.0.0.1")
    assert identity == Identity("ana", "analyst", "local")
    messages = set()
    for name, password in (("ana", "wrong password!"), ("nobody", PASSWORD), ("dora", PASSWORD)):
        with pytest.raises(users.SignInRefused) as caught:
            users.sign_in(empty_store, name, password, "10.0.0.1")
        messages.add(str(caught.value))
    assert messages == {users.REFUSED}
    stored = empty_store._reader.connect().execute(sa.text("SELECT password_hash FROM accounts WHERE name = 'ana'")).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    log = users.recent_sign_ins(empty_store)
    assert [r["outcome"] for r in log][:4] == ["refused", "refused", "refused", "signed-in"]
    with pytest.raises(StoreError):
        users.add_account(empty_store, "ANA", "viewer", PASSWORD, by=OPERATOR)  # names are unique regardless of case
    with pytest.raises(StoreError):
        users.add_account(empty_store, "eve", "analyst", "short", by=OPERATOR)
    with pytest.raises(StoreError):
        users.add_account(empty_store, "catalogue", "admin", PASSWORD, by=OPERATOR)


def test_only_an_admin_manages_accounts(empty_store):
    users.add_account(empty_store, "ana", "analyst", PASSWORD, by=OPERATOR)
    for who in (None, VIEWER, ANALYST):
        with pytest.raises(PermissionDenied):
            users.set_role(empty_store, "ana", "admin", by=who)
        with pytest.raises(PermissionDenied):
            users.add_account(empty_store, "mallory", "admin", PASSWORD, by=who)
    assert users.account(empty_store, "ana").role == "analyst"
    users.set_role(empty_store, "ana", "viewer", by=ADMIN)
    assert users.account(empty_store, "ana").role == "viewer"


def test_repeated_failures_throttle_the_name_whether_or_not_it_exists(empty_store):
    users.add_account(empty_store, "ana", "analyst", PASSWORD, by=OPERATOR)
    for name in ("ana", "ghost"):
        for attempt in range(users.ACCOUNT_FAILURE_LIMIT):
            with pytest.raises(users.SignInRefused) as caught:
                users.sign_in(empty_store, name, "not the password", f"10.0.1.{attempt}")
            assert str(caught.value) == users.REFUSED
        with pytest.raises(users.SignInRefused) as caught:  # even the right password must wait now
            users.sign_in(empty_store, name, PASSWORD, "10.0.2.1")
        assert "Too many failed sign-ins" in str(caught.value)
        assert 0 < caught.value.retry_after <= users.FIRST_LOCK_SECONDS + 1
    # the window is kept in the store; when it has passed, the right password works again
    with empty_store._writer.begin() as connection:
        connection.execute(sa.update(sign_in_throttle).values(locked_until=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
    assert users.sign_in(empty_store, "ana", PASSWORD, "10.0.2.1").name == "ana"
    # ... and another failure after the limit locks it for twice as long
    assert users._lock_seconds(users.ACCOUNT_FAILURE_LIMIT + 1, users.ACCOUNT_FAILURE_LIMIT) == 2 * users.FIRST_LOCK_SECONDS


def test_repeated_failures_from_one_client_throttle_that_client(empty_store):
    users.add_account(empty_store, "ana", "analyst", PASSWORD, by=OPERATOR)
    for attempt in range(users.CLIENT_FAILURE_LIMIT):
        with pytest.raises(users.SignInRefused):
            users.sign_in(empty_store, f"guess-{attempt}", "password123", "203.0.113.9")
    with pytest.raises(users.SignInRefused) as caught:
        users.sign_in(empty_store, "ana", PASSWORD, "203.0.113.9")
    assert "Too many failed sign-ins" in str(caught.value)
    assert users.sign_in(empty_store, "ana", PASSWORD, "198.51.100.7").name == "ana"  # another client is not held up


def test_a_session_survives_until_sign_out_password_change_or_disable(empty_store):
    users.add_account(empty_store, "ana", "analyst", PASSWORD, by=OPERATOR)
    ana = users.sign_in(empty_store, "ana", PASSWORD, "local")
    token = users.start_session(empty_store, ana, hours=1)
    assert users.resume_session(empty_store, token) == ana
    assert users.resume_session(empty_store, token + "x") is None
    users.end_session(empty_store, token)
    assert users.resume_session(empty_store, token) is None
    token = users.start_session(empty_store, ana, hours=1)
    users.set_role(empty_store, "ana", "viewer", by=ADMIN)
    assert users.resume_session(empty_store, token).role == "viewer"  # the role is the account's current one
    users.set_password(empty_store, "ana", PASSWORD + "!", by=ADMIN)
    assert users.resume_session(empty_store, token) is None
    token = users.start_session(empty_store, ana, hours=1)
    users.set_disabled(empty_store, "ana", True, by=ADMIN)
    assert users.resume_session(empty_store, token) is None
    users.set_disabled(empty_store, "ana", False, by=ADMIN)
    expired = users.start_session(empty_store, ana, hours=1e-6)
    import time

    time.sleep(0.05)
    assert users.resume_session(empty_store, expired) is None


def test_the_command_line_manages_accounts(tmp_path):
    env = {**os.environ, "BORDER_BRIEF_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}"}

    def run(*args, stdin=""):
        return subprocess.run([sys.executable, "-m", "store", *args], input=stdin, capture_output=True, text=True,
                              cwd=REPO, env=env, timeout=120)

    assert run("init").returncode == 0
    done = run("users", "add", "ana", "--role", "analyst", "--password-stdin", stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert run("users", "add", "bob", "--role", "admin").returncode == 2  # never a password in the arguments
    assert run("users", "add", "bob", "--role", "admin", "--password-stdin", stdin="short\n").returncode == 2
    listed = json.loads(run("users", "list", "--json").stdout)
    assert [(a["name"], a["role"], a["disabled"]) for a in listed] == [("ana", "analyst", False)]
    assert run("users", "set-password", "ana", "--password-stdin", stdin="a new long password\n").returncode == 0
    assert run("users", "disable", "ana").returncode == 0
    assert json.loads(run("users", "list", "--json").stdout)[0]["disabled"] is True
    from store import Store

    s = Store(env["BORDER_BRIEF_DATABASE_URL"])
    try:
        users.set_disabled(s, "ana", False, by=OPERATOR)
        assert users.sign_in(s, "ana", "a new long password", "local").role == "analyst"
        with pytest.raises(users.SignInRefused):
            users.sign_in(s, "ana", PASSWORD, "local")
    finally:
        s.close()
    assert PASSWORD not in (done.stdout + done.stderr)


# --- roles from a team's provider or a proxy ---------------------------------------------------

def test_role_mapping_by_address_and_group_highest_wins():
    config = load_auth_settings({"BORDER_BRIEF_ROLE_MAP": "Lead@Example.org=admin, group:analysts=analyst,group:readers=viewer"})
    assert mapped_role(config.role_map, "lead@example.org") == "admin"
    assert mapped_role(config.role_map, "someone@example.org", ["Analysts"]) == "analyst"
    assert mapped_role(config.role_map, "someone@example.org", ["readers", "analysts"]) == "analyst"
    assert mapped_role(config.role_map, "someone@example.org", []) == "viewer"
    assert mapped_role(config.role_map, None, [], default="analyst") == "analyst"
    with pytest.raises(ConfigurationError):
        load_auth_settings({"BORDER_BRIEF_ROLE_MAP": "lead@example.org=superuser"})
    with pytest.raises(ConfigurationError):
        load_auth_settings({"BORDER_BRIEF_PUBLIC_READ": "maybe"})
    with pytest.raises(ConfigurationError):
        load_auth_settings({"BORDER_BRIEF_SESSION_HOURS": "-1"})
    assert load_auth_settings({"BORDER_BRIEF_PUBLIC_READ": "false"}).public_read is False


def test_the_trusted_header_counts_only_from_the_proxy_with_the_secret():
    from ui.auth import proxy_identity

    with pytest.raises(ConfigurationError):  # a header alone could be forged by anyone
        load_auth_settings({"BORDER_BRIEF_TRUSTED_HEADER": "X-Forwarded-User"})
    config = load_auth_settings({
        "BORDER_BRIEF_TRUSTED_HEADER": "X-Forwarded-User",
        "BORDER_BRIEF_TRUSTED_PROXIES": "10.1.0.0/24",
        "BORDER_BRIEF_PROXY_SECRET": "s3cret-shared-with-the-proxy",
        "BORDER_BRIEF_GROUPS_HEADER": "X-Forwarded-Groups",
        "BORDER_BRIEF_ROLE_MAP": "group:analysts=analyst",
    })
    headers = {"X-Forwarded-User": "sam@example.org", "X-Border-Brief-Proxy-Secret": "s3cret-shared-with-the-proxy",
               "X-Forwarded-Groups": "staff,analysts"}
    assert proxy_identity(config, headers, "10.1.0.7") == Identity("sam@example.org", "analyst", "proxy")
    assert proxy_identity(config, headers, "192.0.2.50") is None  # not from the proxy
    assert proxy_identity(config, headers, None) is None  # loopback is not in the list
    assert proxy_identity(config, {**headers, "X-Border-Brief-Proxy-Secret": "guess"}, "10.1.0.7") is None
    assert proxy_identity(config, {k: v for k, v in headers.items() if k != "X-Forwarded-User"}, "10.1.0.7") is None
    assert proxy_identity(AuthSettings(), headers, "10.1.0.7") is None  # the mode is off by default


# --- the app (AppTest) -------------------------------------------------------------------------

@pytest.fixture
def app_store(tmp_path, monkeypatch):
    """A fresh SQLite store for the app with an analyst, a viewer and an admin; clean caches."""
    from layers.config import load_settings
    from store import open_store

    monkeypatch.setenv("BORDER_BRIEF_DATABASE_URL", f"sqlite:///{tmp_path / 'auth.sqlite'}")
    st.cache_resource.clear()
    s = open_store(load_settings())
    for name, role in (("ana", "analyst"), ("vic", "viewer"), ("ada", "admin")):
        users.add_account(s, name, role, PASSWORD, by=OPERATOR)
    yield s
    s.close()
    st.cache_resource.clear()


def sign_in(at, name: str, password: str = PASSWORD):
    """Fill in the sidebar's form and press Sign in, as a user does."""
    at.text_input(key="bb_sign_in_name").input(name)
    at.text_input(key="bb_sign_in_password").input(password)
    next(b for b in at.button if b.label == "Sign in").click()
    # On the default page, where AppTest keeps the sidebar app.py draws (see rerun_home).
    at._finished_page_script_hash = ""
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _unescape(text: str) -> str:
    """Markdown as ui.text.md_escape writes it, back to plain text."""
    return text.replace(":small[]", "").replace("\\", "")


def _texts(at) -> str:
    return _unescape("\n".join([m.value for m in at.markdown] + [m.value for m in at.info] + [m.value for m in at.warning]
                                + [m.value for m in at.error] + [m.value for m in at.caption]))


def test_anonymous_visitors_see_no_edit_controls_and_the_edit_page_asks_them_to_sign_in(app_store):
    from tests.test_pages_apptest import run_app

    at = run_app({"event": BANJSKA_ATTACK})
    assert not [b for b in at.button if b.key == "bb_panel_edit"]
    assert not [b for b in at.button if (b.key or "").startswith("bb_restore_")]
    assert at.text_input(key="bb_sign_in_name") is not None
    at.switch_page("pages/edit.py").run()
    assert "Sign in as an analyst" in _texts(at)
    assert not [b for b in at.button if b.key == "bb_edit_save"]
    at.switch_page("pages/layers.py").run()
    assert "Sign in as an analyst" in _texts(at)
    assert not [b for b in at.button if b.key == "bb_import_commit"]


def test_a_wrong_password_gets_the_same_message_as_an_unknown_account(app_store):
    from tests.test_pages_apptest import run_app

    at = sign_in(run_app(), "ana", "wrong password here")
    wrong = [_unescape(e.value) for e in at.error]
    at = sign_in(run_app(), "no-such-person", "wrong password here")
    unknown = [_unescape(e.value) for e in at.error]
    assert wrong == unknown and len(wrong) == 1 and "name or the password is wrong" in wrong[0]


def test_an_analyst_signs_in_edits_and_the_revision_carries_their_name(app_store):
    from tests.test_pages_apptest import run_app

    at = sign_in(run_app(), "ana")
    assert "Signed in as **ana** · analyst" in _texts(at)
    at.switch_page("pages/edit.py").run()
    at.selectbox(key="bb_edit_choice").set_value(BANJSKA_ATTACK).run()
    at.text_input(key="bb_edit_title").input("Banjska attack (signed-in edit)").run()
    at.button(key="bb_edit_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert app_store.history(BANJSKA_ATTACK, "events")[-1].author == "ana"
    assert not [t for t in at.text_input if t.key == "bb_author_input"]  # no free-text author any more


def test_a_viewer_account_cannot_reach_editing(app_store):
    from tests.test_pages_apptest import run_app

    at = sign_in(run_app({"event": BANJSKA_ATTACK}), "vic")
    assert "Signed in as **vic** · viewer" in _texts(at)
    assert not [b for b in at.button if b.key == "bb_panel_edit"]
    at.switch_page("pages/edit.py").run()
    assert "viewers read the catalogue but cannot change it" in _texts(at)
    assert not [b for b in at.button if b.key == "bb_edit_save"]


def test_sign_out_ends_the_session(app_store):
    from tests.test_pages_apptest import run_app

    at = sign_in(run_app(), "ana")
    token = at.session_state["bb_session_token"]
    assert users.resume_session(app_store, token) is not None
    at.button(key="bb_sign_out").click()
    at._finished_page_script_hash = ""
    at.run()
    assert at.text_input(key="bb_sign_in_name") is not None
    assert users.resume_session(app_store, token) is None
    assert [r["outcome"] for r in users.recent_sign_ins(app_store, 2)] == ["signed-out", "signed-in"]


def test_throttling_shows_after_repeated_failures(app_store):
    from tests.test_pages_apptest import run_app

    at = run_app()
    for _ in range(users.ACCOUNT_FAILURE_LIMIT):
        sign_in(at, "ana", "wrong password here")
    sign_in(at, "ana")  # the right password, too soon
    assert any("Too many failed sign-ins" in _unescape(e.value) for e in at.error)
    assert "Signed in as" not in _texts(at)


def test_only_admins_get_the_admin_page(app_store):
    from tests.test_pages_apptest import run_app

    at = sign_in(run_app(), "ada")
    at.switch_page("pages/admin.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(t.value == "Admin" for t in at.title)
    sign_ins = at.dataframe[0].value
    assert list(sign_ins["name"][:1]) == ["ada"] and list(sign_ins["outcome"][:1]) == ["signed-in"]


def test_without_public_read_an_anonymous_visitor_sees_only_the_sign_in_form(app_store, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("BORDER_BRIEF_PUBLIC_READ", "false")
    st.cache_resource.clear()
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.query_params["event"] = BANJSKA_ATTACK
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "open to signed-in members of the team only" in _texts(at)
    assert "Banjska" not in _texts(at) and not at.checkbox  # no layers, no panel
    sign_in(at, "vic")
    assert "Signed in as **vic** · viewer" in _texts(at) and at.checkbox


def signed_in_app(name: str, role: str = "analyst", page: str | None = None, query: dict | None = None):
    """The app (AppTest) with ``name`` signed in through the sidebar form; the account is
    created first in the store BORDER_BRIEF_DATABASE_URL names, if it is not there."""
    from layers.config import load_settings
    from store import open_store
    from tests.test_pages_apptest import run_app

    s = open_store(load_settings())  # created, migrated and seeded if new
    try:
        if users.account(s, name) is None:
            users.add_account(s, name, role, PASSWORD, by=OPERATOR)
    finally:
        s.close()
    at = sign_in(run_app(query), name)
    if page:
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
    return at
