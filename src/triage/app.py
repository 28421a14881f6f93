"""Assembles the daemon from Settings: opens every client in order, runs the supervisor, and
closes them in reverse order. `run` and `demo` both come through here, so the demo is the daemon.
"""

from __future__ import annotations

import asyncio
import gc
import ipaddress
import math
import os
import secrets
import signal
import threading
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import structlog
from botocore.exceptions import ClientError, NoCredentialsError
from pydantic import SecretStr

from triage.aws import AWS_CALL_ERRORS, Aws, queue_refusal
from triage.breaker import CircuitBreaker
from triage.cli import queue_endpoint_problem
from triage.errors import ConfigError, SinkUnavailableError
from triage.health import Health
from triage.incidents import Action, Ledger, Policy, Store, open_store
from triage.incidents.silences import SilenceCache
from triage.incidents.store import sent_keep_problem
from triage.metrics import Metrics
from triage.ops.api import OperatorView, operator_routes
from triage.ops.endpoints import EndpointServer
from triage.ops.gauges import MeteredBudgets, breakers_of, watch_breakers
from triage.ops.http_server import DEFAULT_LIMITS, Limits
from triage.ops.known_series import declare_known_series
from triage.ops.metrics_export import EmfExporter, PutMetricDataExporter, flush_every
from triage.pipeline import Pipeline
from triage.ratelimit import Budgets
from triage.redact import Redactor, hold
from triage.routes import (
    KNOWN_SOURCES,
    Router,
    load_router,
    no_routes_problem,
    require_github_credentials,
    require_github_repository,
    require_slack_webhook,
)
from triage.secrets import BackendToken
from triage.settings import Settings, backend_timeout_problem, is_http_url, short_intervals
from triage.sinks.backend import BackendSink
from triage.sinks.base import Sink
from triage.sinks.guard import Backpressure, GuardedSink
from triage.sqs.depth import DepthPoller
from triage.sqs.fifo import FIFO_ATTRIBUTE, fifo_refusal, is_fifo
from triage.sqs.inbox import SqsInbox
from triage.sqs.redrive import RedriveLimit, read_max_receive_count
from triage.sqs.supervisor import (
    ExitBoundedExecutor,
    Helper,
    Stats,
    Supervisor,
    SupervisorConfig,
    stop_signals,
)
from triage.sqs.user_agent import remember_user_agent
from triage.summarise import Summariser, build_summariser, deterministic_summariser
from triage.summarise.prompt import BYTES_PER_TOKEN
from triage.tracing import NO_SPANS, Tracing, hold_exporter_headers
from triage.view import url_origin

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class RunResult:
    stats: Stats
    metrics: Metrics


def policy_from(settings: Settings) -> Policy:
    return Policy(
        update_interval=timedelta(seconds=settings.update_interval_s),
        reopen_window=timedelta(seconds=settings.reopen_window_s),
        flap_threshold=settings.flap_threshold,
        max_future_skew=timedelta(seconds=settings.max_future_skew_s),
        flap_quiet=(
            timedelta(seconds=settings.flap_quiet_s) if settings.flap_quiet_s is not None else None
        ),
        member_kept=timedelta(seconds=settings.closed_ttl_s),
    )


async def open_configured_store(settings: Settings, aws: Aws) -> Store:
    """The store TRIAGE_STORE_URL names; ConfigError, before anything is opened, when the
    sweep looks too seldom for the bodies effects sent to outlive their retries
    (`sent_keep_problem`)."""
    lease = timedelta(seconds=settings.effect_lease_s)
    closed_ttl = timedelta(seconds=settings.closed_ttl_s)
    sweep_interval = timedelta(seconds=settings.sweep_interval_s)
    problem = sent_keep_problem(closed_ttl, lease, sweep_interval)
    if problem is not None:
        raise ConfigError(problem)
    return await open_store(
        settings.store_url, policy_from(settings), lease=lease, closed_ttl=closed_ttl, aws=aws
    )


