"""`triage ingest` as a process: `startup()` opens the AWS clients, reads the tokens, asks the
queue once and starts listening; `serve()` waits for SIGTERM/SIGINT; `shutdown()` stops accepting,
lets the accepted requests finish (at most `TRIAGE_SHUTDOWN_GRACE_S`), sends what is still
waiting for a batch, and closes everything in reverse order. A second Ctrl-C skips the wait.

Besides the public listener (`TRIAGE_INGEST_HOST:TRIAGE_INGEST_PORT`), the process serves the
same `/healthz`, `/readyz` and `/metrics` as the daemon on `TRIAGE_HTTP_PORT`, so the image's
health check (`triage health`) and the metrics scrape work for either process.

Start-up waits for the queue's first answer at most `answer_within_s` (1 s): a refusal that comes by
then (no such queue, no credentials) stops the process before it listens. A queue that has not
answered does not hold the listener back (a load balancer would see a task that never starts):
the gateway listens, `/readyz` says the queue is not ready, and a refusal that comes later still
stops the process with the same ConfigError (exit 2).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import threading
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from typing import Any

import aioboto3
import structlog
from aiohttp import web
from botocore.config import Config

from triage.aws import (
    client_config,
    keep_alive,
    service_endpoint,
    session_credentials,
    watch_signing,
)
from triage.cli import queue_endpoint_problem
from triage.errors import ConfigError
from triage.health import Health
from triage.ingest.auth import TokenStore, TokensUnavailable
from triage.ingest.bad_http import LINE_BOUNDS, BadHttpLines
from triage.ingest.connections import connection_limit
from triage.ingest.gateway import Gateway
from triage.ingest.limits import Limits
from triage.ingest.outbox import MAX_WAITING, MAX_WAITING_PER_SOURCE, SqsOutbox
from triage.ingest.probe import ANSWER_WITHIN_S, PROBE_TTL_S, QueueProbe
from triage.ingest.server import GatewayRunner
from triage.metrics import Metrics
from triage.ops.endpoints import EndpointServer
from triage.ops.metrics_export import EmfExporter, flush_every
from triage.redact import Redactor
from triage.settings import Settings, short_intervals
from triage.sinks.http import said
from triage.sqs.supervisor import ExitBoundedExecutor
from triage.tracing import Tracing

log = structlog.get_logger(__name__)

#: SendMessageBatch calls in flight at once, and the client's connection pool to match.
MAX_CALLS_IN_FLIGHT = 16
#: A sender waits for our answer: fail fast (two tries, and answer 503) rather than hang on a
#: dead SQS (botocore's `max_attempts` counts retries, `total_max_attempts` the first try too).
#: The gateway builds every request itself, in one fixed shape its tests send to moto, so
#: botocore's per-call parameter validation is skipped (a sixth of a SendMessageBatch's CPU).
_CLIENT_CONFIG = Config(
    connect_timeout=2,
    read_timeout=10,
    retries={"total_max_attempts": 2, "mode": "standard"},
    max_pool_connections=MAX_CALLS_IN_FLIGHT,
    parameter_validation=False,
)
#: After the grace, requests still running are cancelled within this long.
_CANCEL_TIMEOUT_S = 1.0


def _stop_signals() -> list[signal.Signals]:
    """The signals that stop the gateway cleanly, as the daemon's (`sqs.supervisor.
    stop_signals`, not imported: it would load the whole pipeline into the gateway): SIGTERM
    always, SIGINT and SIGHUP unless each was ignored at start, as `nohup triage ingest &`
    asks of SIGHUP and a script's `triage ingest &` of SIGINT. Read before any handler of ours
    is installed."""
    unless_ignored = (signal.SIGINT, signal.SIGHUP)
    return [
        signal.SIGTERM,
        *(s for s in unless_ignored if signal.getsignal(s) is not signal.SIG_IGN),
    ]


class IngestService:
    """One gateway process; `port` is the bound public port once `startup()` returned."""

    #: How long start-up and `/readyz` wait for a GetQueueAttributes call in flight.
    answer_within_s = ANSWER_WITHIN_S
    #: Webhooks that may wait for SQS at once; past it, 503 with Retry-After.
    max_waiting_for_queue = MAX_WAITING
    #: … of which one source's at most: past it, that source's are 503 (the others' are not).
    max_waiting_per_source = MAX_WAITING_PER_SOURCE

    def __init__(
        self,
        settings: Settings,
        *,
        stop: asyncio.Event | None = None,
        metrics: Metrics | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        settings.require("queue_url")
        assert settings.queue_url is not None
        self.settings = settings
        self.queue_url = settings.queue_url
        self.metrics = metrics or Metrics()
        #: Spans per webhook when OTEL_EXPORTER_OTLP_ENDPOINT is set (or a test passes its own).
        self.tracing = tracing or Tracing.from_environment("triage-ingest")
        self._own_tracing = tracing is None
        self.health = Health()
        # An embedding program (a test) that passes `stop` owns the process's signals.
        self._own_signals = stop is None
        self.should_exit = stop or asyncio.Event()
        self._force_exit = asyncio.Event()
        self._stack = AsyncExitStack()
        self._tasks: list[asyncio.Task[None]] = []
        self._signals: list[signal.Signals] = []
        #: Set once the drain is over: what is left (clients, the trace export) is not cut.
        self._closing = False
        self.port = 0
        self.gateway: Gateway | None = None
        self._runner: GatewayRunner | None = None
        self._outbox: SqsOutbox | None = None
        #: What stopped the process on its own (a queue refusing after the gateway listened).
        self._refusal: ConfigError | None = None

    # --- Lifecycle ----------------------------------------------------------------------------

    async def startup(self) -> None:
        # From the first step to the loop's close, not only while serving: a signal during
        # start-up (tokens, the queue's first answer, both bounded) or while the exit stack
        # closes met the defaults and killed the process (143, or 130) with nothing said.
        self._install_signal_handlers()
        if self._own_signals:  # the process is ours: its exit must not wait on a stuck thread
            asyncio.get_running_loop().set_default_executor(ExitBoundedExecutor())
        try:
            await self._startup()
        except BaseException:
            # A step after the listener started failed: the listener is closed too, not left
            # to the garbage collector (an unclosed socket, the port held until then).
            if self._runner is not None:
                await self._runner.cleanup()
                self._runner = None
            await self._stack.aclose()
            raise

    async def serve(self) -> None:
        """Wait until told to stop (a signal, or the embedding program's event); ConfigError
        when the queue refused the gateway after it started listening."""
        await self.should_exit.wait()
        if self._refusal is not None:
            raise self._refusal

    async def shutdown(self) -> None:
        gateway, runner = self.gateway, self._runner
        try:
            if gateway is not None and runner is not None:
                gateway.draining = True  # new requests: 503; /readyz: not ready
                self.health.set("shutting_down", False, "draining")
                for site in list(runner.sites):
                    await site.stop()  # no new connections
                if gateway.in_flight:
                    log.info(
                        "ingest.draining",
                        in_flight=gateway.in_flight,
                        grace_s=self.settings.shutdown_grace_s,
                    )
                    await self._wait_idle_or_forced(gateway)
                await runner.cleanup()
                gateway.flush_lines()
                if runner.connections is not None:
                    runner.connections.aborts.flush()
            if self._outbox is not None:
                # Every request is answered or cancelled by now: calls still out serve nobody.
                await self._outbox.aclose(_CANCEL_TIMEOUT_S)
        finally:
            # The handlers stay until the loop closes (which removes them): a signal now is
            # one `ingest.signal_late` line, and the clients and the trace export finish.
            self._closing = True
            await self._stack.aclose()
            if self._own_tracing:  # spans still buffered leave now (bounded by the exporter)
                await asyncio.to_thread(self.tracing.shutdown)
            log.info("ingest.stopped", requests=self._requests_by_status())

    async def _startup(self) -> None:
        settings = self.settings
        # The redactor compiles its searches at its first text: up to seconds of CPU on a busy
        # machine. Spent here, on a thread, not on the loop at the first request redacted (a
        # parse error's answer and line), which held every connection of the gateway as long.
        await asyncio.to_thread(Redactor().text, "ingest starting")
        session = aioboto3.Session(region_name=settings.aws_region)
        sqs = await self._client(session, "sqs")
        self._refuse_queue_behind_aws(sqs.meta.endpoint_url)
        secrets = (
            await self._client(session, "secretsmanager")
            if settings.ingest_tokens_secret_id
            else None
        )
        tokens = TokenStore(
            secret_id=settings.ingest_tokens_secret_id,
            inline=settings.ingest_tokens.get_secret_value() if settings.ingest_tokens else None,
            secrets_client=secrets,
            ttl_s=settings.ingest_tokens_ttl_s,
            refresh_s=settings.ingest_tokens_refresh_s,
            wait_s=self.answer_within_s,
        )
        self._stack.push_async_callback(tokens.aclose)
        try:
            await tokens.load()
        except TokensUnavailable as exc:
            # Secrets Manager is down, or silent, just now: serve 503s until it answers, rather
            # than exit or hold the listener back.
            log.warning("ingest.tokens_unavailable_at_startup", error=str(exc))
        first_read = tokens.in_flight  # still unanswered: a refusal may yet come
        probe = QueueProbe(
            sqs, self.queue_url, answer_within_s=self.answer_within_s, health=self.health
        )
        self._stack.push_async_callback(probe.aclose)
        first_answer = await self._first_answer(probe)
        self._outbox = SqsOutbox(
            sqs,
            self.queue_url,
            linger_s=settings.ingest_linger_ms / 1000,
            max_in_flight=MAX_CALLS_IN_FLIGHT,
            max_waiting=self.max_waiting_for_queue,
            max_waiting_per_source=self.max_waiting_per_source,
            metrics=self.metrics,
            watch=probe,  # a send the queue's KMS key refuses makes /readyz say so
            clock=probe.clock,
        )
        self.gateway = Gateway(
            tokens,
            self._outbox,
            probe,
            Limits(
                rate_per_s=settings.ingest_rate_per_s,
                trusted_proxy_hops=settings.ingest_trusted_proxy_hops,
            ),
            self.metrics,
            self.health,
            tracing=self.tracing,
        )
        self.health.set("tokens", tokens.loaded, "" if tokens.loaded else "not read yet")
        await self._listen(self.gateway)
        await self._start_operations(probe, tokens)
        for first in (first_read, first_answer):
            if first is not None:
                self._tasks.append(
                    asyncio.create_task(self._stop_on_refusal(first), name="refusal-watch")
                )
        # Start-up's long-lived objects (modules, botocore's models) leave the collector's
        # sight, so full collections stay short (see app.py's _freeze_startup_objects).
        gc.collect()
        gc.freeze()

    def _refuse_queue_behind_aws(self, endpoint_url: str) -> None:
        """ConfigError, before any call and before listening, when the SQS client sends to
        `endpoint_url`, AWS's, while the queue is on another host (a local SQS with
        AWS_ENDPOINT_URL unset): AWS would refuse every send, as the daemon refuses to start
        (`app.refuse_queue_behind_aws`, the same words)."""
        problem = queue_endpoint_problem(self.queue_url, endpoint_url, "ALERT_TRIAGE_QUEUE_URL")
        if problem is not None:
            raise ConfigError(problem)

    async def _first_answer(self, probe: QueueProbe) -> asyncio.Task[None] | None:
        """Ask the queue and wait for its answer at most `answer_within_s`. A refusal by then
        raises ConfigError here; None when it answered; the call still in flight otherwise."""
        first = probe.ask(at_start=True)
        await asyncio.wait({first}, timeout=self.answer_within_s)
        if first.done():
            first.result()  # no such queue, no credentials: stop before listening
            return None
        log.warning(
            "ingest.queue_waiting",
            waited_s=self.answer_within_s,
            reason="SQS has not answered GetQueueAttributes: listening, not ready until it does",
        )
        return first

    async def _stop_on_refusal(self, first: asyncio.Task[None]) -> None:
        """The first answer of the queue or of the tokens' secret, come after the gateway
        started listening: a refusal (no such queue or secret, access denied) stops the process
        as it would have before listening (serve() raises it; the CLI's one config line names
        it, after the drain). An outage was logged where it happened and is waited out."""
        try:
            await asyncio.shield(first)
        except ConfigError as exc:
            self._refusal = exc
            self.should_exit.set()
        except TokensUnavailable:
            pass

    async def _client(self, session: aioboto3.Session, service: str) -> Any:
        # Credentials found when a call is signed (a task role endpoint down at start is an
        # outage, not a crash), found again when AWS says the token expired.
        credentials = session_credentials(session)
        await credentials.find_early()
        client = session.client(  # type: ignore[call-overload]
            service,
            # A service's own variable (AWS_ENDPOINT_URL_SQS) first, as botocore ranks them.
            endpoint_url=service_endpoint(service) or self.settings.aws_endpoint_url,
            region_name=self.settings.aws_region,
            # The daemon's HTTP session: the process's one TLS context (no CA bundle loaded
            # per client), and a redirect refused, not followed with an alert and the
            # session's credentials to wherever it points.
            config=client_config(_CLIENT_CONFIG),
        )
        opened = await self._stack.enter_async_context(client)
        # LocalStack closes each connection unless asked: about a fifth of the gateway's CPU
        # per webhook there.
        keep_alive(opened, service)
        watch_signing(opened, credentials)
        return opened

    async def _listen(self, gateway: Gateway) -> None:
        server_log = logging.getLogger("aiohttp.server")
        if not any(isinstance(f, BadHttpLines) for f in server_log.filters):
            server_log.addFilter(BadHttpLines())
        runner = GatewayRunner(
            gateway.application(),
            access_log=None,  # one ingest.accepted / ingest.refused line per request instead
            auto_decompress=False,  # the gateway decodes bodies itself (ingest/encoding.py)
            handle_signals=False,
            shutdown_timeout=_CANCEL_TIMEOUT_S,
            # aiohttp's keep-alive timer runs from accept (and from each answer) until a whole
            # request head has arrived, and bytes do not restart it: it bounds a trickled head.
            keepalive_timeout=self.settings.ingest_idle_timeout_s,
            # Past it, the longest idle is closed for a new one, or the new one answered 503.
            max_connections=connection_limit(self.settings.ingest_max_connections),
            metrics=self.metrics,
            **LINE_BOUNDS,
        )
        await runner.setup()
        host, port = self.settings.ingest_host, self.settings.ingest_port
        site = web.TCPSite(runner, host, port, backlog=512)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise ConfigError(f"TRIAGE_INGEST_PORT {port} on {host}: {exc.strerror}") from None
        self._runner = runner
        server = site._server  # the bound port when TRIAGE_INGEST_PORT is 0
        assert isinstance(server, asyncio.Server)
        self.port = server.sockets[0].getsockname()[1]
        log.info(
            "ingest.listening", host=host, port=self.port, max_connections=runner.max_connections
        )

    async def _start_operations(self, probe: QueueProbe, tokens: TokenStore) -> None:
        self._keep_running("watchdog", self.health.watch_loop)
        self._keep_running("readiness", lambda: _watch(probe, tokens, self.health, PROBE_TTL_S))
        mode = self.settings.metrics_mode
        for detail in short_intervals(self.settings, ("metrics_interval_s",)):
            log.warning("config.short_interval", detail=detail)
        if mode != "off":
            # The gateway's role may only send to the queue: its metrics are EMF lines on stdout
            # (CloudWatch Logs makes them metrics), whatever TRIAGE_METRICS says beyond "off".
            emf = EmfExporter(
                self.metrics, self.settings.cloudwatch_namespace, service="triage-ingest"
            )
            interval_s = self.settings.metrics_interval_s
            self._keep_running("metrics", lambda: flush_every(interval_s, emf.flush))
        self._stack.push_async_callback(self._stop_tasks)
        if self.settings.http_port:
            endpoints = EndpointServer(
                self.health, self.metrics, self.settings.http_host, self.settings.http_port
            )
            try:
                await endpoints.start()
            except ConfigError:
                if self.settings.http_port == self.port:
                    raise ConfigError(_one_port_for_both(self.port)) from None
                raise
            self._stack.push_async_callback(endpoints.aclose)

    def _keep_running(self, name: str, loop: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run `loop` (one that runs until cancelled) as task `name`, started again when it
        fails or returns: the gateway's readiness watch, its event-loop watchdog or its
        metrics flusher that died on something unforeseen stopped in silence (`/readyz` kept
        its last answer, CloudWatch got no more metrics) for as long as the process ran. One `ingest.task_failed` error line says which and why; the
        loops wait their interval first, so a loop that keeps failing is not a busy loop."""
        task = asyncio.create_task(loop(), name=name)
        self._tasks.append(task)

        def ended(done: asyncio.Task[None]) -> None:
            if done.cancelled() or self._closing or self.should_exit.is_set():
                return
            error = done.exception()
            log.error(
                "ingest.task_failed",
                task=name,
                error=said(repr(error), 300) if error else "returned while the gateway ran",
                action="started again",
                exc_info=error,
            )
            self._tasks.remove(done)
            self._keep_running(name, loop)

        task.add_done_callback(ended)

    async def _stop_tasks(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _wait_idle_or_forced(self, gateway: Gateway) -> None:
        idle = asyncio.create_task(gateway.wait_idle(self.settings.shutdown_grace_s))
        forced = asyncio.create_task(self._force_exit.wait())
        await asyncio.wait({idle, forced}, return_when=asyncio.FIRST_COMPLETED)
        forced.cancel()
        if not idle.done() or not idle.result():
            idle.cancel()
            log.warning("ingest.grace_exceeded", in_flight=gateway.in_flight)

    # --- Signals ------------------------------------------------------------------------------

    def _install_signal_handlers(self) -> None:
        if not self._own_signals or threading.current_thread() is not threading.main_thread():
            return
        if self._signals:
            return  # installed already
        loop = asyncio.get_running_loop()
        for sig in _stop_signals():
            loop.add_signal_handler(sig, self.handle_exit, sig)
            self._signals.append(sig)

    def _remove_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in self._signals:
            loop.remove_signal_handler(sig)
        self._signals.clear()

    def handle_exit(self, sig: signal.Signals) -> None:
        """The first signal stops the gateway, a second Ctrl-C skips the rest of the grace;
        one once the drain is over changes nothing, and says so."""
        if self._closing:
            log.info(
                "ingest.signal_late",
                signal=sig.name,
                reason="already stopped: the clients and the trace export finish first",
            )
            return
        if self.should_exit.is_set() and sig is signal.SIGINT:
            self._force_exit.set()  # a second Ctrl-C: stop waiting for accepted requests
        log.info("ingest.signal", signal=sig.name, force=self._force_exit.is_set())
        self.should_exit.set()

    def _requests_by_status(self) -> dict[str, int]:
        """IngestRequests summed over sources, by status (for the stopped line)."""
        totals: dict[str, int] = {}
        for (name, dims), value in self.metrics.counters().items():
            if name == "IngestRequests":
                status = dict(dims).get("status", "?")
                totals[status] = totals.get(status, 0) + int(value)
        return totals


def _one_port_for_both(port: int) -> str:
    """Why the endpoints cannot listen where the gateway already does."""
    return (
        f"TRIAGE_HTTP_PORT and TRIAGE_INGEST_PORT are both {port}: `triage ingest` listens on "
        "both (webhooks, /healthz and /readyz on TRIAGE_INGEST_PORT; /healthz, /readyz and "
        "/metrics for the container's health check on TRIAGE_HTTP_PORT): give "
        "TRIAGE_HTTP_PORT another port (its default is 8080)"
    )


async def _watch(probe: QueueProbe, tokens: TokenStore, health: Health, interval_s: float) -> None:
    """Keep readiness fresh for both listeners: the queue (and its message size limit), and
    the tokens, read again here if Secrets Manager was down when the process started."""
    while True:
        await asyncio.sleep(interval_s)
        await asyncio.wait({probe.ask()})  # the call in flight, if any, rather than a second
        if not tokens.loaded:
            try:
                await tokens.load()
            except (TokensUnavailable, ConfigError) as exc:
                log.warning("ingest.tokens_unavailable", error=str(exc))
        health.set("tokens", tokens.loaded, "" if tokens.loaded else "not read yet")


async def run_gateway(settings: Settings) -> None:
    """`triage ingest`: run until SIGTERM/SIGINT, then drain and return (exit 0)."""
    service = IngestService(settings)
    await service.startup()
    try:
        await service.serve()
    finally:
        await service.shutdown()
