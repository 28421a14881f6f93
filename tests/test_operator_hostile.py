"""What a hostile or unlucky operator, browser or dead letter does to the operator surface: the
API and status page served in process on a loopback port (SQLite store), silence matchers RE2
would run slowly or complain about on stderr, text that is not Unicode, and `triage dlq
redrive` against moto's SQS with bodies too large to batch naively and letters that bounce."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
import structlog
from botocore.exceptions import ClientError
from pydantic import SecretStr

from daemon_harness import Queues
from factories import alert, ends_after
from test_pipeline import CountingSummariser
from test_silences import Rig
from triage.auth_limit import FAILURE_BURST
from triage.aws import Aws
from triage.errors import ConfigError
from triage.health import Health
from triage.incidents.lifecycle import Policy
from triage.incidents.silences import Matcher, Silence, SilenceCache, first_match
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import SILENCES, SILENCES_KEY, Record
from triage.metrics import Metrics
from triage.ops import dlq
from triage.ops.api import OperatorView, operator_routes
from triage.ops.endpoints import EndpointServer
from triage.ops.operator import new_silence
from triage.settings import Settings

TOKEN = "hostile-op-token-" + "q" * 20
BEARER = {"Authorization": f"Bearer {TOKEN}"}
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    opened = SQLiteStore(str(tmp_path / "t.db"), Policy(), timedelta(minutes=2), timedelta(days=1))
    await opened.open()
    yield opened
    await opened.aclose()


@contextlib.asynccontextmanager
async def serving(
    store: SQLiteStore, metrics: Metrics | None = None
) -> AsyncIterator[EndpointServer]:
    settings = Settings(api_token=SecretStr(TOKEN))
    aws = Aws(settings)
    view = OperatorView(
        settings,
        store,
        SilenceCache(store),
        [],
        CountingSummariser(),
        Health(),
        aws,
        metrics=metrics or Metrics(),
    )
    server = EndpointServer(Health(), Metrics(), "127.0.0.1", 0, extra_routes=operator_routes(view))
    await server.start()
    try:
        yield server
    finally:
        await server.aclose()
        await aws.aclose()


def client(server: EndpointServer) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(base_url=f"http://127.0.0.1:{server.port}")


SILENCE = {"matchers": ["team=payments"], "duration": "2h", "comment": "deploy", "author": "al"}


# --- silence matchers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern",
    [
        "(.?){1000}",  # RE2's DFA runs out of memory: tens of ms per 256-character value
        "(?s)(.{0,5}){0,200}",
        "(?s)(.{1,10}){1,100}x",
        "(?s)(.?){300}",
    ],
)
def test_a_regex_too_costly_to_match_is_refused(pattern: str) -> None:
    """A pattern RE2 compiles to a program too large to match cheaply (every alert is matched
    against every silence, on the event loop) is refused with a ValueError that says so."""
    with pytest.raises(ValueError, match="too costly"):
        Matcher.parse(f"title=~{pattern}")


@pytest.mark.parametrize(
    "pattern", [".*disk.*", r"(?i)(db|database)-[0-9]{1,3}\..*", r"\pL+", "checkout-(api|web)"]
)
def test_ordinary_regexes_are_accepted(pattern: str) -> None:
    """Patterns operators write (Unicode classes, which RE2 compiles large, included) pass."""
    assert Matcher.parse(f"title=~{pattern}").value == pattern


def test_re2_writes_nothing_raw_to_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    """RE2's own C++ log (a parse error quoting the operator's pattern) never reaches the
    daemon's stderr, whose every line is JSON; the error says why in plain text, not bytes."""
    with pytest.raises(ValueError, match="RE2") as refused:
        Matcher.parse("title=~(a{1000}){1000} password=hunter2")
    assert "b'" not in str(refused.value)
    assert capfd.readouterr().err == ""


