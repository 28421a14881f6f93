"""The status page's login as an operator pastes the token at 3 a.m., on the daemon's endpoint
server in process over loopback against a SQLite store."""

from __future__ import annotations

import html
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest
from structlog.testing import capture_logs

from factories import T0, alert
from test_operator_api import BEARER, TOKEN, serving
from test_store import LEASE, POLICY
from triage.incidents.sqlite import SQLiteStore
from triage.ops.api import SESSION_COOKIE, SESSION_S, Auth


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    s = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, POLICY.reopen_window)
    await s.open()
    yield s
    await s.aclose()


@pytest.mark.parametrize("pasted", [f"{TOKEN} ", f" {TOKEN}\t", f"{TOKEN}\r\n"])
async def test_a_token_pasted_with_whitespace_around_it_logs_in(
    store: SQLiteStore, pasted: str
) -> None:
    """The right token with spaces, a tab or a line end around it (a paste) logs in, as the
    API's bearer header takes it; a token has no whitespace, so nothing else is let in."""
    async with serving(store) as client:
        form = await client.get("/")
        csrf = re.search(r'name=csrf value="([^"]+)"', form.text)
        assert csrf is not None
        answer = await client.post("/login", data={"token": pasted, "csrf": csrf.group(1)})
        wrong = await client.post("/login", data={"token": f"{TOKEN[:-1]} ", "csrf": csrf.group(1)})
    assert answer.status_code == 303, answer.text
    assert "triage_session=" in answer.headers["set-cookie"]
    assert wrong.status_code == 401


async def test_a_session_that_ended_is_said_on_the_login_form(store: SQLiteStore) -> None:
    """A session cookie past its 12 hours (or signed with an old token) gets the login form
    saying the session ended; a browser with no session gets the bare form."""
    hours_ago = Auth(TOKEN, wall_clock=lambda: time.time() - SESSION_S - 60).session()
    old_token = Auth("an-older-token-" + "y" * 24).session()
    async with serving(store) as client:
        fresh = await client.get("/")
        answers = [
            await client.get("/", headers={"Cookie": f"{SESSION_COOKIE}={value}"})
            for value in (hours_ago, old_token)
        ]
    assert "session ended" not in fresh.text and "type=password" in fresh.text
    for answer in answers:
        assert answer.status_code == 200 and "type=password" in answer.text
        assert "Your session ended" in answer.text


def _csrf(form: httpx2.Response) -> str:
    found = re.search(r'name=csrf value="([^"]+)"', form.text)
    assert found is not None, form.text
    return found.group(1)


def _return_field(form: httpx2.Response) -> str:
    found = re.search(r'name=next value="([^"]*)"', form.text)
    assert found is not None, form.text
    return html.unescape(found.group(1))


async def _incident(store: SQLiteStore) -> str:
    began = await store.begin(alert(), "m1", T0)
    assert began.after is not None
    return began.after.fingerprint


async def test_logging_in_from_an_incidents_link_lands_on_that_incident(
    store: SQLiteStore,
) -> None:
    """A Slack link to /incidents/{fingerprint} opened without a session shows the login form,
    which carries that page through the login: the answer sends the browser back to it, and it
    opens logged in. The status page's own form sends the browser back to /."""
    fp = await _incident(store)
    async with serving(store) as client:
        index_form = await client.get("/")
        form = await client.get(f"/incidents/{fp}")
        assert form.status_code == 200 and _return_field(form) == f"/incidents/{fp}"
        answer = await client.post(
            "/login", data={"token": TOKEN, "csrf": _csrf(form), "next": _return_field(form)}
        )
        assert answer.status_code == 303 and answer.headers["location"] == f"/incidents/{fp}"
        page = await client.get(answer.headers["location"])
        assert page.status_code == 200 and fp in page.text and "type=password" not in page.text
    assert _return_field(index_form) == "/"