async def build_sinks(
    settings: Settings,
    aws: Aws,
    metrics: Metrics,
    router: Router | None = None,
    budgets: Budgets | None = None,
) -> list[Sink]:
    """Every sink the routes use (without a routes file: TRIAGE_SINKS), in run order; raises
    ConfigError for a sink that cannot work as configured (no token, no webhook). `budgets`
    (the store) holds the budgets every replica shares."""
    router = router or load_router(settings)
    sinks: list[Sink] = []
    for name in router.sink_names:
        if name == "backend":
            secrets = (
                await aws.client("secretsmanager") if settings.backend_token_secret_id else None
            )
            token = BackendToken(settings, secrets)
            await _check_token(token)
            sinks.append(BackendSink(settings, token, metrics=metrics))
        elif name == "github":
            from triage.sinks.github import GitHubSink

            require_github_credentials(router, settings)
            require_github_repository(router, settings)
            _check_app_key(settings)
            sinks.append(GitHubSink(settings, metrics=metrics, budgets=budgets))
        elif name == "slack":
            from triage.sinks.slack import SlackSink

            require_slack_webhook(router, settings)
            sinks.append(
                SlackSink(settings, metrics=metrics, require_default=router.slack_needs_default)
            )
    return sinks


async def _check_token(token: BackendToken) -> None:
    """Read the token once at startup: a token that cannot exist stops the daemon with one
    line; one that cannot be read just now (Secrets Manager throttled) is retried per message."""
    try:
        await token.get()
    except SinkUnavailableError as exc:
        log.warning("backend_token.unavailable_at_startup", error=str(exc))


def _check_app_key(settings: Settings) -> None:
    """Sign one JWT with the GitHub App's key, if an App is configured: a key that reads as PEM
    but cannot sign stops start-up with one line (ConfigError), as `triage check` reports it,
    instead of failing every GitHub call of a running daemon."""
    from triage.sinks.github.auth import InstallationToken, app_credentials

    credentials = app_credentials(settings)
    if credentials is not None:
        InstallationToken(credentials).app_jwt()


def guarded(settings: Settings, sinks: list[Sink]) -> list[GuardedSink]:
    """Each sink behind its own circuit breaker (see `sinks/guard.py`)."""
    return [
        GuardedSink(
            sink,
            CircuitBreaker(
                f"sink:{sink.name}", settings.sink_breaker_failures, settings.sink_breaker_reset_s
            ),
        )
        for sink in sinks
    ]


def pipeline_from(
    settings: Settings,
    store: Store,
    summariser: Summariser,
    sinks: Sequence[Sink],
    metrics: Metrics,
    redactor: Redactor,
    router: Router | None = None,
    *,
    dry_run: bool = False,
    silences: SilenceCache | None = None,
    tracing: Tracing = NO_SPANS,
) -> Pipeline:
    """The pipeline the daemon runs, from its parts and the settings."""
    # The sources triage reads, and the teams routes name, keep their own series: invented
    # values in alerts (a generic alert's `source` is its sender's word) cannot crowd them out.
    metrics.reserve("source", KNOWN_SOURCES)
    if router is not None:
        metrics.reserve("team", route_teams(router))
    return Pipeline(
        Ledger(store),
        summariser,
        sinks,
        metrics,
        redactor=redactor,
        router=router,
        policy=policy_from(settings),
        alert_concurrency=settings.llm_concurrency,
        # Only the LLM reads the raw payload; redacting it costs, so only for it.
        payload_excerpt_chars=(
            settings.llm_max_input_tokens * BYTES_PER_TOKEN if settings.llm != "none" else 0
        ),
        dry_run=dry_run,
        silences=silences,
        tracing=tracing,
    )


def route_teams(router: Router) -> set[str]:
    """Every team a route of `router` matches on."""
    return {team for rule in router.rules for team in rule.team}


