"""Round 19 of the two HTTP ports (helper 581), under both of aiohttp's parsers (llhttp, and the
pure-Python one AIOHTTP_NO_EXTENSIONS=1 selects; the `parser` fixture of round 17):

- a HEAD request refused once its request line was read (a bad header line, a faulty framing,
  a head trickled past the idle timeout) is answered without content on the gateway as on the
  operators' port (RFC 9110 9.3.2): its client would read the content as the next answer;
- a chunk-size line's extensions are checked against RFC 9112 7.1.1 (without the whitespace
  llhttp refuses) before either parser reads them;
- `OPTIONS *` with an expectation other than 100-continue is the gateway's own JSON 417,
  which quotes nothing the sender wrote.

Over raw sockets on 127.0.0.1, and ChunkSizes fed directly."""

from __future__ import annotations

import asyncio

import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues
from ingest_harness import TOKENS, ingest_settings, running
from test_ingest_hostile import exchange, read_answer
from test_operator_hostile import serving, store  # noqa: F401 (the store fixture)
from test_ports_round17_572 import parser  # noqa: F401 (the parser fixture)
from test_ports_round18_576 import _after_head, _get
from triage.incidents.sqlite import SQLiteStore
from triage.ingest.chunks import MAX_EXTENSION_BYTES, BadChunkExtension, ChunkSizes

CLOSE = b"Connection: close\r\n"

