"""`triage check`: validate the configuration and reach every dependency, reporting all
problems at once (one line each) rather than stopping at the first.

Each check prints `ok`, `FAIL` (exit 1) or `warn` (works, but not as a user would expect: the
backend will not hear of updates and resolves, say), or `unknown` when what answered proves
nothing either way (a gateway's own answer to the backend's OPTIONS, `ProbeCantTell`): not
counted as passed, yet no failure (exit 0), as nothing is known to be wrong.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TextIO, TypeVar, cast
from urllib.parse import urlsplit

import httpx2
from botocore.exceptions import BotoCoreError, ClientError

from triage.app import deployment_warnings, open_configured_store
from triage.aws import AWS_CALL_ERRORS, ONE_SHOT, Aws, told_error_code
from triage.cli import missing_sqlite_store, queue_endpoint_problem, sqlite_store_problem
from triage.errors import ConfigError, ModelError, SinkRejectedError, TriageError
from triage.incidents.store import Store
from triage.ingest_tokens import (
    TokensUnavailable,
    held_tokens,
    read_failure,
    secret_text,
)
from triage.normalize.common import cut
from triage.ops.orphan_groups import open_group_keys, orphan_group_warnings
from triage.redact import Redactor, held
from triage.routes import (
    Router,
    load_router,
    no_routes_problem,
    require_github_credentials,
    require_github_repository,
    require_slack_webhook,
)
from triage.secrets import CURRENT_STAGE, BackendToken
from triage.settings import (
    Settings,
    credentials_beside_secrets,
    env_name,
    load_settings_in_part,
    tracing_endpoint_problem,
)
from triage.sinks.aio import AnswerUnread
from triage.sinks.backend import BackendSink
from triage.sinks.base import ProbeCantTell
from triage.sqs.base import SupervisorConfig, config_past_sqs
from triage.sqs.depth import dlq_url
from triage.sqs.fifo import is_fifo
from triage.sqs.inbox import MAX_VISIBILITY_S, sqs_count
from triage.sqs.redrive import max_receive_count
from triage.view import json_line, terminal_text, url_origin

Check = Callable[[], Awaitable[str]]
_T = TypeVar("_T")

#: What a model's error answer says is redacted like alert text: a server may echo the key,
#: or another credential, in it.
_REDACTOR = Redactor()
#: The prompt of the model check: the answer is cut at one token, so it costs next to nothing.
_PING = "Reply with the single word: ok"


class _Warning(Exception):
    """Raised by a check that passed with a caveat worth a line of its own."""


class _Failed(Exception):
    """Raised by a check with the one line that says why it failed."""


class _PassedWithWarnings(Exception):
    """Raised by a check that passed (`detail`) and found problems elsewhere, each a warn line
    of its own under `name`: the store check, reading the open groups the routes file no
    longer routes."""

    def __init__(self, detail: str, name: str, warnings: Sequence[str]) -> None:
        super().__init__(detail)
        self.detail, self.name, self.warnings = detail, name, warnings


#: What a check failing looks like: the service's error, or an answer no client could read.
_CHECK_FAILURES: tuple[type[Exception], ...] = (
    ConfigError,
    TriageError,
    TokensUnavailable,
    *AWS_CALL_ERRORS,
    httpx2.HTTPError,
    OSError,
    _Failed,
)


class SettingLeftOut(Exception):
    """Raised by a check that reads a setting the environment gave a refused value: the
    check is skipped, as what it would find says nothing of the value meant."""


class _LeftOut:
    """Settings in which each refused value (`load_settings_in_part`) cannot be read: a check
    reading one raises SettingLeftOut, rather than check its default in its place (the default
    store, the default region) and pass what the user never configured."""

    def __init__(self, settings: Settings, left_out: Mapping[str, str]) -> None:
        self._settings, self._left_out = settings, left_out

    def __getattr__(self, name: str) -> Any:
        variable = self._left_out.get(name)
        if variable is not None:
            raise SettingLeftOut(f"skipped: it reads {variable}, refused above")
        return getattr(self._settings, name)


async def check_refused(
    refusal: ConfigError, out: TextIO | None = None, output: str = "text"
) -> int:
    """`triage check` when the settings are refused: the refusal's line (every value refused,
    as `triage run` says it), then every check that reads none of the refused settings (the
    routes file, the credentials, the queue), so one run names every problem it can find.
    Exit 2, a configuration error, as every command's refusal of its settings."""
    out = out or sys.stdout
    built = load_settings_in_part()
    if built is None:  # nothing to check with: the refusal alone
        _say("FAIL", "config", _without_held(_one_line(refusal)), out, output)
        _summary(1, 1, 0, 0, out, output)
        return 2
    settings, left_out = built
    from triage.logs import configure_logging

    # As the command would have: a check's debug lines are not the report's.
    configure_logging(settings.log_format, settings.log_level)
    await run_checks(cast(Settings, _LeftOut(settings, left_out)), out, output, refusal)
    return 2


