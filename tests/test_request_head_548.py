"""Round 8 against both HTTP ports (helper 548): one rule for `Host` (RFC 9112 3.2) and one for
a Bearer credential (RFC 6750), applied by the webhook gateway and the operators' port alike;
absolute-form targets on the operators' port; `nosniff` on every gateway answer, and a 401
that names a token followed by a no-break space. Over raw sockets on 127.0.0.1 where the wire
shows it."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict
from structlog.testing import capture_logs

from daemon_harness import Queues
from ingest_harness import TOKENS, ingest_settings, running
from test_http_endpoints import ask
from test_ingest_hostile import read_answer
from test_operator_hostile import TOKEN, serving, store  # noqa: F401 (the store fixture)
from triage.incidents.sqlite import SQLiteStore
from triage.ingest import auth
from triage.ingest.gateway import _bad_host
from triage.request_head import bearer_token, host_fault

LISTING = b"GET /api/v1/incidents HTTP/1.1\r\n"
AUTH = f"Authorization: Bearer {TOKEN}\r\n".encode()

# --- Host: the rule ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hosts", "http_11", "fault"),
    [
        ([], True, "no_host"),
        ([], False, None),
        (["x", "x"], True, "hosts_repeated"),
        (["x", "y"], False, "hosts_repeated"),
        (["a b"], True, "bad_host"),
        (["u:p@x"], True, "bad_host"),
        (["x"], True, None),
        ([""], True, None),
        (["[::1]:8080"], True, None),
        (["alerts.example.com:443"], False, None),
    ],
)
def test_host_fault_is_rfc_9112s_rule(hosts: list[str], http_11: bool, fault: str | None) -> None:
    """A Host is required of HTTP/1.1 only, never twice, and must name a host (empty included)."""
    assert host_fault(hosts, http_11=http_11) == fault


# --- Host: the gateway ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "reason"),
    [((), "no_host"), ((("Host", "x"), ("Host", "y")), "hosts_repeated")],
    ids=["none", "two"],
)
def test_the_gateway_refuses_a_missing_or_repeated_host_whatever_its_parser_does(
    headers: tuple[tuple[str, str], ...], reason: str
) -> None:
    """The gateway's own check answers 400 to an HTTP/1.1 request without Host or with two,
    not only aiohttp's parser (which takes two Hosts before 3.13.4: CVE-2026-34525)."""
    request = make_mocked_request("POST", "/v1/alerts/generic", headers=CIMultiDict(headers))
    refused = _bad_host(request)
    assert refused is not None
    assert (refused.status, refused.reason) == (400, reason)


# --- Host: the operators' port -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hosts", "reason"),
    [
        (b"", "no_host"),
        (b"Host: x\r\nHost: y\r\n", "hosts_repeated"),
        (b"Host: a b\r\n", "bad_host"),
    ],
    ids=["none", "two", "no host named"],
)
async def test_the_operators_port_answers_400_to_a_bad_host(
    store: SQLiteStore,  # noqa: F811
    hosts: bytes,
    reason: str,
) -> None:
    """An HTTP/1.1 request to the operators' port without Host, with two, or with one naming no
    host is answered 400 (RFC 9112 3.2 MUST), with its token right, and logged by its reason."""
    async with serving(store) as server:
        with capture_logs() as logs:
            status, _, body = await ask(server.port, LISTING + hosts + AUTH + b"\r\n")
    assert status == 400, body
    assert [e["reason"] for e in logs if e["event"] == "http.refused"] == [reason]
    assert b"a b" not in body


@pytest.mark.parametrize(
    "request_head",
    [LISTING + b"Host: x\r\n", b"GET /api/v1/incidents HTTP/1.0\r\n"],
    ids=["HTTP/1.1 with Host", "HTTP/1.0 without"],
)
async def test_the_operators_port_takes_one_host_or_none_from_http_10(
    store: SQLiteStore,  # noqa: F811
    request_head: bytes,
) -> None:
    """One Host, or none in an HTTP/1.0 request, is served as before."""
    async with serving(store) as server:
        status, _, body = await ask(server.port, request_head + AUTH + b"\r\n")
    assert status == 200, body