def test_too_many_matchers_are_refused_before_any_is_compiled() -> None:
    """More matchers than a silence takes are refused by their count, before the first is
    parsed: a 64 KiB request of a thousand regexes costs no compile on the event loop."""
    many = ["title=~("] + [f"title=~.*disk{i}.*" for i in range(1000)]
    with pytest.raises(ValueError, match="at most 32 matchers"):
        new_silence(many, "1h", "why", "al", NOW)


async def test_a_stored_silence_that_breaks_the_rules_is_not_honoured(store: SQLiteStore) -> None:
    """A silence written to the store by hand or by another writer is held to the rules a new
    one is: no matchers, matchers every alert satisfies, or times without a UTC offset (which
    made every alert's match raise TypeError) are skipped with a warning; a good one is kept."""
    good = Silence.new([Matcher.parse("team=search")], NOW, NOW + timedelta(hours=1), "c", "a")
    entry = good.to_json()
    bad = [
        {**entry, "id": "none", "matchers": []},
        {**entry, "id": "all", "matchers": ["env!=prod"]},
        {**entry, "id": "naive", "starts_at": "2026-12-04T11:00:00"},
        {**entry, "id": "many", "matchers": [f"team=t{i}" for i in range(40)]},
        {**entry, "id": "text", "matchers": "team=search"},  # an assert let it through
        {**entry, "id": "forever", "ends_at": "9999-12-31T23:59:59+00:00"},  # + a week overflows
    ]
    body = json.dumps({"silences": [*bad, entry]})
    await store._update(
        SILENCES, SILENCES_KEY, lambda r: (Record(SILENCES_KEY, SILENCES, 1, body), None)
    )
    with structlog.testing.capture_logs() as logs:
        kept = await store.silences()
    assert [s.id for s in kept] == [good.id]
    assert sorted(e["silence"] for e in logs if e["event"] == "silence.unreadable") == sorted(
        b["id"] for b in bad
    )
    assert first_match(kept, alert("unrelated"), NOW) is None
    another = Silence.new([Matcher.parse("team=x")], NOW, NOW + timedelta(hours=1), "c", "a")
    assert (await store.add_silence(another, NOW)).id == another.id  # the record stays writable


@pytest.mark.parametrize(
    "matcher",
    [
        "team=payments ",  # pasted with a trailing space
        "team=\tpayments",
        "team=pay  ments",
        "title=disk\x1b[2J full",
        "env!=prod\u200f",  # a != that can never be equal holds for every alert
        "team=\u202epayments",
    ],
)
def test_a_matcher_value_no_alert_can_hold_is_refused(matcher: str) -> None:
    """Alert values are one line, trimmed, single-spaced, without controls or bidi marks: an
    `=` or `!=` value with any of them (often pasted) could never equal one, so the silence
    would quietly hold nothing (or, with `!=`, everything); it is refused, naming the matcher."""
    with pytest.raises(ValueError, match="no alert value"):
        new_silence([matcher, "source=generic"], "1h", "why", "al", NOW)


def test_a_matcher_value_alerts_can_hold_is_accepted() -> None:
    """A zero-width space survives normalisation, so a value holding one is accepted (and kept
    as the redactor shows it, without it, as alerts are matched); so are regular expressions
    with any whitespace."""
    made = new_silence(["team=pay\u200bments", "title=~disk  .*"], "1h", "why", "al", NOW)
    assert [m.value for m in made.matchers] == ["payments", "disk  .*"]


async def test_a_credential_typed_into_a_silence_is_not_stored(store: SQLiteStore) -> None:
    """A comment or author quoting a credential is redacted before the silence is stored: the
    shared table (readable by whoever reads the store) never holds it, only what is shown."""
    body = {
        **SILENCE,
        "comment": "rotated: password=hunter2hunter2",
        "author": "token ghp_" + "a" * 36,
    }
    async with serving(store) as server, client(server) as http:
        made = await http.post("/api/v1/silences", json=body, headers=BEARER)
    assert made.status_code == 201, made.text
    [kept] = await store.silences()
    assert "hunter2" not in kept.comment and "[REDACTED" in kept.comment
    assert "ghp_" not in kept.author