async def run_checks(
    settings: Settings,
    out: TextIO | None = None,
    output: str = "text",
    refusal: ConfigError | None = None,
) -> int:
    """Print `ok`/`FAIL`/`warn`/`unknown` per dependency; return 1 if anything failed (an
    answer that proves nothing, `unknown`, is not known to fail). `output="json"`: one JSON
    object per line instead (`_say`, `_summary`), for scripts. With `refusal` (the settings'
    refusal, `check_refused`), the config check fails with it, and a check reading a refused
    setting is a `skip` line (`SettingLeftOut`), not counted as passed."""
    out = out or sys.stdout
    aws = _aws(settings)
    checks: list[tuple[str, Check]] = [
        ("config", lambda: _config(settings, refusal)),
        ("routes", lambda: _routes(settings)),
        ("store", lambda: _store(settings, aws)),
        ("queue", lambda: _queue(settings, aws)),
    ]
    if tracing_endpoint_problem(os.environ):
        checks.append(("tracing", _tracing))
    if _given(lambda: bool(settings.ingest_tokens_secret_id or settings.ingest_tokens), True):
        checks.append(("ingest", lambda: _ingest_tokens(settings, aws)))
    used: tuple[str, ...] = _given(lambda: _sinks_used(settings), ())
    if "backend" in used:
        checks += [
            ("token", lambda: _token(settings, aws)),
            ("backend", lambda: _backend(settings, aws)),
            ("backend", lambda: _backend_routes(settings, aws)),
        ]
    if settings.llm != "none":
        checks.append(("llm", lambda: _llm(settings, aws)))
    if "github" in used:
        checks.append(("github", lambda: _github(settings)))
    if "slack" in used:
        checks.append(("slack", lambda: _slack(settings)))
    # Refused settings: the refusal's line named the variables ignored already.
    checks += _given(lambda: _start_up_warnings(settings, used, refusal is None), [])
    failed = warned = unknown = extra = skipped = 0
    try:
        for name, check in checks:
            try:
                detail = await check()
            except SettingLeftOut as exc:
                skipped += 1
                _say("skip", name, str(exc), out, output)
            except _PassedWithWarnings as exc:
                _say("ok", name, exc.detail, out, output)
                for line in exc.warnings:
                    _say("warn", exc.name, line, out, output)
                extra += len(exc.warnings)
                warned += len(exc.warnings)
            except _Warning as exc:
                warned += 1
                _say("warn", name, str(exc), out, output)
            except _CHECK_FAILURES as exc:
                failed += 1
                _say("FAIL", name, _without_held(_failure(exc)), out, output)
            else:
                told = isinstance(detail, ProbeCantTell)
                unknown += told
                _say("unknown" if told else "ok", name, detail, out, output)
    finally:
        await aws.aclose()
    total = len(checks) + extra
    _summary(total, failed, warned, unknown, out, output, skipped)
    return 1 if failed else 0


def _aws(settings: Settings) -> Aws:
    """The checks' AWS clients; with the region or an endpoint refused, clients that raise
    SettingLeftOut when made, so each AWS check is skipped and the others still run."""
    try:
        return Aws(settings, ONE_SHOT)
    except SettingLeftOut as exc:
        return cast(Aws, _NoAws(exc))


class _NoAws:
    """`Aws` when a setting every AWS client reads (AWS_REGION) is refused."""

    def __init__(self, why: SettingLeftOut) -> None:
        self._why = why

    async def client(self, *args: object, **kwargs: object) -> Any:
        raise SettingLeftOut(str(self._why))

    async def aclose(self) -> None:
        return None


def _given(read: Callable[[], _T], otherwise: _T) -> _T:
    """What `read` gives, else `otherwise` when it reads a refused setting: which checks to
    run is decided from the settings, and one refused must not stop the rest."""
    try:
        return read()
    except SettingLeftOut:
        return otherwise


def _sinks_used(settings: Settings) -> tuple[str, ...]:
    """The sinks the routes send to; TRIAGE_SINKS when the routes file fails (the routes
    check reports why)."""
    try:
        return load_router(settings).sink_names
    except (ConfigError, SettingLeftOut):
        return settings.sinks


def _say(verdict: str, name: str, text: str, out: TextIO, output: str = "text") -> None:
    """One line of the report. `text` may quote what a service answered (a model server's
    error message, a repository's name), so its control characters are written escaped: an
    answer holding terminal escapes (a clipboard write, a cleared screen) stays text; and, as
    for stored alert text, a backslash of its own that could start an escape is doubled, so
    an answer spelling `\\u001b` cannot pass for an escape this line wrote. In JSON, the
    line `{"check", "verdict", "detail"}` (`json_line` escapes the same characters)."""
    if output == "json":
        print(json_line({"check": name, "verdict": verdict, "detail": text}), file=out)
        return
    print(f"{verdict:5} {name:8} {terminal_text(text)}", file=out)


def _summary(
    total: int,
    failed: int,
    warned: int,
    unknown: int,
    out: TextIO,
    output: str,
    skipped: int = 0,
) -> None:
    """The report's last line: how many checks passed (a warning's among them; an `unknown`
    one, which proves nothing, not, nor one skipped for a refused setting), with a warning,
    could not tell, and were skipped (said only when some were: the JSON's keys stay)."""
    passed = total - failed - unknown - skipped
    if output == "json":
        counts = {"passed": passed, "total": total, "failed": failed, "warned": warned}
        more = {"skipped": skipped} if skipped else {}
        print(json_line({**counts, "unknown": unknown, **more}), file=out)
        return
    warnings = f", {warned} with a warning" if warned else ""
    untold = f", {unknown} could not tell" if unknown else ""
    skips = f", {skipped} skipped (a setting refused)" if skipped else ""
    print(f"{passed} of {total} checks passed{warnings}{untold}{skips}", file=out)


