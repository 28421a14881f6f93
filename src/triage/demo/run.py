"""`triage demo`: the real daemon on the embedded default, with no AWS account and no API key.

It starts moto's server in-process on 127.0.0.1 (SQS, a DLQ with a redrive policy, Secrets
Manager), a loopback ticket backend, and runs the same `run_daemon` as `triage run` while it
queues the bundled sample alerts in three waves (fire, repeat, resolve), then prints a report
(`report.py`). With `--llm stub` the daemon writes new tickets through the LLM path, against
the loopback OpenAI-compatible model (`model.py`), which answers one alert with invalid JSON
(so the fallback writes that ticket) and invents facts for another (so grounding marks them).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from triage.app import RunResult, run_daemon
from triage.aws import Aws
from triage.demo.model import ChatServer, Reply, alert_in, completion, default_model
from triage.demo.report import SAMPLE_ATTRIBUTE, ModelRun, report
from triage.demo.ticketd import TicketServer
from triage.logs import configure_logging
from triage.metrics import Metrics
from triage.settings import Settings
from triage.tracing import Tracing

QUEUE = "triage-demo"
DLQ = "triage-demo-dlq"
SECRET_ID = "triage/demo/backend-token"
#: Low, so the demo's malformed messages reach the DLQ in seconds (production: 5).
MAX_RECEIVE_COUNT = 2
WAVES = {"1": "alerts fire", "2": "the same incidents repeat", "3": "some incidents resolve"}


@dataclass(frozen=True, slots=True)
class DemoAws:
    endpoint: str
    queue_url: str
    dlq_url: str


def sample_bodies() -> dict[str, list[tuple[str, str]]]:
    """The bundled samples by wave: {"1": [(file name, body), …], …}."""
    waves: dict[str, list[tuple[str, str]]] = {wave: [] for wave in WAVES}
    folder = resources.files("triage.demo") / "alerts"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            waves[entry.name[0]].append((entry.name, entry.read_text(encoding="utf-8")))
    return waves


def run_demo(*, verbose: bool = False, llm: str = "none") -> int:
    """Run the demo; `llm` is "none" (the deterministic summariser) or "stub" (the LLM path
    against the loopback model). Ctrl-C (130) or SIGTERM (143) at any point stops what it
    started, removes its temporary store and says so in one line."""
    configure_logging("console", "info" if verbose else "warning")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request log
    try:
        with _loopback_environment(), _sigterm_as_interrupt():
            return _run_with_services(llm)
    except _Terminated:
        print(
            "triage demo: stopped by SIGTERM; the daemon and the demo's local services are stopped",
            file=sys.stderr,
        )
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print(
            "triage demo: interrupted; the daemon and the demo's local services are stopped",
            file=sys.stderr,
        )
        return 130


class _Terminated(KeyboardInterrupt):
    """SIGTERM, taken the way a Ctrl-C is: everything started is stopped on the way out."""


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM raises `_Terminated` in the main thread while the demo runs, instead of ending
    the process at once with its temporary store left behind. Only the main thread may set
    a handler (a test may run the demo in another): there SIGTERM keeps what it had."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: object) -> None:
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_with_services(llm: str) -> int:
    """Start moto, the loopback backend (and model), run the waves, print the report; every
    service is stopped on the way out, a Ctrl-C's too."""
    from moto.server import ThreadedMotoServer

    started = time.monotonic()
    services: list[Any] = []
    try:
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        moto.start()
        services.append(moto)
        host, port = moto.get_host_and_port()
        token = "demo-token-" + os.urandom(6).hex()
        backend = TicketServer(token=token)
        backend.start()
        services.append(backend)
        chat = ChatServer() if llm == "stub" else None
        if chat is not None:
            chat.responder = demo_model
            chat.start()
            services.append(chat)
        with tempfile.TemporaryDirectory(prefix="triage-demo-", ignore_cleanup_errors=True) as tmp:
            waves = _Waves(_demo(f"http://{host}:{port}", backend.url, token, Path(tmp), chat))
            result, dead = waves.run_to_end()
        model = ModelRun(chat.url, chat.requests) if chat is not None else None
        print(report(result, backend.tickets, dead, time.monotonic() - started, model))
    finally:
        _stop_all(reversed(services))
    return 0


def _stop_all(services: Iterable[Any]) -> None:
    """Stop every service, even when a Ctrl-C lands while one stops (it is raised after)."""
    interrupted: KeyboardInterrupt | None = None
    for service in services:
        try:
            service.stop()
        except KeyboardInterrupt as exc:
            interrupted = exc
            service.stop()
    if interrupted is not None:
        raise interrupted


