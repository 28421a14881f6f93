"""Faults and surfaces, round 6 (helper 520): what an operator meets that rounds 4 and 5 left.

A profile's `credential_process` that never exits, the gateway's queue watch dying, a URL's
user info quoted on a terminal, and the faults a host gives a running daemon (a full disk, a
store replaced, DNS down, a sink that never ends its answer, a clock stepped back, signals)."""

from __future__ import annotations

import asyncio
import errno
import resource
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, MutableMapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import CredentialRetrievalError

from daemon_harness import (
    TOKEN,
    DaemonThread,
    Queues,
    daemon_env,
    drain_settings,
    settings_for,
)
from factories import T0, alert, view
from hostile_server import endless, hostile, then_drip
from ingest_harness import ingest_settings, running
from test_backend_hostile_answers import backend_sink
from test_backend_hostile_answers import effect as backend_effect
from triage import aws as aws_module
from triage import pipeline as pipeline_module
from triage.aws import Aws
from triage.demo.ticketd import TicketServer
from triage.display import urls_as_opened
from triage.errors import SinkUnavailableError, StoreUnavailableError
from triage.incidents.lifecycle import Action, Policy
from triage.incidents.sqlite import SQLiteStore
from triage.ingest import service as service_module
from triage.ingest.probe import QueueProbe
from triage.metrics import Metrics
from triage.ops.metrics_export import EmfExporter
from triage.redact import Redactor
from triage.settings import Settings
from triage.summarise import FallbackSummariser, build_summariser
from triage.summarise.deterministic import DeterministicSummariser

POLICY = Policy(update_interval=timedelta(minutes=15), reopen_window=timedelta(hours=1))
LEASE = timedelta(minutes=2)

#: How long a test waits for something that should happen long before (a bound, not a claim).
PATIENCE_S = 60.0