async def test_a_refused_login_keeps_the_page_it_returns_to(store: SQLiteStore) -> None:
    """A wrong token (or an expired form) answers the form again, still carrying the incident's
    page, so the second try lands there too."""
    fp = await _incident(store)
    async with serving(store) as client:
        form = await client.get(f"/incidents/{fp[:8]}")
        wrong = await client.post(
            "/login", data={"token": "x" * 40, "csrf": _csrf(form), "next": f"/incidents/{fp[:8]}"}
        )
        expired = await client.post(
            "/login", data={"token": TOKEN, "csrf": "stale", "next": f"/incidents/{fp[:8]}"}
        )
    assert wrong.status_code == 401 and _return_field(wrong) == f"/incidents/{fp[:8]}"
    assert expired.status_code == 401 and _return_field(expired) == f"/incidents/{fp[:8]}"


#: Places a login must never send the browser: another site (scheme-relative, a backslash
#: browsers read as a slash, an absolute URL, the same percent-encoded), a header injected
#: through a line end, another path of this server, a path that is not an incident's.
ELSEWHERE = [
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "https://evil.example/incidents/abc",
    "http:/evil.example",
    "javascript:alert(1)",
    "/%2F%2Fevil.example",
    "%2F%2Fevil.example",
    "/%5Cevil.example",
    "/incidents/abc\r\nSet-Cookie: triage_session=x",
    "/incidents/abc\n",
    "/incidents/abc%0d%0aLocation:%20//evil.example",
    "/incidents/../api/v1/silences",
    "/incidents/abc/../../login",
    "/incidents/%2e%2e",
    "/incidents/abc?next=//evil.example",
    "/incidents/abc#//evil.example",
    " /incidents/abc",
    "/incidents/",
    "/incidents/" + "a" * 65,
    "/login",
    "/api/v1/incidents",
    "/healthz",
]


@pytest.mark.parametrize("elsewhere", ELSEWHERE)
async def test_a_login_returns_only_to_a_page_of_its_own(
    store: SQLiteStore, elsewhere: str
) -> None:
    """A return target the form did not make (`next` edited, or posted by another page) is
    refused: the login still succeeds and goes to /, with one log line saying so (its length,
    never its text); a refused login's form carries / instead of it."""
    async with serving(store) as client:
        form = await client.get("/")
        with capture_logs() as logs:
            answer = await client.post(
                "/login", data={"token": TOKEN, "csrf": _csrf(form), "next": elsewhere}
            )
        wrong = await client.post(
            "/login", data={"token": "x" * 40, "csrf": _csrf(form), "next": elsewhere}
        )
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    refused = [line for line in logs if line["event"] == "status_page.return_path_refused"]
    assert len(refused) == 1 and refused[0]["chars"] == len(elsewhere)
    assert "evil" not in str(refused)
    assert _return_field(wrong) == "/"


