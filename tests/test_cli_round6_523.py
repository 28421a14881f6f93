"""The operators' command line and configuration, round 6 (helper 523): what a team meets on
its first day and an on-call engineer at 3 a.m. `triage check` names a DLQ that is the queue
itself, a queue URL of another account than the credentials' that SQS refuses, and a Slack
webhook URL of a form Slack never answers; a duration written with its unit is refused with
the number it meant."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import boto3
import pytest

from daemon_harness import Queues, settings_for
from factories import alert
from test_readme_claims import check_lines
from test_store import LEASE, POLICY
from triage.cli import _parser, main, sqlite_store_problem
from triage.demo.ticketd import TicketServer
from triage.errors import ConfigError
from triage.incidents.sqlite import SQLiteStore
from triage.ops.check import run_checks
from triage.routes import load_router
from triage.settings import Settings, load_settings, unknown_variables


def _queue_line(queues: Queues, tmp_path: Path) -> str:
    """`triage check`'s one `queue` line for these queues, backend and store on loopback."""
    settings = settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db")
    (line,) = check_lines(settings, "queue")
    return line


# --- `triage check`: the queue ------------------------------------------------------------


def test_a_dlq_that_is_the_queue_itself_is_named_as_such(moto_url: str, tmp_path: Path) -> None:
    """A redrive policy naming the queue itself sets nothing aside: the `queue` line is a
    `warn` saying so, not a retention warning comparing the queue with itself."""
    sqs = boto3.client("sqs", endpoint_url=moto_url, region_name="us-east-1")
    url = sqs.create_queue(QueueName=f"alerts-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    policy = {"deadLetterTargetArn": arn["QueueArn"], "maxReceiveCount": "5"}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": json.dumps(policy)})
    line = _queue_line(Queues(moto_url, url, url), tmp_path)
    assert line.startswith("warn  queue    "), line
    assert "the queue itself" in line and "retention" not in line, line


def test_a_queue_of_another_account_sqs_refuses_names_both_accounts(
    moto_url: str, tmp_path: Path
) -> None:
    """A queue URL copied from another account's console (the credentials' account has no such
    queue) is a `FAIL` naming the queue's account and the credentials', and what to do."""
    url = f"{moto_url}/111122223333/alerts-{uuid.uuid4().hex[:12]}"
    line = _queue_line(Queues(moto_url, url, url), tmp_path)
    assert line.startswith("FAIL  queue    "), line
    assert "account 111122223333" in line and "account 123456789012" in line, line
    assert "access policy" in line, line


def test_a_queue_of_the_credentials_account_that_is_not_there_names_no_account(
    moto_url: str, tmp_path: Path
) -> None:
    """A queue missing from the credentials' own account is SQS's refusal alone: no word of
    another account."""
    url = f"{moto_url}/123456789012/alerts-{uuid.uuid4().hex[:12]}"
    line = _queue_line(Queues(moto_url, url, url), tmp_path)
    assert line.startswith("FAIL  queue    ") and "NonExistentQueue" in line, line
    assert "account" not in line, line


# --- Variables as env files write them ------------------------------------------------------

#: Settings a check can run on without reaching past this machine.
LOCAL = {
    "ALERT_TRIAGE_QUEUE_URL": "http://127.0.0.1:9/000000000000/alerts",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "BACKEND_BASE_URL": "http://127.0.0.1:9",
    "BACKEND_TOKEN": "tok-523-9f3c1a7e5b2d4c6e",
}