def _process_alive(pid: int) -> bool:
    """Whether process `pid` is running (a zombie, killed but not yet reaped, is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def _credential_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str
) -> tuple[Path, Settings]:
    """A profile `ops` whose only source of credentials is `script` (a shell script, made
    runnable) as its credential_process; settings for a client of it (nothing listens)."""
    program = tmp_path / "creds.sh"
    program.write_text("#!/bin/sh\n" + script)
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    config = tmp_path / "config"
    config.write_text(f"[profile ops]\ncredential_process = {program}\n")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_PROFILE", "ops")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    settings = Settings(
        queue_url="http://127.0.0.1:9/000000000000/alerts",
        aws_endpoint_url="http://127.0.0.1:9",
        aws_region="us-east-1",
    )
    return program, settings


async def test_a_credential_process_that_never_exits_is_stopped_and_said_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, logs: list[MutableMapping[str, Any]]
) -> None:
    """A profile's credential_process that never exits (an MFA prompt no one sees, a helper
    waiting on a network that is down) is stopped after `CREDENTIAL_PROCESS_TIMEOUT_S`: a
    client still opens (start-up goes on, as with a task role endpoint down), the call asking
    for credentials fails as an outage naming the profile and the program, one warning says
    so, and the process is killed, not left running; it held start-up for ever before."""
    monkeypatch.setattr(aws_module, "CREDENTIAL_PROCESS_TIMEOUT_S", 0.5)
    pid_file = tmp_path / "pid"
    program, settings = _credential_profile(
        tmp_path, monkeypatch, f"echo $$ > {pid_file}\nexec sleep 600\n"
    )
    opened = Aws(settings)
    try:
        await asyncio.wait_for(opened.client("sqs"), PATIENCE_S)
        with pytest.raises(CredentialRetrievalError) as failed:
            await asyncio.wait_for(opened.credentials.get_frozen_credentials(), PATIENCE_S)
    finally:
        await opened.aclose()
    assert "'ops'" in str(failed.value) and str(program) in str(failed.value)
    stopped = [entry for entry in logs if entry["event"] == "aws.credential_process_stopped"]
    assert len(stopped) == 2  # one per try: the client's early look, then the call's
    assert stopped[0]["profile"] == "ops" and stopped[0]["program"] == str(program)
    pid = int(pid_file.read_text())
    deadline = asyncio.get_running_loop().time() + PATIENCE_S
    while _process_alive(pid) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    assert not _process_alive(pid)


async def test_a_credential_process_hanging_at_refresh_leaves_the_credentials_in_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, logs: list[MutableMapping[str, Any]]
) -> None:
    """Temporary credentials from a credential_process, 12 minutes left (botocore refreshes
    them from 15 minutes before expiry, must from 10): the process run again to refresh them
    never exits; it is stopped, and calls keep signing with the credentials they have, where
    each call waited on the refresh for ever."""
    monkeypatch.setattr(aws_module, "CREDENTIAL_PROCESS_TIMEOUT_S", 0.5)
    expiry = (datetime.now(UTC) + timedelta(minutes=12)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ran = tmp_path / "ran"
    answer = (
        '{"Version": 1, "AccessKeyId": "AKIAFIRST0000000000A", '
        f'"SecretAccessKey": "first-secret", "Expiration": "{expiry}"}}'
    )
    _, settings = _credential_profile(
        tmp_path,
        monkeypatch,
        f"if [ -e {ran} ]; then exec sleep 600; fi\ntouch {ran}\necho '{answer}'\n",
    )
    opened = Aws(settings)
    try:
        await asyncio.wait_for(opened.client("sqs"), PATIENCE_S)
        frozen = await asyncio.wait_for(opened.credentials.get_frozen_credentials(), PATIENCE_S)
    finally:
        await opened.aclose()
    assert frozen.access_key == "AKIAFIRST0000000000A"
    assert [
        entry["profile"] for entry in logs if entry["event"] == "aws.credential_process_stopped"
    ] == ["ops"]


async def test_the_gateways_readiness_watch_that_dies_is_said_and_started_again(
    queues: Queues, monkeypatch: pytest.MonkeyPatch, logs: list[MutableMapping[str, Any]]
) -> None:
    """The gateway's readiness watch (asking the queue, reading tokens again) failing on
    something unforeseen: one `ingest.task_failed` error line names it and why, and it is
    started again, so the queue is asked again; before, the task died in silence and
    `/readyz` kept its last answer for as long as the process ran."""
    monkeypatch.setattr(service_module, "PROBE_TTL_S", 0.05)
    asked = 0
    ask = QueueProbe.ask

    def failing_once(self: QueueProbe, *, at_start: bool = False) -> asyncio.Task[None]:
        nonlocal asked
        asked += 1
        if asked == 1:
            raise RuntimeError("an unforeseen failure")
        return ask(self, at_start=at_start)

    settings = ingest_settings(queues.url, queues.endpoint)
    async with running(settings) as service:
        assert service.port
        monkeypatch.setattr(QueueProbe, "ask", failing_once)
        deadline = asyncio.get_running_loop().time() + PATIENCE_S
        while asked < 3 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
    assert asked >= 3  # asked again after the failure, not once and never more
    failed = [entry for entry in logs if entry["event"] == "ingest.task_failed"]
    assert len(failed) == 1
    assert failed[0]["task"] == "readiness" and "an unforeseen failure" in failed[0]["error"]


#: A user info whose quote is followed by `,`, `:`, `}` or `]` (as a JSON string's end is), in
#: a URL no quote opens: a browser opens evil.example, and GNOME Terminal links the whole of
#: `user:password@host` (its password characters take quotes, commas and colons).
_QUOTE_THEN_PUNCTUATION = [
    "https://github.com:x',y@evil.example/session",
    'https://github.com:x":y@evil.example/session',
    "https://github.com:x'}y@evil.example/session",
    'https://github.com:x"]y@evil.example/session',
    "https://github.com:',@evil.example/session",
]


@pytest.mark.parametrize("url", _QUOTE_THEN_PUNCTUATION)
def test_a_user_info_with_a_quote_before_punctuation_is_taken_out(url: str) -> None:
    """A URL's user info holding a quote before `,:}]` reads as GitHub and opens evil.example:
    it is written as it opens; the quote read as a JSON string's end kept it before."""
    assert urls_as_opened(f"log in at {url} now") == "log in at https://evil.example/session now"