def _failure(exc: BaseException) -> str:
    """What a failed check says: an AWS service's error as the call, a code of AWS's form and
    its message redacted and cut (whatever answers for the service writes both, and botocore's
    own text quotes them whole); anything else on one line."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = told_error_code(error.get("Code"))
        return f"{exc.operation_name} refused: {code}: {_said(error.get('Message'))}"
    return _one_line(exc)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _without_held(line: str) -> str:
    """`line` with each credential this process holds (an API key, a token it read) replaced:
    a failure may quote what a service echoed. By exact value only: the redactor's patterns
    would take "token: set BACKEND_TOKEN" in our own advice for a secret."""
    for secret in held():
        line = line.replace(secret, "[REDACTED]")
    return line


async def _config(settings: Settings, refusal: ConfigError | None = None) -> str:
    """The queue setting, and the deterministic summariser's patterns read as the daemon reads
    them at start-up, which a missing or broken TRIAGE_PATTERNS_FILE stops: every problem in
    one line, after the settings' `refusal` when they were refused (a setting it left out is
    not judged again)."""
    from triage.summarise.deterministic import Pattern, load_patterns

    problems: list[str] = [str(refusal)] if refusal is not None else []
    patterns: tuple[Pattern, ...] = ()
    if not _given(lambda: settings.queue_url or "", "refused above"):
        problems.append(f"missing required setting: {env_name('queue_url')}")
    try:
        patterns = load_patterns(settings.patterns_file)
    except ConfigError as exc:
        problems.append(str(exc))
    except SettingLeftOut:
        pass
    if problems:
        raise ConfigError("; ".join(problems))
    where = settings.patterns_file or "bundled patterns.toml"
    # Builds the RE2 programs the daemon builds at its first alert: each one RE2 cannot run
    # logs why (`patterns.searched_in_part`), and is counted here.
    partial = sum(pattern.linear is None for pattern in patterns)
    in_part = f"; {partial} searched in an alert's start only" if partial else ""
    return (
        f"sinks={','.join(settings.sinks)} concurrency={settings.concurrency} "
        f"patterns={where} ({len(patterns)}{in_part})"
    )


async def _routes(settings: Settings) -> str:
    """The routes file loaded as the daemon loads it; a `warn` for one routing nothing."""
    router = load_router(settings)
    empty = no_routes_problem(settings, router)
    if empty is not None:
        raise _Warning(empty)
    where = str(settings.routes_file) if settings.routes_file else "no routes file"
    used = f"sinks used: {', '.join(router.sink_names)}"
    if not router.rules:
        return f"{where}: 0 route(s), {used}"
    # Which of two routes an alert matching both takes, said where a new team looks first.
    order = (
        "tried in order: the first that matches an alert takes it (none: TRIAGE_SINKS "
        f"({', '.join(router.default.sinks)}))"
    )
    return f"{where}: {len(router.rules)} route(s), {order}; {used}"


#: The check each of the daemon's start-up warnings (`deployment_warnings`) is reported under;
#: any other under `config`.
_WARNING_CHECKS = {
    "config.default_backend_url": "backend",
    "config.sqlite_in_a_task": "store",
    "config.api_without_port": "api",
    "config.short_interval": "interval",
    "config.github_links_from_answers": "github",
    "config.backend_timeout_past_message": "backend",
}


def _start_up_warnings(
    settings: Settings, sinks: Sequence[str], ignored: bool = True
) -> list[tuple[str, Check]]:
    """One `warn` check per warning the daemon logs as it starts with these settings, in this
    environment and with the sinks its routes use: what works but is most likely wrong where
    it runs (the same words, from the same function); with `ignored`, each variable ignored
    (`config.unknown_variable`), which a settings refusal's line names instead."""
    found = deployment_warnings(settings, sinks, os.environ)
    found += [("config.past_visibility_max", detail) for detail in _past_sqs(settings)]
    if ignored:
        found += [("config.unknown_variable", each) for each in _ignored_variables(settings)]
    warnings = [(_WARNING_CHECKS.get(event, "config"), detail) for event, detail in found]
    warnings += credentials_beside_secrets(settings, os.environ)
    return [(check, _warning(detail)) for check, detail in warnings]


def _ignored_variables(settings: Settings) -> list[str]:
    """What every command logs as `config.unknown_variable` at its start (a misspelt name, an
    `export ` or a byte-order mark kept in one), so the report and its JSON say it too."""
    from triage.route_variables import variables_read
    from triage.settings import unknown_variables

    token_variable = _given(lambda: settings.backend_token_env_key, "BACKEND_TOKEN")
    read = _given(lambda: variables_read(settings), frozenset[str]())
    return unknown_variables(os.environ, token_variable, read)


def _past_sqs(settings: Settings) -> list[str]:
    """What the supervisor warns of as it starts (`config.past_visibility_max`): each setting
    SQS's 12 h visibility cap keeps from being had as set, and what is used instead."""
    config = SupervisorConfig(
        retry_max_s=settings.retry_max_s, visibility_timeout_s=settings.visibility_timeout_s
    )
    return [
        f"{env_name(setting)} is {value_s:g} s, past what SQS's {MAX_VISIBILITY_S // 3600} h "
        f"visibility cap lets the daemon have: it uses {used_s:g} s at most"
        for setting, value_s, used_s in config_past_sqs(config)
    ]


def _warning(detail: str) -> Check:
    async def warn() -> str:
        raise _Warning(detail)

    return warn


async def _tracing() -> str:
    """An OTLP endpoint that is no URL: the processes start, without spans."""
    raise _Warning(tracing_endpoint_problem(os.environ) or "")


async def _ingest_tokens(settings: Settings, aws: Aws) -> str:
    """The gateway's tokens, read and parsed as `triage ingest` does at start-up: a secret that
    cannot be read, JSON that is not, a token too short or a misspelt source, a token shared by
    two sources, one pasted with `Bearer `, one wrapped in quotes (or the JSON itself quoted),
    more than two for a source stop it there. The secret is read with this process's
    credentials (the gateway's role is the one that may)."""
    secret_id = settings.ingest_tokens_secret_id
    if secret_id:
        secrets = await aws.client("secretsmanager")
        try:
            response = await secrets.get_secret_value(
                SecretId=secret_id, VersionStage=CURRENT_STAGE
            )
        except AWS_CALL_ERRORS as exc:
            raise read_failure(exc, secret_id) from None
        text, where = secret_text(response, secret_id), "TRIAGE_INGEST_TOKENS_SECRET_ID"
    else:
        assert settings.ingest_tokens is not None
        text, where = settings.ingest_tokens.get_secret_value(), "TRIAGE_INGEST_TOKENS"
    sources = sorted(held_tokens(text, where))
    shown = f"{where} {secret_id}" if secret_id else where
    if not sources:
        raise _Warning(f"{shown} gives no source a token: every webhook is answered 404")
    return f"tokens for {', '.join(sources)} from {shown}"