@contextmanager
def _loopback_environment() -> Iterator[None]:
    """The process's environment as the demo needs it, restored after: every AWS_* variable
    of the caller's is set aside (a profile, a session token or an endpoint of theirs means
    nothing to moto, and a profile no file names would stop boto), stand-in credentials moto
    accepts are set, and the loopback address bypasses any HTTP proxy. The demo's Settings
    read no variable at all (`_DemoSettings`)."""
    saved = dict(os.environ)
    try:
        for name in [n for n in os.environ if n.upper().startswith("AWS_")]:
            del os.environ[name]
        os.environ["AWS_ACCESS_KEY_ID"] = "demo"
        os.environ["AWS_SECRET_ACCESS_KEY"] = "demo"
        for name in ("NO_PROXY", "no_proxy"):
            kept = [h for h in os.environ.get(name, "").split(",") if h.strip()]
            os.environ[name] = ",".join([*kept, "127.0.0.1", "localhost"])
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class _DemoSettings(Settings):
    """Settings from the demo's own arguments only: a caller's OPENAI_API_KEY, TRIAGE_SINKS,
    GITHUB_TOKEN or SLACK_WEBHOOK_URL would otherwise send the sample alerts to their model,
    repository or channel from a command that promises no key and no network."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


class _Waves(threading.Thread):
    """The daemon and the waves, on an event loop in a thread of their own, so that the main
    thread keeps SIGINT: the daemon's supervisor takes the stop signals of the thread it runs
    on when that is the main one, and a Ctrl-C then stopped the daemon under the waves (a
    traceback) or not at all. A Ctrl-C in `run_to_end` cancels the waves, which stop the
    daemon, and is raised once the thread has ended."""

    def __init__(self, work: Coroutine[Any, Any, tuple[RunResult, list[dict[str, Any]]]]) -> None:
        super().__init__(name="triage-demo", daemon=True)
        self._work = work
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self._cancelled = False
        self._outcome: tuple[RunResult, list[dict[str, Any]]] | None = None
        self._error: BaseException | None = None
        #: Set as `run` returns: what the main thread waits on, not `join` (see `run_to_end`).
        self._ended = threading.Event()

    def run(self) -> None:
        try:
            self._outcome = asyncio.run(self._main())
        except BaseException as exc:  # handed to the main thread by run_to_end
            self._error = exc
        finally:
            self._ended.set()

    async def _main(self) -> tuple[RunResult, list[dict[str, Any]]]:
        self._loop, self._task = asyncio.get_running_loop(), asyncio.current_task()
        if self._cancelled:  # a Ctrl-C before this loop existed
            self._work.close()
            raise asyncio.CancelledError
        return await self._work

    def cancel(self) -> None:
        self._cancelled = True
        loop, task = self._loop, self._task
        if loop is None or task is None:
            return
        # A closed loop refuses the call: the waves had ended as the Ctrl-C came.
        with suppress(RuntimeError):
            loop.call_soon_threadsafe(task.cancel)

    def run_to_end(self) -> tuple[RunResult, list[dict[str, Any]]]:
        self.start()
        # Not `join`: a `join` that a signal's exception interrupts can mark the thread as
        # ended while it still runs (Python 3.11's `_wait_for_tstate_lock` then releases the
        # running thread's own lock, bpo-45274's handling), and every later `join` returned at
        # once: the temporary store was removed under a daemon still opening it (its files
        # were left behind, about one SIGTERM in eight on a busy machine).
        try:
            self._ended.wait()
        except KeyboardInterrupt:
            self.cancel()
            # Until the daemon has stopped and closed its store: its temporary directory is
            # removed next, and a bound (it was 15 s) ran out on a busy machine, leaving the
            # open store's files behind. A second Ctrl-C stops waiting.
            self._ended.wait()
            raise
        self.join()
        if self._error is not None:
            raise self._error
        assert self._outcome is not None
        return self._outcome


def demo_model(request: dict[str, Any]) -> Reply:
    """The loopback model of `--llm stub`: a faithful ticket for most alerts; for the checkout
    latency alert an answer that is not JSON (the deterministic summariser writes that ticket),
    and for the disk alert a gullible one stating facts no alert holds (grounding marks them)."""
    title = str(alert_in(request).get("title", ""))
    if title.startswith("CheckoutLatencyHigh"):
        return completion("Sure! Here is the ticket you asked for: the checkout is slow.")
    return default_model(request, gullible=title.startswith("DiskAlmostFull"))


async def _demo(
    endpoint: str, backend_url: str, token: str, tmp: Path, chat: ChatServer | None
) -> tuple[RunResult, list[dict[str, Any]]]:
    """Provision the queues, run the daemon while the waves are queued, then stop it: its
    result and the DLQ's letters. Cancelled (a Ctrl-C), it still stops the daemon first."""
    aws = await _provision(endpoint, token)
    # With the loopback model: the LLM path, with a key that is only a placeholder.
    model = (
        {"openai_api_key": "sk-demo-" + os.urandom(8).hex(), "openai_base_url": chat.url}
        if chat is not None
        else {}
    )
    settings = _DemoSettings(
        **model,  # type: ignore[arg-type]
        queue_url=aws.queue_url,
        aws_endpoint_url=endpoint,
        aws_region="us-east-1",
        backend_base_url=backend_url,
        backend_token_secret_id=SECRET_ID,
        # The loopback backend takes updates and resolves, so the demo shows the whole lifecycle.
        backend_update_route="/api/service/tickets/{ref}/updates",
        backend_resolve_route="/api/service/tickets/{ref}/resolve",
        store_url=f"sqlite:///{tmp / 'triage.db'}",
        sqs_wait_time=1,
        retry_base_s=1.0,
        log_format="console",
        # The demo prints its own report: no endpoints to bind, no metric lines on stdout.
        http_port=0,
        metrics="off",
    )
    stop = asyncio.Event()
    metrics = Metrics()
    # No spans: an OTEL_EXPORTER_OTLP_ENDPOINT of the caller's is not the demo's.
    daemon = asyncio.create_task(
        run_daemon(settings, metrics=metrics, stop=stop, tracing=Tracing())
    )
    try:
        await _send_waves(settings, aws.queue_url, daemon)
    finally:
        stop.set()
        result = await daemon
    return result, await _dead_letters(aws)


