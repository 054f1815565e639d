"""Access to the dashboard: users and roles per tenant, login and logout, session cookies,
CSRF on every form, brute-force limits per user and per address, demo mode, and the
`grapevine user` commands."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from dashboard_support import (
    PASSWORD,
    add_user,
    csrf_of,
    dashboard_server,
    fill_listening,
    login,
    signed_in,
)
from grapevine.errors import InvalidParameter, NotFound
from grapevine.store import Store, dashboard_repo, downgrade, migrate
from grapevine.store.dashboard_models import DashboardSession
from support import api_key

ROOT = Path(__file__).resolve().parents[1]
EXE = shutil.which("grapevine", path=str(Path(sys.executable).parent)) or "grapevine"


@pytest.fixture
def base(store: Store, store_url: str) -> Iterator[str]:
    """A server with an editor "ann" and a viewer "vic" of tenant acme, and listening data;
    brute-force limits of 3 failures per name and 6 per address."""
    fill_listening(store)
    add_user(store, "ann")
    add_user(store, "vic", role="viewer")
    with dashboard_server(
        store_url, dashboard_login_failures_per_user=3, dashboard_login_failures_per_ip=6
    ) as url:
        yield url


# ---------------------------------------------------------------------------- the wall
@pytest.mark.parametrize("path", ["/", "/listening?preset=7d", "/inbox", "/inbox/1"])
def test_login_wall_outside_demo_mode(base: str, path: str) -> None:
    with httpx.Client(base_url=base) as client:
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/login?next=")
        page = client.get(r.headers["location"])
        assert page.status_code == 200
        assert 'name="password"' in page.text
        # The CSV of a table is behind the same wall.
        r = client.get(
            f"{path}{'&' if '?' in path else '?'}format=csv&table=x", follow_redirects=True
        )
        assert r.status_code == 200
        assert r.url.path == "/login"


def test_htmx_requests_are_sent_to_the_login_page_too(base: str) -> None:
    r = httpx.get(f"{base}/inbox", headers={"HX-Request": "true"}, follow_redirects=False)
    assert r.status_code == 204
    assert r.headers["hx-redirect"] == "/login?next=%2Finbox"


def test_login_sets_a_safe_session_cookie_and_goes_to_next(base: str) -> None:
    with httpx.Client(base_url=base) as client:
        page = client.get("/login?next=/inbox")
        r = client.post(
            "/login",
            data={
                "username": "ann",
                "password": PASSWORD,
                "csrf_token": csrf_of(page.text),
                "next": "/inbox",
            },
            follow_redirects=False,
        )
        assert r.status_code == 303
        assert r.headers["location"] == "/inbox"
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("gv_session=")
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert "Path=/" in cookie
        assert "Secure" not in cookie  # plain http on loopback
        assert client.get("/inbox").status_code == 200


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil"])
def test_login_never_redirects_off_site(base: str, target: str) -> None:
    with httpx.Client(base_url=base) as client:
        page = client.get("/login")
        r = client.post(
            "/login",
            data={
                "username": "ann",
                "password": PASSWORD,
                "csrf_token": csrf_of(page.text),
                "next": target,
            },
            follow_redirects=False,
        )
        assert r.headers["location"] == "/"


def test_session_cookie_is_secure_under_https(store: Store, store_url: str) -> None:
    add_user(store, "ann")
    with (
        dashboard_server(store_url, public_url="https://dash.example") as base,
        httpx.Client(base_url=base, headers={"Host": "dash.example"}) as client,
    ):
        page = client.get("/login")
        cookie = page.headers["set-cookie"]
        assert "Secure" in cookie  # the CSRF cookie: httpx keeps it off plain http
        csrf = cookie.split(";")[0].split("=", 1)[1]
        r = client.post(
            "/login",
            data={"username": "ann", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
            headers={"Origin": "https://dash.example", "Cookie": f"gv_csrf={csrf}"},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        assert "Secure" in r.headers["set-cookie"]


def test_wrong_password_and_unknown_user_look_the_same(base: str) -> None:
    with httpx.Client(base_url=base) as client:
        wrong = login(client, "ann", "not the password")
        nobody = login(client, "nobody", "not the password")
        assert wrong.status_code == nobody.status_code == 401
        assert "Wrong user name or password." in wrong.text
        assert "Wrong user name or password." in nobody.text
        assert "gv_session" not in wrong.headers.get("set-cookie", "")


def test_logout_ends_the_session_in_the_store(base: str, store: Store) -> None:
    with signed_in(base, "ann") as client:
        token = client.cookies["gv_session"]
        html = client.get("/").text
        r = client.post("/logout", data={"csrf_token": csrf_of(html)}, follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"] == "/login"
        with Session(store.engine) as session:
            assert dashboard_repo.find_session(session, token=token) is None
        # The old cookie no longer opens a page.
        replay = httpx.get(f"{base}/", cookies={"gv_session": token}, follow_redirects=False)
        assert replay.status_code == 303


def test_session_expires(store: Store, base: str) -> None:
    with signed_in(base, "ann") as client:
        with Session(store.engine) as session:
            session.execute(sa.update(DashboardSession).values(expires_at=0.0))
            session.commit()
        assert client.get("/", follow_redirects=False).status_code == 303


def test_no_api_key_appears_in_a_page(base: str, store_url: str) -> None:
    key = api_key(store_url, tenant="acme")
    with signed_in(base, "ann") as client:
        for path in ("/", "/listening", "/inbox", "/inbox/1"):
            html = client.get(path).text
            assert key not in html
            assert key.split(".")[0] not in html


# ---------------------------------------------------------------------------- CSRF
def test_forms_without_the_csrf_token_are_refused(base: str, store: Store) -> None:
    with signed_in(base, "ann") as client:
        html = client.get("/inbox/1").text
        token = csrf_of(html)
        for data, headers in [
            ({"assignee": "ann"}, {}),  # no token
            ({"assignee": "ann", "csrf_token": "forged"}, {}),  # a wrong one
            ({"assignee": "ann"}, {"X-CSRF-Token": "forged"}),  # a wrong header (htmx)
            ({"assignee": "ann", "csrf_token": token}, {"Origin": "https://evil.example"}),
        ]:
            r = client.post("/inbox/1/assign", data=data, headers=headers)
            assert r.status_code == 403, (data, headers)
        with store.engine.connect() as conn:
            status = conn.execute(sa.text("SELECT status FROM inbox_items WHERE id = 1")).scalar()
        assert status == "new"  # nothing changed
        # The same form with its token (as a field, or as htmx's header) goes through.
        ok = client.post(
            "/inbox/1/assign", data={"assignee": "ann", "csrf_token": token}, follow_redirects=False
        )
        assert ok.status_code == 303
        ok = client.post(
            "/inbox/1/assign",
            data={"assignee": "bo"},
            headers={"X-CSRF-Token": token, "HX-Request": "true"},
            follow_redirects=False,
        )
        assert ok.status_code == 303


def test_the_token_is_the_sessions_own(base: str) -> None:
    with signed_in(base, "ann") as ann, signed_in(base, "vic") as vic:
        vic_token = csrf_of(vic.get("/").text)
        r = ann.post("/logout", data={"csrf_token": vic_token})
        assert r.status_code == 403


def test_login_form_needs_its_csrf_token(base: str) -> None:
    with httpx.Client(base_url=base) as client:
        client.get("/login")
        r = client.post("/login", data={"username": "ann", "password": PASSWORD})
        assert r.status_code == 403


# ---------------------------------------------------------------------------- brute force
def test_brute_force_limit_per_user(base: str) -> None:
    with httpx.Client(base_url=base) as client:
        for _ in range(3):
            assert login(client, "ann", "guess guess guess").status_code == 401
        locked = login(client, "ann")  # even the right password
        assert locked.status_code == 429
        assert "Too many failed sign-ins" in locked.text
        assert int(locked.headers["retry-after"]) > 0
        # Another user from the same address is not locked (the address limit is 6).
        assert login(client, "vic").status_code == 303


def test_brute_force_limit_per_address(base: str) -> None:
    with httpx.Client(base_url=base) as client:
        for i in range(6):  # different names, one address
            assert login(client, f"user{i}", "guess guess guess").status_code == 401
        assert login(client, "ann").status_code == 429


def test_failures_outside_the_window_are_forgotten(store: Store) -> None:
    with Session(store.engine) as session:
        for i in range(5):
            dashboard_repo.record_failure(
                session, username="ann", address="10.0.0.1", window=60, now=1000.0 + i
            )
        assert dashboard_repo.count_failures(
            session, username="ann", address="10.0.0.2", window=60, now=1010.0
        ) == (5, 0)
        assert dashboard_repo.count_failures(
            session, username="ann", address="10.0.0.1", window=60, now=2000.0
        ) == (0, 0)
        dashboard_repo.record_failure(
            session, username="bob", address="10.0.0.1", window=60, now=2000.0
        )
        session.commit()
        rows = session.scalar(sa.text("SELECT count(*) FROM dashboard_login_attempts"))
        assert rows == 1  # the old ones were pruned


# ---------------------------------------------------------------------------- roles
def test_a_viewer_reads_but_cannot_act(base: str, store: Store) -> None:
    with signed_in(base, "vic") as client:
        html = client.get("/inbox/1").text
        assert "Inbox item 1" in html
        assert 'action="/inbox/1/assign"' not in html
        r = client.post("/inbox/1/assign", data={"assignee": "vic", "csrf_token": csrf_of(html)})
        assert r.status_code == 403
        assert "editor role" in r.text
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM inbox_audit")).scalar() == 0


def test_a_user_without_any_role_sees_nothing(base: str, store: Store) -> None:
    add_user(store, "zoe", role="viewer")
    with signed_in(base, "zoe") as client:
        assert client.get("/listening").status_code == 200
        with Session(store.engine) as session:
            dashboard_repo.remove_user(session, username="zoe", tenant="acme")
            session.commit()
        r = client.get("/listening")
        assert r.status_code == 403
        assert "no role in any tenant" in r.text


# ---------------------------------------------------------------------------- demo mode
def test_demo_mode_needs_no_login_on_loopback(store: Store, store_url: str) -> None:
    fill_listening(store)
    with (
        dashboard_server(store_url, dashboard_demo=True) as base,
        httpx.Client(base_url=base) as client,
    ):
        r = client.get("/inbox/1", follow_redirects=False)
        assert r.status_code == 200
        assert "demo mode" in r.text
        assert "Sign out" not in r.text
        assert "gv_csrf" in r.headers["set-cookie"]
        token = csrf_of(r.text)
        assert client.post("/inbox/1/assign", data={"assignee": "demo"}).status_code == 403
        ok = client.post(
            "/inbox/1/assign",
            data={"assignee": "demo", "csrf_token": token},
            follow_redirects=False,
        )
        assert ok.status_code == 303
    with store.engine.connect() as conn:
        actor = conn.execute(sa.text("SELECT actor FROM inbox_audit")).scalar()
    assert actor == "demo"


def test_demo_mode_is_ignored_off_loopback(store: Store, store_url: str) -> None:
    # The setting says demo, but the service listens on every address: login required.
    with dashboard_server(store_url, dashboard_demo=True, host="0.0.0.0") as base:
        r = httpx.get(f"{base}/", follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/login")


# ---------------------------------------------------------------------------- the store
def test_users_roles_and_passwords(store: Store) -> None:
    with Session(store.engine) as session:
        add = dashboard_repo.add_user
        with pytest.raises(NotFound):
            add(session, username="ann", password=PASSWORD, tenant="nope", role="viewer")
        from grapevine.store import tenants_repo

        tenants_repo.create_tenant(session, slug="acme")
        tenants_repo.create_tenant(session, slug="globex")
        with pytest.raises(InvalidParameter, match="at least 10 characters"):
            add(session, username="ann", password="short", tenant="acme", role="viewer")
        with pytest.raises(InvalidParameter, match="'role'"):
            add(session, username="ann", password=PASSWORD, tenant="acme", role="owner")
        with pytest.raises(InvalidParameter, match="'username'"):
            add(session, username="a b", password=PASSWORD, tenant="acme", role="viewer")
        user = add(session, username="ann", password=PASSWORD, tenant="acme", role="viewer")
        add(session, username="ann", password="", tenant="globex", role="admin")
        add(session, username="ann", password="", tenant="acme", role="editor")
        [listed] = dashboard_repo.list_users(session)
        assert listed.roles == {"acme": "editor", "globex": "admin"}
        stored = session.scalar(sa.text("SELECT password_hash FROM dashboard_users"))
        assert stored.startswith("$argon2id$")
        assert PASSWORD not in stored
        assert dashboard_repo.check_password(session, username="ann", password="wrong") is None
        ok = dashboard_repo.check_password(session, username="ann", password=PASSWORD)
        assert ok is not None
        assert ok.id == user.id
        assert ok.last_login_at is not None
        token, opened = dashboard_repo.start_session(session, user_id=user.id, lifetime=60)
        assert dashboard_repo.find_session(session, token=token) == opened
        stored_hash = session.scalar(sa.text("SELECT token_hash FROM dashboard_sessions"))
        assert token not in stored_hash
        # A new password signs every browser out.
        add(session, username="ann", password=PASSWORD + "!", tenant="acme", role="editor")
        assert dashboard_repo.find_session(session, token=token) is None
        dashboard_repo.remove_user(session, username="ann", tenant="globex")
        assert dashboard_repo.list_users(session)[0].roles == {"acme": "editor"}
        with pytest.raises(NotFound):
            dashboard_repo.remove_user(session, username="ann", tenant="globex")
        dashboard_repo.remove_user(session, username="ann")
        assert dashboard_repo.list_users(session) == []
        with pytest.raises(NotFound):
            dashboard_repo.remove_user(session, username="ann")


def test_migration_0015_goes_down_and_up(store: Store) -> None:
    downgrade(store.engine, "0014")
    names = set(sa.inspect(store.engine).get_table_names())
    assert not any(n.startswith("dashboard_") for n in names)
    migrate(store.engine)
    names = set(sa.inspect(store.engine).get_table_names())
    assert {
        "dashboard_users",
        "dashboard_roles",
        "dashboard_sessions",
        "dashboard_login_attempts",
    } <= names


def test_user_commands(tmp_path: Path) -> None:
    db = str(tmp_path / "u.db")
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}
    env.pop("GRAPEVINE_DATABASE_URL", None)

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [EXE, *args, "--db", db],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
        )

    assert run("tenant", "create", "acme").returncode == 0
    out = run(
        "user",
        "add",
        "ann",
        "--tenant",
        "acme",
        "--role",
        "editor",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert out.returncode == 0, out.stderr
    assert "user ann (acme: editor)" in out.stdout
    out = run("user", "add", "bob", "--tenant", "nope", "--password-stdin", stdin=PASSWORD)
    assert out.returncode == 1
    assert "no tenant 'nope'" in out.stderr
    out = run("user", "add", "bob", "--tenant", "acme", "--password-stdin", stdin="short\n")
    assert out.returncode == 1
    assert "at least 10 characters" in out.stderr
    listed = json.loads(run("user", "list", "--json").stdout)
    assert [(u["username"], u["roles"]) for u in listed] == [("ann", ["acme:editor"])]
    assert PASSWORD not in run("user", "list", "--format", "csv").stdout
    assert run("user", "remove", "ann").returncode == 0
    out = run("user", "remove", "ann")
    assert out.returncode == 1
    assert "no dashboard user 'ann'" in out.stderr