def hold_credentials(settings: Settings, environ: Mapping[str, str] = os.environ) -> None:
    """Every credential in the settings (API keys, tokens, webhook URLs) and in the tracing
    exporter's headers is held: redacted by exact value wherever it appears. Tokens read later
    (the backend's, GitHub App installation tokens) are held where they are read."""
    for _, value in settings:
        if isinstance(value, SecretStr) and value.get_secret_value():
            hold(value.get_secret_value())
    hold_exporter_headers(environ)


async def run_daemon(
    settings: Settings,
    *,
    drain: bool = False,
    dry_run: bool = False,
    metrics: Metrics | None = None,
    stop: asyncio.Event | None = None,
    tracing: Tracing | None = None,
) -> RunResult:
    """Run the daemon until a signal (or, with drain, an empty queue); then close everything.
    `tracing`: spans per message (default: OTLP export when OTEL_EXPORTER_OTLP_ENDPOINT is set).
    Without `stop`, the process's stop signals are ours from here to the end (`DaemonSignals`):
    one during start-up ends it there, with nothing received; one after the supervisor's stop
    is said and changes nothing. An embedding program that passes `stop` owns its signals."""
    settings.require_to_run()
    metrics = metrics or Metrics()
    hold_credentials(settings)
    signals = DaemonSignals.install() if stop is None else None
    if stop is None:  # the process is ours: its exit must not wait on a stuck pool thread
        asyncio.get_running_loop().set_default_executor(ExitBoundedExecutor())
    try:
        return await _run_daemon(
            settings,
            drain=drain,
            dry_run=dry_run,
            metrics=metrics,
            stop=stop,
            tracing=tracing,
            signals=signals,
        )
    except asyncio.CancelledError:
        if signals is None or signals.stopped_at_startup is None:
            raise
        # Our own cancellation, by a signal before serving: a stop, not a failure.
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        log.info(
            "daemon.stopped",
            signal=signals.stopped_at_startup,
            reason="a stop signal came during start-up: nothing was received, nothing is lost",
        )
        return RunResult(Stats(), metrics)
    finally:
        if signals is not None:
            signals.closing = True


class DaemonSignals:
    """The daemon process's stop signals (`stop_signals`), held from the first line of
    `run_daemon` until the event loop closes (which removes them), not only while the
    supervisor serves: left to their defaults after `serve()` returned, a late SIGTERM or a
    third Ctrl-C during the exit stack (closing clients, the last metrics flush, the trace
    export) killed the process with 143 or 130 and cut that work short; one during start-up
    (the queue's attributes read, the store opened) killed it without a line.

    Before the supervisor exists, the first signal cancels start-up (`run_daemon` then
    returns as a clean stop: nothing was received); while it serves, each goes to
    `Supervisor.handle_exit` (the first stops, a second ends the grace); once it returned, a
    signal is one `daemon.signal_late` line and the stop goes on as it was."""

    def __init__(self, task: asyncio.Task[Any] | None) -> None:
        self._task = task
        self.supervisor: Supervisor | None = None
        #: The signal that ended start-up, if one did.
        self.stopped_at_startup: str | None = None
        #: Set once the supervisor has stopped (or start-up ended): signals change nothing.
        self.closing = False
        #: Why a signal now changes nothing (the `daemon.signal_late` line's reason).
        self.closing_reason = (
            "already stopped: the clients, the last flush and the trace export finish first"
        )

    @classmethod
    def install(cls) -> DaemonSignals | None:
        """Handlers for the stop signals on the running loop; None off the main thread, where
        Python delivers no signal (a test running the daemon in a thread)."""
        if threading.current_thread() is not threading.main_thread():
            return None
        signals = cls(asyncio.current_task())
        loop = asyncio.get_running_loop()
        for sig in stop_signals():
            loop.add_signal_handler(sig, signals.handle, sig)
        return signals

    def failed(self) -> None:
        """Start-up (or serving) raised and its exit stack now unwinds: a signal must not
        cancel that unwinding, whose CancelledError would replace the failure (a ConfigError's
        one line and exit 2 became a clean stop, exit 0)."""
        self.closing = True
        self.closing_reason = "the daemon failed: its error and exit code stand"

    def handle(self, sig: signal.Signals) -> None:
        """What a stop signal does now; see the class."""
        if self.closing:
            log.info("daemon.signal_late", signal=sig.name, reason=self.closing_reason)
        elif self.supervisor is not None:
            self.supervisor.handle_exit(sig)
        elif self.stopped_at_startup is None:
            log.info("daemon.signal", signal=sig.name, during="start-up")
            self.stopped_at_startup = sig.name
            if self._task is not None:
                self._task.cancel("stop signal during start-up")


