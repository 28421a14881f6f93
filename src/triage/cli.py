"""Command line: `python -m triage run|ingest|demo|check|send|normalize|incidents|silence`.

Each command builds Settings once, configures logging, and returns an exit code: 0 done, 1
failed, 2 a usage or configuration mistake (one line on stderr), 130 interrupted (Ctrl-C) and
141 when whoever reads the output stopped reading (`triage incidents list | head -1`), as any
Unix filter cut off by its pipe.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import gc
import math
import os
import re
import signal
import sys
import threading
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, cast
from urllib.parse import urlparse

import structlog

from triage import version
from triage.errors import ConfigError, TriageError

# Settings (pydantic, pydantic-settings), logging (the redactor) and each command's modules
# are imported where they are used: `triage health` runs every 30 s as a container's
# HEALTHCHECK on a fraction of a CPU, and `triage normalize` reads no settings.
if TYPE_CHECKING:
    from datetime import datetime

    from triage.incidents.silences import Silence
    from triage.redact import Redactor
    from triage.settings import Settings

#: The exit code of a command whose reader closed the pipe (128 + SIGPIPE, as the shell has it).
EXIT_PIPE_CLOSED = 141


def _one_shot(main: Coroutine[Any, Any, int]) -> int:
    """`asyncio.run` for a one-shot command, without a stray error line on Ctrl-C: asyncio's
    SIGINT handler cancels the command's task at once, and when that lands inside a
    connection's completion callback (CPython 3.11 checks the future, then the signal cancels
    it, then the callback sets it), the loop would log the callback's InvalidStateError as an
    error on stderr, after which the command exits 130 as asked. A SIGINT ignored at start (a
    script's `triage send … &`) stays ignored, as the daemon's does (`stop_signals`): asyncio's
    handler replaces only Python's own KeyboardInterrupt handler, which Python installs only
    when SIGINT was not ignored."""
    with asyncio.Runner() as runner:
        runner.get_loop().set_exception_handler(_cancel_race_quiet)
        return runner.run(_terminable(main))


#: The exit code of a one-shot command stopped by SIGTERM (128 + 15, as the shell has it).
EXIT_TERMINATED = 143


async def _terminable(main: Coroutine[Any, Any, int]) -> int:
    """`main`, which SIGTERM (a stopped ECS task, a Kubernetes Job, `kill`) cancels as Ctrl-C
    does, so what it does on Ctrl-C it does then too (`dlq redrive` says what it moved and lets
    the letters it held go at once), and exits 143. Left at its default, SIGTERM killed the
    command where it stood, its held letters hidden for their visibility timeout."""
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    terminated = False

    def terminate() -> None:
        nonlocal terminated
        terminated = True
        if task is not None:
            task.cancel("SIGTERM")

    if threading.current_thread() is threading.main_thread():  # where signals come
        loop.add_signal_handler(signal.SIGTERM, terminate)
    try:
        return await main
    except asyncio.CancelledError:
        if not terminated or task is None:
            raise
        task.uncancel()
        return EXIT_TERMINATED


def _cancel_race_quiet(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The loop's exception handler for one-shot commands: a callback that set a future the
    cancellation had already finished is that race (debug); anything else as asyncio says it."""
    if isinstance(context.get("exception"), asyncio.InvalidStateError):
        structlog.get_logger(__name__).debug("asyncio.cancel_race", error=context.get("message"))
        return
    loop.default_exception_handler(context)


def _told(exc: BaseException) -> str:
    """An AWS call's failure for one line: a service's refusal as `told_client_error` tells it
    (botocore's text quotes what any endpoint answered, whole), anything else on one line."""
    from botocore.exceptions import ClientError

    from triage.aws import EXPIRED_TOKEN_CODES, told_client_error

    if isinstance(exc, ClientError):
        told = told_client_error(exc)
        if exc.response.get("Error", {}).get("Code") in EXPIRED_TOKEN_CODES:
            told += f"; {_EXPIRED_SAYS}"
        return told
    return " ".join(str(exc).split()) or type(exc).__name__


#: What to do when AWS refuses the credentials as expired (an SSO or assumed role's session
#: ended mid-command): no retry helps until they are renewed.
_EXPIRED_SAYS = (
    "the AWS credentials expired: renew them (`aws sso login`, a new session) and run it again"
)


def _err(message: str, *, stored: bool = False) -> None:
    """One line on stderr, with anything a terminal could act on escaped: messages quote ids,
    file names and answers that a user, an alert or a service wrote. `stored`: the message
    quotes stored alert text, whose own backslash before `u` must not read as an escape
    written here (`terminal_text`; the others quote mostly reprs, written as they are)."""
    from triage.terminal import terminal_line, terminal_text

    print((terminal_text if stored else terminal_line)(message), file=sys.stderr)


def _quoted(typed: str, chars: int = 40) -> str:
    """An argument as its refusal quotes it: at most `chars` characters, cut from it redacted
    (`view.quoted`), so a token pasted into it is not quoted less its end, a prefix of no
    token's shape that the parser's own redaction of the line (`_Parser.error`) misses."""
    from triage.view import quoted

    return quoted(typed, chars)


def _positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (a usage error otherwise)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{_quoted(text)} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not at least 1")
    return value


def _whole_count(text: str) -> int:
    """An argparse type: a whole number of at least 0 (a usage error otherwise)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{_quoted(text)} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is not at least 0")
    return value


#: The longest wait an option takes: longer is a typo (milliseconds?), and past ~1e11 s the
#: socket's own timeout overflows (a traceback, not a usage error).
MAX_OPTION_WAIT_S = 86_400


def _seconds(text: str) -> float:
    """An argparse type: a finite number of seconds above zero and at most a day (a usage
    error otherwise)."""
    try:
        value = float(text)
    except ValueError:
        from triage.settings import plain_number, written_duration_s

        seconds = written_duration_s(text)
        meant = (
            f": expected seconds, without a unit: {plain_number(seconds)} for {text.strip()}"
            if seconds
            else ""
        )
        raise argparse.ArgumentTypeError(f"{_quoted(text)} is not a number{meant}") from None
    if not (math.isfinite(value) and 0 < value <= MAX_OPTION_WAIT_S):
        raise argparse.ArgumentTypeError(
            f"{_quoted(text)} is not a number of seconds above 0 and at most {MAX_OPTION_WAIT_S}"
        )
    return value


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose refusal of a word outside an option's choices names the choice
    a typo meant (`rnu` → `run`); its sub-commands' parsers are of this class too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A value starting with a minus and a digit is a value, not an option: `--for -1h`
        # reaches the duration's own check ("expected e.g. 90m"), where argparse would take
        # `-1h` for an unknown option and say `--for: expected one argument`. triage has no
        # option named like a number.
        self._negative_number_matcher = re.compile(r"^-\d")
        self.register("action", None, _StoreOnce)  # an option with no action named
        self.register("action", "store", _StoreOnce)

    def error(self, message: str) -> NoReturn:
        """argparse's refusal (usage, then `triage …: error: …`, exit 2), its message redacted
        and escaped for the terminal as triage's own lines are (`_err`): it quotes the value
        refused, which may be a token pasted into the wrong option or left after the options."""
        from triage.redact import Redactor
        from triage.view import terminal_line

        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {terminal_line(Redactor().text(message))}\n")

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        # argparse's own hook for choices (Python 3.14 adds `suggest_on_error`; 3.11 has none).
        try:
            super()._check_value(action, value)
        except argparse.ArgumentError as exc:
            from triage.settings import did_you_mean

            # A verb typed whole names its command before a typo's guess: `list` is no `ingest`.
            hint = _verb_hint(action, value) or did_you_mean(value, action.choices or ())
            raise argparse.ArgumentError(action, f"{exc.message}{hint}") from None


def _verb_hint(action: argparse.Action, given: object) -> str:
    """`; did you mean 'triage incidents close'?` when `given`, refused as a command, is a verb
    of one (`triage close FP`, as people shorten it), naming each command that has it; else
    "". Only commands' words are quoted, never what was given."""
    commands = action.choices if isinstance(action.choices, dict) else {}
    meant = [
        f"'{parser.prog} {given}'"
        for parser in commands.values()
        for positional in parser._actions
        if not positional.option_strings and given in (positional.choices or ())
    ]
    return f"; did you mean {' or '.join(meant)}?" if meant else ""


class _StoreOnce(argparse._StoreAction):
    """argparse's `store` (an option of one value), refusing the option given twice with two
    values: argparse keeps the last silently, and `--since 2h … --since 1d` (a recalled command
    with one more option typed on) would list a day while the operator reads two hours. The
    same value twice says one thing, and is taken. A comment or an author is `_LastGiven`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._given: list[Any] = []  # a parser is built per command line (`main`)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        if option_string is not None and self._given and values != self._given[0]:
            first, then = _quoted(str(self._given[0])), _quoted(str(values))
            parser.error(f"{option_string} given twice ({first}, then {then}): give it once")
        self._given.append(values)
        super().__call__(parser, namespace, values, option_string)


#: argparse's own `store`: the last value given is taken. For prose (a comment, an author),
#: where a second value given is a correction, not a second selection.
_LastGiven = argparse._StoreAction


def _queue_url(text: str) -> str:
    """An argparse type: an SQS queue URL, as ALERT_TRIAGE_QUEUE_URL must be one."""
    from triage.settings import queue_url_problem

    problem = queue_url_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return text


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="triage", description="Alert-triage daemon: SQS in, tickets out.")
    parser.add_argument("--version", action="version", version=f"triage {version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the daemon (long-polls ALERT_TRIAGE_QUEUE_URL)")
    run.add_argument(
        "--drain",
        action="store_true",
        help="exit 0 once the queue is empty and nothing is in flight",
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="log every decision; no store write, no ticket, no ack (messages are released at exit)",
    )

    sub.add_parser(
        "ingest",
        help="the webhook gateway: POST /v1/alerts/{source} (authenticated) → ALERT_TRIAGE_QUEUE_URL",
    )

    demo = sub.add_parser(
        "demo",
        help="the embedded default: local AWS, sample alerts, the real daemon",
        description="Run the real daemon against moto (SQS, a DLQ, Secrets Manager) and a "
        "loopback ticket backend on 127.0.0.1, queue the bundled sample alerts in three "
        "waves (fire, repeat, resolve), then print what the backend received. No AWS "
        "account, no API key, and none of your shell's TRIAGE_*, AWS_* or OPENAI_* "
        "settings are used; Ctrl-C stops it (exit 130).",
    )
    demo.add_argument("--verbose", action="store_true", help="show the daemon's info-level log")
    demo.add_argument(
        "--llm",
        choices=["none", "stub"],
        default="none",
        help="stub: write new tickets through the LLM path, against a loopback model "
        "(default none: the deterministic summariser)",
    )

    check = sub.add_parser("check", help="validate the configuration and reach every dependency")
    check.add_argument(
        "--output",
        choices=["text", "json"],
        default="text",
        help="text (one line per check, for reading) or json (one object per line, for "
        "scripts); default: text",
    )

    send = sub.add_parser("send", help="queue message bodies (one file = one message; - = stdin)")
    send.add_argument("files", nargs="+", metavar="FILE")
    send.add_argument("--queue-url", type=_queue_url, help="default: ALERT_TRIAGE_QUEUE_URL")

    health = sub.add_parser(
        "health", help="probe the running daemon's /healthz (the container HEALTHCHECK)"
    )
    health.add_argument("--ready", action="store_true", help="probe /readyz instead")
    health.add_argument(
        "--timeout",
        type=_seconds,
        default=3.0,
        metavar="S",
        help="bound on the whole probe, in seconds (default 3)",
    )

    dlq = sub.add_parser("dlq", help="peek at dead letters, or move them back to the queue")
    dlq.add_argument("action", choices=["peek", "redrive"])
    dlq.add_argument(
        "--max",
        type=_positive_int,
        default=None,
        metavar="N",
        help="at most N messages (default: peek 10, redrive: all)",
    )
    dlq.add_argument("--dry-run", action="store_true", help="redrive: only say what would move")
    dlq.add_argument(
        "--sqs-move",
        action="store_true",
        help="redrive: have SQS move every letter (StartMessageMoveTask): quicker for a large "
        "DLQ, but a letter queued without an identity (plain `aws sqs send-message`) is counted "
        "again; not with --max",
    )
    dlq.add_argument(
        "--dlq-url",
        type=_queue_url,
        help="default: the DLQ of ALERT_TRIAGE_QUEUE_URL's redrive policy",
    )

    normalize = sub.add_parser(
        "normalize",
        help="print the canonical alerts of one message body as JSON lines, redacted as the "
        "daemon's output is (an alert's text may hold credentials)",
    )
    normalize.add_argument("file", metavar="FILE|-")
    _operator_commands(sub)
    _choices_in_any_case(parser)
    return parser


def _choices_in_any_case(parser: argparse.ArgumentParser) -> None:
    """The one rule for the case of what a person types: a word of triage's own given to an
    option or an argument (a state, an output format, `--llm`, dlq's action; a priority, a
    source and a duration's unit where they are read) is taken in any case and with spaces
    around it (`_word`), so `--output JSON` is `--output json` as `--state Open` is `open`.
    Commands and option names stay as written, as every command line has them; a matcher's
    label names and values are the alerts' own, and compared as they are."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                _choices_in_any_case(command)
        elif action.choices is not None and action.type is None:
            action.type = _word


# --- incidents and silence (the operator's view of the store) ------------------------------


def _operator_commands(sub: Any) -> None:
    incidents = sub.add_parser("incidents", help="what the store knows: list, show, close")
    verbs = incidents.add_subparsers(dest="verb", required=True, metavar="VERB")
    listing = verbs.add_parser(
        "list", help="one JSON object per incident (--output text: one line each)"
    )
    listing.add_argument(
        "--state",
        choices=["open", "closed", "all"],
        default="open",
        help="which incidents (default: open; closed ones are listed with closed or all)",
    )
    listing.add_argument("--team", type=_team, help="only this team's incidents")
    listing.add_argument("--flapping", action="store_true", help="only flapping incidents")
    listing.add_argument("--source", help="only this source's (cloudwatch, alertmanager, …)")
    listing.add_argument(
        "--priority", metavar="P", help="critical, high, medium, low or P0..P3; commas: several"
    )
    listing.add_argument(
        "--search", metavar="WORDS", help="only titles holding these words (any case)"
    )
    listing.add_argument(
        "--match",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="as a silence's: source, team, title or a label; =, !=, =~, !~; repeat: all hold",
    )
    listing.add_argument(
        "--since", metavar="WHEN", help="opened (or reopened) since: 2h, 1d or 2026-12-05T06:00Z"
    )
    listing.add_argument("--before", metavar="WHEN", help="opened (or reopened) before WHEN")
    listing.add_argument(
        "--limit",
        type=_positive_int,
        default=None,
        metavar="N",
        help="at most N incidents, the most urgent first (default: all); stderr says how many "
        "there are and the --offset of the next page",
    )
    listing.add_argument(
        "--offset",
        type=_whole_count,
        default=None,
        metavar="N",
        help="skip the first N",
    )
    listing.add_argument(
        "--after",
        metavar="CURSOR",
        help="the incidents after the last one a page showed (the cursor its stderr names): "
        "none is skipped when one shown before closes meanwhile, as with --offset",
    )
    fingerprint = _named(
        "a fingerprint", "triage incidents list", "triage incidents list --output json"
    )
    show = verbs.add_parser("show", help="one incident with its recent history")
    show.add_argument("fingerprint", type=fingerprint, help=_FINGERPRINT_HELP)
    for verb in (listing, show):
        verb.add_argument(
            "--output",
            choices=["json", "text"],
            default="json",
            help="json (one object per line, for scripts) or text (for reading); default: json",
        )
    close = verbs.add_parser("close", help="close through the lifecycle (the sinks are told)")
    close.add_argument("fingerprint", type=fingerprint, help=_FINGERPRINT_HELP)
    # Prose, not a selection: given twice, the last is the note, as argparse has it.
    close.add_argument(
        "--comment", action=_LastGiven, required=True, help="why; shown in the close note"
    )
    close.add_argument("--author", action=_LastGiven, default=None, help="default: $USER")

    silence = sub.add_parser("silence", help="quiet matching alerts for a while")
    verbs = silence.add_subparsers(dest="verb", required=True, metavar="VERB")
    add = verbs.add_parser("add", help="add a silence; prints it as JSON")
    add.add_argument(
        "--match",
        action="append",
        required=True,
        metavar="KEY=VALUE",
        help="source, team, title or a label; =, !=, =~ or !~ (regex); repeat: all must hold",
    )
    length = add.add_mutually_exclusive_group(required=True)
    length.add_argument("--for", dest="duration", metavar="DURATION", help="90m, 2h, 1d")
    length.add_argument(
        "--until",
        metavar="TIME",
        help=f"end time with a UTC offset, {_end_time_examples()}",
    )
    add.add_argument("--comment", action=_LastGiven, required=True, help="why")
    add.add_argument("--author", action=_LastGiven, default=None, help="default: $USER")
    add.add_argument(
        "--dry-run",
        action="store_true",
        help="only say which open incidents it would match; add nothing",
    )
    listed = verbs.add_parser("list", help="active silences, one JSON object per line")
    listed.add_argument("--all", action="store_true", help="also the ones ended this week")
    expire = verbs.add_parser("expire", help="end a silence now")
    expire.add_argument(
        "id",
        type=_named("a silence id", "triage silence list"),
        help="its id, or a prefix of it (4 characters or more) that no other silence's starts "
        "with (`triage silence "
        "list` shows them)",
    )


def _end_time_examples() -> str:
    """`silence add --until`'s examples, dated tomorrow, as `operator.end_time_examples` words
    them for its refusal (a fixed date is refused as past once it has gone). Not imported
    from there: every command builds the parser, `triage health` too, which must not load
    the redactor that module brings."""
    from datetime import UTC, datetime, timedelta

    day = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    return f"such as {day}T06:00Z (UTC) or {day}T07:00+01:00"


#: What `incidents show|close` take, said in their --help.
_FINGERPRINT_HELP = (
    "its fingerprint, or a prefix of it (4 characters or more) that no other incident's "
    "starts with (`triage "
    "incidents list --output json` shows them whole)"
)


async def _operate(settings: Settings, args: argparse.Namespace) -> int:
    """`incidents` and `silence`: open the store, do one thing, print JSON lines."""
    from triage.app import open_configured_store
    from triage.aws import ONE_SHOT, Aws
    from triage.errors import StoreBusyError, StoreLockedError

    if settings.store_url == IN_MEMORY_STORE:
        _err(
            f"triage: {args.command}: TRIAGE_STORE_URL={IN_MEMORY_STORE} is a store of this "
            "command's own, which no daemon shares (what it shows is empty, what it changes is "
            "gone when it exits): point TRIAGE_STORE_URL at the daemon's store"
        )
        return 2
    not_a_store = sqlite_store_problem(settings.store_url)
    if not_a_store is not None:
        _err(f"triage: {args.command}: {not_a_store}")
        return 2
    missing = missing_sqlite_store(settings.store_url)
    if missing is not None:
        _err(
            f"triage: {args.command}: no SQLite store at {missing}: point TRIAGE_STORE_URL at "
            "the daemon's store (the daemon creates it at its first run)"
        )
        return 2
    aws = Aws(settings, ONE_SHOT)
    try:
        store = await open_configured_store(settings, aws)
        try:
            if args.command == "incidents":
                return await _incidents(settings, store, args)
            return await _silence(store, args)
        finally:
            await store.aclose()
    except StoreLockedError as exc:
        _err(f"triage: {args.command}: {exc}; try again shortly")
        return 1
    except StoreBusyError as exc:
        # How long the worker's claim may still last: it usually finishes sooner, and if its
        # process died the claim lapses then, so a retry after it always gets through.
        wait_s = exc.retry_after_s
        within = f" (its claim lapses within {math.ceil(wait_s)} s)" if wait_s else ""
        _err(f"triage: {args.command}: {exc}; try again shortly{within}")
        return 1
    except TriageError as exc:
        _err(f"triage: {args.command}: {exc.reason}: {exc}{_store_named(settings, exc)}")
        return 1
    finally:
        await aws.aclose()


def _store_named(settings: Settings, exc: TriageError) -> str:
    """` (TRIAGE_STORE_URL=…)` when `exc` is the store's failure (unreachable, throttled, a
    record it cannot read): its own words name the call (`dynamodb scan failed`), not which
    table or file, and at 3 a.m. the one an operator's shell points at may not be the
    daemon's. Redacted, as a URL may hold a credential; "" for any other failure (a sink's)."""
    if not exc.reason.startswith("store"):
        return ""
    from triage.redact import Redactor

    return f" (TRIAGE_STORE_URL={Redactor().text(settings.store_url)})"


#: The SQLite store in one process's memory, as `settings.store_url` keeps it: fine for a
#: daemon's trial run, but no other process (an operator's command) can reach it.
IN_MEMORY_STORE = "sqlite:///:memory:"


def sqlite_store_problem(url: str) -> str | None:
    """Why the SQLite file `url` names is no store of triage's, in one line, else None (no
    such file is `missing_sqlite_store`'s): a directory (Docker makes one where a bind mount's
    host file was not there yet: SQLite says only "unable to open database file"), or a
    database of another application's tables and none of triage's (a path one directory off:
    opening it would add triage's tables to it and list an empty store). Read without
    writing; a file that cannot be read so is left for the store's own open to say why."""
    path = _sqlite_path(url)
    if path is None:
        return None
    if os.path.isdir(path):
        return (
            f"{os.path.abspath(path)} is a directory, not a SQLite file (a bind mount whose "
            "host file was not there yet makes one): point TRIAGE_STORE_URL at a file in it, "
            "or create the host file before mounting it"
        )
    others = _other_applications_tables(path)
    if others:
        shown = ", ".join(_quoted(name, 40) for name in others[:3])
        more = f" and {len(others) - 3} more" if len(others) > 3 else ""
        return (
            f"{os.path.abspath(path)} holds another application's tables ({shown}{more}) and "
            "none of triage's: point TRIAGE_STORE_URL at the daemon's store"
        )
    return None


#: The table every store triage made has, whatever its version.
_STORE_TABLE = "incidents"


def _other_applications_tables(path: str) -> list[str]:
    """The tables of the SQLite database at `path` when it has some and not triage's, else
    []: an empty database (its header alone) or triage's own store is no other's. Opened
    read-only; a file SQLite cannot read so (not a database, locked) gives []."""
    import sqlite3

    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        return []
    try:
        uri = f"{Path(path).absolute().as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
            rows = db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            ).fetchall()
    except sqlite3.Error:
        return []
    tables = sorted(str(row[0]) for row in rows)
    return [] if not tables or _STORE_TABLE in tables else tables


def _sqlite_path(url: str) -> str | None:
    """The file path a `sqlite:` store URL names; None for another store or an in-memory one."""
    if not url.startswith("sqlite:"):
        return None
    path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else urlparse(url).path
    return path if path and path != ":memory:" else None


def missing_sqlite_store(url: str) -> str | None:
    """The full path of the SQLite store `url` names, when no store is there: no file, or an
    empty one (`touch`ed, or left by a mount; a file the daemon opened holds its header at
    least), said so after the path. The daemon creates its store at its first run; an
    operator's command (and `triage check`) must not: with a mistyped URL, or the default
    relative `triage.db` in another directory than the daemon's, it would list an empty store,
    and a silence added to it would quiet nothing the daemon sees."""
    path = _sqlite_path(url)
    if path is None:
        return None
    try:
        empty = os.path.getsize(path) == 0
    except OSError:
        return os.path.abspath(path)
    return f"{os.path.abspath(path)} (the file is empty)" if empty else None


#: The hosts of AWS's own endpoints (every partition, FIPS and dual-stack): a queue URL on any
#: other host is a local SQS's (LocalStack, moto, ElasticMQ) or a stand-in's.
_AWS_HOST = re.compile(r"(?:[a-z0-9-]+\.)+(?:amazonaws\.com(?:\.cn)?|api\.aws)", re.IGNORECASE)


def queue_endpoint_problem(queue_url: str, endpoint_url: str, named: str) -> str | None:
    """Why SQS calls for the queue at `queue_url` (given as `named`) cannot reach it, or None:
    botocore sends them to the client's `endpoint_url`, never to the queue URL's host, so a
    queue on a local SQS behind AWS's endpoint (no AWS_ENDPOINT_URL) is answered by AWS,
    which refuses an address not its own; said with the value that reaches it."""
    queue_host, endpoint_host = _host(queue_url), _host(endpoint_url)
    if not queue_host or _AWS_HOST.fullmatch(queue_host) or not _AWS_HOST.fullmatch(endpoint_host):
        return None
    parts = urlparse(queue_url)
    host = f"[{queue_host}]" if ":" in queue_host else queue_host  # an IPv6 address
    local = f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}"
    return (
        f"{named} names a queue at {local}, not on AWS, but with no AWS_ENDPOINT_URL SQS calls "
        f"go to AWS's {endpoint_host}: set AWS_ENDPOINT_URL={local} (or AWS_ENDPOINT_URL_SQS "
        "for SQS alone) to reach a local SQS (LocalStack, moto, ElasticMQ)"
    )


