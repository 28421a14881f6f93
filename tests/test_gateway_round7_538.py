"""Round 7 against the webhook gateway and the operators' API (helper 538), over real HTTP and
raw sockets on 127.0.0.1: a listing asked for more than any store holds, framings a proxy in
front would read otherwise, a hundred pipelined requests with one wrong token, `Expect` as
the list it is, writes refused from their head without `100 Continue`, other sites' pages and
forged hosts, and a storm's silence matching kept off the daemon's event loop and bounded."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues
from factories import alert
from ingest_harness import TOKENS, ingest_settings, payload, running
from test_ingest_hostile import read_answer, wait_logged
from test_operator_hostile import BEARER, client, serving
from test_status_page_login import _csrf
from test_store import LEASE, POLICY
from triage.incidents.silences import Silence
from triage.incidents.sqlite import SQLiteStore
from triage.ingest import IngestService
from triage.ops import operator

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    """A SQLite store holding three open incidents."""
    opened = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, POLICY.reopen_window * 24)
    await opened.open()
    for i in range(3):
        await opened.begin(alert(f"disk-{i}"), f"fp{i}", NOW)
    yield opened
    await opened.aclose()


# --- the operators' API: paging past every store ----------------------------------------------


@pytest.mark.parametrize("asked", ["1000000000", "10" + "0" * 30, "0" * 40 + "7000"])
async def test_a_limit_past_any_store_is_cut_to_the_most_one_answer_holds(
    store: SQLiteStore, asked: str
) -> None:
    """`limit=10**9` (a script's "give me everything") is cut to 5,000 as the README says,
    not a 400 saying a positive whole number is not one."""
    async with serving(store) as server, client(server) as http:
        answer = await http.get(f"/api/v1/incidents?limit={asked}", headers=BEARER)
    assert answer.status_code == 200, answer.text
    assert answer.json()["limit"] == 5000
    assert answer.json()["total"] == len(answer.json()["incidents"]) == 3


@pytest.mark.parametrize("asked", ["1000000000", "9" * 40])
async def test_an_offset_past_any_store_is_an_empty_page(store: SQLiteStore, asked: str) -> None:
    """An offset past every incident any store holds answers an empty page whose `total`
    says where the list ended, as an offset just past the end does, not a 400."""
    async with serving(store) as server, client(server) as http:
        answer = await http.get(f"/api/v1/incidents?offset={asked}", headers=BEARER)
    assert answer.status_code == 200, answer.text
    assert answer.json()["incidents"] == []
    assert answer.json()["total"] == 3


@pytest.mark.parametrize(
    ("name", "asked"), [("limit", "0"), ("limit", "000"), ("limit", "-1"), ("offset", "-1")]
)
async def test_a_paging_number_that_is_none_is_still_refused(
    store: SQLiteStore, name: str, asked: str
) -> None:
    """A limit of nothing, or a negative limit or offset, is still a 400 naming the parameter."""
    async with serving(store) as server, client(server) as http:
        answer = await http.get(f"/api/v1/incidents?{name}={asked}", headers=BEARER)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(name)


# --- the operators' API: other sites and other hosts ------------------------------------------

EVIL = "https://evil.example"


async def test_no_answer_lets_another_sites_page_read_it(store: SQLiteStore) -> None:
    """A CORS preflight from another site, and the requests a page there may send unasked,
    get no `Access-Control-Allow-*` header: a page elsewhere can neither read an answer nor
    be told it may send the bearer header."""
    preflight = {"Origin": EVIL, "Access-Control-Request-Method": "DELETE"}
    async with serving(store) as server, client(server) as http:
        answers = [
            await http.options("/api/v1/silences", headers={**preflight, **BEARER}),
            await http.options("/api/v1/incidents", headers=preflight),
            await http.get("/api/v1/incidents", headers={"Origin": EVIL, **BEARER}),
            await http.get("/", headers={"Origin": EVIL, **BEARER}),
        ]
        listed = (await http.get("/api/v1/silences?all=1", headers=BEARER)).json()
    assert [a.status_code for a in answers] == [405, 405, 200, 200]
    for answer in answers:
        assert not [h for h in answer.headers if h.lower().startswith("access-control-")]
    assert listed == {"silences": [], "unreadable": 0}


async def test_a_host_a_client_names_is_in_no_link_or_redirect(store: SQLiteStore) -> None:
    """`Host` and `X-Forwarded-Host` naming another site (a poisoned cache, a proxy passing
    them on) appear in no link of the page or the login form, and a login's redirect stays a
    path of this site: nothing the page builds points elsewhere."""
    forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    async with serving(store) as server, client(server) as http:
        page = await http.get("/?team=payments", headers={**BEARER, **forged})
        form = await http.get("/incidents/fp0", headers={**forged, "Accept": "text/html"})
        csrf = _csrf(form)
        login = await http.post(
            "/login",
            data={
                "token": BEARER["Authorization"].split()[1],
                "csrf": csrf,
                "next": "/incidents/f0",
            },
            headers={**forged, "Cookie": f"triage_csrf={csrf}", "Sec-Fetch-Site": "same-origin"},
        )
    assert page.status_code == form.status_code == 200
    assert "evil" not in page.text and "evil" not in form.text
    assert login.status_code == 303
    assert login.headers["location"] == "/incidents/f0"


# --- the gateway: framings a proxy in front would read otherwise -------------------------------

GENERIC = payload("generic/firing.json")
GOOD_TOKEN = f"Authorization: Bearer {TOKENS['generic']}\r\n"
#: What a proxy that read the framing otherwise would pass on as a request of its own.
SMUGGLED = b"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n" + GOOD_TOKEN.encode()
SMUGGLED += b"Content-Length: %d\r\n\r\n" % len(GENERIC) + GENERIC


@pytest.fixture
async def gateway(queues: Queues) -> AsyncIterator[IngestService]:
    """The gateway on a free port, with the harness's tokens, in front of moto's `alerts` queue."""
    async with running(ingest_settings(queues.url, queues.endpoint)) as service:
        yield service


def chunked(headers: str, body: bytes) -> bytes:
    """A POST of the generic alert framed by `headers` (each ending CRLF) and carrying `body`."""
    head = f"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n{GOOD_TOKEN}{headers}\r\n"
    return head.encode() + body


def one_chunk(extension: bytes = b"", trailer: bytes = b"") -> bytes:
    """The generic alert as one chunk with a chunk `extension`, then a `trailer` section."""
    size = b"%x" % len(GENERIC)
    return size + extension + b"\r\n" + GENERIC + b"\r\n0\r\n" + trailer + b"\r\n"


#: Each sends the smuggled request right behind a framing two readers may disagree on.
DISAGREED = {
    "a coding named like chunked": chunked("Transfer-Encoding: xchunked\r\n", one_chunk()),
    "chunked on one line, identity on the next": chunked(
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n", one_chunk()
    ),
    "identity on one line, chunked on the next": chunked(
        "Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n", one_chunk()
    ),
    "chunked with a parameter": chunked("Transfer-Encoding: chunked;q=1\r\n", one_chunk()),
    "chunked after a tab": chunked("Transfer-Encoding:\tchunked\t\r\n", one_chunk()),
    "a quoted CRLF in a chunk extension": chunked(
        "Transfer-Encoding: chunked\r\n", one_chunk(extension=b';a="\r\n0\r\n\r\n"')
    ),
    "a chunk's data without its CRLF": chunked(
        "Transfer-Encoding: chunked\r\n", one_chunk().replace(GENERIC + b"\r\n", GENERIC + b"\n")
    ),
    "a trailer naming a coding": chunked(
        "Transfer-Encoding: chunked\r\n", one_chunk(trailer=b"Transfer-Encoding: chunked\r\n")
    ),
    "a folded trailer": chunked(
        "Transfer-Encoding: chunked\r\n", one_chunk(trailer=b"X-A: b\r\n Content-Length: 0\r\n")
    ),
    "a length in hex": chunked(f"Content-Length: 0x{len(GENERIC):x}\r\n", GENERIC),
    "a length that overflows": chunked(f"Content-Length: 1{'0' * 20}\r\n", GENERIC),
}


async def answered(port: int, request: bytes) -> tuple[list[int], bool]:
    """The statuses answered to `request` sent whole, and whether the gateway then closed."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        statuses = [(await read_answer(reader)).status]
        return statuses, await asyncio.wait_for(reader.read(), 10) == b""
    finally:
        writer.close()


@pytest.mark.parametrize("name", list(DISAGREED))
async def test_a_framing_two_readers_could_disagree_on_is_refused_whole(
    gateway: IngestService, queues: Queues, name: str
) -> None:
    """A framing a proxy in front (ALB, nginx) could read otherwise is 400 with one
    `ingest.bad_http` line and the connection closed: neither the alert it frames nor the
    request behind it is queued or answered, so no reading of it lets a request through."""
    with capture_logs() as logs:
        statuses, closed = await answered(gateway.port, DISAGREED[name] + SMUGGLED)
        lines = await wait_logged(logs, "ingest.bad_http")
    assert (statuses, closed) == ([400], True)
    assert len(lines) == 1
    assert TOKENS["generic"] not in str(logs)
    assert queues.depth() == 0


async def test_a_wrong_token_amid_a_hundred_pipelined_requests_is_answered_in_its_place(
    gateway: IngestService, queues: Queues
) -> None:
    """A hundred requests in one packet, the 50th with a wrong token: each is answered in
    order on the one connection, the 50th 401, and the other 99 queued once each: none lost
    past the parser's cuts (32 a read), none queued twice, none taken for the refused one."""
    good = chunked(f"Content-Length: {len(GENERIC)}\r\n", GENERIC)
    bad = good.replace(TOKENS["generic"].encode(), b"not-the-token-0123456789")
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    try:
        writer.write(good * 49 + bad + good * 50)
        await writer.drain()
        statuses = [(await read_answer(reader)).status for _ in range(100)]
    finally:
        writer.close()
    assert statuses == [202] * 49 + [401] + [202] * 50
    assert queues.depth() == 99


# --- the operators' API: a body it would refuse is never asked for -----------------------------

SILENCE_BODY = b'{"matchers": ["team=payments"], "duration": "2h", "comment": "db", "author": "al"}'


async def first_answer_to_a_waiting_client(port: int, headers: str) -> tuple[int, bool]:
    """Send a silence's head with `headers` and `Expect: 100-continue`, holding its body back
    as a waiting client does: the first answer's status, and whether the connection then
    ended (within the linger, whatever the client still sends)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        head = "POST /api/v1/silences HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        head += f"{headers}Expect: 100-continue\r\nContent-Length: {len(SILENCE_BODY)}\r\n\r\n"
        writer.write(head.encode())
        await writer.drain()
        status = (await read_answer(reader)).status
        return status, await asyncio.wait_for(reader.read(), 10) == b""
    finally:
        writer.close()


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ("", 401),
        ("Authorization: Bearer not-the-api-token-0123456789\r\n", 401),
        (f"Authorization: {BEARER['Authorization']}\r\nSec-Fetch-Site: cross-site\r\n", 403),
        (f"Authorization: {BEARER['Authorization']}\r\nOrigin: {EVIL}\r\n", 403),
    ],
)
async def test_a_write_refused_from_its_head_gets_no_100_continue(
    store: SQLiteStore, headers: str, status: int
) -> None:
    """A silence posted with `Expect: 100-continue` and no token, a wrong one, or from another
    site is refused from its head (401, 403) as its first answer, not `100 Continue` asking
    for a body it would then refuse: as on the gateway, nobody without the token gets a body
    read. Nothing is made."""
    async with serving(store) as server, client(server) as http:
        answered = await first_answer_to_a_waiting_client(server.port, headers)
        listed = (await http.get("/api/v1/silences?all=1", headers=BEARER)).json()
    assert answered == (status, True)
    assert listed == {"silences": [], "unreadable": 0}


# --- the operators' page and API: a storm's matching off the daemon's loop ---------------------


async def test_silences_are_matched_against_open_incidents_off_the_event_loop(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's silences table and the API's silence list match every silence against every
    open incident (50 silences by 5,000 incidents: seconds of CPU during a storm, on each
    view): that work runs on a worker thread, so the daemon's event loop keeps handling
    alerts and answering `/healthz` while an operator reloads the page."""
    silence = {"matchers": ["title=~disk.*"], "duration": "2h", "comment": "disks", "author": "al"}
    on_loop: list[bool] = []
    matches = Silence.matches

    def recorded(self: Silence, subject: object) -> bool:
        on_loop.append(threading.current_thread() is threading.main_thread())
        return matches(self, subject)

    async with serving(store) as server, client(server) as http:
        made = await http.post("/api/v1/silences", json=silence, headers=BEARER)
        assert made.status_code == 201, made.text
        monkeypatch.setattr(Silence, "matches", recorded)
        page = await http.get("/", headers=BEARER)
        listed = await http.get("/api/v1/silences", headers=BEARER)
    assert page.status_code == listed.status_code == 200
    assert listed.json()["silences"][0]["matching"]["open"] == 3
    assert "<td>3</td>" in page.text
    assert on_loop and not any(on_loop)


async def test_a_view_matches_silences_against_incidents_within_a_budget(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """However many silences and open incidents there are, one view of the page or the API's
    silence list matches at most MATCH_BUDGET pairs (50 silences against 5,000 incidents was
    250,000 matches, past the port's 5 s deadline: the operator got no page in a storm):
    each silence is matched against fewer of the most urgent open incidents, and the answer
    says how many it checked."""
    matched: list[int] = []
    matches = Silence.matches

    def counted(self: Silence, subject: object) -> bool:
        matched.append(1)
        return matches(self, subject)

    async with serving(store) as server, client(server) as http:
        # Each matches no open incident, and by a regular expression, which no index of
        # equality matchers rules out: every pair within the budget is matched.
        for team in ("db", "web"):
            silence = {"matchers": [f"team=~{team}"], "duration": "2h", "comment": team}
            made = await http.post("/api/v1/silences", json=silence, headers=BEARER)
            assert made.status_code == 201, made.text
        monkeypatch.setattr(operator, "MATCH_BUDGET", 4)
        monkeypatch.setattr(Silence, "matches", counted)
        listed = (await http.get("/api/v1/silences", headers=BEARER)).json()["silences"]
        api_matches, matched[:] = len(matched), []
        page = await http.get("/", headers=BEARER)
    assert [s["matching"]["checked"] for s in listed] == [2, 2]
    assert api_matches == len(matched) == 4
    assert "0 of the first 2 checked (3 open)" in page.text


@pytest.mark.parametrize("path", ["/login", "/logout"])
async def test_a_login_or_logout_from_another_site_gets_no_100_continue(
    store: SQLiteStore, path: str
) -> None:
    """A login or logout form posted by another site's page with `Expect: 100-continue` is
    refused (403) as its first answer, its body never asked for."""
    async with serving(store) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            head = f"POST {path} HTTP/1.1\r\nHost: x\r\nOrigin: {EVIL}\r\n"
            head += "Content-Type: application/x-www-form-urlencoded\r\n"
            head += "Expect: 100-continue\r\nContent-Length: 40\r\n\r\n"
            writer.write(head.encode())
            await writer.drain()
            status = (await read_answer(reader)).status
        finally:
            writer.close()
    assert status == 403


# --- the gateway: Expect as a list ----------------------------------------------------------


async def first_answers(port: int, request: bytes) -> list[int]:
    """The statuses answered to `request` sent whole, up to its final answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        statuses = [(await read_answer(reader)).status]
        if statuses == [100]:
            statuses.append((await read_answer(reader)).status)
        return statuses
    finally:
        writer.close()


@pytest.mark.parametrize(
    ("expect", "answers"),
    [
        ("Expect:\r\n", [202]),
        ("Expect: \t\r\n", [202]),
        ("Expect: 100-continue, 100-continue\r\n", [100, 202]),
        ("Expect: 100-continue,\r\n", [100, 202]),
        ("Expect: , 100-Continue\r\n", [100, 202]),
    ],
    ids=[
        "blank",
        "blank with a tab",
        "the one twice in a list",
        "a trailing comma",
        "a leading comma",
    ],
)
async def test_expect_is_read_as_the_list_it_is(
    gateway: IngestService, queues: Queues, expect: str, answers: list[int]
) -> None:
    """`Expect` is a list (RFC 9110 5.6.1: empty items are ignored): sent blank it asks
    nothing, and `100-continue` named twice or beside an empty item is that one expectation,
    as on the daemon's port. Refused 417, the alert was lost (no sender retries a 4xx)."""
    request = chunked(expect + f"Content-Length: {len(GENERIC)}\r\n", GENERIC)
    assert await first_answers(gateway.port, request) == answers
    assert queues.depth() == 1