async def _run_daemon(
    settings: Settings,
    *,
    drain: bool,
    dry_run: bool,
    metrics: Metrics,
    stop: asyncio.Event | None,
    tracing: Tracing | None,
    signals: DaemonSignals | None,
) -> RunResult:
    """`run_daemon`'s work: open every client, serve, close them in reverse order."""
    assert settings.queue_url is not None
    async with AsyncExitStack() as stack, _failure_told(signals):
        if tracing is None:
            tracing = Tracing.from_environment("triage")
            # Closed last: spans still buffered leave after everything else has stopped.
            stack.push_async_callback(asyncio.to_thread, tracing.shutdown)
        aws = Aws(settings)
        stack.push_async_callback(aws.aclose)
        sqs = await aws.client("sqs")
        # Every message's receive and delete carry it: built once, not twice per call.
        remember_user_agent(sqs)
        refuse_queue_behind_aws(sqs.meta.endpoint_url, settings.queue_url)
        queue_answered = await check_queue(sqs, settings.queue_url)
        # Which receive is a message's last (`MessagesDeadLettered`); unknown when the queue
        # did not answer, rather than holding the start for it, until a later read says it.
        max_receive_count = (
            await read_max_receive_count(sqs, settings.queue_url) if queue_answered else None
        )
        store = await open_configured_store(settings, aws)
        stack.push_async_callback(store.aclose)
        router = load_router(settings)
        warned = deployment_warnings(settings, router.sink_names, os.environ)
        for event, detail in [*warned, *routing_warnings(settings, router)]:
            log.warning(event, detail=detail)
        budgets = MeteredBudgets(store, metrics)
        plain = await build_sinks(settings, aws, metrics, router, budgets=budgets)
        for sink in plain:
            stack.push_async_callback(sink.aclose)
        sinks = guarded(settings, plain)
        redactor = Redactor()
        summariser = build_summariser(settings, metrics, redactor, aws=aws)
        stack.push_async_callback(summariser.aclose)
        watch_breakers(metrics, breakers_of(*sinks, summariser))
        # Series known now are on /metrics at 0, so increase() counts their first event.
        declare_known_series(
            metrics, [sink.name for sink in sinks], dead_letters=max_receive_count is not None
        )
        health = Health()
        if not queue_answered:  # not ready until a receive answers (`Supervisor._receive_ok`)
            health.set("queue", False, "not answering since start-up")
        if store.unavailable_at_open is not None:
            # Not ready until the store answers a ping or a message (`StoreWatch`, which takes
            # this over): ready from the first /readyz, the daemon passed for one that could
            # handle nothing until its first ping had failed, up to that ping's bound later.
            health.set("store", False, store.unavailable_at_open)
        backpressure = Backpressure(sinks, health)
        stack.push_async_callback(backpressure.aclose)
        inbox = SqsInbox(sqs, settings.queue_url)
        # The policy may change while the daemon runs: the depth poll's answers carry it, or
        # (depth polling off) it is read again on an interval of its own.
        redrive = RedriveLimit(max_receive_count)
        depth = (
            DepthPoller(
                sqs, settings.queue_url, metrics, settings.queue_depth_poll_s, redrive=redrive
            )
            if settings.queue_depth_poll_s
            else None
        )
        silences = SilenceCache(store, settings.silence_cache_s)
        # Silences added through the API are dated by the store's time, as replicas match them.
        clock = store.now
        operator = OperatorView(
            settings, store, silences, sinks, summariser, health, aws, metrics, depth, clock=clock
        )
        await _start_endpoints(settings, metrics, health, stack, operator)
        if dry_run:  # what a new ticket would say, without a call to the model
            summariser = deterministic_summariser(settings, redactor)
        pipeline = pipeline_from(
            settings,
            store,
            summariser,
            sinks,
            metrics,
            redactor,
            router,
            dry_run=dry_run,
            silences=silences,
            tracing=tracing,
        )
        handler = pipeline.process
        helpers = _operations(settings, metrics, health, aws, depth)
        if depth is None:
            queue_url = settings.queue_url
            helpers.append(("redrive", lambda: redrive.run(sqs, queue_url)))
        if not dry_run:
            helpers.append(await _sweep(settings, store, pipeline, silences, router, sinks, stack))
        config = SupervisorConfig(
            concurrency=settings.concurrency,
            max_messages=settings.sqs_max_messages,
            wait_s=settings.sqs_wait_time,
            shutdown_grace_s=settings.shutdown_grace_s,
            cancel_deadline_s=settings.shutdown_cancel_s,
            retry_base_s=settings.retry_base_s,
            retry_max_s=settings.retry_max_s,
            receive_retry_base_s=settings.receive_retry_base_s,
            receive_retry_max_s=settings.receive_retry_max_s,
            visibility_timeout_s=settings.visibility_timeout_s,
            message_timeout_s=settings.message_timeout_s,
            drain=drain,
            dry_run=dry_run,
        )
        supervisor = Supervisor(
            config,
            inbox,
            handler,
            metrics,
            should_exit=stop,
            health=health,
            intake_limit=None if dry_run else backpressure.intake_limit,
            helpers=helpers,
            tracing=tracing,
            store_probe=store.ping,
            own_signals=signals is None,
        )
        _count_dead_letters(redrive, supervisor, metrics, [sink.name for sink in sinks])
        _freeze_startup_objects()
        if signals is not None:
            signals.supervisor = supervisor
        try:
            await supervisor.serve()
        finally:
            if signals is not None:
                signals.closing = True  # what is left is the exit stack
        return RunResult(supervisor.stats, metrics)