async def _send_waves(settings: Settings, queue_url: str, daemon: asyncio.Task[RunResult]) -> None:
    """Queue each wave of samples and wait until the daemon has handled all of it."""
    async with _Sqs(settings) as sqs:
        for wave, bodies in sample_bodies().items():
            print(f"wave {wave}: {WAVES[wave]} ({len(bodies)} messages)", file=sys.stderr)
            await sqs.send_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(i), "MessageBody": body, "MessageAttributes": _named(name)}
                    for i, (name, body) in enumerate(bodies)
                ],
            )
            await _wait_until_empty(sqs, queue_url, daemon)


def _named(sample: str) -> dict[str, dict[str, str]]:
    """The message attribute naming the sample file a message was sent from: kept through
    the redrive, so the report names a dead letter by its file, not by how its body starts."""
    return {SAMPLE_ATTRIBUTE: {"DataType": "String", "StringValue": sample}}


async def _provision(endpoint: str, token: str) -> DemoAws:
    settings = _DemoSettings(aws_endpoint_url=endpoint, aws_region="us-east-1")
    async with _Sqs(settings) as sqs:
        # The DLQ keeps letters longer than the queue keeps messages (`triage check` asks it).
        keeps = {"MessageRetentionPeriod": "1209600"}
        dlq_url = (await sqs.create_queue(QueueName=DLQ, Attributes=keeps))["QueueUrl"]
        dlq_arn = (await sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"]))[
            "Attributes"
        ]["QueueArn"]
        redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)}
        queue_url = (
            await sqs.create_queue(
                QueueName=QUEUE,
                Attributes={"VisibilityTimeout": "30", "RedrivePolicy": json.dumps(redrive)},
            )
        )["QueueUrl"]
    aws = Aws(settings)
    try:
        secrets = await aws.client("secretsmanager")
        await secrets.create_secret(
            Name=SECRET_ID, SecretString=json.dumps({"BACKEND_TOKEN": token})
        )
    finally:
        await aws.aclose()
    return DemoAws(endpoint, queue_url, dlq_url)


class _Sqs:
    """`async with _Sqs(settings) as sqs`: one SQS client for the demo's own calls."""

    def __init__(self, settings: Settings) -> None:
        self._aws = Aws(settings)

    async def __aenter__(self) -> Any:
        return await self._aws.client("sqs")

    async def __aexit__(self, *exc: object) -> None:
        await self._aws.aclose()


async def _wait_until_empty(
    sqs: Any, queue_url: str, daemon: asyncio.Task[RunResult], timeout_s: float = 60
) -> None:
    """Poll the queue's depth until nothing is visible, in flight or delayed."""
    deadline = time.monotonic() + timeout_s
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    while time.monotonic() < deadline:
        if daemon.done():
            await daemon  # the daemon died: surface its exception
            raise RuntimeError("the daemon stopped before the queue was empty")
        attrs = (await sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=names))[
            "Attributes"
        ]
        if all(int(attrs.get(n, 0)) == 0 for n in names):
            return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"the queue was not empty after {timeout_s:.0f} s")


async def _dead_letters(aws: DemoAws) -> list[dict[str, Any]]:
    settings = _DemoSettings(aws_endpoint_url=aws.endpoint, aws_region="us-east-1")
    async with _Sqs(settings) as sqs:
        response = await sqs.receive_message(
            QueueUrl=aws.dlq_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            MessageAttributeNames=[SAMPLE_ATTRIBUTE],
        )
    return list(response.get("Messages", []))