async def _github(settings: Settings) -> str:
    """GitHub reachable with our credentials, no repository issues go to archived, and GitHub
    does not refuse our credentials a create in each: the probe reads issues, which an
    archived repository still serves and a token with Issues read-only still reads, so
    without asking every new incident would be refused while this check said ok (the write
    is asked with a create GitHub cannot carry out: `access.py`). A create refused for its
    title alone passes, said as that and no more; an answer that tells nothing (a limit, an
    outage) is a warning, as is a label triage relies on that a repository lacks and that
    our credentials may not create (`github_labels.py`)."""
    from triage.ops.github_labels import app_issues_refused, label_problems
    from triage.sinks.github import GitHubSink
    from triage.sinks.github.access import refusal_said

    try:
        router = load_router(settings)
        require_github_credentials(router, settings)
        require_github_repository(router, settings)
    except ConfigError as exc:
        raise _Failed(str(exc)) from None
    repositories = _github_repositories(settings)
    sink = GitHubSink(settings)
    try:
        try:
            reached = await sink.probe()
        except SinkRejectedError as exc:
            # GITHUB_REPOSITORY's issues refused: said with what to do, as a route's is.
            raise _Failed(_without_held(refusal_said(exc))) from None
        probes = [await sink.probe_issue_write(r) for r in repositories]
    finally:
        await sink.aclose()
    said = {verdict: [p.said for p in probes if p.verdict == verdict] for verdict in _VERDICTS}
    if said["unknown"]:
        # A create whose answer told nothing (an outage's 5xx, a limit): what the App's
        # installation may do is read without writing anything, and may tell it.
        refusal = await app_issues_refused(settings)
        if refusal is not None:
            unknown = [p.repository for p in probes if p.verdict == "unknown"]
            said["refused"].append(f"{', '.join(unknown)}: {refusal}")
    if said["refused"]:
        raise _Failed(_without_held("; ".join(said["refused"])))
    passed = [p.repository for p in probes if p.verdict == "not_refused"]
    if passed:
        # Not "may write": GitHub does not document that it checks permissions first.
        reached += (
            f"; issue creates not refused in {len(passed)} of {len(probes)} repositories (an "
            "untitled test create answered 422, title missing)"
        )
    problems = said["unknown"] + await label_problems(settings, repositories)
    if problems:
        raise _Warning(_without_held(f"{reached}; {'; '.join(problems)}"))
    return reached


#: How the issue-write probe reads GitHub's answer (`sinks/github/access.py`).
_VERDICTS = ("not_refused", "refused", "unknown")


def _github_repositories(settings: Settings) -> list[str]:
    """Every repository issues may go to, each once whatever its capitals (GitHub's names
    ignore case): GITHUB_REPOSITORY and the routes' own (only the first when the routes file
    cannot be read, which the routes check reports)."""
    from triage.sinks.github.digest import issue_repositories

    try:
        router = load_router(settings)
    except ConfigError:
        router = None
    return issue_repositories(settings, router)


async def _slack(settings: Settings) -> str:
    # Posting would put a message in someone's channel: check the configuration only.
    from triage.sinks.slack import SlackSink

    router = load_router(settings)
    require_slack_webhook(router, settings)
    sink = SlackSink(settings, require_default=router.slack_needs_default)
    await sink.aclose()
    problems = [
        f"{where} {problem}"
        for where, url in _slack_webhooks(settings, router)
        if (problem := slack_webhook_problem(url)) is not None
    ]
    if problems:
        raise _Failed("; ".join(problems))
    return f"webhook(s) configured, minimum priority {settings.slack_min_priority}"


def _slack_webhooks(settings: Settings, router: Router) -> list[tuple[str, str]]:
    """Each Slack webhook URL triage may post to, with where it is set: SLACK_WEBHOOK_URL,
    a route's `[route.slack]` and its escalation's."""
    default = settings.slack_webhook_url
    found = [("SLACK_WEBHOOK_URL", default.get_secret_value().strip())] if default else []
    for rule in router.rules:
        route = rule.route
        own = route.target("slack").webhook_url if "slack" in route.sinks else None
        if own:
            found.append((f"route {route.name!r}'s slack webhook", own))
        escalation = route.escalation.slack_webhook_url if route.escalation else None
        if escalation:
            found.append((f"route {route.name!r}'s escalation webhook", escalation))
    return found


#: The hosts of Slack's incoming webhooks (commercial, and GovSlack's).
SLACK_WEBHOOK_HOSTS = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})
#: What an incoming webhook URL is, said where one is not.
_WEBHOOK_FORM = "https://hooks.slack.com/services/T…/B…/ and its secret"