@asynccontextmanager
async def _failure_told(signals: DaemonSignals | None) -> AsyncIterator[None]:
    """Tell the daemon's signals (`DaemonSignals.failed`) when the body raised, before the
    exit stack around it unwinds: its first await is where a signal could land."""
    try:
        yield
    except Exception:
        if signals is not None:
            signals.failed()
        raise


def _count_dead_letters(
    redrive: RedriveLimit, supervisor: Supervisor, metrics: Metrics, sinks: Sequence[str]
) -> None:
    """Keep the supervisor's maxReceiveCount the queue's; once it is known, the
    `MessagesDeadLettered` series are on /metrics at 0 (a policy added while running too)."""

    def follow(count: int | None) -> None:
        supervisor.max_receive_count = count
        if count is not None:
            declare_known_series(metrics, sinks, dead_letters=True)

    redrive.follow(follow)


def refuse_queue_behind_aws(endpoint_url: str, queue_url: str) -> None:
    """ConfigError, before any call, when the SQS client sends its calls to `endpoint_url`,
    AWS's, while ALERT_TRIAGE_QUEUE_URL names a queue on another host (a LocalStack, moto or
    ElasticMQ queue with AWS_ENDPOINT_URL unset): botocore never sends them to the queue URL's
    host, so AWS would refuse each one, and the process would start only to stay unready for
    good, its errors naming AWS's endpoint. A refusal, as `triage send` and `triage dlq` give
    and `triage check` fails (`cli.queue_endpoint_problem`, the same words): the endpoint is
    read from the client as built, so AWS_ENDPOINT_URL_SQS counts, and nothing but a restart
    with the setting could mend it. `triage ingest` refuses it alike (`IngestService`)."""
    problem = queue_endpoint_problem(queue_url, endpoint_url, "ALERT_TRIAGE_QUEUE_URL")
    if problem is not None:
        raise ConfigError(problem)