async def test_an_invisible_character_in_a_matcher_is_shown(store: SQLiteStore) -> None:
    """A stored matcher holding a zero-width space (an earlier release kept it as pasted) is
    listed with it written as <U+200B>, so the operator sees why it does not match `payments`;
    the redactor, which drops invisible characters (escaped ones too), would hide it."""
    pasted = Silence.new(
        [Matcher.parse("team=pay\u200bments")], NOW, ends_after(NOW, 300), "c", "a"
    )
    await store.add_silence(pasted, NOW)
    async with serving(store) as server, client(server) as http:
        listed = (await http.get("/api/v1/silences", headers=BEARER)).json()["silences"]
    assert listed[0]["matchers"] == ["team=pay<U+200B>ments"]


@pytest.mark.parametrize(
    "typed",
    [
        "title=db down password=[REDACTED:password]",  # copied from what the API shows
        "title=db down password=hunter2hunter2",  # the secret itself, typed by someone who knew it
    ],
)
async def test_a_silence_matches_the_alert_as_operators_see_it(typed: str) -> None:
    """Silences are matched against the alert as shown and stored (redacted), by the pipeline
    and the sweep alike: one copied from the API holds the alert, and one typing the secret is
    stored redacted and holds it too (the pipeline matched the raw alert and the sweep the
    stored one, so the first opened at once and the second was let go a minute later)."""
    rig = Rig()
    made = new_silence([typed], "3h", "db work", "al", rig.clock.now)
    await rig.store.add_silence(made, rig.clock.now)
    assert "hunter2" not in str(made.matchers)
    secret = alert("db").model_copy(update={"title": "db down password=hunter2hunter2"})
    await rig.pipeline.handle(secret, "m0")
    for minutes in (1, 2):
        rig.clock.at(minutes)
        await rig.sweep().once()
    assert rig.sink.kinds() == []


# --- text that is not Unicode ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("comment", "db \ud800 maintenance"),
        ("author", "al\udcff"),  # argv decoded with surrogateescape: a Latin-1 terminal's é
        ("matchers", ["team=pay\udcffments"]),
    ],
)
async def test_silence_text_that_is_not_unicode_is_refused(
    store: SQLiteStore, field: str, value: object
) -> None:
    """A lone surrogate (a JSON \\ud800 escape, or a command-line argument that was not UTF-8)
    in a silence is refused with a 400 naming the field, and nothing is stored."""
    body = json.dumps({**SILENCE, field: value}).encode()
    async with serving(store) as server, client(server) as http:
        answer = await http.post("/api/v1/silences", content=body, headers=BEARER)
    assert answer.status_code == 400, answer.text
    assert "Unicode" in answer.json()["error"]
    assert await store.silences() == []


async def test_the_page_renders_a_stored_silence_whose_text_is_not_unicode(
    store: SQLiteStore,
) -> None:
    """A silence whose comment is not valid Unicode (stored by an earlier release, or another
    writer) leaves the status page readable: the character is replaced, not a 500 for everyone."""
    kept = Silence.new([Matcher.parse("team=payments")], NOW, ends_after(NOW, 300), "x", "a")
    await store.add_silence(Silence(**{**_fields(kept), "comment": "db \ud800 work"}), NOW)
    async with serving(store) as server, client(server) as http:
        page = await http.get("/", headers=BEARER)
    assert page.status_code == 200
    assert "db ? work" in page.text or "db \ufffd work" in page.text


def _fields(silence: Silence) -> dict[str, object]:
    return {name: getattr(silence, name) for name in Silence.__slots__}


def test_new_silence_refuses_a_lone_surrogate_from_the_command_line() -> None:
    """The CLI's path (`triage silence add`) refuses the same text as the API does."""
    with pytest.raises(ValueError, match="Unicode"):
        new_silence(["team=a"], "1h", "why \udce9", "al", NOW)


# --- authentication -------------------------------------------------------------------------