# --- Bearer: one rule for both ports -------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc.DEF-123_~+/==", "abc.DEF-123_~+/=="),
        ("bearer\tabc", "abc"),
        ("  BEARER   abc \t", "abc"),
        ("Bearer abc\xa0", None),
        ("Bearer \u3000abc", None),
        ("Bearer abc\x85", None),
        ("Bearer ab c", None),
        ("Bearer", None),
        ("Basic abc", None),
    ],
    ids=repr,
)
def test_a_bearer_token_is_visible_ascii_between_https_own_spaces(
    header: str, token: str | None
) -> None:
    """Only space and tab separate and surround a Bearer token; a Unicode space is never
    taken off it, and a token holding one is no token."""
    assert bearer_token(header) == token


@pytest.mark.parametrize(
    "after",
    [b"\xa0", b"\x85", b"\xc2\xa0", b"\xe3\x80\x80"],
    ids=["latin-1 no-break space", "latin-1 next line", "UTF-8 no-break space", "ideographic"],
)
async def test_the_operators_api_refuses_a_token_followed_by_a_unicode_space(
    store: SQLiteStore,  # noqa: F811
    after: bytes,
) -> None:
    """`Bearer <token>` and a no-break space (or another Unicode space) is refused 401 by the
    operators' API, as the gateway refuses it: it is not the token."""
    wrong = b"Authorization: Bearer " + TOKEN.encode() + after + b"\r\n"
    async with serving(store) as server:
        status, _, _ = await ask(server.port, LISTING + b"Host: x\r\n" + wrong + b"\r\n")
    assert status == 401


async def test_the_operators_api_takes_a_tab_after_bearer_as_the_gateway_does(
    store: SQLiteStore,  # noqa: F811
) -> None:
    """`Bearer<TAB><token>`, which the gateway takes, is taken by the operators' API too."""
    tabbed = f"Authorization: Bearer\t{TOKEN}\r\n".encode()
    async with serving(store) as server:
        status, _, body = await ask(server.port, LISTING + b"Host: x\r\n" + tabbed + b"\r\n")
    assert status == 200, body


# --- Absolute-form targets on the operators' port ------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        b"http://x/api/v1/incidents",
        b"HTTPS://x:8080/api/v1/incidents?limit=5",
        b"http://[::1]/api/v1/incidents",
    ],
)
async def test_the_operators_port_takes_an_absolute_form_target(
    store: SQLiteStore,  # noqa: F811
    target: bytes,
) -> None:
    """An absolute-form target (a client that takes the port for a proxy) is served as its
    path, as the gateway serves it (RFC 9112 3.2.2: a server MUST accept it)."""
    head = b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n" + AUTH + b"\r\n"
    async with serving(store) as server:
        status, _, body = await ask(server.port, head)
    assert status == 200, body
    assert b'"incidents"' in body


@pytest.mark.parametrize(
    "target",
    [
        b"http://u:p@x/api/v1/incidents",
        b"ftp://x/api/v1/incidents",
        b"http:///api/v1/incidents?",
        b"http://\xff/api/v1/incidents",
    ],
)
async def test_an_absolute_target_that_names_no_host_is_still_400(
    store: SQLiteStore,  # noqa: F811
    target: bytes,
) -> None:
    """An absolute target with user info, another scheme, no host, or a byte no host holds is
    refused 400 (not a 500), and its user info is not logged."""
    head = b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n" + AUTH + b"\r\n"
    async with serving(store) as server:
        with capture_logs() as logs:
            status, _, _ = await ask(server.port, head)
    assert status == 400
    assert "u:p@" not in str(logs)