@pytest.mark.parametrize(
    "url",
    [
        '"https://github.com:x",y@evil.example/session"',
        "'https://github.com:x'}y@evil.example/session'",
        '"https://github.com:x"]:y@evil.example/session"',
    ],
)
def test_a_quoted_url_whose_quote_ends_no_string_loses_its_user_info(url: str) -> None:
    """A URL opened by a quote whose matching quote is followed by `,:}]` but then by no
    further value (no quote, bracket or brace, no end of the text) ends no string: its user
    info goes as any other's."""
    quote = url[0]
    assert urls_as_opened(f"see {url} now") == f"see {quote}https://evil.example/session{quote} now"


@pytest.mark.parametrize(
    "text",
    [
        '{"url":"https://api.example.com:8443","user":"ops@example.com"}',
        "{'url':'https://api.example.com:8443', 'user':'ops@example.com'}",
        '[["https://a.example.com"],["b@example.com"]]',
        '{"u":"https://a.example.com"},{"v":"b@example.com"}',
    ],
)
def test_a_quoted_url_before_a_later_values_at_sign_is_left_as_written(text: str) -> None:
    """A URL that opens a JSON (or Python) string, closed by its own quote and followed by
    more values, one holding an `@`, has no user info: left as written."""
    assert urls_as_opened(text) == text


def test_quotes_and_punctuation_in_a_long_title_are_read_in_linear_time() -> None:
    """A title of 20,000 quote-and-comma pairs after `https://` (each a place the user info
    could end) and 100,000 letters is read in one pass: both finish, with the text kept."""
    for text in ("https://" + "',x" * 20_000, '"https://' + '","' * 20_000, "a" * 100_000):
        assert urls_as_opened(text) == text


# --- the SQLite store's disk full or read-only under a running store --------------------------


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    """An open SQLite store in this test's directory."""
    store = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=30))
    await store.open()
    yield store
    await store.aclose()


def _pragma(store: SQLiteStore, statement: str) -> Callable[[], object]:
    """A call to run `statement` on the store's own connection (on its thread)."""
    return lambda: store._db().execute(statement).fetchall()


@pytest.mark.parametrize(
    ("fault", "mended", "said"),
    [
        # SQLite's SQLITE_FULL, as a full disk gives it: the file may not grow by a page.
        ("PRAGMA max_page_count = 1", "PRAGMA max_page_count = 1073741823", "full"),
        # SQLITE_READONLY, as a volume remounted read-only gives it.
        ("PRAGMA query_only = ON", "PRAGMA query_only = OFF", "readonly"),
    ],
)
async def test_a_store_whose_disk_is_full_or_read_only_is_unavailable_until_mended(
    sqlite_store: SQLiteStore, fault: str, mended: str, said: str
) -> None:
    """The disk under the SQLite store full (SQLITE_FULL), or its volume read-only, while the
    daemon runs: a write fails as StoreUnavailableError naming why (held and retried by the
    supervisor, as any store outage; never sqlite3's own error, which it takes for a bug),
    what was written stays, and once space is back the same write goes through."""
    store = sqlite_store
    await store.begin(alert("before"), "m1", T0)
    await store._call(_pragma(store, fault))
    with pytest.raises(StoreUnavailableError, match=said):
        await _write_until_refused(store)
    assert await store.get(alert("before").fingerprint) is not None
    await store._call(_pragma(store, mended))
    assert (await store.begin(_wordy("after"), "m-after", T0)).action is Action.OPEN


async def _write_until_refused(store: SQLiteStore) -> None:
    """Open incidents of long descriptions until the store refuses one (the free pages the
    file has run out first), at most 500."""
    for i in range(500):
        await store.begin(_wordy(f"during-{i}"), f"m-{i}", T0)


def _wordy(name: str) -> Any:
    """An alert named `name` with a long description (pages of the file of its own)."""
    return alert(name).model_copy(update={"description": f"{name} " * 2_000})


# --- DNS failing for the backend's host --------------------------------------------------------

#: The host the backend is reached by in the DNS test: resolved only once the test says so.
BACKEND_HOST = "backend.triage.test"