def slack_webhook_problem(url: str) -> str | None:
    """Why Slack would refuse every post to `url`, or None: an incoming webhook's path cut
    short (copied in part: Slack answers 404), or a Slack page or Web API address pasted for a
    webhook (a channel's link). Only Slack's own hosts are judged: another chat that takes
    Slack's messages (Mattermost, Rocket.Chat), a proxy or a workflow webhook is not. The URL
    is never in the answer: its path is the credential."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return None  # the sink refuses it already, in its own words
    path = [part for part in parts.path.split("/") if part]
    if host in SLACK_WEBHOOK_HOSTS:
        if path[:1] == ["services"] and len(path) != 4:
            return (
                f"is an incoming webhook URL cut short ({len(path) - 1} of the 3 parts after "
                f"/services/: {_WEBHOOK_FORM}): copy the whole Webhook URL again from the Slack "
                "app's Incoming Webhooks page"
            )
        return None
    if host == "slack.com" or host.endswith(".slack.com"):
        return (
            f"is {host}'s address, not an incoming webhook URL ({_WEBHOOK_FORM}): a channel's "
            "link or the Web API takes no webhook post; copy the Webhook URL from the Slack "
            "app's Incoming Webhooks page"
        )
    return None


async def _store(settings: Settings, aws: Aws) -> str:
    """The store reached; then its open groups read against the routes file (a warn line per
    route key no grouping route keys its groups by now), unless the file fails its own check.
    A SQLite store that is not there (or an empty file) is a warning, and nothing is made
    there: opening it would create it, and a mistyped path would then pass as ok; the daemon
    creates it at its first run, so before that run it is no failure."""
    not_a_store = sqlite_store_problem(settings.store_url)
    if not_a_store is not None:
        raise _Failed(not_a_store)
    missing = missing_sqlite_store(settings.store_url)
    if missing is not None:
        raise _Warning(
            f"no SQLite store at {missing}: the daemon creates it at its first run; if it has "
            "run, TRIAGE_STORE_URL names another file than its store (a typo, a volume not "
            "mounted)"
        )
    store = await open_configured_store(settings, aws)
    try:
        await store.ping()
        try:
            router = load_router(settings)
        except ConfigError:
            return settings.store_url  # the routes check says why
        open_groups, unread = await _open_groups(store)
    finally:
        await store.aclose()
    if unread:
        return f"{settings.store_url} (open groups not checked: {unread})"
    warnings = orphan_group_warnings(router, open_groups)
    if warnings:
        raise _PassedWithWarnings(settings.store_url, "routes", warnings)
    return settings.store_url


#: How long `check` waits for the store's incidents: a scan of every one (the store lists no
#: fewer), which a large table makes slow; past it the open groups are not checked, and the
#: line says so.
GROUPS_READ_S = 10.0


async def _open_groups(store: Store) -> tuple[Counter[str], str]:
    """The open groups per route key, and "" ; or nothing and why they were not read (too
    slow, or a scan the store refused: the daemon's own calls may still work)."""
    try:
        async with asyncio.timeout(GROUPS_READ_S):
            return open_group_keys(await store.incidents()), ""
    except TimeoutError:
        return Counter(), f"the store's incidents were not listed within {GROUPS_READ_S:g} s"
    except _CHECK_FAILURES as exc:
        return Counter(), _without_held(_failure(exc))


async def _queue(settings: Settings, aws: Aws) -> str:
    if not settings.queue_url:
        raise ConfigError("skipped: ALERT_TRIAGE_QUEUE_URL is not set")
    sqs = await aws.client("sqs")
    problem = queue_endpoint_problem(
        settings.queue_url, sqs.meta.endpoint_url, "ALERT_TRIAGE_QUEUE_URL"
    )
    if problem is not None:
        raise _Failed(problem)
    try:
        response = await sqs.get_queue_attributes(
            QueueUrl=settings.queue_url,
            AttributeNames=[
                "RedrivePolicy",
                "ApproximateNumberOfMessages",
                "MessageRetentionPeriod",
                "FifoQueue",
            ],
        )
    except ClientError as exc:
        other = await _another_account(aws, settings.queue_url, exc)
        if other is not None:
            raise _Failed(other) from exc
        raise
    attrs = response.get("Attributes", {})
    # Without a user and password a URL may carry (a proxy's), as every URL check shows.
    if is_fifo(settings.queue_url, attrs):
        raise _Failed(
            f"{url_origin(settings.queue_url)} is a FIFO queue: SQS refuses a send to it "
            "without a MessageGroupId, which triage never gives (the gateway, `triage send`, "
            "a redrive by batches): use a standard queue"
        )
    try:
        visible: int | str = sqs_count(attrs.get("ApproximateNumberOfMessages"))
    except ValueError:
        visible = "?"  # a stand-in's or proxy's text is never shown as the count
    shown = f"{url_origin(settings.queue_url)} ({visible} visible"
    if "RedrivePolicy" not in attrs:
        # It works, but a message that keeps failing is retried until it expires, never set aside.
        raise _Warning(f"{shown}, WITHOUT a redrive policy (failures never leave))")
    if max_receive_count(attrs) is None:
        # Read as the daemon reads it: without the count it cannot tell a message's last receive.
        raise _Warning(
            f"{shown}, with a DLQ but no maxReceiveCount the daemon can read: "
            "dead letters go uncounted)"
        )
    problem = await _dlq_retention_problem(sqs, settings.queue_url, attrs)
    if problem:
        raise _Warning(f"{shown}, with a DLQ {problem})")
    return f"{shown}, with a DLQ)"


#: The codes SQS (and its JSON protocol) answers for a queue that does not exist.
_NO_SUCH_QUEUE_CODES = frozenset(
    {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "NonExistentQueue"}
)

#: The codes SQS answers for a queue the credentials may not see: another account's queue
#: without an access policy letting them in is answered as not there, or as access denied.
_NOT_SEEN = frozenset({*_NO_SUCH_QUEUE_CODES, "AccessDenied", "AccessDeniedException"})


async def _another_account(aws: Aws, queue_url: str, refused: ClientError) -> str | None:
    """Why SQS refused the queue, when the queue URL names another account than the
    credentials' (a URL copied from another account's console, a stage's queue in the wrong
    environment file): both accounts and what to do; else None, and SQS's refusal is said as
    it was. The credentials' account is asked of STS; if that fails, nothing is added."""
    code = refused.response.get("Error", {}).get("Code")
    queue_account = _queue_account(queue_url)
    if code not in _NOT_SEEN or queue_account is None:
        return None
    try:
        sts = await aws.client("sts")
        caller = str((await sts.get_caller_identity()).get("Account", ""))
    except _DLQ_UNREAD:  # a call that failed, or an answer without the account
        return None
    if not caller or caller == queue_account:
        return None
    return (
        f"GetQueueAttributes refused: {told_error_code(code)}: ALERT_TRIAGE_QUEUE_URL is a queue "
        f"of account {queue_account}, and the credentials are account {caller}'s: use the "
        "queue in their account, or let them in with the queue's access policy (sqs:"
        "ReceiveMessage, DeleteMessage, ChangeMessageVisibility, GetQueueAttributes)"
    )


def _queue_account(queue_url: str) -> str | None:
    """The account a queue URL names (`https://sqs.REGION.amazonaws.com/ACCOUNT/NAME`: the
    path's first part, twelve digits), else None."""
    parts = queue_url.split("://", 1)[-1].split("/")
    account = parts[1] if len(parts) > 2 else ""
    return account if len(account) == 12 and account.isascii() and account.isdigit() else None


async def _dlq_retention_problem(sqs: Any, queue_url: str, attrs: dict[str, Any]) -> str:
    """What is wrong with the DLQ, or "": the queue named as its own DLQ (nothing is ever set
    aside); or its retention: a standard queue's letter keeps its first enqueue time in the
    DLQ, so a DLQ keeping letters no longer than the queue keeps messages may delete a letter
    (one that waited on the queue) as soon as it arrives. A DLQ
    that cannot be read for another reason (no permission: the daemon needs none on it) is
    not judged."""
    try:
        target = json.loads(attrs["RedrivePolicy"]).get("deadLetterTargetArn")
        url = dlq_url(queue_url, target if isinstance(target, str) else "")
        queue_keeps_s = sqs_count(attrs.get("MessageRetentionPeriod"))
    except (ValueError, AttributeError, RecursionError):
        return ""  # a policy or a retention SQS never answers: nothing to compare
    if url == queue_url.rstrip("/"):
        # Its retention is the queue's own: comparing them would advise a longer retention.
        return (
            "that is the queue itself (the redrive policy's deadLetterTargetArn): a message "
            "that keeps failing is moved back onto the queue it failed on, never set aside; "
            "point the policy at a queue of its own"
        )
    try:
        answer = await sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["MessageRetentionPeriod"]
        )
        dlq_keeps_s = sqs_count(answer.get("Attributes", {}).get("MessageRetentionPeriod"))
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in _NO_SUCH_QUEUE_CODES:
            return (
                "that is not there (the redrive policy's deadLetterTargetArn): nothing is set aside"
            )
        return ""
    except _DLQ_UNREAD:
        return ""
    if queue_keeps_s and dlq_keeps_s <= queue_keeps_s:
        return (
            f"whose retention ({_duration(dlq_keeps_s)}) is no longer than the queue's "
            f"({_duration(queue_keeps_s)}): a letter keeps its first enqueue time, so the DLQ "
            f"may delete it as it arrives; {_retention_advice(queue_keeps_s)}"
        )
    return ""