def _local(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The `LOCAL` settings, with a SQLite store in `tmp_path`."""
    for name, value in LOCAL.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{tmp_path / 'triage.db'}")


def test_a_variable_named_after_a_byte_order_mark_is_warned_of() -> None:
    """An env file saved with a byte-order mark (Notepad's UTF-8) puts U+FEFF before its first
    variable's name, which no setting reads: the warning names the mark and the setting."""
    [message] = unknown_variables({"\ufeffTRIAGE_SINKS": "github"})
    assert "byte-order mark" in message and "TRIAGE_SINKS=" in message, message
    assert "github" not in message, message  # the value, which may be a secret, is not shown


def test_check_says_each_variable_it_ignores_as_a_warn_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A misspelt variable is a `warn  config` line of the report, as every other warning
    `triage run` logs at start-up, so `--output json` shows it to a script too."""
    _local(monkeypatch, tmp_path)
    monkeypatch.setenv("TRIAGE_SINKSS", "github")
    main(["check", "--output", "json"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    said = [x for x in lines if x.get("verdict") == "warn" and "TRIAGE_SINKSS" in x["detail"]]
    assert said and said[0]["check"] == "config", lines
    assert "did you mean TRIAGE_SINKS?" in said[0]["detail"], said
    assert lines[-1]["warned"] >= 1, lines[-1]


# --- `triage check`: a Slack webhook URL of a form Slack never answers ----------------------

#: An incoming webhook's secret part, which no line may show.
WEBHOOK_SECRET = "a1B2c3D4e5F6g7H8i9J0k1L2"


def _slack_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    """`triage check` with Slack among the sinks: its exit code and its `slack` line."""
    _local(monkeypatch, tmp_path)
    monkeypatch.setenv("TRIAGE_SINKS", "backend,slack")
    code = main(["check"])
    out = capsys.readouterr().out
    [line] = [x for x in out.splitlines() if x.split()[1:2] == ["slack"]]
    assert WEBHOOK_SECRET not in out
    return code, line


@pytest.mark.parametrize(
    ("url", "said"),
    [
        pytest.param("https://hooks.slack.com/services/T0123ABCD/B0123ABCD", "cut", id="cut"),
        pytest.param(
            f"https://hooks.slack.com/services/T0123ABCD/{WEBHOOK_SECRET}", "cut", id="no-b"
        ),
        pytest.param("https://acme.slack.com/archives/C0123ABCD", "not an incoming", id="page"),
        pytest.param(
            f"https://slack.com/api/chat.postMessage?token={WEBHOOK_SECRET}",
            "not an incoming",
            id="web-api",
        ),
    ],
)
def test_a_slack_webhook_url_slack_never_answers_fails_its_line(
    url: str,
    said: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A webhook URL copied short, or a channel's page or Web API address pasted for one, is
    a `FAIL` naming SLACK_WEBHOOK_URL and what to copy, never the URL: every post would fail."""
    monkeypatch.setenv("SLACK_WEBHOOK_URL", url)
    code, line = _slack_line(monkeypatch, tmp_path, capsys)
    assert line.startswith("FAIL  slack    SLACK_WEBHOOK_URL"), line
    assert said in line and "/services/" in line, line
    assert code == 1


@pytest.mark.parametrize(
    "url",
    [
        f"https://hooks.slack.com/services/T0123ABCD/B0123ABCD/{WEBHOOK_SECRET}",
        f"https://chat.example.com/hooks/{WEBHOOK_SECRET}",  # a Slack-compatible chat's
    ],
)
def test_a_whole_slack_webhook_url_or_another_chats_passes(
    url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A whole incoming webhook URL, or one of a chat that takes Slack's messages (Mattermost,
    Rocket.Chat), is `ok`: only Slack's own addresses are judged."""
    monkeypatch.setenv("SLACK_WEBHOOK_URL", url)
    _, line = _slack_line(monkeypatch, tmp_path, capsys)
    assert line.startswith("ok    slack"), line


def test_a_routes_slack_webhook_cut_short_names_the_route(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A route's own `webhook_url` cut short fails the `slack` line naming the route."""
    routes = tmp_path / "routes.toml"
    routes.write_text(
        '[[route]]\nname = "payments"\nteam = ["payments"]\nsinks = ["slack"]\n'
        '[route.slack]\nwebhook_url = "https://hooks.slack.com/services/T0123ABCD/B0123ABCD"\n',
        "utf-8",
    )
    monkeypatch.setenv("TRIAGE_ROUTES_FILE", str(routes))
    monkeypatch.setenv(
        "SLACK_WEBHOOK_URL", f"https://hooks.slack.com/services/T1/B1/{WEBHOOK_SECRET}"
    )
    _, line = _slack_line(monkeypatch, tmp_path, capsys)
    assert line.startswith("FAIL  slack") and "route 'payments'" in line, line


# --- `triage check`: a backend URL with a path the API does not have ------------------------


class RoutedOptions(TicketServer):
    """ticketd answering OPTIONS as a web framework does: 200 with `Allow` on its create route,
    404 on a path it has no route for; it counts the requests that are not OPTIONS."""

    def __init__(self, token: str) -> None:
        self.writes = 0
        super().__init__(token)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self
        base = super()._handler_class()

        class Handler(base):  # type: ignore[valid-type,misc]
            def do_OPTIONS(self) -> None:
                self.send_response(200 if self.path == server.route else 404)
                self.send_header("Allow", "OPTIONS, POST")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                server.writes += 1
                super().do_POST()

        return Handler


async def _backend_lines(base_url: str, tmp_path: Path) -> list[str]:
    """The `backend` lines `triage check` prints for a backend at `base_url`."""
    settings = Settings(
        store_url=f"sqlite:///{tmp_path}/t.db",
        sinks=("backend",),
        llm_provider="none",
        backend_base_url=base_url,
    )
    out = io.StringIO()
    await run_checks(settings, out)
    return [line for line in out.getvalue().splitlines() if line.split()[1:2] == ["backend"]]


async def test_a_backend_url_with_a_path_the_api_lacks_is_warned_of(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BACKEND_BASE_URL with a path the backend has no route under (`/v1`, pasted from its
    docs) makes the create route answer OPTIONS 404: the first `backend` line is a `warn`
    naming the setting and the URL tickets would be created at, not `ok`."""
    monkeypatch.setenv("BACKEND_TOKEN", LOCAL["BACKEND_TOKEN"])
    with RoutedOptions(LOCAL["BACKEND_TOKEN"]) as server:
        lines = await _backend_lines(f"{server.url}/v1", tmp_path)
    assert lines[0].startswith("warn  backend  "), lines
    assert "BACKEND_BASE_URL" in lines[0] and "404" in lines[0], lines
    assert f"{server.url}/v1{server.route}" in lines[0], lines
    assert server.writes == 0 and server.tickets == []


async def test_a_backend_url_the_api_has_stays_ok(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The backend's own URL, whose create route answers OPTIONS, is still `ok`."""
    monkeypatch.setenv("BACKEND_TOKEN", LOCAL["BACKEND_TOKEN"])
    with RoutedOptions(LOCAL["BACKEND_TOKEN"]) as server:
        lines = await _backend_lines(server.url, tmp_path)
    assert lines[0].startswith("ok    backend  "), lines


# --- Routes files: a pattern where values are compared whole --------------------------------


def _routes_refusal(tmp_path: Path, match: str) -> str:
    """Why `load_router` refuses a routes file of one route matching `match` (TOML)."""
    routes = tmp_path / "routes.toml"
    routes.write_text(f'[[route]]\nname = "payments"\nsinks = ["backend"]\n{match}\n', "utf-8")
    with pytest.raises(ConfigError) as refused:
        load_router(Settings(routes_file=routes))
    return str(refused.value)


@pytest.mark.parametrize(
    "match",
    [
        pytest.param('[route.match]\nteam = ["pay*"]', id="team-glob"),
        pytest.param('[route.match]\nteam = ["payments|billing"]', id="team-alternation"),
        pytest.param('[route.match]\nteam = ["^payments$"]', id="team-anchors"),
        pytest.param('[route.match]\nlabels = { env = "~^prod" }', id="label-alertmanager-op"),
        pytest.param('[route.match]\nlabels = { env = "prod|staging" }', id="label-alternation"),
    ],
)
def test_a_pattern_written_where_values_are_compared_whole_is_refused(
    match: str, tmp_path: Path
) -> None:
    """A team or label value written as a regex or glob (`pay*`, `a|b`, `^x$`, `~^prod`)
    matched no alert, in silence: it is refused with one line naming the route and saying
    values are compared whole, and how to list several."""
    message = _routes_refusal(tmp_path, match)
    assert "route 'payments'" in message and "compared whole" in message, message


@pytest.mark.parametrize(
    "match",
    [
        '[route.match]\nteam = ["payments-eu", "a.b", "team (db)"]',
        '[route.match]\nlabels = { env = "*", version = "1.2.3", path = "/api/v1" }',
    ],
)
def test_values_holding_no_pattern_are_still_taken(match: str, tmp_path: Path) -> None:
    """Values with dots, dashes, slashes and brackets, and a label's lone `*`, load."""
    routes = tmp_path / "routes.toml"
    routes.write_text(f'[[route]]\nname = "payments"\nsinks = ["backend"]\n{match}\n', "utf-8")
    assert load_router(Settings(routes_file=routes)).rules


# --- `--help` says the defaults it acts on ----------------------------------------------------


def _options(parser: argparse.ArgumentParser, name: str = "triage") -> Iterator[tuple[str, Any]]:
    """Every option of `parser` and of its sub-commands, at any depth, with its command."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for verb, sub in action.choices.items():
                yield from _options(sub, f"{name} {verb}")
        elif action.option_strings:
            yield name, action


def test_every_option_with_a_default_says_it_in_its_help() -> None:
    """An option whose value, left out, is not nothing (`--state open`, `--output json`,
    `--llm none`) says `default` in its `--help`, with the default's own words, so a newcomer
    reading `triage incidents list --help` knows closed incidents are not listed."""
    unsaid = []
    for command, action in _options(_parser()):
        if action.default in (None, False, [], argparse.SUPPRESS):
            continue
        shown = f"{action.default:g}" if isinstance(action.default, float) else action.default
        if f"default {shown}" not in (action.help or "") and f"default: {shown}" not in (
            action.help or ""
        ):
            unsaid.append(f"{command} {action.option_strings[-1]} ({action.default!r})")
    assert not unsaid, unsaid


def test_the_dlq_max_help_says_what_each_action_takes_without_it() -> None:
    """`--max` left out is 10 letters for peek and every letter for redrive: its help says
    both (it said peek's only)."""
    [(_, action)] = [
        (c, a) for c, a in _options(_parser()) if c == "triage dlq" and "--max" in a.option_strings
    ]
    assert "peek 10" in (action.help or "") and "redrive: all" in (action.help or ""), action.help


# --- Durations written with their unit: the number meant ------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "meant"),
    [
        ("TRIAGE_CLOSED_TTL_S", "30d", "2592000 for 30d"),
        ("TRIAGE_METRICS_INTERVAL_S", "1m", "60 for 1m"),
        ("TRIAGE_UPDATE_INTERVAL_S", "1h30m", "5400 for 1h30m"),
        ("TRIAGE_RETRY_BASE_S", "500ms", "0.5 for 500ms"),
        ("SQS_WAIT_TIME", "20s", "20 for 20s"),
        ("TRIAGE_INGEST_LINGER_MS", "1s", "1000 for 1s"),
    ],
)
def test_a_duration_written_with_its_unit_is_told_the_number_it_meant(
    variable: str, value: str, meant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`1h` in a seconds setting was told "300 for 5 min", an example of another length: the
    refusal now says the number to write for the duration given (`3600 for 1h`)."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert f"{variable}: expected" in str(refused.value), refused.value
    assert meant in str(refused.value), refused.value


def test_a_duration_too_fine_for_a_whole_second_setting_keeps_the_plain_example(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`1500ms` in a whole-second setting has no number to give: the example stays general."""
    monkeypatch.setenv("TRIAGE_VISIBILITY_TIMEOUT_S", "1500ms")
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert "whole number of seconds, without a unit (60 for 1 min)" in str(refused.value)


# --- A store URL naming a directory -----------------------------------------------------------


@pytest.fixture
def directory_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The local settings, with TRIAGE_STORE_URL naming a directory called `triage.db`, as
    Docker makes one when a bind mount's host file is not there yet."""
    _local(monkeypatch, tmp_path)
    store = tmp_path / "triage.db"
    store.mkdir()
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{store}")
    return store


@pytest.mark.parametrize("command", [["incidents", "list"], ["silence", "list"], ["run"]])
def test_a_store_url_naming_a_directory_is_one_line_and_exit_2(
    command: list[str], directory_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`incidents`, `silence` and `run` with a store that is a directory say so, with its
    path and what made it, in one line, exit 2 (SQLite said only "unable to open")."""
    assert main(command) == 2
    out, err = capsys.readouterr()
    assert out == ""
    [line] = [x for x in err.splitlines() if x.startswith("triage:")]
    assert f"{directory_store} is a directory" in line and "bind mount" in line, err


def test_check_fails_the_store_line_of_a_directory(
    directory_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage check` fails its `store` line for a directory, in the same words."""
    main(["check"])
    [line] = [x for x in capsys.readouterr().out.splitlines() if x.split()[1:2] == ["store"]]
    assert line.startswith("FAIL  store") and "is a directory" in line, line


# --- Two settings of which one is read and the other ignored ----------------------------------


@pytest.mark.parametrize(
    ("variables", "check", "ignored", "read"),
    [
        pytest.param(
            {"BACKEND_TOKEN_SECRET_ID": "triage/backend"},
            "token",
            "BACKEND_TOKEN",
            "BACKEND_TOKEN_SECRET_ID",
            id="backend-token",
        ),
        pytest.param(
            {
                "TRIAGE_INGEST_TOKENS": '{"generic": "generic-token-0123456789abcdef"}',
                "TRIAGE_INGEST_TOKENS_SECRET_ID": "triage/ingest",
            },
            "ingest",
            "TRIAGE_INGEST_TOKENS",
            "TRIAGE_INGEST_TOKENS_SECRET_ID",
            id="ingest-tokens",
        ),
    ],
)
def test_check_warns_of_a_credential_set_beside_the_secret_read_instead(
    variables: dict[str, str],
    check: str,
    ignored: str,
    read: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A token set in the environment beside the Secrets Manager secret that is read instead
    is ignored in silence (rotating it changes nothing): a `warn` line names both, never the
    token."""
    _local(monkeypatch, tmp_path)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    main(["check"])
    out = capsys.readouterr().out
    warned = [x for x in out.splitlines() if x.startswith(f"warn  {check} ")]
    assert any(ignored in x and read in x and "ignored" in x for x in warned), out
    assert LOCAL["BACKEND_TOKEN"] not in out and "generic-token-0123456789abcdef" not in out


# --- A store URL naming another application's SQLite database --------------------------------


@pytest.fixture
def foreign_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The local settings, with TRIAGE_STORE_URL naming a SQLite database of another
    application (Grafana's, say: a path one directory off)."""
    _local(monkeypatch, tmp_path)
    path = tmp_path / "grafana.db"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE dashboard (id INTEGER PRIMARY KEY, title TEXT)")
        db.commit()
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{path}")
    return path


def _tables(path: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


@pytest.mark.parametrize(
    "command",
    [
        ["incidents", "list"],
        ["silence", "add", "--match", "team=db", "--for", "1h", "--comment", "x"],
        ["run"],
    ],
)
def test_another_applications_sqlite_database_is_refused_and_left_as_it_was(
    command: list[str], foreign_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An operator's command, or the daemon, on a SQLite file holding another application's
    tables and none of triage's is exit 2 with one line naming the file, and writes no table
    into it (it made triage's tables there and listed an empty store)."""
    assert main(command) == 2
    out, err = capsys.readouterr()
    assert out == "" and f"{foreign_store} holds another application's tables" in err, err
    assert "'dashboard'" in err, err
    assert _tables(foreign_store) == {"dashboard"}


def test_check_fails_the_store_line_of_another_applications_database(
    foreign_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage check` fails its `store` line in the same words and leaves the file alone."""
    main(["check"])
    [line] = [x for x in capsys.readouterr().out.splitlines() if x.split()[1:2] == ["store"]]
    assert line.startswith("FAIL  store") and "another application's tables" in line, line
    assert _tables(foreign_store) == {"dashboard"}


async def test_a_store_the_daemon_made_is_no_other_applications(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """triage's own store, with its tables, is listed as before."""
    path = tmp_path / "triage.db"
    store = SQLiteStore(str(path), POLICY, LEASE, POLICY.reopen_window * 24)
    await store.open()
    await store.aclose()
    assert sqlite_store_problem(f"sqlite:///{path}") is None


@pytest.mark.parametrize(("typed", "meant"), [("1s", "1 for 1s"), ("2m", "120 for 2m")])
def test_a_health_timeout_written_with_its_unit_is_told_the_number(
    typed: str, meant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage health --timeout 1s` (as `--for 1h` takes a unit) is a usage error saying the
    number of seconds to write, as a setting's refusal does, exit 2."""
    with pytest.raises(SystemExit) as stopped:
        main(["health", "--timeout", typed])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert f"without a unit: {meant}" in err, err


# --- A store path only a shell would read -----------------------------------------------------


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("sqlite:///~/triage.db", "starts with ~"),
        ("sqlite:///$DATA_DIR/triage.db", "holds $DATA_DIR"),
    ],
)
def test_a_store_path_only_a_shell_expands_is_refused(
    url: str, said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`sqlite:///~/triage.db` made a directory named `~` in the working directory and a store
    no other command found (check said the daemon would create it): refused as the routes
    file's path is, naming TRIAGE_STORE_URL."""
    monkeypatch.setenv("TRIAGE_STORE_URL", url)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert str(refused.value).startswith("TRIAGE_STORE_URL:"), refused.value
    assert said in str(refused.value), refused.value


# --- A huge store: `incidents list` by pages ---------------------------------------------------

#: Incidents of the huge store: a storm's worth, more than one screen or one page holds.
HUGE = 10_000


@pytest.fixture(scope="module")
def huge_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store holding `HUGE` open incidents, made once for the module's tests."""
    path = tmp_path_factory.mktemp("huge") / "triage.db"

    async def seed() -> None:
        store = SQLiteStore(str(path), POLICY, LEASE, POLICY.reopen_window * 24)
        await store.open()
        now = datetime.now(UTC)
        for n in range(HUGE):
            await store.begin(alert(f"svc-{n}"), f"m-{n}", now)
        await store.aclose()

    asyncio.run(seed())
    return path


def _listed(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[list[str], str]:
    """`triage incidents list ARGS`: the fingerprints it printed, and its stderr."""
    assert main(["incidents", "list", *args]) == 0
    out, err = capsys.readouterr()
    return [json.loads(line)["fingerprint"] for line in out.splitlines()], err


def test_incidents_list_of_a_huge_store_goes_by_pages_that_miss_none(
    huge_store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--limit` and `--offset` page a store of 10,000 incidents as the API pages it: each page
    says on stderr how many of how many it showed and the `--after` cursor of the next, and
    the pages together are the whole listing, each incident once, in its order."""
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{huge_store}")
    whole, err = _listed([], capsys)
    assert len(whole) == HUGE and err == ""
    first, said = _listed(["--limit", "4000"], capsys)
    assert said.strip().startswith(
        f"triage: incidents: showed 1-4000 of {HUGE} incident(s); --after "
    ) and said.strip().endswith(" shows the next")
    second, _ = _listed(["--limit", "4000", "--offset", "4000"], capsys)
    last, said = _listed(["--limit", "4000", "--offset", "8000"], capsys)
    assert said.strip() == f"triage: incidents: showed 8001-{HUGE} of {HUGE} incident(s)"
    assert first + second + last == whole


def test_an_offset_past_the_listing_shows_nothing_and_says_how_many_there_are(
    huge_store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A page past the end prints no incident and says the listing's size, exit 0."""
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{huge_store}")
    listed, said = _listed(["--offset", str(HUGE)], capsys)
    assert listed == [] and f"none past {HUGE} of {HUGE} incident(s)" in said, said


def test_a_route_sending_to_slack_without_a_webhook_is_named_when_none_is_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """TRIAGE_SINKS without slack and a route that sends to it with no webhook of its own:
    the `slack` line names the route that needs SLACK_WEBHOOK_URL (it said only that the slack
    sink needs it, which a team that never turned Slack on cannot place)."""
    routes = tmp_path / "routes.toml"
    routes.write_text(
        '[[route]]\nname = "payments"\nsinks = ["backend", "slack"]\n'
        '[route.match]\nteam = ["payments"]\n',
        "utf-8",
    )
    _local(monkeypatch, tmp_path)
    monkeypatch.setenv("TRIAGE_ROUTES_FILE", str(routes))
    assert main(["check"]) == 1
    [line] = [x for x in capsys.readouterr().out.splitlines() if x.split()[1:2] == ["slack"]]
    assert line.startswith("FAIL  slack    SLACK_WEBHOOK_URL is not set"), line
    assert "route 'payments'" in line and "webhook_url" in line, line