def _wait_in_thread(condition: Callable[[], object], what: str) -> None:
    """Wait (from a test's own thread) for `condition`, at most `PATIENCE_S`."""
    deadline = time.monotonic() + PATIENCE_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_dns_failing_for_the_backend_holds_the_alert_until_the_name_resolves(
    queues: Queues,
    backend: TicketServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    logs: list[MutableMapping[str, Any]],
) -> None:
    """The backend's host name not resolving (DNS down, a record deleted): the daemon keeps
    running, the alert is neither lost nor dead-lettered, a warning names the failure to
    resolve, and once the name resolves again the alert becomes its one ticket."""
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    resolves = threading.Event()
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == BACKEND_HOST:
            if not resolves.is_set():
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    url = backend.url.replace("127.0.0.1", BACKEND_HOST)
    settings = settings_for(queues, url, tmp_path / "t.db", retry_base_s=1, sink_breaker_reset_s=1)
    daemon = DaemonThread(settings)
    try:
        queues.send({"title": "disk full on db-1", "source": "script"})
        _wait_in_thread(
            lambda: any("Name or service not known" in str(entry) for entry in logs),
            "a line naming the failed lookup",
        )
        assert daemon.alive() and not backend.tickets
        resolves.set()
        _wait_in_thread(lambda: len(backend.tickets) == 1, "the ticket once the name resolves")
        _wait_in_thread(lambda: queues.depth() == 0, "the message deleted")
    finally:
        daemon.stop()
    assert queues.dead_letters() == []


# --- an HTTP sink answering without end ----------------------------------------------------


async def test_a_backend_create_answered_201_with_a_body_without_end_is_the_ticket_made(
    logs: list[MutableMapping[str, Any]],
) -> None:
    """The backend answering a create `201` with a chunked body that never ends (100 MB and
    on, as fast as it is read): the body is cut at its size bound, the 201 is the ticket made
    (named by its key, as any 201 whose body cannot be read), and one `backend.no_ticket_id`
    line says the answer was unread; memory is bounded and nothing waits on the body's end."""
    async with hostile(endless(201)) as server, backend_sink(server.url) as sink:
        applied = await asyncio.wait_for(sink.apply(backend_effect("fp:9")), PATIENCE_S)
    assert applied.ref == "fp:9"
    [line] = [entry for entry in logs if entry["event"] == "backend.no_ticket_id"]
    assert str(line["answer"]).startswith("unread (")


async def test_a_backend_answer_trickled_a_byte_at_a_time_is_cut_at_the_timeout() -> None:
    """The backend's answer a byte every 20 ms, each well within the read timeout, for 2,000
    s: the call fails as the backend unreachable (timed out, so the message is retried under
    the same Idempotency-Key, which a create the backend took makes no second ticket) within
    the sink's own bound, not when the body ends."""
    reply = then_drip(201, every_s=0.02)
    async with hostile(reply) as server, backend_sink(server.url, backend_timeout_s=0.5) as sink:
        with pytest.raises(SinkUnavailableError, match="timed out"):
            await asyncio.wait_for(sink.apply(backend_effect("fp:9")), PATIENCE_S)


# --- file descriptors exhausted ------------------------------------------------------------


def _with_descriptors(most: int) -> Callable[[], None]:
    """A child's pre-exec step: at most `most` open files (`ulimit -n`)."""
    return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (most, most))