def _raw(port: int, request: bytes) -> bytes:
    """Send `request` as written (httpx2 would merge or refuse some headers) and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize("right_first", [True, False])
async def test_two_authorization_headers_are_refused(store: SQLiteStore, right_first: bool) -> None:
    """A request carrying two Authorization headers is refused whichever comes first: a proxy
    that reads the other one must not disagree with us about who is asking."""
    right, wrong = f"Bearer {TOKEN}".encode(), b"Bearer " + b"w" * len(TOKEN)
    first, second = (right, wrong) if right_first else (wrong, right)
    request = (
        b"GET /api/v1/incidents HTTP/1.1\r\nHost: x\r\n"
        b"Authorization: " + first + b"\r\nAuthorization: " + second + b"\r\n\r\n"
    )
    async with serving(store) as server:
        answer = await asyncio.to_thread(_raw, server.port, request)
        one = await asyncio.to_thread(
            _raw, server.port, request.replace(b"Authorization: " + wrong + b"\r\n", b"")
        )
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:80]
    assert one.startswith(b"HTTP/1.1 200 "), one[:80]


async def test_a_flood_of_failed_logins_writes_a_bounded_log(store: SQLiteStore) -> None:
    """Anyone who can reach the port can post the login form: 30 wrong tokens (past
    FAILURE_BURST of them refused 429 uncompared) and cross-site posts write at most the
    refusal log's burst of lines (10 a window) and the first line of the other kind (the
    cross-site posts after the guesses), each counted in HttpRefused{reason}, instead of one
    line per guess."""
    wrong = (
        b"POST /login HTTP/1.1\r\nHost: x\r\nCookie: triage_csrf=abc\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 20\r\n\r\n"
        b"csrf=abc&token=guess"
    )
    cross = wrong.replace(b"Host: x", b"Host: x\r\nOrigin: https://evil.example")
    metrics = Metrics()
    async with serving(store, metrics) as server:
        with structlog.testing.capture_logs() as logs:
            for request in [wrong] * 30 + [cross] * 10:
                answer = await asyncio.to_thread(_raw, server.port, request)
                assert answer.split(b" ")[1] in (b"401", b"403", b"429"), answer[:60]
    login_lines = [e for e in logs if "login" in e["event"]]
    assert 1 <= len(login_lines) <= 10 + 1, login_lines
    assert {e["reason"] for e in login_lines} == {"wrong_token", "cross_site"}
    assert metrics.counter("HttpRefused", reason="wrong_token") == FAILURE_BURST
    assert metrics.counter("HttpRefused", reason="limited") == 30 - FAILURE_BURST
    assert metrics.counter("HttpRefused", reason="cross_site") == 10


# --- triage dlq redrive ---------------------------------------------------------------------


@contextlib.asynccontextmanager
async def sqs_of(queues: Queues) -> AsyncIterator[Any]:
    aws = Aws(Settings(aws_endpoint_url=queues.endpoint, queue_url=queues.url))
    try:
        yield await aws.client("sqs")
    finally:
        await aws.aclose()


async def _redrive(sqs: Any, queues: Queues, max_messages: int = 1000, **urls: str) -> int:
    """`triage dlq redrive` by batches (what runs where SQS has no move task, as on moto)."""
    queue_url, dlq_url = urls.get("queue_url", queues.url), urls.get("dlq_url", queues.dlq_url)
    arn = await sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])
    queue_arn = "arn:aws:sqs:us-east-1:123456789012:" + queue_url.rpartition("/")[2]
    return await dlq.redrive(
        sqs, queue_url, dlq_url, arn["Attributes"]["QueueArn"], queue_arn, max_messages, False
    )


def _everything(queues: Queues, url: str) -> list[dict[str, Any]]:
    """Every message on `url` (received, so hidden for a minute: read it last)."""
    sqs, out = queues.client(), []
    while batch := sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        VisibilityTimeout=60,
        MessageAttributeNames=["All"],
        MessageSystemAttributeNames=["All"],
    ).get("Messages", []):
        out += batch
    return out


async def test_redrive_moves_dead_letters_too_large_to_batch_together(queues: Queues) -> None:
    """Dead letters of 400 KB each (a queue may take 1 MiB) go in batches SQS accepts, a large
    one alone, instead of every redrive failing with BatchRequestTooLong and moving nothing."""
    sent = [json.dumps({"title": f"big {i}", "description": "x" * 400_000}) for i in range(3)]
    sent += [json.dumps({"title": f"small {i}"}) for i in range(12)]
    for body in sent:
        queues.client().send_message(QueueUrl=queues.dlq_url, MessageBody=body)
    async with sqs_of(queues) as sqs:
        assert await _redrive(sqs, queues) == len(sent)
    assert sorted(m["Body"] for m in _everything(queues, queues.url)) == sorted(sent)
    assert queues.depth(queues.dlq_url) == 0


async def test_a_letter_the_main_queue_refuses_does_not_stop_the_rest(queues: Queues) -> None:
    """A dead letter larger than the main queue takes (its MaximumMessageSize was lowered since)
    fails its whole SendMessageBatch call: the others of the batch and of later batches still
    move, and that one stays in the DLQ, visible, with the run saying what was left."""
    queues.client().set_queue_attributes(
        QueueUrl=queues.url, Attributes={"MaximumMessageSize": "1024"}
    )
    small = [json.dumps({"title": f"small {i}"}) for i in range(14)]
    large = json.dumps({"title": "large", "description": "x" * 2000})
    for body in [*small[:5], large, *small[5:]]:
        queues.client().send_message(QueueUrl=queues.dlq_url, MessageBody=body)
    async with sqs_of(queues) as sqs:
        assert await _redrive(sqs, queues) == len(small)
    assert sorted(m["Body"] for m in _everything(queues, queues.url)) == sorted(small)
    assert [m["Body"] for m in _everything(queues, queues.dlq_url)] == [large]


async def test_redrive_keeps_attributes_and_the_trace_header(queues: Queues) -> None:
    """A dead letter's attributes (binary, numeric, custom types, terminal escapes in a value)
    and its X-Ray trace header go back with it, beside what the redrive adds of its own."""
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    attributes = {
        "bin": {"DataType": "Binary", "BinaryValue": b"\xff\x00\xfe"},
        "num": {"DataType": "Number.float", "StringValue": "1.5"},
        "odd": {"DataType": "String.custom", "StringValue": "\x1b[2J\u202e"},
    }
    sent = queues.client().send_message(
        QueueUrl=queues.dlq_url,
        MessageBody='{"title": "attrs"}',
        MessageAttributes=attributes,
        MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String", "StringValue": trace}},
    )
    async with sqs_of(queues) as sqs:
        recording = _Recording(sqs)
        assert await _redrive(recording, queues) == 1
    [back] = _everything(queues, queues.url)
    kept = {k: {**v} for k, v in back["MessageAttributes"].items()}
    assert {k: kept[k] for k in attributes} == attributes
    # The redrive adds only its own: the letter's identity (its message id in the DLQ) and
    # when it was first queued.
    assert set(kept) - set(attributes) == {"redriven_from", "received_at"}
    assert kept["redriven_from"]["StringValue"] == sent["MessageId"]
    # moto's SendMessageBatch drops system attributes, so the request itself is checked.
    [[entry]] = [call["Entries"] for call in recording.batches]
    assert entry["MessageSystemAttributes"]["AWSTraceHeader"]["StringValue"] == trace


class _Recording:
    """The SQS client, with the SendMessageBatch calls it was asked to make kept."""

    def __init__(self, sqs: Any) -> None:
        self._sqs, self.batches = sqs, list[dict[str, Any]]()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqs, name)

    async def send_message_batch(self, **call: Any) -> Any:
        self.batches.append(call)
        return await self._sqs.send_message_batch(**call)


async def test_redrive_refuses_the_queue_as_its_own_dlq(queues: Queues) -> None:
    """`--dlq-url` naming the main queue is refused before anything moves: batches would take
    the queue's own messages round and round until --max."""
    queues.send({"title": "live"})
    async with sqs_of(queues) as sqs:
        with pytest.raises(ConfigError, match="the queue itself"):
            await _redrive(sqs, queues, 50, dlq_url=queues.url)
    assert [m["Body"] for m in _everything(queues, queues.url)] == ['{"title": "live"}']


