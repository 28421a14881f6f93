"""The status page's logout ends the session on the server: a copy of the cookie (a stolen one,
a shared machine's) stops reading, on the replica that took the logout and on another sharing
its SQLite file; replays, cookies that do not read and logouts without a session get a clear
answer and one log line each. On the daemon's endpoint server, in process, over loopback."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import re
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from structlog.testing import capture_logs

from test_operator_api import BEARER, TOKEN, serving
from test_store import LEASE, POLICY
from triage.incidents.sqlite import SQLiteStore
from triage.ops.api import SESSION_COOKIE, SESSION_S, Auth
from triage.ops.operator_sessions import RECHECK_S

#: The page's word for the login form: a response holding it did not read as logged in.
LOGIN_FORM = "type=password"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    s = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=30))
    await s.open()
    yield s
    await s.aclose()


async def login(client: httpx2.AsyncClient) -> str:
    """Log `client` in through the page's form; the session cookie's value."""
    form = await client.get("/")
    csrf = re.search(r'name=csrf value="([^"]+)"', form.text)
    assert csrf is not None, form.text
    answer = await client.post("/login", data={"token": TOKEN, "csrf": csrf.group(1)})
    assert answer.status_code == 303, answer.text
    value = client.cookies.get(SESSION_COOKIE)
    assert value, answer.headers
    return value


def holding(value: str) -> dict[bytes, bytes]:
    """The headers of a browser that holds a copy of the session cookie `value` (sent as
    UTF-8, as a hostile client may)."""
    return {b"Cookie": f"{SESSION_COOKIE}={value}".encode()}


@contextlib.asynccontextmanager
async def other_browser(client: httpx2.AsyncClient) -> AsyncIterator[httpx2.AsyncClient]:
    """A client of the same server with a cookie jar of its own (another machine)."""
    async with httpx2.AsyncClient(base_url=client.base_url) as other:
        yield other


def events(logs: Sequence[Mapping[str, Any]], name: str) -> list[Mapping[str, Any]]:
    """The log lines of the event `name`."""
    return [line for line in logs if line["event"] == name]


async def test_a_copied_cookie_stops_reading_once_its_session_logs_out(
    store: SQLiteStore,
) -> None:
    """A copy of the session cookie reads the page and the API until the session logs out;
    from then on it gets the login form saying the session was logged out, and a 401 at the
    API, each with a log line naming the session as its login and logout did."""
    async with serving(store) as client, other_browser(client) as thief:
        with capture_logs() as logs:
            value = await login(client)
            before = await thief.get("/", headers=holding(value))
            assert before.status_code == 200 and LOGIN_FORM not in before.text
            out = await client.post("/logout")
            page = await thief.get("/", headers=holding(value))
            api = await thief.get("/api/v1/incidents", headers=holding(value))
            own = await client.get("/")
    assert out.status_code == 303 and out.headers["location"] == "/"
    assert f"{SESSION_COOKIE}=;" in out.headers["set-cookie"]
    assert page.status_code == 200 and LOGIN_FORM in page.text
    assert "This session was logged out" in page.text
    assert api.status_code == 401
    assert LOGIN_FORM in own.text  # the browser that logged out dropped its cookie
    [logged_in] = events(logs, "status_page.login")
    [logged_out] = events(logs, "status_page.logout")
    [refused] = events(logs, "status_page.session_refused")
    [api_refused] = events(logs, "api.refused")
    assert logged_in["session"] == logged_out["session"] == refused["session"]
    assert refused["reason"] == api_refused["reason"] == "session_logged_out"
    assert api_refused["session"] == logged_in["session"]
    assert value not in str(logs)


async def test_a_logout_ends_only_its_own_session(store: SQLiteStore) -> None:
    """Two operators logged in: one logs out, the other's session still reads."""
    async with serving(store) as client, other_browser(client) as colleague:
        await login(client)
        theirs = await login(colleague)
        assert (await client.post("/logout")).status_code == 303
        page = await colleague.get("/", headers=holding(theirs))
    assert page.status_code == 200 and LOGIN_FORM not in page.text


async def test_a_replayed_logout_is_told_the_session_had_ended(store: SQLiteStore) -> None:
    """Posting the logout again with a copy of the cookie ends nothing: the login form says
    the session had been logged out already (401, the cookie dropped), and one
    `status_page.logout_refused` line says why, never a traceback."""
    async with serving(store) as client, other_browser(client) as thief:
        value = await login(client)
        assert (await client.post("/logout")).status_code == 303
        with capture_logs() as logs:
            again = await thief.post("/logout", headers=holding(value))
    assert again.status_code == 401 and LOGIN_FORM in again.text
    assert "had been logged out already" in again.text
    assert f"{SESSION_COOKIE}=;" in again.headers["set-cookie"]
    [refused] = events(logs, "status_page.logout_refused")
    assert refused["reason"] == "session_logged_out" and "exc_info" not in refused
    assert not events(logs, "status_page.logout")


def _older_release() -> str:
    """An older release's cookie: when it was issued and a signature, no id to end."""
    issued = str(int(time.time()))
    return (
        f"{issued}.{hmac.new(TOKEN.encode(), f'session:{issued}'.encode(), 'sha256').hexdigest()}"
    )