def _host(url: str) -> str:
    """The host of `url`, or "" for a URL that has none or cannot be read."""
    try:
        return urlparse(url).hostname or ""
    except ValueError:
        return ""


def _named(what: str, listing: str, whole: str | None = None) -> Any:
    """An argparse type for the name of one thing (`what`, a fingerprint or a silence id:
    ASCII hex), not blank (`"$ID"` with ID unset): the refusal says which command lists the
    names. A character that draws nothing (a zero-width space or joiner, a BOM, a bidi mark,
    which a chat or a web page puts into what is copied from it) is dropped: no name holds
    one, and a quote of the name cannot show it, so "no incident a205341" named the prefix
    that works. A name holding `…` or `...` was cut short where it was copied from (a table's
    cell, a narrow terminal): refused as cut, saying the command that shows it whole (`whole`,
    else `listing`). Any other character outside ASCII (a Cyrillic or full-width `a`) is
    refused, named by its code, as it draws like the letter it is not."""

    def name(text: str) -> str:
        import unicodedata

        text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
        if not text.strip():
            raise argparse.ArgumentTypeError(f"expected {what} (`{listing}` lists them)")
        mark = next((mark for mark in _CUT_MARKS if mark in text), None)
        if mark is not None:
            raise argparse.ArgumentTypeError(
                f"{what} {_cut_quoted(text.strip(), mark)} was cut short (a table or a terminal "
                f"writes {mark} where it cut a long id): give it whole, as `{whole or listing}` "
                f"shows it, or a longer prefix of it without the {mark}"
            )
        odd = [ch for ch in dict.fromkeys(text) if not ch.isascii() and _is_character(ch)]
        if odd:
            named = ", ".join(
                f"U+{ord(ch):04X} ({unicodedata.name(ch, 'unnamed')})" for ch in odd[:3]
            )
            raise argparse.ArgumentTypeError(
                f"{what} is ASCII letters and digits, and this one holds {named}: typed on "
                f"another keyboard layout, or pasted? type it again (`{listing}` lists them)"
            )
        return text

    return name