async def test_a_percent_encoded_target_in_the_raw_form_body_is_refused(
    store: SQLiteStore,
) -> None:
    """The form body's own encoding (`next=%2F%2Fevil`, `%0D%0A`) decodes to a target that is
    refused like any other, not to a path that looks like the page's."""
    async with serving(store) as client:
        csrf = _csrf(await client.get("/"))  # its cookie outlives each login
        for raw in ("%2F%2Fevil.example", "%2Fincidents%2Fabc%0D%0AX:%20y", "%5C%5Cevil"):
            body = f"token={TOKEN}&csrf={csrf}&next={raw}"
            answer = await client.post(
                "/login",
                content=body.encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert answer.status_code == 303 and answer.headers["location"] == "/", raw


async def test_the_login_form_of_a_page_that_is_no_incident_returns_to_the_status_page(
    store: SQLiteStore,
) -> None:
    """The login form shown for a path that names no incident (markup) carries /, never the
    path asked for; a fingerprint in capitals names one (fingerprints are hex in any case),
    so its form returns there."""
    async with serving(store) as client:
        marked = await client.get("/incidents/<b>x")
        upper = await client.get("/incidents/ABCDEF")
        with_bearer = await client.get("/incidents/abcdef", headers=BEARER)
    assert _return_field(marked) == "/" and _return_field(upper) == "/incidents/ABCDEF"
    assert with_bearer.status_code == 404  # a bearer token is no browser: no form


async def test_logging_in_from_a_filtered_page_keeps_its_filter(store: SQLiteStore) -> None:
    """Someone on `/?source=grafana&priority=high` whose session ended logs in and lands on
    that filtered page, not on `/`: the form carries the page's own filter (its empty fields
    left out), the answer sends the browser back to it, and it opens filtered, logged in."""
    ended = Auth(TOKEN, wall_clock=lambda: time.time() - SESSION_S - 60).session()
    async with serving(store) as client:
        form = await client.get(
            "/?search=&team=&source=grafana&priority=high",
            headers={"Cookie": f"{SESSION_COOKIE}={ended}"},
        )
        assert "Your session ended" in form.text
        assert _return_field(form) == "/?source=grafana&priority=high"
        with capture_logs() as logs:
            answer = await client.post(
                "/login", data={"token": TOKEN, "csrf": _csrf(form), "next": _return_field(form)}
            )
        assert answer.status_code == 303
        assert answer.headers["location"] == "/?source=grafana&priority=high"
        page = await client.get(answer.headers["location"])
    assert page.status_code == 200 and "type=password" not in page.text
    assert re.search(r'name=source value="?grafana"?', page.text), page.text
    assert not [line for line in logs if line["event"] == "status_page.return_path_refused"]


#: Filters a login form may carry, what it sends the browser back to: only the page's own
#: parameters, percent-encoded again (a slash in a value stays in the query), each once
#: (`match` may repeat), never a line end or a control character, never past the bound.
FILTERED = [
    ("/?source=grafana&next=//evil.example", "/?source=grafana"),
    ("/?next=https://evil.example", "/"),
    ("/?source=%2F%2Fevil.example", "/?source=%2F%2Fevil.example"),
    ("/?source=//evil.example", "/?source=%2F%2Fevil.example"),
    ("/?search=<script>alert(1)</script>", "/?search=%3Cscript%3Ealert%281%29%3C%2Fscript%3E"),
    ("/?search=disk full", "/?search=disk%20full"),
    ("/?source=graf%0D%0Aana", "/"),
    ("/?source=grafana%0ASet-Cookie:%20triage_session=x", "/"),
    ("/?source=grafana\r\nSet-Cookie: triage_session=x", "/"),
    ("/?team=ops%00", "/"),
    ("/?team=%E2%80%AEevil", "/"),
    ("/?source=grafana&source=sentry", "/?source=grafana"),
    ("/?match=env%3Dprod&match=team%3Dops", "/?match=env%3Dprod&match=team%3Dops"),
    ("/?source=grafana#//evil.example", "/"),
    ("//evil.example/?source=grafana", "/"),
    ("/incidents/abc?source=grafana", "/"),
    ("/?", "/"),
    ("/?source=" + "a" * 4096, "/"),
]


@pytest.mark.parametrize(("given", "back"), FILTERED)
async def test_a_login_keeps_only_the_pages_own_filter_encoded_again(
    store: SQLiteStore, given: str, back: str
) -> None:
    """A return target with a query keeps only the status page's own filter parameters,
    percent-encoded again, on `/` alone: the login lands there, with one log line (its length
    only) when that is not what was posted (none for the form's own); a refused login's form
    carries the same."""
    async with serving(store) as client:
        form = await client.get("/")
        with capture_logs() as logs:
            answer = await client.post(
                "/login", data={"token": TOKEN, "csrf": _csrf(form), "next": given}
            )
        wrong = await client.post(
            "/login", data={"token": "x" * 40, "csrf": _csrf(form), "next": given}
        )
    location = answer.headers["location"]
    assert answer.status_code == 303 and location == back
    assert "\r" not in location and "\n" not in location and "//" not in location
    refused = [line for line in logs if line["event"] == "status_page.return_path_refused"]
    assert [line["chars"] for line in refused] == ([] if given == back else [len(given)])
    assert "evil" not in str(refused)
    assert _return_field(wrong) == back


async def test_a_filtered_page_asked_for_with_a_hostile_query_carries_only_its_filter(
    store: SQLiteStore,
) -> None:
    """The login form of `/` asked for with parameters of another page, a line end or a
    control character in a value carries only the page's own, clean filter (else `/`)."""
    async with serving(store) as client:
        mixed = await client.get("/?next=//evil.example&source=grafana&team=a%0D%0Ab")
        bare = await client.get("/?next=//evil.example")
    assert _return_field(mixed) == "/?source=grafana"
    assert _return_field(bare) == "/"