async def test_an_absolute_target_names_the_host_a_write_is_judged_by(
    store: SQLiteStore,  # noqa: F811
) -> None:
    """With an absolute-form target, its host, not the Host header, is the request's host
    (RFC 9112 3.2.2), so an Origin naming the Host header's value alone is another site's."""
    body = b'{"matchers": ["team=x"], "duration": "1h", "comment": "c", "author": "a"}'
    head = (
        b"POST http://ops.example/api/v1/silences?dry_run=1 HTTP/1.1\r\nHost: evil.example\r\n"
        + AUTH
        + b"Origin: http://evil.example\r\nContent-Type: application/json\r\n"
        + b"Content-Length: %d\r\n\r\n" % len(body)
        + body
    )
    async with serving(store) as server:
        status, _, _ = await ask(server.port, head)
    assert status == 403


# --- What a browser may make of the gateway's answers --------------------------------------------

_GW_BODY = b'{"title": "<script>x</script>", "status": "firing"}'


def _gw_post(headers: bytes, body: bytes = _GW_BODY) -> bytes:
    return (
        b"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n"
        + headers
        + b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
        + body
    )


@pytest.mark.parametrize(
    "request_bytes",
    [
        _gw_post(f"Authorization: Bearer {TOKENS['generic']}\r\n".encode()),
        _gw_post(b"Authorization: Bearer wrong-token-0123456789\r\n"),
        b"GET /<script> HTTP/1.1\r\nHost: x\r\n\r\n",
        _gw_post(b"X-A: a\x00b\r\n"),
        b"GET /healthz HTTP/1.1\r\n\r\n",
    ],
    ids=["accepted", "unauthorized", "not found", "unparsable", "no Host"],
)
async def test_every_gateway_answer_tells_a_browser_not_to_sniff_it(
    queues: Queues, request_bytes: bytes
) -> None:
    """Every answer of the gateway, a handler's, the router's or the parser's refusal, carries
    `X-Content-Type-Options: nosniff` (as the operators' port's do): its JSON quotes what the
    sender wrote (a charset, a field), never to be read as a page."""
    async with running(ingest_settings(queues.url, queues.endpoint)) as gateway:
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        try:
            writer.write(request_bytes)
            await writer.drain()
            answer = await read_answer(reader)
        finally:
            writer.close()
    assert answer.headers.get("x-content-type-options") == "nosniff", answer.headers
    assert answer.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    "after", ["\xa0", "\u3000", "\u200b"], ids=["no-break space", "ideographic", "zero width"]
)
def test_a_bearer_token_with_a_unicode_space_is_named_as_the_fault(after: str) -> None:
    """`Bearer <token>` and a character no token holds (a no-break space from a copied page) is
    named `bearer_not_token`, for the 401 to say what to change."""
    headers = {"Authorization": f"Bearer {TOKENS['generic']}{after}"}
    assert auth.misformed(headers) == "bearer_not_token"


async def test_the_gateway_says_what_is_wrong_with_a_token_followed_by_a_no_break_space(
    queues: Queues,
) -> None:
    """The gateway's 401 to `Bearer <token>` and a no-break space says the credential holds a
    character no token has, and neither the answer nor the log quotes the token."""
    token = TOKENS["generic"]
    request_bytes = _gw_post(b"Authorization: Bearer " + token.encode() + b"\xc2\xa0\r\n")
    with capture_logs() as logs:
        async with running(ingest_settings(queues.url, queues.endpoint)) as gateway:
            reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
            try:
                writer.write(request_bytes)
                await writer.drain()
                answer = await read_answer(reader)
            finally:
                writer.close()
    assert answer.status == 401
    assert "no token has" in answer.json()["error"]
    assert token not in answer.body.decode() and token not in repr(logs)
    assert [e.get("detail") for e in logs if e["event"] == "ingest.refused"] == ["bearer_not_token"]