def routing_warnings(settings: Settings, router: Router) -> list[tuple[str, str]]:
    """(event, detail) for a routes file that routes nothing (only comments, `route = []`):
    taken as no routes file, yet as often a config map's routes left out, so the daemon says
    so at start-up as `triage check` does (`routes.no_routes_problem`)."""
    problem = no_routes_problem(settings, router)
    return [] if problem is None else [("config.routes_file_without_routes", problem)]


def deployment_warnings(
    settings: Settings, sinks: Sequence[str], environ: Mapping[str, str]
) -> list[tuple[str, str]]:
    """(event, detail) for each setting that works but is most likely wrong where the daemon
    runs: a development default left in place, a store the replicas cannot share, an API
    token for endpoints that are turned off, a polling interval under a second, or GitHub
    issue links taken from GitHub's answers behind a proxy, or a backend request that can
    outlast the message's own time limit."""
    found = []
    if "backend" in sinks and "backend_base_url" not in settings.model_fields_set:
        found.append(
            (
                "config.default_backend_url",
                f"BACKEND_BASE_URL is unset: tickets go to {settings.backend_base_url}",
            )
        )
    if settings.store_url.startswith("sqlite:") and environ.get("ECS_CONTAINER_METADATA_URI_V4"):
        found.append(
            (
                "config.sqlite_in_a_task",
                "TRIAGE_STORE_URL is SQLite in an ECS task: each task keeps its own file, so "
                "replicas open a ticket each and a replaced task forgets its incidents "
                "(use dynamodb://TABLE)",
            )
        )
    if settings.api_token is not None and not settings.http_port:
        found.append(
            (
                "config.api_without_port",
                "TRIAGE_API_TOKEN is set but TRIAGE_HTTP_PORT is 0: the operator API and the "
                "status page, served on that port, are off",
            )
        )
    found += [("config.short_interval", detail) for detail in short_intervals(settings)]
    links = github_links_from_answers(settings) if "github" in sinks else None
    found += [("config.github_links_from_answers", links)] if links else []
    timeout = backend_timeout_problem(settings) if "backend" in sinks else None
    found += [("config.backend_timeout_past_message", timeout)] if timeout else []
    stop = stop_past_ecs_default(settings) if environ.get("ECS_CONTAINER_METADATA_URI_V4") else None
    found += [("config.stop_past_ecs_default", stop)] if stop else []
    return found


#: ECS's stop timeout when a task definition sets none: SIGKILL this long after SIGTERM.
ECS_DEFAULT_STOP_TIMEOUT_S = 30
#: What a stop takes beside the grace and the cancel step: 1 s for the last deletes, 1 s each
#: for the last metrics and spans, 1 s to spare (deploy/terraform/ecs.tf asks the same).
STOP_BESIDE_GRACE_S = 4


def stop_past_ecs_default(settings: Settings) -> str | None:
    """What to say when a SIGTERM's drain (grace, cancel step and the last flushes) outlasts
    ECS's default stop timeout; None when it fits. A task definition may set a longer
    `stopTimeout` (Fargate: up to 120 s), which the task cannot read, so this is a warning."""
    needed_s = settings.shutdown_grace_s + settings.shutdown_cancel_s + STOP_BESIDE_GRACE_S
    if needed_s <= ECS_DEFAULT_STOP_TIMEOUT_S:
        return None
    return (
        f"TRIAGE_SHUTDOWN_GRACE_S ({settings.shutdown_grace_s:g}) + TRIAGE_SHUTDOWN_CANCEL_S "
        f"({settings.shutdown_cancel_s:g}) + {STOP_BESIDE_GRACE_S} s for the last deletes and "
        f"flushes is {needed_s:g} s, past ECS's default stop timeout "
        f"({ECS_DEFAULT_STOP_TIMEOUT_S} s): unless the task definition's stopTimeout is at "
        f"least {math.ceil(needed_s)}, ECS kills the daemon mid-drain and the messages it "
        "holds come back only after their visibility timeout"
    )


