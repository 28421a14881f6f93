"""`triage check`: validate the configuration and reach every dependency, reporting all
problems at once (one line each) rather than stopping at the first.

Each check prints `ok`, `FAIL` (exit 1) or `warn` (works, but not as a user would expect: the
backend will not hear of updates and resolves, say).
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import TextIO

import httpx2

from triage.app import open_configured_store
from triage.aws import AWS_CALL_ERRORS, ONE_SHOT, Aws
from triage.errors import ConfigError, TriageError
from triage.routes import load_router
from triage.secrets import BackendToken
from triage.settings import Settings, env_name
from triage.sinks.backend import BackendSink

Check = Callable[[], Awaitable[str]]

#: What a check failing looks like: the service's error, or an answer no client could read.
_CHECK_FAILURES: tuple[type[Exception], ...] = (
    ConfigError,
    TriageError,
    *AWS_CALL_ERRORS,
    httpx2.HTTPError,
    OSError,
)


class _Warning(Exception):
    """Raised by a check that passed with a caveat worth a line of its own."""


async def run_checks(settings: Settings, out: TextIO | None = None) -> int:
    """Print `ok`/`FAIL` per dependency; return 1 if anything failed."""
    out = out or sys.stdout
    aws = Aws(settings, ONE_SHOT)
    checks: list[tuple[str, Check]] = [
        ("config", lambda: _config(settings)),
        ("routes", lambda: _routes(settings)),
        ("store", lambda: _store(settings, aws)),
        ("queue", lambda: _queue(settings, aws)),
    ]
    try:
        used = load_router(settings).sink_names
    except ConfigError:
        used = settings.sinks  # the routes check reports the problem
    if "backend" in used:
        checks += [
            ("token", lambda: _token(settings, aws)),
            ("backend", lambda: _backend(settings, aws)),
            ("backend", lambda: _backend_routes(settings)),
        ]
    if "github" in used:
        checks.append(("github", lambda: _github(settings)))
    if "slack" in used:
        checks.append(("slack", lambda: _slack(settings)))
    failed = warned = 0
    try:
        for name, check in checks:
            try:
                detail = await check()
            except _Warning as exc:
                warned += 1
                print(f"warn  {name:8} {exc}", file=out)
            except _CHECK_FAILURES as exc:
                failed += 1
                print(f"FAIL  {name:8} {_one_line(exc)}", file=out)
            else:
                print(f"ok    {name:8} {detail}", file=out)
    finally:
        await aws.aclose()
    warnings = f", {warned} with a warning" if warned else ""
    print(f"{len(checks) - failed} of {len(checks)} checks passed{warnings}", file=out)
    return 1 if failed else 0


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


async def _config(settings: Settings) -> str:
    settings.require("queue_url")
    return f"sinks={','.join(settings.sinks)} concurrency={settings.concurrency}"


async def _routes(settings: Settings) -> str:
    router = load_router(settings)
    where = str(settings.routes_file) if settings.routes_file else "no routes file"
    return f"{where}: {len(router.rules)} route(s), sinks used: {', '.join(router.sink_names)}"


async def _github(settings: Settings) -> str:
    from triage.sinks.github import GitHubSink

    sink = GitHubSink(settings)
    try:
        return await sink.probe()
    finally:
        await sink.aclose()


async def _slack(settings: Settings) -> str:
    # Posting would put a message in someone's channel: check the configuration only.
    from triage.sinks.slack import SlackSink

    sink = SlackSink(settings, require_default=load_router(settings).slack_needs_default)
    await sink.aclose()
    return f"webhook(s) configured, minimum priority {settings.slack_min_priority}"


async def _store(settings: Settings, aws: Aws) -> str:
    store = await open_configured_store(settings, aws)
    try:
        await store.ping()
    finally:
        await store.aclose()
    return settings.store_url


async def _queue(settings: Settings, aws: Aws) -> str:
    if not settings.queue_url:
        raise ConfigError("skipped: ALERT_TRIAGE_QUEUE_URL is not set")
    sqs = await aws.client("sqs")
    response = await sqs.get_queue_attributes(
        QueueUrl=settings.queue_url, AttributeNames=["RedrivePolicy", "ApproximateNumberOfMessages"]
    )
    attrs = response.get("Attributes", {})
    dlq = (
        "with a DLQ"
        if "RedrivePolicy" in attrs
        else "WITHOUT a redrive policy (failures never leave)"
    )
    return f"{settings.queue_url} ({attrs.get('ApproximateNumberOfMessages', '?')} visible, {dlq})"


async def _token(settings: Settings, aws: Aws) -> str:
    secrets = await aws.client("secretsmanager") if settings.backend_token_secret_id else None
    await BackendToken(settings, secrets).get()
    if settings.backend_token_secret_id:
        return f"read from Secrets Manager {settings.backend_token_secret_id}"
    return f"read from ${settings.backend_token_env_key}"


async def _backend_routes(settings: Settings) -> str:
    missing = [
        env_name(field)
        for field in ("backend_update_route", "backend_resolve_route")
        if not getattr(settings, field)
    ]
    if missing:
        raise _Warning(
            f"{' and '.join(missing)} unset: the backend hears of new incidents only, "
            "not of their updates, reopens or resolves"
        )
    return (
        f"updates to {settings.backend_update_route}, resolves to {settings.backend_resolve_route}"
    )


async def _backend(settings: Settings, aws: Aws) -> str:
    # The probe the sink's breaker uses: OPTIONS on the create route; 5xx, 429 or no answer fail.
    secrets = await aws.client("secretsmanager") if settings.backend_token_secret_id else None
    sink = BackendSink(settings, BackendToken(settings, secrets))
    try:
        return await sink.probe()
    finally:
        await sink.aclose()