def test_the_daemon_under_ulimit_n_64_tickets_its_queue(
    queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """`ulimit -n 64` (a low default some container runtimes and hosts set): the daemon starts,
    tickets what is queued and exits 0 with nothing said at error and no traceback."""
    queues.send({"title": "disk full on db-1", "source": "script"})
    settings = drain_settings(settings_for(queues, backend.url, tmp_path / "triage.db"))
    stderr = tmp_path / "stderr.log"
    with stderr.open("w") as written:
        done = subprocess.run(
            [sys.executable, "-m", "triage", "run", "--drain"],
            env=daemon_env(settings),
            stdout=subprocess.DEVNULL,
            stderr=written,
            preexec_fn=_with_descriptors(64),
            timeout=PATIENCE_S * 2,
            check=False,
        )
    said = stderr.read_text()
    assert done.returncode == 0, said[-3000:]
    assert "Traceback" not in said and '"level": "error"' not in said, said[-3000:]
    assert len(backend.tickets) == 1 and queues.depth() == 0
    assert queues.dead_letters() == []


def test_file_descriptors_spent_mid_message_hold_it_rather_than_dead_letter_it(
    queues: Queues,
    backend: TicketServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    logs: list[MutableMapping[str, Any]],
) -> None:
    """The process's file descriptors spent while a message is worked (`Too many open files`
    from a lazy import, as `ulimit -n 10` gives it every run): the process, not the message,
    is at fault, so the message waits as in an outage, with a warning naming the limit, and
    becomes its ticket once descriptors are free; it is never dead-lettered as a bug."""
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    spent = 4  # more failures than the queue's 2 receives before its DLQ
    normalize = pipeline_module.normalize_body

    def out_of_descriptors(*args: Any, **kwargs: Any) -> Any:
        nonlocal spent
        if spent > 0:
            spent -= 1
            raise OSError(errno.EMFILE, "Too many open files", "/usr/lib/python3/re2.py")
        return normalize(*args, **kwargs)

    monkeypatch.setattr(pipeline_module, "normalize_body", out_of_descriptors)
    settings = settings_for(queues, backend.url, tmp_path / "t.db", retry_base_s=1)
    daemon = DaemonThread(settings)
    try:
        queues.send({"title": "disk full on db-1", "source": "script"})
        _wait_in_thread(
            lambda: len(backend.tickets) == 1 or queues.dead_letters(), "a ticket or a letter"
        )
    finally:
        daemon.stop()
    assert queues.dead_letters() == []
    assert len(backend.tickets) == 1
    assert not [entry for entry in logs if entry["event"] == "message.crashed"]


def _unresolvable(monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    """Make `host` fail to resolve, as with DNS down (every other name resolves as ever)."""
    real = socket.getaddrinfo

    def getaddrinfo(name: Any, *args: Any, **kwargs: Any) -> Any:
        if name == host:
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


async def test_dns_failing_for_the_models_host_writes_the_deterministic_ticket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The model's host (OPENAI_BASE_URL) not resolving: each alert still gets its ticket,
    the deterministic one, counted as a fallback; nothing waits on DNS past the call's bound
    and nothing raises to the message."""
    _unresolvable(monkeypatch, "llm.triage.test")
    metrics = Metrics()
    summariser = build_summariser(
        Settings(
            openai_api_key="sk-dns-test-0000000000",
            openai_base_url="http://llm.triage.test:9/v1",
            llm_retries=1,
        ),
        metrics,
        Redactor(),
    )
    assert isinstance(summariser, FallbackSummariser)
    try:
        source = alert("dns-down")
        ticket = await asyncio.wait_for(summariser.summarise(view(source)), PATIENCE_S)
    finally:
        await summariser.aclose()
    assert ticket == DeterministicSummariser().write(view(source))
    assert sum(v for (name, _), v in metrics.counters().items() if name == "LLMFallbacks") == 1


async def test_the_gateways_metrics_flusher_that_fails_is_said_and_started_again(
    queues: Queues, monkeypatch: pytest.MonkeyPatch, logs: list[MutableMapping[str, Any]]
) -> None:
    """The gateway's EMF flush failing once on something unforeseen: one `ingest.task_failed`
    line names the `metrics` task, and it flushes again afterwards; before, the task died
    and CloudWatch heard nothing more from the gateway until it restarted."""
    flushed = 0
    flush = EmfExporter.flush

    def failing_once(self: EmfExporter) -> Any:
        nonlocal flushed
        flushed += 1
        if flushed == 1:
            raise RuntimeError("an unforeseen failure")
        return flush(self)

    monkeypatch.setattr(EmfExporter, "flush", failing_once)
    settings = ingest_settings(queues.url, queues.endpoint, metrics="emf", metrics_interval_s=0.05)
    async with running(settings):
        deadline = asyncio.get_running_loop().time() + PATIENCE_S
        while flushed < 3 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
    assert flushed >= 3
    failed = [entry for entry in logs if entry["event"] == "ingest.task_failed"]
    assert [entry["task"] for entry in failed] == ["metrics"]