#: Cookies that carry no session that could be ended (made when the test runs), the reason
#: logged for each and what the logout says of it.
NO_SESSION: dict[str, tuple[Callable[[], str], str, str]] = {
    "bogus": (lambda: "0.bogus", "session_garbled", "could not be read"),
    "long": (lambda: "x" * 5000, "session_garbled", "could not be read"),
    "markup": (lambda: "<script>\u202e", "session_garbled", "could not be read"),
    "older_release": (_older_release, "session_garbled", "could not be read"),
    "other_token": (
        lambda: Auth("an-older-token-" + "y" * 24).session(),
        "session_invalid",
        "had ended already",
    ),
    "past_12_hours": (
        lambda: Auth(TOKEN, wall_clock=lambda: time.time() - SESSION_S - 60).session(),
        "session_expired",
        "had ended already",
    ),
}


@pytest.mark.parametrize("kind", NO_SESSION)
async def test_a_logout_without_a_session_it_could_end_says_why(
    store: SQLiteStore, kind: str
) -> None:
    """A logout with a session cookie that does not read (garbage, markup, an older release's),
    one signed with another token or one past its 12 hours answers the login form saying so
    (401, the cookie dropped), with one `status_page.logout_refused` line naming why."""
    make, reason, said = NO_SESSION[kind]
    value = make()
    async with serving(store) as client:
        with capture_logs() as logs:
            answer = await client.post("/logout", headers=holding(value))
    assert answer.status_code == 401 and LOGIN_FORM in answer.text
    assert said in answer.text
    assert f"{SESSION_COOKIE}=;" in answer.headers["set-cookie"]
    [refused] = events(logs, "status_page.logout_refused")
    assert refused["reason"] == reason
    assert not events(logs, "status_page.logout")


async def test_a_logout_without_a_session_cookie_goes_to_the_login_form(
    store: SQLiteStore,
) -> None:
    """A logout with no session cookie at all (a second click) is sent to the login form, as
    a logged-out browser is, with one `status_page.logout_refused` line (`no_session`)."""
    async with serving(store) as client:
        with capture_logs() as logs:
            answer = await client.post("/logout")
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    [refused] = events(logs, "status_page.logout_refused")
    assert refused["reason"] == "no_session"


@pytest.mark.parametrize("kind", NO_SESSION)
async def test_reading_with_a_cookie_that_carries_no_session_says_why(
    store: SQLiteStore, kind: str
) -> None:
    """Reading the page with such a cookie gets the login form saying why it was refused
    (unreadable, or ended), and one `status_page.session_refused` line with the reason."""
    make, reason, _ = NO_SESSION[kind]
    value = make()
    async with serving(store) as client:
        with capture_logs() as logs:
            page = await client.get("/", headers=holding(value))
    assert page.status_code == 200 and LOGIN_FORM in page.text
    expected = "could not be read" if reason == "session_garbled" else "Your session ended"
    assert expected in page.text
    [refused] = events(logs, "status_page.session_refused")
    assert refused["reason"] == reason


async def test_a_cross_site_logout_is_refused_and_the_session_still_reads(
    store: SQLiteStore,
) -> None:
    """The logout keeps its guard against other sites: a form another site posts is a 403
    that ends nothing, so the session still reads."""
    async with serving(store) as client:
        value = await login(client)
        refused = await client.post("/logout", headers={"Sec-Fetch-Site": "cross-site"})
        page = await client.get("/", headers=holding(value))
    assert refused.status_code == 403
    assert page.status_code == 200 and LOGIN_FORM not in page.text


async def test_a_session_issued_by_a_replica_whose_clock_reads_ahead_reads_here(
    store: SQLiteStore,
) -> None:
    """A login on a replica whose clock is a minute ahead of this one's is a session here
    too, rather than "your session ended" on the first page the load balancer sends here."""
    ahead = Auth(TOKEN, wall_clock=lambda: time.time() + 60).session()
    async with serving(store) as client:
        page = await client.get("/", headers=holding(ahead))
    assert page.status_code == 200 and LOGIN_FORM not in page.text


async def test_the_bearer_token_reads_whatever_sessions_a_logout_ended(
    store: SQLiteStore,
) -> None:
    """A logout ends a session, never the token: the API's bearer clients read on."""
    async with serving(store) as client:
        await login(client)
        await client.post("/logout")
        api = await client.get("/api/v1/incidents", headers=BEARER)
    assert api.status_code == 200


async def test_a_logout_on_one_replica_is_honoured_by_another_within_seconds(
    store: SQLiteStore,
) -> None:
    """Two daemons on one SQLite file: a session logged in on one reads on the other; once
    it logs out on the first, a copy of its cookie is refused there at once, and on the other
    within RECHECK_S (its memory of the session's last check)."""
    replica = SQLiteStore(store.path, POLICY, LEASE, timedelta(days=30))
    await replica.open()
    try:
        async with serving(store) as first, serving(replica) as second:
            value = await login(first)
            read = await second.get("/", headers=holding(value))
            assert read.status_code == 200 and LOGIN_FORM not in read.text
            assert (await first.post("/logout")).status_code == 303
            here = await first.get("/api/v1/incidents", headers=holding(value))
            assert here.status_code == 401
            deadline = time.monotonic() + RECHECK_S + 5
            while True:
                there = await second.get("/api/v1/incidents", headers=holding(value))
                if there.status_code == 401 or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)  # between polls of a condition with a deadline
            assert there.status_code == 401
            # A replayed logout on the other replica is told the session had ended.
            replayed = await second.post("/logout", headers=holding(value))
            assert replayed.status_code == 401
    finally:
        await replica.aclose()