def github_links_from_answers(settings: Settings) -> str | None:
    """What to say when where people open GitHub issues is not known (`WebOrigin` not fixed:
    GITHUB_API_URL is no GitHub shape, a proxy, and GITHUB_WEB_URL is unset), so each issue's
    link is kept as GitHub answered it; None when it is known. A loopback API URL is a local
    stand-in, not a deployment: nothing to say. The URL is shown without user, password or
    query (`url_origin`)."""
    from triage.sinks.github.refs import WebOrigin

    if not is_http_url(settings.github_api_url):
        return None  # no API at all, which the GitHub sink refuses in its own line
    origin = WebOrigin.of(settings.github_api_url, settings.github_web_url)
    if origin.fixed or _loopback(origin.host):
        return None
    return (
        f"GITHUB_API_URL {url_origin(settings.github_api_url)} is not GitHub's own API (a proxy?): "
        "issue links are taken from GitHub's answers (any host of an issue URL's shape); "
        "set GITHUB_WEB_URL to where people open issues"
    )


def _loopback(host: str) -> bool:
    """Whether `host` (lower case, an IPv6 address without brackets) is this machine."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def check_queue(sqs: Any, queue_url: str) -> bool:
    """Ask for the queue once before serving; whether it answered. No credentials at all, a
    queue that does not exist or credentials SQS refuses stop start-up with one line
    (ConfigError): the daemon would otherwise retry its receives forever, ready for nothing. A
    queue that does not answer just now (network, throttling, 5xx) is an outage the supervisor
    rides out: it retries its receives, and /readyz says the queue is not answering until SQS
    answers one. A FIFO queue (as its name or SQS says) stops start-up too: the daemon could
    read it, but the gateway, `triage send` and a redrive by batches cannot write to it (they
    give no MessageGroupId), so retries and redriven letters would be refused."""
    if is_fifo(queue_url):
        raise fifo_refusal(queue_url)
    try:
        answer = await sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["QueueArn", FIFO_ATTRIBUTE]
        )
    except (NoCredentialsError, ClientError) as exc:
        refusal = queue_refusal(exc, queue_url)
        if refusal is not None:
            raise refusal from None
        error = exc.response.get("Error", {}) if isinstance(exc, ClientError) else {}
        log.warning("queue.unavailable_at_start", error=str(error.get("Code", "Unknown"))[:80])
        return False
    except AWS_CALL_ERRORS as exc:
        # The type alone: botocore's text may quote an answer that is not SQS's.
        log.warning("queue.unavailable_at_start", error=type(exc).__name__)
        return False
    if is_fifo(queue_url, answer.get("Attributes", {})):
        raise fifo_refusal(queue_url)
    return True


def _freeze_startup_objects() -> None:
    """Move what start-up made (modules, clients, botocore's service models: ~100,000
    objects) out of the garbage collector's sight, and turn collection on (`python -m triage`
    starts with it off). They live as long as the process, yet each full collection walked
    them all: the event loop stopped for 60-120 ms every few hundred messages (measured at
    concurrency 64), 6-12 ms once they are frozen. No collection first: it found ~2,200
    unreachable objects (well under a MiB, kept for the process's life) and cost 50-140 ms of
    start-up CPU.

    The youngest generation is collected every 10,000 allocations, not 700: a storm makes
    few cycles (11,651 objects collected over 10,000 messages either way), yet the default
    ran ~1,100 young collections and 9 full ones per 10,000 messages, 0.361 s of CPU (~7 % of
    the daemon's); at 10,000 it is 11 young ones, 0.024 s (helper 203, gc.callbacks on the
    real daemon)."""
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
    gc.enable()


def _operations(
    settings: Settings, metrics: Metrics, health: Health, aws: Aws, depth: DepthPoller | None
) -> list[Helper]:
    """The loop watchdog, the queue-depth poller and the metrics exporter, run (and watched)
    by the supervisor."""
    helpers: list[Helper] = [("watchdog", health.watch_loop)]
    if depth is not None:
        helpers.append(("queue_depth", depth.run))
    mode = settings.metrics_mode
    if mode == "emf":
        emf = EmfExporter(metrics, settings.cloudwatch_namespace)
        helpers.append(("metrics", lambda: flush_every(settings.metrics_interval_s, emf.flush)))
    elif mode == "cloudwatch":

        async def put_metric_data() -> None:
            client = await aws.client("cloudwatch", endpoint_url=settings.aws_cloudwatch_endpoint)
            put = PutMetricDataExporter(metrics, settings.cloudwatch_namespace, client)
            await flush_every(settings.metrics_interval_s, put.flush)

        helpers.append(("metrics", put_metric_data))
    return helpers


def endpoint_limits(settings: Settings) -> Limits:
    """The daemon's port's limits. Behind the trusted proxies (TRIAGE_HTTP_TRUSTED_PROXY_HOPS)
    every connection comes from the proxy: a cap per address would be the cap of all clients
    together, so there is none below the port's own."""
    if not settings.http_trusted_proxy_hops:
        return DEFAULT_LIMITS
    return replace(DEFAULT_LIMITS, max_per_peer=DEFAULT_LIMITS.max_connections)


async def _start_endpoints(
    settings: Settings,
    metrics: Metrics,
    health: Health,
    stack: AsyncExitStack,
    operator: OperatorView | None = None,
) -> None:
    if settings.http_port:
        # The operator's API and status page only with a token (TRIAGE_API_TOKEN).
        extra = operator_routes(operator) if operator and settings.api_token else {}
        server = EndpointServer(
            health,
            metrics,
            settings.http_host,
            settings.http_port,
            endpoint_limits(settings),
            extra_routes=extra,
        )
        await server.start()
        stack.push_async_callback(server.aclose)


# --- The operator's view: silences, the sweep, closing by hand -------------------------------


async def _sweep(
    settings: Settings,
    store: Store,
    pipeline: Pipeline,
    silences: SilenceCache,
    router: Router,
    sinks: Sequence[GuardedSink],
    stack: AsyncExitStack,
) -> Helper:
    """The sweep (held effects, abandoned ones, escalations) as a supervisor helper; the
    escalations go through the breakers of the sinks that talk to the same services."""
    from triage.ops.escalate import Escalator
    from triage.ops.sweep import Sweep

    escalator = None
    if any(rule.route.escalation is not None for rule in router.rules):
        escalator = Escalator(settings, router, guards=sinks)
        stack.push_async_callback(escalator.aclose)
    sweep = Sweep(store, pipeline, silences, escalator, settings.sweep_interval_s)
    return ("sweep", sweep.run_forever)


async def close_by_hand(
    settings: Settings, store: Store, fingerprint: str, comment: str, author: str
) -> Action:
    """`triage incidents close`: the close goes through the lifecycle and to the sinks that
    took the ticket, as a resolve would (no LLM: a close never summarises). Raises LookupError
    for an unknown fingerprint before any sink is built (a mistyped one needs no token)."""
    if await store.get(fingerprint) is None:
        raise LookupError(fingerprint)
    metrics, redactor = Metrics(), Redactor()
    hold_credentials(settings)
    async with AsyncExitStack() as stack:
        aws = Aws(settings)
        stack.push_async_callback(aws.aclose)
        router = load_router(settings)
        sinks = await build_sinks(settings, aws, metrics, router, budgets=store)
        for sink in sinks:
            stack.push_async_callback(sink.aclose)
        summariser = deterministic_summariser(settings, redactor)
        pipeline = pipeline_from(settings, store, summariser, sinks, metrics, redactor, router)
        owner = f"cli:{author}:{secrets.token_hex(4)}"
        return await pipeline.close(fingerprint, owner, comment, author)