#: What a table, a terminal or a chat writes where it cut a long value short; no id holds one.
_CUT_MARKS = ("\u2026", "...")


def _cut_quoted(text: str, mark: str) -> str:
    """A cut id as its refusal quotes it: each piece quoted apart from the `mark` (`'238f' …
    'c738eb'`), since a random-looking piece glued to a `…` reads to the redactor as a cut
    credential, and would be quoted as `[REDACTED:cut]`."""
    words: list[str] = []
    for n, piece in enumerate(text.split(mark)):
        if n:
            words.append(mark)
        if piece:
            words.append(_quoted(piece, 40))
    return " ".join(words)


def _is_character(ch: str) -> bool:
    """Whether `ch` is a character (not a lone surrogate: an argument that was not UTF-8,
    which `_could_be_fingerprint` refuses as naming no incident)."""
    return not 0xD800 <= ord(ch) <= 0xDFFF


def _word(text: str) -> str:
    """An argparse type: a word of the command's own (a state, an output format), read as the
    API reads it and as a source or a priority is, in any case and with spaces around it
    (`--state Open`, `--output JSON`: `_choices_in_any_case`)."""
    return text.strip().lower()


def _team(text: str) -> str:
    """An argparse type: a team name, not blank (`--team "$TEAM"` with TEAM unset)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a team name (leave --team out for all)")
    return text


def _could_be_fingerprint(text: str) -> bool:
    """Whether the store could hold an incident of this name: an argument that was not UTF-8
    reaches Python as a lone surrogate, which no store's encoder takes (it raised out of
    SQLite as a traceback), and no fingerprint is longer than 256 characters."""
    from triage.incidents.silences import is_unicode

    return is_unicode(text) and 0 < len(text) <= 256


async def _incidents(settings: Settings, store: Any, args: argparse.Namespace) -> int:
    from triage.ops.operator import (
        after_cursor,
        find_incident,
        incident_json,
        list_incidents,
        page_cursor,
        unreadable_said,
    )
    from triage.redact import Redactor

    redactor = Redactor()
    if args.verb == "list":
        try:
            if args.after is not None and args.offset is not None:
                raise ValueError("after and --offset both say where a page starts: give one")  # noqa: TRY301
            keep = _listing_filter(args, store.now())
            # Refused too when the store's incidents show the filter misleads (FilterRefused).
            listed = await list_incidents(store, keep)
            offset = args.offset or 0
            rest = listed[offset:] if args.after is None else after_cursor(listed, args.after)
        except ValueError as exc:  # it may quote a pasted secret, as the API's answer does not
            _err(f"triage: incidents: {_option_named(redactor.text(str(exc)), _LIST_OPTIONS)}")
            return 2
        now = store.now()
        page = rest[: args.limit] if args.limit else rest
        for incident in page:
            print(_shown_incident(incident_json(incident, redactor), incident, args, now))
        if args.limit is not None or args.offset is not None or args.after is not None:
            following = page_cursor(page[-1]) if len(rest) > len(page) else None
            start = len(listed) - len(rest)
            _err(f"triage: incidents: {_page_said(start, len(page), len(listed), following)}")
        if store.unreadable_listed:
            _err(f"triage: incidents: warning: {unreadable_said(store.unreadable_listed)}")
        await _warn_about_filter(store, keep, redactor, listed=bool(listed))
        return 0
    if not _could_be_fingerprint(args.fingerprint):
        _err(f"triage: incidents: no incident {_quoted(args.fingerprint, 80)}")
        return 1
    if args.verb == "close":
        problem = _close_problem(args)
        if problem is not None:
            _err(f"triage: incidents: {problem}")
            return 2
    try:
        found = await find_incident(store, args.fingerprint)
    except LookupError as exc:
        _err(f"triage: incidents: {redactor.text(str(exc))}")
        return 1
    if args.verb == "show":
        shown = incident_json(found, redactor, history=True)
        print(_shown_incident(shown, found, args, store.now()))
        return 0
    return await _close(settings, store, found, args)


#: The options of `incidents list` by the names the shared parsers (`ops.operator`, which the
#: API's query uses too) give the values in their refusals.
_LIST_OPTIONS = {
    "since": "--since",
    "before": "--before",
    "priority": "--priority",
    "source": "--source",
    "search": "--search",
    "matcher": "--match",
    "team": "--team",
    "state": "--state",
    "after": "--after",
}
#: The options of a note (`silence add`, `incidents close`), as `_LIST_OPTIONS`.
_NOTE_OPTIONS = {"comment": "--comment", "author": "--author"}
#: The options of `silence add`, as `_LIST_OPTIONS`: the API's `duration` is `--for` here.
_ADD_OPTIONS = {"duration": "--for", "until": "--until", "matcher": "--match", **_NOTE_OPTIONS}
#: The one refusal naming two values, `since` and `before`.
_SINCE_NOT_BEFORE = "since is not before before"


def _option_named(message: str, options: dict[str, str]) -> str:
    """A shared parser's refusal as the command line says it: the value's name, which starts
    it (`duration '1x': …`, the API's field), written as the option it was typed after
    (`--for '1x': …`), so the operator reads which of the options to fix."""
    if message.startswith(_SINCE_NOT_BEFORE):
        return f"--since is not before --before{message[len(_SINCE_NOT_BEFORE) :]}"
    name = re.match(r"[a-z]+(?=[ :])", message)
    if name is None or name[0] not in options:
        return message
    return f"{options[name[0]]}{message[name.end() :]}"


async def _warn_about_filter(store: Any, keep: Any, redactor: Redactor, *, listed: bool) -> None:
    """One stderr line per matcher of `incidents list` on a name no stored incident has
    (`Team=payments` for `team=`), and, when nothing was `listed`, per matcher whose value
    incidents have in another case (`team=Payments`), as `silence add` warns: the listing
    would read as the answer about the label or value meant. Exit stays 0."""
    from triage.ops.operator import case_hints, subjects_of, unknown_label_warnings

    if not keep.matchers:
        return
    subjects = subjects_of(await store.incidents())
    warnings = unknown_label_warnings(keep.matchers, subjects)
    if not listed:
        warnings += case_hints(keep.matchers, subjects, "incidents")
    for warning in warnings:
        said = _option_named(redactor.text(warning), _LIST_OPTIONS)
        _err(f"triage: incidents: warning: {said}", stored=True)


def _page_said(offset: int, shown: int, total: int, following: str | None) -> str:
    """Which incidents a page of the listing showed, of how many, and the `--after` cursor
    of the next page when there is one: said on stderr, so stdout stays one incident per
    line."""
    if not shown:
        return f"none past {offset} of {total} incident(s)"
    said = f"showed {offset + 1}-{offset + shown} of {total} incident(s)"
    if following is not None:
        said += f"; --after {following} shows the next"
    return said


def _close_problem(args: argparse.Namespace) -> str | None:
    """Why `incidents close`'s comment or author cannot go into the close note, or None."""
    from triage.ops.operator import note_problem

    if not args.comment.strip():
        return "--comment is blank: a close needs a comment saying why"
    problem = note_problem(args.comment, _author(args))
    return None if problem is None else _option_named(problem, _NOTE_OPTIONS)


def _shown_incident(
    shown: dict[str, Any], incident: Any, args: argparse.Namespace, now: Any
) -> str:
    """An incident as `--output` asks: a JSON line, or text for reading (`show`: a block)."""
    from triage.ops.operator_text import incident_block, incident_line
    from triage.view import json_line

    if args.output == "json":
        return json_line(shown)
    if args.verb == "show":
        return incident_block(shown, now)
    return incident_line(shown, incident.reopened_at or incident.opened_at, now)


def _listing_filter(args: argparse.Namespace, now: Any) -> Any:
    """The `Filter` of `incidents list`'s options; ValueError names a value that names nothing."""
    from triage.ops.operator import parse_filter

    return parse_filter(
        now=now,
        state=args.state,
        team=args.team,
        flapping=args.flapping,
        source=args.source,
        priority=args.priority,
        search=args.search,
        match=args.match,
        since=args.since,
        before=args.before,
    )


async def _close(settings: Settings, store: Any, found: Any, args: argparse.Namespace) -> int:
    """`incidents close` of the incident `found` (whole: the one a prefix named)."""
    from triage.app import close_by_hand
    from triage.view import json_line

    fingerprint = found.fingerprint
    try:
        action = await close_by_hand(settings, store, fingerprint, args.comment, _author(args))
    except LookupError:  # gone since it was found (its record expired)
        _err(f"triage: incidents: no incident {fingerprint}")
        return 1
    except TriageError as exc:
        if not await _close_on_its_way(store, fingerprint):
            raise  # nothing was closed: the store's own error line says why
        # A sink failed the close after the store took it: no message is left to retry it,
        # so the sweep does; "failed" alone would have the operator close it again.
        _err(
            f"triage: incidents: {fingerprint} is closed, but a sink was not told yet "
            f"({exc.reason}: {exc}); {_SWEEP_RETRIES}"
        )
        return 1
    print(json_line({"fingerprint": fingerprint, "action": str(action)}))
    said = _CLOSE_SAYS.get(str(action))
    if str(action) == "ignore" and _closing(found):
        said = f"was closed already, and its close is still on its way: {_SWEEP_RETRIES}"
    if said is not None:  # "ignore" alone reads as if the close had been refused
        _err(f"triage: incidents: {fingerprint} {said}")
    return 0


#: What a close by hand that told no sink means, for the operator reading its one line.
_CLOSE_SAYS = {
    "ignore": "was closed already: nothing was sent",
    "record": "had no ticket out yet: closed in the store, no sink was told",
}
_SWEEP_RETRIES = (
    "the daemon's sweep sends the close to the sinks left, retrying until it goes out "
    "(`triage incidents show` says when: pending)"
)


def _closing(incident: Any) -> bool:
    """Whether `incident` is closed in the store with its close not yet told to every sink."""
    pending = incident.pending
    return (
        incident.state.value == "closed" and pending is not None and pending.kind.value == "close"
    )


async def _close_on_its_way(store: Any, fingerprint: str) -> bool:
    """Whether a close that failed at a sink was taken by the store (then the sweep sends it)."""
    try:
        incident = await store.get(fingerprint)
    except TriageError:
        return False
    return incident is not None and _closing(incident)


async def _silence(store: Any, args: argparse.Namespace) -> int:
    from triage.ops.operator import (
        end_named_silence,
        new_silence,
        shown_silences,
        silence_json,
        silences_json,
        unreadable_silences_said,
    )
    from triage.redact import Redactor
    from triage.view import json_line

    # The store's time, as the replicas take it: a laptop's clock may be minutes off theirs.
    now, redactor = store.now(), Redactor()
    if args.verb == "add":
        try:
            silence = new_silence(
                args.match, args.duration, args.comment, _author(args), now, until=args.until
            )
            if args.dry_run:
                return await _preview_silence(store, silence, now)
            added = await store.add_silence(silence, now)
        except ValueError as exc:  # it may quote a pasted secret, as the API's answer does not
            _err(f"triage: silence: {_option_named(redactor.text(str(exc)), _ADD_OPTIONS)}")
            return 2
        said = silence_json(added, redactor, now)
        print(json_line(said))
        _log_added(added, said)
        await _warn_about_silence(store, added, silence)
        return 0
    if args.verb == "list":
        shown = shown_silences(await store.silences(), now, every=args.all)
        for listed in silences_json(shown, await store.incidents(), redactor, now):
            print(json_line(listed))
        if store.unreadable_silences:
            left_out = unreadable_silences_said(store.unreadable_silences)
            _err(f"triage: silence: warning: {redactor.text(left_out)}")
        return 0
    try:
        # Its id, or an unambiguous prefix of one, as `incidents close` takes a fingerprint's.
        ended = await end_named_silence(store, args.id, now)
    except LookupError as exc:
        # The id as given, redacted: a token pasted in its place is not repeated.
        _err(f"triage: silence: {redactor.text(str(exc))[:300]}")
        return 1
    code = _expired(ended, now, redactor)
    if ended[1]:  # this call ended it: say what it held, which the sweep now lets go
        await _say_released(store, ended[0], now)
    return code


def _log_added(added: Silence, shown: dict[str, Any]) -> None:
    """The `cli.silence_added` warning for a silence that matches every alert, with its end,
    as the API's `api.silence_added` is one: the stderr warning reaches whoever typed the
    command, the log line whoever watches the logs for a pager silenced whole (a slip, or
    someone else's hand). A narrower silence logs nothing: its JSON line on stdout says it."""
    if added.matches_every_alert():
        structlog.get_logger(__name__).warning(
            "cli.silence_added",
            silence=added.id,
            matchers=len(added.matchers),
            matches_every_alert=True,
            ends_at=shown["ends_at"],
        )


async def _say_released(store: Any, expired: Silence, now: datetime) -> None:
    """One stderr line when the expired silence held incidents' effects: how many go out
    with the daemon's next sweep (tickets about to open), and how many another silence
    still holds. Nothing when the store cannot be listed: the silence is expired all the same."""
    from triage.ops.operator import released_by, released_said

    try:
        incidents, silences = await store.incidents(), await store.silences()
    except TriageError as exc:
        _err(f"triage: silence: warning: what it held was not checked: {exc.reason}")
        return
    said = released_said(*released_by(expired, incidents, silences, now))
    if said is not None:
        _err(f"triage: silence: {said}")


def _expired(ended: tuple[Silence, bool], now: datetime, redactor: Redactor) -> int:
    """`triage silence expire`'s answer: the silence as it is now, and one stderr line when
    it had ended already (expiring is idempotent: exit 0, nothing changed)."""
    from triage.ops.operator import silence_json
    from triage.view import json_line

    expired, by_this_call = ended
    print(json_line(silence_json(expired, redactor, now)))
    if not by_this_call:
        ended_at, starts_at = expired.ends().isoformat(), expired.starts_at.isoformat()
        if expired.ends() <= expired.starts_at:  # an end still ahead would read as not ended
            _err(
                f"triage: silence: {expired.id[:80]} never took effect: it ends ({ended_at}) "
                f"no later than it starts ({starts_at}); nothing changed"
            )
        else:
            _err(
                f"triage: silence: {expired.id[:80]} had ended already ({ended_at}); nothing changed"
            )
    return 0


async def _preview_silence(store: Any, silence: Any, now: Any) -> int:
    """`silence add --dry-run`: the silence as it would be added, with the open incidents it
    would match, and its warnings; nothing is stored (the store's own limits, such as the
    silences' shared budget of regular expressions, are checked only by an add)."""
    from triage.ops.operator import matching_json, open_subjects, silence_json, silence_warnings
    from triage.redact import Redactor
    from triage.view import json_line

    redactor = Redactor()
    incidents, silences = await store.incidents(), await store.silences()
    shown = silence_json(silence, redactor, now)
    shown["matching"] = matching_json(silence, open_subjects(incidents), redactor)
    print(json_line(shown))
    _err(
        f"triage: silence: dry run: it would match {shown['matching']['open']} open "
        "incidents; nothing was added"
    )
    for warning in silence_warnings(silence, incidents, silences=silences):
        _err(f"triage: silence: warning: {redactor.text(warning)}", stored=True)
    return 0


async def _warn_about_silence(store: Any, silence: Any, asked: Any) -> None:
    """One stderr line per warning `silence_warnings` has for `silence`, the store's answer to
    the add of `asked` (a later end kept, another silence outlasting it, a matcher on a label
    no incident has, no open incident matched); the exit stays 0, as the silence is made."""
    from triage.ops.operator import end_kept_warning, silence_warnings
    from triage.redact import Redactor

    redactor = Redactor()
    try:
        incidents, silences = await store.incidents(), await store.silences()
    except TriageError as exc:
        _err(f"triage: silence: warning: not checked against the incidents: {exc.reason}")
        kept = end_kept_warning(asked, silence)
        if kept is not None:
            _err(f"triage: silence: warning: {kept}")
        return
    for warning in silence_warnings(silence, incidents, asked=asked, silences=silences):
        _err(f"triage: silence: warning: {redactor.text(warning)}", stored=True)


def _author(args: argparse.Namespace) -> str:
    """Who is acting: `--author` trimmed, else (left out, empty or blank: `"$AUTHOR"` with
    AUTHOR unset) the user running the command, so no note is kept without a name."""
    import getpass

    from triage.ops.operator import given_author

    def user() -> str:
        try:
            return getpass.getuser()
        except (KeyError, OSError):  # no user database entry (a container's numeric uid)
            return "unknown"

    return given_author(args.author, user)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    words = list(sys.argv[1:] if argv is None else argv)
    pasted = _pasted_dash(words, _option_names(parser))
    if pasted is not None:
        parser.error(pasted)
    args = parser.parse_args(words)
    if args.command != "run":  # `run` turns the collector back on once started (triage.app)
        gc.enable()
    printed_to = sys.stdout
    sys.stdout = _stdout_for(args.command, printed_to)
    try:
        code = _command(args)
        sys.stdout.flush()  # here, where its failure is said, not at the interpreter's exit
        return code
    except BrokenPipeError:
        # The reader is gone: what is left to print has nowhere to go, and Python's own flush
        # at exit must not fail on it again (a second traceback).
        _silence_stdout()
        return EXIT_PIPE_CLOSED
    except _OutputLost as exc:
        _silence_stdout()  # what is still buffered goes nowhere, quietly, at exit
        _err(f"triage: {args.command}: cannot write the output: {exc}")
        return 1
    finally:
        sys.stdout = printed_to


#: Dashes a chat, a wiki or a word processor puts where `--` or `-` was typed (en and em
#: dash, minus sign, their small and full-width forms, Unicode's hyphens).
_TYPOGRAPHIC_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"


def _pasted_dash(words: Sequence[str], options: set[str]) -> str | None:
    """The refusal of a word that is one of triage's options but for a typographic dash at its
    start (`—max 5` copied from a chat that made `--` an em dash), or None. argparse would call
    it an unrecognized argument, or take it for a value, and the dash is hard to see. Only a
    word that names an option once its dashes are hyphens is refused: a comment that starts
    with a dash (`--comment "—see the ticket"`) is a value as before."""
    import unicodedata

    for typed in words:
        if not typed or typed[0] not in _TYPOGRAPHIC_DASHES:
            continue
        name = typed.split("=", 1)[0].lstrip(_TYPOGRAPHIC_DASHES + "-")
        meant = next((o for o in (f"--{name}", f"-{name}") if o in options), None)
        if meant is not None:
            dash = unicodedata.name(typed[0], "dash").lower()
            return (
                f"{typed!r} starts with U+{ord(typed[0]):04X} ({dash}), not a hyphen: type it "
                f"as {meant} (a chat or a document turns -- into a dash)"
            )
    return None


def _option_names(parser: argparse.ArgumentParser) -> set[str]:
    """Every option string of `parser` and of its sub-commands' parsers, at any depth."""
    names: set[str] = set()
    for action in parser._actions:
        names.update(action.option_strings)
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                names |= _option_names(sub)
    return names


class _OutputLost(Exception):
    """Standard output refused a write (a full disk, a quota, a mount gone): `main` says so in
    one line and exits 1. Not an OSError: a command's own handling of a file it reads or of an
    AWS call must not take it for its own failure."""


def _stdout_for(command: str, stream: TextIO | None) -> TextIO:
    """Standard output as `command` prints to it; `stream` None when it was started with it
    closed (`>&-`, a cron line). A daemon's (`run`, `ingest`: its EMF metrics) drops what
    cannot be written (`Unfailing`) and handles alerts on; a one-shot command's says in one
    line that its output could not be written (`_GuardedOutput`), exit 1."""
    opened = stream if stream is not None else cast(TextIO, _ClosedOutput())
    if command in _DAEMONS:
        from triage.logs import Unfailing

        return cast(TextIO, Unfailing(opened))
    return cast(TextIO, _GuardedOutput(opened))


#: The commands that run until stopped, whose output nobody may be reading.
_DAEMONS = frozenset({"run", "ingest"})


class _ClosedOutput:
    """The standard output of a process started without one: every write fails as a closed
    descriptor's does (Python leaves `sys.stdout` None, and drops what `print` writes to it
    silently: a listing would end "done", and the flush at the end was a crash log)."""

    encoding = "utf-8"

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")

    def flush(self) -> None:
        """Nothing was written, so nothing waits."""

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError(errno.EBADF, "standard output is closed")


class _GuardedOutput:
    """Standard output as the commands print to it, so that what any reader's terminal, pipe
    or file does to a line is one line on stderr, never a traceback:

    - a character its encoding cannot hold (`PYTHONIOENCODING=ascii`, a latin-1 locale: an
      alert's emoji or CJK title) is written as a JSON escape, `\\ud83d\\udd25`, which a JSON
      line reads back as the character itself and a text line shows plainly;
    - a write or flush that fails (`> /dev/full`) is `_OutputLost`; a closed pipe stays a
      BrokenPipeError (exit 141)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            try:
                return self._stream.write(text)
            except UnicodeEncodeError:  # raised before any of `text` is written
                return self._stream.write(_escaped_for(text, self._stream.encoding))
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _OutputLost(exc.strerror or str(exc)) from exc

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _OutputLost(exc.strerror or str(exc)) from exc

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _escaped_for(text: str, encoding: str | None) -> str:
    """`text` with each character `encoding` cannot hold written as JSON's escape (`\\uXXXX`,
    a pair of them past U+FFFF): valid inside a JSON string, where every backslash of the text
    itself is escaped already, and plain ASCII in a text line."""
    kept = []
    for char in text:
        try:
            char.encode(encoding or "ascii")
        except UnicodeEncodeError:
            kept.append(_json_escape(char))
        else:
            kept.append(char)
    return "".join(kept)


def _json_escape(char: str) -> str:
    """One character as JSON escapes it (`ensure_ascii`): past U+FFFF, its UTF-16 pair."""
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush has somewhere to go."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # a stdout with no file descriptor (a test's capture)
        pass


def _warn_unknown_variables(settings: Settings) -> None:
    """One warning per TRIAGE_* (SQS_*, BACKEND_*, ALERT_TRIAGE_*, GITHUB_APP_*) variable
    that is no setting, and per near miss of a setting under a prefix shared with other tools
    (OPENAI_, GITHUB_, AWS_, SLACK_): a typo keeps its default (`unknown_variables`)."""
    from triage.route_variables import variables_read
    from triage.settings import unknown_variables

    log = structlog.get_logger("triage.settings")
    read = variables_read(settings)
    for message in unknown_variables(os.environ, settings.backend_token_env_key, read):
        log.warning("config.unknown_variable", detail=message)


def _warn_of_an_unasked_model(settings: Settings) -> None:
    """One warning when OPENAI_BASE_URL or OPENAI_MODEL names a model no ticket is asked of
    (no OPENAI_API_KEY: the model is off). A warning, not a refusal: an environment file that
    names the default model before a key is set runs as it did, and says so."""
    from triage.settings import model_left_unasked

    unasked = model_left_unasked(settings)
    if unasked is not None:
        structlog.get_logger("triage.settings").warning("config.model_unasked", detail=unasked)


def _command(args: argparse.Namespace) -> int:
    try:
        if args.command == "normalize":
            return _normalize(args.file)
        if args.command == "demo":  # it reads no setting of the caller's (demo/run.py)
            missing = _demo_missing()
            if missing is not None:
                _err(
                    f"triage: demo: needs the demo extra (cannot import {missing}): "
                    "pip install 'triage[demo]'"
                )
                return 2
            from triage.demo import run_demo

            return run_demo(verbose=args.verbose, llm=args.llm)
        from triage.logs import configure_logging
        from triage.settings import load_settings

        try:
            settings = load_settings()
        except ConfigError as refusal:
            if args.command != "check":
                raise
            from triage.ops.check import check_refused

            # The refusal as every command says it, then every problem at once: the report's
            # config line names the refused values, the checks all that reads none of them.
            _err(f"triage: config: {refusal}")
            return _one_shot(check_refused(refusal, output=args.output))
        configure_logging(settings.log_format, settings.log_level)
        _warn_unknown_variables(settings)
        if args.command != "health":  # which probes http://127.0.0.1 only
            from triage.tls import check_bundles

            check_bundles()
        if args.command == "run":
            _warn_of_an_unasked_model(settings)
            return _run(settings, drain=args.drain, dry_run=args.dry_run)
        if args.command == "ingest":
            return _ingest(settings)
        if args.command == "check":
            from triage.ops.check import run_checks

            return _one_shot(run_checks(settings, output=args.output))
        if args.command == "health":
            return _health(settings, args.ready, args.timeout)
        if args.command == "dlq":
            return _one_shot(_dlq(settings, args))
        if args.command == "send":
            return _one_shot(_send(settings, args.files, args.queue_url))
        if args.command in ("incidents", "silence"):
            return _one_shot(_operate(settings, args))
    except ConfigError as exc:
        _err(f"triage: config: {exc}")
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        problem = _aws_configuration_problem(exc)
        if problem is None:
            raise
        _err(f"triage: config: {problem}")
        return 2
    raise AssertionError(f"unhandled command {args.command}")


def _aws_configuration_problem(exc: Exception) -> str | None:
    """The one line to print when `exc` is botocore refusing the environment's AWS settings
    (an AWS_PROFILE no config file names, a config file it cannot parse, half a key pair), on
    which no retry can help; None for anything else. botocore is imported only if it is
    already loaded: no other exception can come from it."""
    aws = sys.modules.get("botocore.exceptions")
    if aws is None:
        return None
    kinds = (
        aws.ProfileNotFound,
        aws.ConfigParseError,
        aws.ConfigNotFound,
        aws.PartialCredentialsError,
        aws.InvalidConfigError,
        aws.UnknownCredentialError,
    )
    return f"AWS: {exc}" if isinstance(exc, kinds) else None


def _demo_missing() -> str | None:
    """The module the demo needs that is not installed (moto's server and what it brings), or
    None: an install without the `demo` extra gets one line, not a traceback."""
    try:
        import moto.server  # noqa: F401
    except ModuleNotFoundError as exc:
        return exc.name or "moto"
    return None


def _run(settings: Settings, *, drain: bool, dry_run: bool) -> int:
    from triage.app import run_daemon
    from triage.sqs.supervisor import DaemonCrashed

    not_a_store = sqlite_store_problem(settings.store_url)
    if not_a_store is not None:  # before the queue is asked, and before a table is made in it
        _err(f"triage: config: {not_a_store}")
        return 2
    try:
        asyncio.run(run_daemon(settings, drain=drain, dry_run=dry_run))
    except DaemonCrashed as exc:
        _err(f"triage: run: stopped: {exc}")
        return 1
    return 0


def _ingest(settings: Settings) -> int:
    from triage.ingest import run_gateway

    asyncio.run(run_gateway(settings))
    return 0


#: The most of an answer `triage health` reads: triage's /healthz and /readyz answer a few
#: hundred bytes, and a program holding the port may answer without end.
HEALTH_ANSWER_MAX = 64 * 1024


def _health(settings: Settings, ready: bool, timeout_s: float) -> int:
    if not settings.http_port:
        _err("triage: health: TRIAGE_HTTP_PORT is 0, the endpoints are off")
        return 1
    host = _probe_host(settings.http_host)
    url = f"http://{host}:{settings.http_port}/{'readyz' if ready else 'healthz'}"
    return _one_shot(_probe_health(url, ready, timeout_s))


async def _probe_health(url: str, ready: bool, timeout_s: float) -> int:
    """`triage health`'s probe of `url`, within `timeout_s` for the whole call (connect, send,
    read): a per-read timeout alone let an answer dripped a byte at a time hold the container's
    HEALTHCHECK for as long as the sender liked. At most HEALTH_ANSWER_MAX of its body is
    read: a program holding the port that answers without end fails the probe, not its memory."""
    import httpx2

    from triage.answer_text import readable_text
    from triage.terminal import terminal_cut

    # Whatever answers may be another program: asked for no coding, read in any charset, and
    # named by its status when its body is in a coding not read here (br, gzip that is not).
    identity = {"Accept-Encoding": "identity"}
    # trust_env off: the probe asks this machine only, so no HTTP_PROXY/ALL_PROXY (a task's
    # egress proxy) may carry it away, and no ~/.netrc adds a credential to it.
    client = httpx2.AsyncClient(timeout=timeout_s, headers=identity, trust_env=False)
    try:
        async with asyncio.timeout(timeout_s), client.stream("GET", url) as response:
            body = await _read_at_most(response, HEALTH_ANSWER_MAX)
    except TimeoutError:
        _err(f"triage: health: {url}: no whole answer within {timeout_s:g} s")
        return 1
    except httpx2.HTTPError as exc:
        _err(f"triage: health: {url}: {exc or type(exc).__name__}")
        return 1
    finally:
        await client.aclose()
    status = response.status_code
    if body is None:
        shown, verdict = "(its body in a coding not read here)", None
    elif len(body) > HEALTH_ANSWER_MAX:
        shown, verdict = f"(an answer over {HEALTH_ANSWER_MAX // 1024} KiB, left unread)", None
    else:
        # The body as read (decoded already): the answer's own coding is not applied again.
        headers = response.headers.copy()
        headers.pop("Content-Encoding", None)
        answer = httpx2.Response(status, headers=headers, content=body)
        readable_text(answer)
        # Its text is escaped and cut between whole escapes; a backslash of its own that could
        # start an escape (JSON's `\u001b`) is doubled, so it reads apart from a real ESC.
        shown = terminal_cut(" ".join(answer.text.split()), 200)
        verdict = _triage_verdict(answer, "ready" if ready else "alive")
    if verdict is None:
        _err(f"triage: health: {url}: {status}, not triage's answer: {shown}")
        return 1
    print(f"{url}: {status} {shown}")
    return 0 if verdict else 1


async def _read_at_most(response: Any, most: int) -> bytes | None:
    """`response`'s body as its coding makes it, read a piece at a time and left after `most`
    bytes (a body longer than `most` says it is too large); None when its coding is not one
    read here."""
    import httpx2

    body = bytearray()
    try:
        async for piece in response.aiter_bytes():
            body += piece
            if len(body) > most:
                break
    except httpx2.DecodingError:
        return None
    return bytes(body)


def _triage_verdict(response: Any, key: str) -> bool | None:
    """What triage's endpoints said (`{"alive": true, …}` with 200), or None when the answer
    is not theirs: another program holding the port answers 200 to anything, and a container
    HEALTHCHECK would take the daemon for healthy."""
    try:
        said = response.json()
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's stack
        return None
    if not isinstance(said, dict) or not isinstance(said.get(key), bool):
        return None
    return bool(said[key]) and response.status_code == 200


def _probe_host(listen_host: str) -> str:
    """Where `triage health` reaches the endpoints: loopback when they listen on every
    address, else the one address they listen on (a probe of 127.0.0.1 finds nothing on
    ::1 or on the task's own IP, and the container would be restarted as unhealthy)."""
    if listen_host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if listen_host == "::":
        return "[::1]"
    return f"[{listen_host}]" if ":" in listen_host else listen_host


async def _dlq(settings: Settings, args: argparse.Namespace) -> int:
    from triage.aws import AWS_CALL_ERRORS, ONE_SHOT, Aws
    from triage.ops import dlq
    from triage.sqs.fifo import fifo_refusal, is_fifo

    problem = _dlq_options_problem(args)
    if problem is not None:
        _err(f"triage: dlq: {problem}")
        return 2
    settings.require("queue_url")
    assert settings.queue_url is not None
    _reachable(settings, args.dlq_url, "--dlq-url")
    if args.action == "redrive" and not args.sqs_move and is_fifo(settings.queue_url):
        # Its batches send without a MessageGroupId: each letter taken off would be refused.
        raise fifo_refusal(settings.queue_url)
    aws = Aws(settings, ONE_SHOT)
    try:
        sqs = await aws.client("sqs")
        _reached_by(sqs, settings.queue_url, "ALERT_TRIAGE_QUEUE_URL")
        if args.dlq_url:
            _reached_by(sqs, args.dlq_url, "--dlq-url")
        dlq_url, dlq_arn, queue_arn = await dlq.resolve_queues(
            sqs, settings.queue_url, args.dlq_url
        )
        if args.action == "peek":
            await dlq.peek(sqs, dlq_url, args.max or 10)
            return 0
        done = await dlq.redrive_counted(
            sqs,
            settings.queue_url,
            dlq_url,
            dlq_arn,
            queue_arn,
            args.max or 10**9,
            args.dry_run,
            sqs_move=args.sqs_move,
        )
    except AWS_CALL_ERRORS as exc:
        if _aws_configuration_problem(exc):
            raise  # a configuration mistake: exit 2, as for any other
        _err(f"triage: dlq: {_told(exc)}")
        return 1
    finally:
        await aws.aclose()
    return 1 if done.refused else 0


def _dlq_options_problem(args: argparse.Namespace) -> str | None:
    """Why `dlq`'s options do not go together, or None: an option of redrive given to peek
    would be taken silently, as if it changed what peek does."""
    if args.sqs_move and (args.action != "redrive" or args.max is not None):
        return (
            "--sqs-move is for a whole redrive: SQS's move task cannot stop after --max "
            "letters, nor peek"
        )
    if args.dry_run and args.action == "peek":
        return "--dry-run is for redrive (peek only reads); peek takes --max N and --dlq-url"
    return None


class _TooLarge(ValueError):
    """A file larger than any queue message: read no further (a log, /dev/zero)."""


def _reachable(settings: Settings, queue_url: str | None, option: str) -> None:
    """ConfigError when the queue `option` names is in another region than AWS_REGION, as for
    ALERT_TRIAGE_QUEUE_URL: SQS would answer that it does not exist."""
    problem = settings.queue_region_problem(queue_url, option)
    if problem is not None:
        raise ConfigError(problem)


def _reached_by(sqs: Any, queue_url: str, named: str) -> None:
    """ConfigError, before any call, when the calls of the SQS client `sqs` cannot reach the
    queue `named` gives: a local SQS's queue while the client sends to AWS's endpoint
    (`queue_endpoint_problem`), where each call would fail naming AWS's endpoint only."""
    problem = queue_endpoint_problem(queue_url, sqs.meta.endpoint_url, named)
    if problem is not None:
        raise ConfigError(problem)


def _read(path: str, command: str) -> bytes:
    """The raw bytes: decoding (UTF-8) is the daemon's own, so both reject the same bodies.
    At most one byte more than a message holds is read; more is `_TooLarge`. `-` read from a
    terminal says first how the body ends (Ctrl-D): the command would wait, saying nothing,
    as if hung."""
    from triage.decode import MAX_BODY_BYTES

    if path == "-":
        if sys.stdin is None:  # started with standard input closed (`<&-`)
            raise OSError(errno.EBADF, "standard input is closed")
        if _is_terminal(sys.stdin):
            _err(
                f"triage: {command}: reading the message body from the terminal: end it with Ctrl-D"
            )
        body = sys.stdin.buffer.read(MAX_BODY_BYTES + 1)
    else:
        with Path(path).open("rb") as file:
            body = file.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise _TooLarge(f"larger than {MAX_BODY_BYTES:,} bytes, the most a message holds")
    return body


def _is_terminal(stream: Any) -> bool:
    """Whether `stream` is a terminal (False for a stream closed under it, or of none)."""
    try:
        return bool(stream.isatty())
    except (OSError, ValueError, AttributeError):
        return False


def _normalize(path: str) -> int:
    """Print the canonical alerts of the body in `path` (`-`: stdin) as JSON lines, and what
    was skipped or noted on stderr; all of it redacted, as every output of the daemon is:
    it is the alert's text, and hostile."""
    from triage.normalize import normalize_body
    from triage.redact import Redactor
    from triage.view import json_line

    try:
        body = _read(path, "normalize")
    except OSError as exc:
        _err(f"triage: normalize: cannot read {path}: {exc.strerror}")
        return 1
    except _TooLarge as exc:
        _err(f"triage: normalize: {path}: {exc}")
        return 1
    redactor = Redactor()
    try:
        normalized = normalize_body(body)
    except TriageError as exc:
        _err(f"triage: normalize: {exc.reason}: {redactor.text(str(exc))}")
        return 1
    for alert in normalized.alerts:
        print(json_line(redactor.value(alert.model_dump(mode="json", exclude={"raw"}))))
    for skipped in normalized.skipped:
        _err(f"triage: normalize: skipped ({skipped.reason}): {redactor.text(skipped.detail)}")
    for note in normalized.notes:  # what the daemon logs: a time it could not read, alerts left out
        _err(f"triage: normalize: note: {redactor.text(note)}")
    return 0


async def _send(settings: Settings, files: Sequence[str], queue_url: str | None) -> int:
    from triage.aws import AWS_CALL_ERRORS, ONE_SHOT, Aws
    from triage.ops.dlq import named_queue
    from triage.sqs.fifo import fifo_refusal, is_fifo
    from triage.view import url_origin

    url = queue_url or settings.queue_url
    if not url:
        raise ConfigError("missing required setting: ALERT_TRIAGE_QUEUE_URL (or --queue-url)")
    _reachable(settings, queue_url, "--queue-url")
    option = "--queue-url" if queue_url else "ALERT_TRIAGE_QUEUE_URL"
    if is_fifo(url):  # as its name says (SQS names every FIFO queue so): each send refused
        raise fifo_refusal(url, option)
    shown = url_origin(url)  # a user, a password or a query key typed in it is not shown
    named = f"{option} {shown}"
    bodies = []
    for path in files:
        try:
            bodies.append(_read(path, "send").decode("utf-8"))
        except OSError as exc:
            _err(f"triage: send: cannot read {path}: {exc.strerror}")
            return 1
        except UnicodeDecodeError as exc:
            _err(f"triage: send: {path}: not UTF-8 at byte {exc.start}")
            return 1
        except _TooLarge as exc:
            _err(f"triage: send: {path}: {exc}")
            return 1
        if not bodies[-1]:
            # SQS refuses an empty message (moto takes it), and the daemon could not read one.
            _err(f"triage: send: {path}: empty, nothing to send")
            return 1
        problem = _unreadable_body(bodies[-1])
        if problem is not None:
            _err(
                f"triage: send: {path}: {problem}; nothing was sent "
                "(`triage normalize FILE` shows what the daemon reads)"
            )
            return 1
    aws = Aws(settings, ONE_SHOT)
    sent: list[int] = []
    try:
        sqs = await aws.client("sqs")
        _reached_by(sqs, url, option)
        async with named_queue(named):
            failed = await _send_batches(sqs, url, files, bodies, sent)
    except AWS_CALL_ERRORS as exc:
        if _aws_configuration_problem(exc):
            raise  # a configuration mistake: exit 2, as for any other
        _err(f"triage: send: {shown}: {_told(exc)}{_stopped_after(sent, files)}")
        return 1
    finally:
        await aws.aclose()
    print(f"sent {len(bodies) - failed} of {len(bodies)} message(s) to {shown}")
    return 1 if failed else 0


def _unreadable_body(body: str) -> str | None:
    """Why the daemon could read no alert from `body` whatever its format (not JSON, not an
    object, nested past its limit), or None: queued, it would be retried and then dead-lettered,
    found only in the DLQ. Said redacted (the decoder's words may quote the body), before
    any body is sent. A JSON object of no format triage knows is sent: the daemon's own
    refusal of it names the formats tried, as `triage normalize` shows."""
    from triage.errors import DecodeError
    from triage.normalize import normalize_body
    from triage.redact import Redactor

    try:
        normalize_body(body)
    except DecodeError as exc:
        return f"{exc.reason}: {Redactor().text(str(exc))}"
    except TriageError:
        return None
    return None


def _stopped_after(sent: Sequence[int], files: Sequence[str]) -> str:
    """What a send stopped half way (credentials expired, the queue gone) had sent, for its
    error line: a rerun of every file would queue those again as new messages, their alerts
    counted twice, so the files not sent are named (the first five). "" when none was sent."""
    if not sent:
        return ""
    done = set(sent)
    unsent = [files[i] for i in range(len(files)) if i not in done]
    named = ", ".join(unsent[:5]) + (f" and {len(unsent) - 5} more" if len(unsent) > 5 else "")
    return f"; sent {len(sent)} of {len(files)} message(s) before it stopped; not sent: {named}"


async def _send_batches(
    sqs: Any, url: str, files: Sequence[str], bodies: Sequence[str], sent: list[int]
) -> int:
    """SendMessageBatch in calls SQS takes (`_batches`); prints each message SQS refused and
    returns how many it refused; the index of each body SQS took goes into `sent` as its call
    is answered, so a failure of a later call can say what went. A call refused whole for what
    one body is (longer than the queue takes) fails the files it carried; the other calls
    still go. Each message carries an identity of its own, as the gateway's do, so a DLQ
    redrive (SQS's own move task too, which gives it a new MessageId) does not count its
    alerts again."""
    from botocore.exceptions import ClientError

    from triage.aws import batch_entries, told_refusal
    from triage.ops.dlq import REFUSED, error_code
    from triage.sqs.identity import GATEWAY_ID_ATTRIBUTE, new_gateway_id

    failed = 0
    for batch in _batches(bodies):
        entries = [
            {
                "Id": str(n),
                "MessageBody": bodies[i],
                "MessageAttributes": {
                    GATEWAY_ID_ATTRIBUTE: {"DataType": "String", "StringValue": new_gateway_id()}
                },
            }
            for n, i in enumerate(batch)
        ]
        try:
            answer = await sqs.send_message_batch(QueueUrl=url, Entries=entries)
        except ClientError as exc:
            if error_code(exc) not in REFUSED:
                raise  # the queue is gone, or SQS is failing: one line for the whole command
            # SQS's (or what answers for it) code and message, redacted, cut, on one line.
            told = told_refusal(error_code(exc), exc.response.get("Error", {}).get("Message"))
            for i in batch:
                _err(f"triage: send: {files[i]}: {told}")
            failed += len(batch)
            continue
        refused = set()
        for entry, n in batch_entries(answer, "Failed", len(batch)):
            failed += 1
            refused.add(n)
            told = told_refusal(entry.get("Code"), entry.get("Message"))
            _err(f"triage: send: {files[batch[n]]}: {told}")
        sent += [i for n, i in enumerate(batch) if n not in refused]
    return failed


#: What the identity attribute adds to a message's size: its name, type and a `gw:<uuid>`.
_STAMP_BYTES = len("gateway_message_id") + len("String") + len("gw:") + 36


def _batches(bodies: Sequence[str]) -> list[list[int]]:
    """The indexes of `bodies` in SendMessageBatch calls of at most ten entries and
    `BATCH_BYTES` in all (SQS refuses a larger call whole, BatchRequestTooLong); a body that
    large goes alone."""
    from triage.ops.dlq import BATCH_BYTES

    batches: list[list[int]] = []
    size = 0
    for i, body in enumerate(bodies):
        length = len(body.encode()) + _STAMP_BYTES
        if not batches or len(batches[-1]) == 10 or size + length > BATCH_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(i)
        size += length
    return batches