#: The longest SQS keeps a message (MessageRetentionPeriod's most): 14 days.
MAX_RETENTION_S = 14 * 86_400


def _retention_advice(queue_keeps_s: int) -> str:
    """What to set so the DLQ keeps letters longer than the queue keeps messages: the DLQ's
    retention, unless the queue keeps them as long as SQS keeps any (no DLQ can keep longer)."""
    if queue_keeps_s < MAX_RETENTION_S:
        return (
            "set the DLQ's MessageRetentionPeriod longer than the queue's "
            f"(at most {_duration(MAX_RETENTION_S)})"
        )
    return (
        f"no queue keeps messages longer than {_duration(MAX_RETENTION_S)}, so set the queue's "
        "MessageRetentionPeriod shorter (SQS's default is 4 d) and keep the DLQ's longer than it"
    )


#: A DLQ's retention that cannot be read: the call failed, or the answer held no count.
_DLQ_UNREAD: tuple[type[Exception], ...] = (*AWS_CALL_ERRORS, ValueError)


def _duration(seconds: int) -> str:
    """A retention as people set it: days, else hours, else seconds."""
    if seconds and seconds % 86_400 == 0:
        return f"{seconds // 86_400} d"
    if seconds and seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds} s"


async def _token(settings: Settings, aws: Aws) -> str:
    secrets = await aws.client("secretsmanager") if settings.backend_token_secret_id else None
    await BackendToken(settings, secrets).get()
    if settings.backend_token_secret_id:
        return f"read from Secrets Manager {settings.backend_token_secret_id}"
    return f"read from ${settings.backend_token_env_key}"