class _Bouncing:
    """An SQS client whose main queue rejects everything a redrive sends it: right after each
    SendMessageBatch, the messages are received past maxReceiveCount, so moto moves them back
    to the DLQ (as a daemon that still cannot handle them would, during a long redrive)."""

    def __init__(self, sqs: Any, queues: Queues) -> None:
        self._sqs, self._queues, self.sends = sqs, queues, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqs, name)

    async def send_message_batch(self, **call: Any) -> Any:
        self.sends += 1
        answer = await self._sqs.send_message_batch(**call)
        sync = self._queues.client()
        while sync.receive_message(
            QueueUrl=self._queues.url, MaxNumberOfMessages=10, VisibilityTimeout=0
        ).get("Messages"):
            pass  # the receive after maxReceiveCount moves them to the DLQ
        return answer


async def test_a_letter_that_bounces_back_during_a_redrive_is_moved_once(queues: Queues) -> None:
    """A redrive moves each dead letter once: those the daemon rejects again and SQS moves
    back to the DLQ meanwhile are left there (and visible again), not moved until --max."""
    sent = [json.dumps({"title": f"rejected {i}"}) for i in range(4)]
    for body in sent:
        queues.client().send_message(QueueUrl=queues.dlq_url, MessageBody=body)
    async with sqs_of(queues) as sqs:
        bouncing = _Bouncing(sqs, queues)
        assert await _redrive(bouncing, queues, 50) == len(sent)
    assert bouncing.sends == 1
    assert sorted(m["Body"] for m in _everything(queues, queues.dlq_url)) == sorted(sent)