#: HEAD requests refused once their request line was read, and the status both ports answer.
REFUSED_HEADS = [
    (_get(b"/healthz", CLOSE + b"Transfer-Encoding: gzip\r\n", b"HEAD"), 400),
    (
        b"HEAD /healthz HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    ),
    (_get(b"/healthz", b"Content-Length: 1\r\nContent-Length: 1\r\n", b"HEAD") + b"ab", 400),
    (_get(b"/healthz", b"Transfer-Encoding: chunked\t\r\n", b"HEAD"), 400),
    (_get(b"/healthz", b" folded\r\n", b"HEAD"), 400),
    (_get(b"/healthz", b"X: \x00\r\n", b"HEAD"), 400),
    (_get(b"/healthz", b"X: " + b"a" * 9000 + b"\r\n", b"HEAD"), 431),
]


@pytest.mark.usefixtures("parser")
@pytest.mark.parametrize(("request_bytes", "status"), REFUSED_HEADS)
async def test_a_head_request_refused_from_its_head_has_no_content_on_either_port(
    queues: Queues,
    store: SQLiteStore,  # noqa: F811 (the fixture)
    request_bytes: bytes,
    status: int,
) -> None:
    """Each HEAD of REFUSED_HEADS (a faulty framing, a header line either parser refuses) is
    answered its status and nothing after the head, by the gateway as by the operators' port."""
    async with (
        running(ingest_settings(queues.url, queues.endpoint)) as gateway,
        serving(store) as operators,
    ):
        answers = (
            await _after_head(gateway.port, request_bytes),
            await _after_head(operators.port, request_bytes),
        )
    assert answers == ((status, b""), (status, b""))


@pytest.mark.usefixtures("parser")
async def test_a_refused_head_request_behind_a_served_one_is_answered_without_content(
    queues: Queues,
) -> None:
    """A GET served, then a HEAD pipelined behind it whose head is refused: the GET's answer
    carries its content, the HEAD's 400 none, so a client reads two answers, not a third."""
    request = _get(b"/healthz") + _get(b"/healthz", b"X\x01: y\r\n", b"HEAD")
    async with running(ingest_settings(queues.url, queues.endpoint)) as gateway:
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        try:
            writer.write(request)
            served = await read_answer(reader)
            refused = await asyncio.wait_for(reader.read(), timeout=10)
        finally:
            writer.close()
    assert (served.status, served.json()) == (200, {"alive": True})
    head, _, rest = refused.partition(b"\r\n\r\n")
    assert (head.split(b" ", 2)[1], rest) == (b"400", b"")
    assert b"content-length: " in head.lower()  # (what a GET's answer would carry)


@pytest.mark.usefixtures("parser")
async def test_a_head_request_trickled_past_the_idle_timeout_is_408_without_content(
    queues: Queues,
) -> None:
    """A HEAD whose head is still arriving at the idle timeout is answered 408 without content
    (the gateway writes that answer itself, before any parser is done)."""
    settings = ingest_settings(queues.url, queues.endpoint, ingest_idle_timeout_s=0.3)
    async with running(settings) as gateway:
        answer = await _after_head(gateway.port, b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n")
    assert answer == (408, b"")


@pytest.mark.usefixtures("parser")
async def test_options_star_with_an_unmet_expectation_is_the_gateways_json_417(
    queues: Queues,
) -> None:
    """`OPTIONS *` with `Expect: <hostile>` is the gateway's JSON 417, as on its paths, and its
    answer quotes nothing the sender wrote (it was aiohttp's `Unknown Expect: …` text)."""
    request = _get(b"*", b"Expect: <b>sent</b>\r\n", b"OPTIONS")
    async with running(ingest_settings(queues.url, queues.endpoint)) as gateway:
        answer = await exchange(gateway.port, request)
    assert answer.status == 417
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    assert answer.json()["error"] == "the only Expect understood is 100-continue"
    assert b"sent" not in answer.body


#: Chunk extensions llhttp takes and RFC 9112 7.1.1 spells, taken under both parsers.
GOOD_EXTENSIONS = [b"", b";a", b";a=b", b";a=b;c=d", b';a="b c"', b';a="\\""', b';a="\x80";b']


def _chunked_alert(extension: bytes) -> bytes:
    body = b'{"title": "disk full"}'
    head = b"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n"
    head += f"Authorization: Bearer {TOKENS['generic']}\r\n".encode()
    head += b"Transfer-Encoding: chunked\r\n\r\n"
    return head + b"%x%s\r\n%s\r\n0%s\r\n\r\n" % (len(body), extension, body, extension)


@pytest.mark.usefixtures("parser")
@pytest.mark.parametrize("extension", GOOD_EXTENSIONS)
async def test_a_chunk_extension_rfc_9112_spells_is_taken_under_both_parsers(
    queues: Queues, extension: bytes
) -> None:
    """A chunked alert whose chunk-size lines carry an extension of GOOD_EXTENSIONS is queued
    (202), whichever parser reads it."""
    async with running(ingest_settings(queues.url, queues.endpoint)) as gateway:
        answer = await exchange(gateway.port, _chunked_alert(extension))
    assert answer.status == 202
    assert queues.depth() == 1


#: Chunk extensions refused: llhttp refuses each, or RFC 9112 does (an empty name or value).
BAD_EXTENSIONS = [
    b";a b",
    b"; a=b",
    b" ;a",
    b";a =b",
    b";a= b",
    b";a=b ",
    b';a="b',
    b';a="b"c',
    b';a="\x7f"',
    b";",
    b";a=b;",
    b";;a",
    b";=b",
    b";a=",
    b";a@=b",
    b";a=\x80",
    b";a=" + b"b" * MAX_EXTENSION_BYTES,
]


def _feed(data: bytes, *, by: int) -> bool:
    """Whether ChunkSizes, fed `data` `by` bytes at a time, takes its framing."""
    sizes = ChunkSizes()
    try:
        for at in range(0, len(data), by):
            sizes.check(data[at : at + by])
    except BadChunkExtension:
        return False
    return True


@pytest.mark.parametrize("by", [1, 2, 3, 10_000])
def test_chunk_extensions_are_judged_alike_however_the_body_is_read(by: int) -> None:
    """Every extension of GOOD_EXTENSIONS is taken and every one of BAD_EXTENSIONS refused,
    on a chunk-size line read whole or straddling reads (`by` bytes each)."""
    framing = b"5%s\r\nhello\r\n0\r\n\r\n"
    assert [_feed(framing % extension, by=by) for extension in GOOD_EXTENSIONS] == [True] * len(
        GOOD_EXTENSIONS
    )
    assert [_feed(framing % extension, by=by) for extension in BAD_EXTENSIONS] == [False] * len(
        BAD_EXTENSIONS
    )


@pytest.mark.usefixtures("parser")
async def test_a_chunk_extension_over_its_bound_is_400_with_one_line(queues: Queues) -> None:
    """A chunk-size line carrying 20 KB of extension is answered 400 once it passes
    MAX_EXTENSION_BYTES, with one ingest.bad_http line naming it, and nothing is queued."""
    request = _chunked_alert(b";" + b"x" * 20_000)
    async with running(ingest_settings(queues.url, queues.endpoint)) as gateway:
        with capture_logs() as logs:
            status, _ = await _after_head(gateway.port, request)
    lines = [(e["status"], e["reason"]) for e in logs if e["event"] == "ingest.bad_http"]
    assert (status, lines) == (400, [(400, "a chunk extension outside RFC 9112 7.1.1")])
    assert queues.depth() == 0


@pytest.mark.usefixtures("parser")
async def test_a_head_request_over_64_kib_unfinished_is_431_without_content(
    queues: Queues,
    store: SQLiteStore,  # noqa: F811 (the fixture)
) -> None:
    """A HEAD whose head passes 64 KiB before it ends (long header lines, received at once) is
    answered 431 without content, on the gateway as on the operators' port."""
    request = b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n" + b"X: %s\r\n" % (b"a" * 8000) * 9
    async with (
        running(ingest_settings(queues.url, queues.endpoint)) as gateway,
        serving(store) as operators,
    ):
        answers = (
            await _after_head(gateway.port, request),
            await _after_head(operators.port, request),
        )
    assert answers == ((431, b""), (431, b""))