async def _backend_routes(settings: Settings, aws: Aws) -> str:
    """The update and resolve routes: unset (the backend hears of new incidents only), or, set,
    asked `OPTIONS` for a ticket id no backend has, which creates and changes nothing. A 404 is
    only a doubt (a backend may answer 404 for an unknown ticket on the right route too): the
    daemon tells for sure at the first update (`backend.route_not_found`)."""
    missing = [
        env_name(field)
        for field in ("backend_update_route", "backend_resolve_route")
        if not getattr(settings, field)
    ]
    doubts = []
    if missing:
        doubts.append(
            f"{' and '.join(missing)} unset: the backend hears of new incidents only, "
            "not of their updates, reopens or resolves"
        )
    secrets = await aws.client("secretsmanager") if settings.backend_token_secret_id else None
    try:
        sink = BackendSink(settings, BackendToken(settings, secrets))
    except ConfigError:  # the reachability check before this one says why, once
        raise _Failed("skipped: the backend's settings fail above") from None
    try:
        for field in ("backend_update_route", "backend_resolve_route"):
            route = getattr(settings, field)
            doubt = await _route_doubt(sink, env_name(field), route) if route else None
            doubts += [doubt] if doubt else []
    finally:
        await sink.aclose()
    if doubts:
        raise _Warning("; ".join(doubts))
    return (
        f"updates to {settings.backend_update_route}, resolves to {settings.backend_resolve_route}"
    )


async def _route_doubt(sink: BackendSink, name: str, route: str) -> str | None:
    """What is doubtful about the later-effect route `route` (setting `name`), else None."""
    if "{ref}" not in route:
        return f"{name} ({route}) has no {{ref}}: every ticket's updates go to one URL"
    status = await sink.probe_route(route)
    if status == 404:
        return (
            f"{name}: OPTIONS {route} answered 404: the route may not exist (or the backend "
            "answers 404 for a ticket it does not know); if it is wrong, the daemon says "
            "backend.route_not_found at the first update"
        )
    if 300 <= status < 400:
        return f"{name}: OPTIONS {route} answered {status} (a redirect): check it"
    if status < 200:
        # An upgrade no one asked for: what answers there is not the backend, and the daemon
        # would retry each update there as the backend unwell.
        return f"{name}: OPTIONS {route} answered {status}, an interim status, as final: check it"
    return None


async def _backend(settings: Settings, aws: Aws) -> str:
    # The probe the sink's breaker uses: OPTIONS on the create route; 5xx, 429 or no answer fail.
    secrets = await aws.client("secretsmanager") if settings.backend_token_secret_id else None
    sink = BackendSink(settings, BackendToken(settings, secrets))
    try:
        answered = await sink.probe()
        if isinstance(answered, ProbeCantTell):
            return answered
        missing = await _create_route_missing(sink, settings)
    finally:
        await sink.aclose()
    if missing is not None:
        raise _Warning(missing)
    return answered


#: Answers to OPTIONS on the create route that say no such path is there.
_NO_SUCH_PATH = frozenset({404, 410})


async def _create_route_missing(sink: BackendSink, settings: Settings) -> str | None:
    """Why new tickets may find no route, or None: the create route (a collection, which no
    unknown ticket id can explain) answers OPTIONS 404 or 410, as a BACKEND_BASE_URL with a
    path the backend has nothing under (`/v1` from its docs) or a mistyped route makes it. A
    `warn`, not a `FAIL`: a gateway routing by method (API Gateway's HTTP APIs) answers 404
    to an OPTIONS it has no route for, in front of a create route that works."""
    try:
        status = await sink.probe_route(sink.create_route)
    except httpx2.HTTPError:
        return None  # it answered the probe a moment ago: nothing more to say
    if status not in _NO_SUCH_PATH:
        return None
    base, route = env_name("backend_base_url"), env_name("backend_service_route")
    return (
        f"OPTIONS {sink.base_url}{sink.create_route} answered {status}: new tickets are "
        f"created there ({base}, then {route}), and the backend may have no such path; check "
        f"that {base} holds no path the backend lacks (a `/v1` or `/api` its routes already "
        f"start with), and {route}"
    )


# --- The summariser's model: a one-token request, as the daemon would send it ---------------


async def _llm(settings: Settings, aws: Aws) -> str:
    """Ask the configured model for one token: a refused key, a model that does not exist, a
    base URL serving something else or Bedrock without model access show here, not at the
    first incident. Bounded by TRIAGE_LLM_TIMEOUT_S, as each of the daemon's calls is."""
    if settings.llm == "bedrock":
        where = f"bedrock {settings.bedrock_model_id} in {settings.aws_region}"
        ask = _bedrock(settings, aws)
    else:
        base_url = settings.openai_base_url or "https://api.openai.com/v1"
        where = f"openai {settings.openai_model} at {url_origin(base_url)}"
        ask = _openai(_openai_client(settings), settings.openai_model)
    try:
        async with asyncio.timeout(settings.llm_timeout_s):
            await ask
    except TimeoutError:
        raise _Failed(f"{where}: no answer within {settings.llm_timeout_s:g} s") from None
    except _Failed as exc:
        raise _Failed(f"{where}: {exc}") from None
    return f"{where} answers"


def _openai_client(settings: Settings) -> Any:
    """The SDK's client as the summariser makes it (`endpoint.openai_client`: the key checked
    and held, an Azure deployment's api-key and api-version), on the process's TLS context,
    no retries of its own. Made before the clock starts (importing takes a while)."""
    from triage.sinks.aio import AiohttpTransport
    from triage.summarise.endpoint import openai_client
    from triage.tls import client_context

    return openai_client(
        settings,
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=AiohttpTransport(client_context())),
    )


async def _openai(client: Any, model: str) -> None:
    import openai

    try:
        answer = await _one_token(client, model)
    except openai.APIStatusError as exc:
        from triage.summarise.openai_chat import not_found_hint

        hint = f"; {not_found_hint(exc)}" if exc.status_code == 404 else ""
        raise _Failed(f"HTTP {exc.status_code}: {_said(exc.body)}{hint}") from None
    except openai.APIConnectionError as exc:
        cause = exc.__cause__
        if isinstance(cause, AnswerUnread) and cause.status_code is not None:
            # An error answer in a coding not decoded here (br, broken gzip): its status says.
            raise _Failed(f"HTTP {cause.status_code}: its body unread ({cause})") from None
        raise _Failed(str(cause or exc)) from None
    except (ValueError, RecursionError):
        raise _Failed("the answer is not JSON") from None
    finally:
        await client.close()
    if isinstance(answer, dict) and isinstance(answer.get("error"), dict):
        raise _Failed(_said(answer["error"]))
    await _a_completion(answer)