class _Unhiding:
    """An SQS client whose receives hide nothing (VisibilityTimeout 0), so the same dead
    letters come back on every call; it gives up after `limit` receives."""

    def __init__(self, sqs: Any, limit: int = 50) -> None:
        self._sqs, self.receives, self.limit = sqs, 0, limit

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqs, name)

    async def receive_message(self, **call: Any) -> Any:
        self.receives += 1
        if self.receives > self.limit:
            raise AssertionError("the redrive kept receiving the same letters")
        return await self._sqs.receive_message(**{**call, "VisibilityTimeout": 0})


async def test_a_redrive_ends_when_only_letters_it_skips_come_back(queues: Queues) -> None:
    """A dead letter newer than the redrive is skipped; if the queue hands it out again and
    again (its hiding not honoured), the redrive ends instead of receiving it forever."""
    async with sqs_of(queues) as sqs:
        unhiding = _Unhiding(sqs)
        move = dlq._Move(unhiding, queues.url, queues.dlq_url)
        move.started -= timedelta(minutes=1)  # the letter below is surely newer
        queues.client().send_message(QueueUrl=queues.dlq_url, MessageBody='{"title": "new"}')
        try:
            assert await move.run(1000) == 0
        finally:
            await move.let_go()
    assert len(move.skipped) == 1 and unhiding.receives < 10


async def test_a_redrive_that_fails_lets_its_letters_go_at_once(queues: Queues) -> None:
    """When the main queue is gone, the redrive fails with SQS's error and the dead letters it
    had taken are visible in the DLQ again at once, not hidden for two minutes."""
    for i in range(3):
        queues.client().send_message(QueueUrl=queues.dlq_url, MessageBody=f'{{"title": "{i}"}}')
    missing = queues.url + "-gone"
    async with sqs_of(queues) as sqs:
        with pytest.raises(ClientError, match="NonExistentQueue"):
            await _redrive(sqs, queues, queue_url=missing)
    visible = queues.client().get_queue_attributes(
        QueueUrl=queues.dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert visible["Attributes"]["ApproximateNumberOfMessages"] == "3"