#: What each of the summariser's refusals of a chat completion says (`openai_chat.read_answer`);
#: any other is an error event in a streamed answer, named by the fallback it counts as.
_WHY_NOT_A_COMPLETION = {
    "bad_response": "a field of another type than its API's",
    "no_choices": "no choices",
    "answer_too_large": "a streamed answer past the summariser's bound",
}


async def _a_completion(answer: Any) -> None:
    """Read the one-token answer as the summariser reads every answer (a streamed one added
    up, each level's type checked), so the check passes only what a summary can use."""
    from triage.summarise.openai_chat import read_answer

    streamed = isinstance(answer, str) and answer.lstrip().startswith("data:")
    if not streamed and not (isinstance(answer, dict) and "choices" in answer):
        raise _Failed("the answer is not a chat completion")  # a page, another API's answer
    try:
        await read_answer(answer)
    except ModelError as exc:
        why = _WHY_NOT_A_COMPLETION.get(exc.reason, f"an error event: {exc.reason}")
        raise _Failed(f"the answer is not a chat completion ({why})") from None


async def _one_token(client: Any, model: str) -> Any:
    """A chat completion cut at one token. OpenAI's reasoning models refuse `max_tokens` for
    `max_completion_tokens` (the summariser adapts the same way); no redirect is followed."""
    import openai

    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": _PING}],
        "max_tokens": 1,
    }
    options = {"follow_redirects": False}
    try:
        return await client.post("/chat/completions", cast_to=object, body=body, options=options)
    except openai.BadRequestError as exc:
        if "max_completion_tokens" not in f"{exc.param} {exc.message}":
            raise
    body["max_completion_tokens"] = body.pop("max_tokens")
    return await client.post("/chat/completions", cast_to=object, body=body, options=options)


async def _bedrock(settings: Settings, aws: Aws) -> None:
    # The summariser's session and reading: answers bounded, and judged as a summary's is.
    from triage.summarise.bedrock import (
        UNPARSABLE,
        ConverseSession,
        read_answer,
        read_event_streams,
    )

    endpoint = settings.aws_endpoint_url_bedrock_runtime or settings.aws_endpoint_url
    runtime = await aws.client("bedrock-runtime", endpoint, session_cls=ConverseSession)
    read_event_streams(runtime)
    try:
        response = await runtime.converse(
            modelId=settings.bedrock_model_id,
            messages=[{"role": "user", "content": [{"text": _PING}]}],
            inferenceConfig={"maxTokens": 1},
        )
    except ClientError as exc:
        # Told as an OpenAI-compatible server's error is: the endpoint may be anyone's.
        error = exc.response.get("Error", {})
        raise _Failed(
            f"{told_error_code(error.get('Code'))}: {_said(error.get('Message'))}"
        ) from None
    except BotoCoreError as exc:
        raise _Failed(str(exc)) from None
    except ModelError as exc:  # an event stream's refusal (`bedrock._read_event_stream`)
        raise _Failed(_why_not_converse(exc)) from None
    except UNPARSABLE:
        # botocore's parser met a type Converse does not answer with at some level; what
        # Python said as it walked the answer ("'str' object has no attribute 'copy'") is
        # no reason an operator can act on.
        raise _Failed(f"{_NOT_CONVERSE} (a field of another type than Converse's)") from None
    try:
        read_answer(response)
    except ModelError as exc:
        # botocore reads a 200 it cannot parse (a proxy's page) as an empty answer; the
        # summariser would fall back for every incident, as it would for a wrong type.
        raise _Failed(_why_not_converse(exc)) from None


_NOT_CONVERSE = "the answer is not a Converse answer"
#: What each of the summariser's refusals of a Converse answer says (`bedrock.read_answer`,
#: `bedrock._read_event_stream`).
_WHY_NOT_CONVERSE = {
    "no_message": "no output.message.content",
    "bad_response": "a field of another type than Converse's",
    "bad_event_stream": "an event stream holding no whole Converse answer",
}


def _why_not_converse(exc: ModelError) -> str:
    """The reason a Converse answer the summariser refuses fails the check: an event stream
    ending with a busy or failing model's exception is named by the fallback it counts as."""
    if exc.reason == "unreachable":
        # A stream cut before its `messageStop`: the connection broke, not the answer; the
        # summariser asks again, as it does an OpenAI stream cut short.
        return "the model's event stream broke off before its end (no messageStop): retried"
    why = _WHY_NOT_CONVERSE.get(exc.reason)
    if why is None:
        return f"the model answered an event stream ending with an error ({exc.reason})"
    return f"{_NOT_CONVERSE} ({why})"


#: How much of a server's error message `check` shows.
SAID_CHARS = 300


def _said(error: object) -> str:
    """The message of an error answer (OpenAI's `{"message": …}`), else its start: redacted
    before it is cut, as a cut inside a credential the server echoed would leave a piece the
    redactor no longer knows. What is read is bounded first, far past what is shown, and that
    cut is marked "…" as a normaliser marks one: redaction may shorten what stands before it
    (a key block becomes a placeholder) and bring the cut into the line, and the redactor
    drops a random-looking piece glued to a "…"."""
    said = error.get("message") if isinstance(error, dict) else error
    if not said:
        return "no message"
    read = cut(str(said), SAID_CHARS * 10, ellipsis=True)
    return cut(_REDACTOR.text(read), SAID_CHARS, ellipsis=True)
