"""The operators' command line, round 9 (helper 567): one rule for the case of what a person
types (every word of triage's own vocabulary given to an option, and a duration's unit, is
read in any case and trimmed), and an id a terminal or a table cut short (`238ffbcb…`) is
refused as cut, saying where to find it whole. In process, against a seeded SQLite store."""

from __future__ import annotations

import argparse
import io
import json
import re
from datetime import datetime, timedelta

import pytest
import structlog

from test_operator_silence_warnings import store_url
from triage.cli import _parser, main
from triage.logs import configure_logging

__all__ = ["store_url"]  # the fixture, imported to be used here


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`triage ARGS` in process: its exit code (a usage error's too), stdout and stderr."""
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _fingerprint(capsys: pytest.CaptureFixture[str]) -> str:
    code, out, err = _run(capsys, "incidents", "list", "--state", "all")
    assert code == 0, err
    return str(json.loads(out.splitlines()[0])["fingerprint"])


# --- One rule for case: a word of triage's own, or a duration's unit, in any case ---------


@pytest.mark.parametrize(
    ("args", "option", "read"),
    [
        (["check", "--output", "JSON"], "output", "json"),
        (["demo", "--llm", " Stub "], "llm", "stub"),
        (["dlq", "PEEK"], "action", "peek"),
        (["incidents", "list", "--output", "Text"], "output", "text"),
        (["incidents", "show", "238ffbcb", "--output", "JSON"], "output", "json"),
        (["incidents", "list", "--state", "Closed"], "state", "closed"),
    ],
)
def test_a_word_of_an_option_s_choices_is_read_in_any_case(
    args: list[str], option: str, read: str
) -> None:
    """Every option (or argument) that takes one of triage's words takes it in any case and
    with spaces around it, as `--state Open` always was: `--output JSON` was refused."""
    assert getattr(_parser().parse_args(args), option) == read


def test_a_silence_s_duration_is_read_in_any_case(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`silence add --for 1H` lasts an hour, as `--for 1h` does: it was refused while
    `--state Open` was taken."""
    code, out, err = _run(
        capsys, "silence", "add", "--match", "team=payments", "--for", "1H30M",
        "--comment", "db work", "--dry-run",
    )  # fmt: skip
    assert code == 0, err
    shown = json.loads(out)
    lasts = datetime.fromisoformat(shown["ends_at"]) - datetime.fromisoformat(shown["starts_at"])
    assert lasts == timedelta(hours=1, minutes=30)


@pytest.mark.parametrize(
    "option",
    [
        ["--since", "2D"],
        ["--before", "1W"],
        ["--since", "2026-01-05t06:00z"],
        ["--priority", "High,P0"],
        ["--source", "GENERIC"],
        ["--team", "PAYMENTS"],
        ["--state", " OPEN "],
    ],
)
def test_every_filter_of_incidents_list_is_read_in_any_case(
    store_url: str, capsys: pytest.CaptureFixture[str], option: list[str]
) -> None:
    """Each filter of `incidents list` (a duration back from now, a time's `t` and `z`, a
    priority, a source, a team, a state) keeps the seeded incident however its word is cased."""
    before = ["--before", "2099-01-01T00:00Z"] if option[0] != "--before" else []
    code, out, err = _run(capsys, "incidents", "list", *option, *before)
    if option[0] == "--before":  # opened a moment ago: not before a week ago
        assert code == 0 and out == "", err
        return
    assert code == 0, err
    assert [json.loads(line)["team"] for line in out.splitlines()] == ["payments"]


def test_an_id_is_read_in_any_case(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A fingerprint or a silence id read out in capitals names the same incident or silence."""
    fingerprint = _fingerprint(capsys)
    code, out, err = _run(capsys, "incidents", "show", fingerprint[:10].upper())
    assert code == 0 and json.loads(out)["fingerprint"] == fingerprint, err
    code, out, err = _run(
        capsys, "silence", "add", "--match", "team=payments", "--for", "1h", "--comment", "x"
    )
    assert code == 0, err
    silence = json.loads(out)["id"]
    code, out, err = _run(capsys, "silence", "expire", silence.upper())
    assert code == 0 and json.loads(out)["id"] == silence, err


# --- An id cut short by a terminal or a table ------------------------------------------------


@pytest.mark.parametrize("cut", ["\u2026", "...", "\u2026\u200b"])
@pytest.mark.parametrize("verb", [["show"], ["close", "--comment", "done"]])
def test_a_fingerprint_cut_short_is_refused_as_cut(
    store_url: str, capsys: pytest.CaptureFixture[str], cut: str, verb: list[str]
) -> None:
    """`incidents show|close 238ffbcb…` (or `...`), copied from a cut table cell, exits 2
    saying the id was cut and where to read it whole: it named U+2026 as a letter of another
    keyboard layout (or, for `...`, said "no incident", exit 1)."""
    fingerprint = _fingerprint(capsys)
    typed = f"{fingerprint[:12]}{cut}"
    code, out, err = _run(capsys, "incidents", verb[0], typed, *verb[1:])
    last = err.splitlines()[-1]
    assert code == 2 and out == "", err
    assert "cut short" in last and "U+2026" not in last and "keyboard" not in last, last
    assert f"'{fingerprint[:12]}' {cut.strip(chr(0x200B))}" in last, last  # quoted as typed
    assert "triage incidents list --output json" in last and "longer prefix" in last, last


@pytest.mark.parametrize("typed", ["238f\u2026c738eb", "238f...c738eb"])
def test_a_fingerprint_cut_in_its_middle_is_refused_as_cut(
    store_url: str, capsys: pytest.CaptureFixture[str], typed: str
) -> None:
    """A fingerprint shortened in its middle (`238f…c738eb`, as some tables write a long id)
    is refused as cut too, not looked up as a prefix."""
    code, _, err = _run(capsys, "incidents", "show", typed)
    assert code == 2 and "cut short" in err.splitlines()[-1], err


@pytest.mark.parametrize("cut", ["\u2026", "..."])
def test_a_silence_id_cut_short_is_refused_as_cut(
    store_url: str, capsys: pytest.CaptureFixture[str], cut: str
) -> None:
    """`silence expire b37a…` exits 2 saying the id was cut and that `triage silence list`
    shows it whole; nothing is expired."""
    code, out, err = _run(
        capsys, "silence", "add", "--match", "team=payments", "--for", "1h", "--comment", "x"
    )
    silence = json.loads(out)["id"]
    code, out, err = _run(capsys, "silence", "expire", f"{silence[:6]}{cut}")
    last = err.splitlines()[-1]
    assert code == 2 and "cut short" in last and "triage silence list" in last, err
    code, out, err = _run(capsys, "silence", "list")
    assert [json.loads(line)["id"] for line in out.splitlines()] == [silence]


# --- A refusal names the option typed, and the value -----------------------------------------

_ADD = ["silence", "add", "--comment", "db work"]
_TEAM = ["--match", "team=payments"]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        ([*_ADD, *_TEAM, "--for", "90"], "--for '90': a duration needs its unit"),
        ([*_ADD, *_TEAM, "--for", "0"], "--for '0': must be more than 0"),
        ([*_ADD, *_TEAM, "--for", "0h"], "--for '0h': must be more than 0"),
        ([*_ADD, *_TEAM, "--for", "soon"], "--for 'soon': expected e.g. 90m"),
        ([*_ADD, *_TEAM, "--until", "tomorrow"], "--until 'tomorrow': expected a date"),
        ([*_ADD, *_TEAM, "--until", "2020-12-05T06:00Z"], "--until '2020-12-05T06:00Z' is past"),
        ([*_ADD, "--match", "bad", "--for", "1h"], "--match 'bad': expected KEY=VALUE"),
        (["incidents", "list", "--since", "soon"], "--since 'soon': expected"),
        (["incidents", "list", "--before", "x\x1b[2J"], "--before 'x\\x1b[2J': expected"),
        (["incidents", "list", "--priority", "urgent"], "--priority 'urgent': expected"),
        (["incidents", "list", "--source", "nagios"], "--source 'nagios': no alert has it"),
        (["incidents", "list", "--search", " "], "--search: expected some words"),
        (["incidents", "list", "--match", "bad"], "--match 'bad': expected KEY=VALUE"),
        (
            ["incidents", "list", "--since", "1h", "--before", "2h"],
            "--since is not before --before",
        ),
    ],
)
def test_a_refused_value_is_named_by_its_option(
    store_url: str, capsys: pytest.CaptureFixture[str], args: list[str], said: str
) -> None:
    """Each value the store's commands refuse is named by the option it was typed after
    (`--for`, not the API's `duration`), quoted and escaped, with exit 2."""
    code, out, err = _run(capsys, *args)
    assert code == 2 and out == "", err
    assert said in err.splitlines()[-1] and "\x1b" not in err, err


# --- What --help gives as an example runs -----------------------------------------------------

#: A duration or a time with its UTC offset, as a help text gives one.
_EXAMPLE = re.compile(
    r"\b(?:\d+[smhdw]|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?:Z|[+-]\d{2}:\d{2}))(?=[,. ]|$)"
)


def _help_of(*words: str) -> dict[str, str]:
    """The help of each option of the command `words` names, by its option string."""
    parser: argparse.ArgumentParser = _parser()
    for word in words:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[word]
    return {a.option_strings[0]: a.help or "" for a in parser._actions if a.option_strings}


@pytest.mark.parametrize(
    ("command", "option", "then"),
    [
        (["silence", "add"], "--for", [*_TEAM, "--comment", "x", "--dry-run"]),
        (["silence", "add"], "--until", [*_TEAM, "--comment", "x", "--dry-run"]),
        (["incidents", "list"], "--since", []),
    ],
)
def test_every_example_a_help_gives_runs(
    store_url: str,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    option: str,
    then: list[str],
) -> None:
    """Each duration and time `--help` gives for `--for`, `--until` and `--since` is taken:
    `--until`'s example was a fixed day, refused as past once that day had gone."""
    examples = _EXAMPLE.findall(_help_of(*command)[option])
    assert examples, _help_of(*command)[option]
    for example in examples:
        code, _, err = _run(capsys, *command, option, example, *then)
        assert code == 0, (example, err)


def test_the_example_of_a_refused_end_time_is_ahead(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--until`'s refusal of a time it cannot read gives examples that it takes."""
    code, _, err = _run(capsys, *_ADD, *_TEAM, "--until", "tomorrow")
    examples = _EXAMPLE.findall(err)
    assert code == 2 and examples, err
    for example in examples:
        code, _, err = _run(capsys, *_ADD, *_TEAM, "--until", example, "--dry-run")
        assert code == 0, (example, err)


def test_the_help_of_an_id_says_the_shortest_prefix_taken() -> None:
    """`incidents show|close` and `silence expire` say in --help how short a prefix they take,
    the number the lookup holds them to."""
    from triage.ops.operator import MIN_PREFIX

    parser = _parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for command, verb in (("incidents", "show"), ("incidents", "close"), ("silence", "expire")):
        verbs = next(
            a for a in sub.choices[command]._actions if isinstance(a, argparse._SubParsersAction)
        )
        [named] = [a for a in verbs.choices[verb]._actions if not a.option_strings]
        assert f"a prefix of it ({MIN_PREFIX} characters or more)" in (named.help or "")


# --- NO_COLOR and TERM=dumb -------------------------------------------------------------------


class _Terminal(io.StringIO):
    """A stream that says it is a terminal, as stderr does in an operator's shell."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("env", "coloured"),
    [({}, True), ({"NO_COLOR": "1"}, False), ({"TERM": "dumb"}, False), ({"NO_COLOR": ""}, True)],
)
def test_console_logs_are_coloured_only_where_colour_is_wanted(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], coloured: bool
) -> None:
    """TRIAGE_LOG_FORMAT=console on a terminal writes no colour escapes when NO_COLOR is set
    (not empty, as no-color.org has it) or TERM is dumb: both were coloured all the same."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = _Terminal()
    configure_logging("console", "info", out)
    try:
        structlog.get_logger("t").warning("cli.test", silence="a1b2")
    finally:
        configure_logging("json", "info")
    assert "cli.test" in out.getvalue()
    assert ("\x1b[" in out.getvalue()) == coloured, repr(out.getvalue())


# --- A filter on a label no incident has ----------------------------------------------------


@pytest.mark.parametrize(("matcher", "meant"), [("Team=payments", "'team'"), ("Env=prod", "'env'")])
def test_a_listing_filtered_on_a_label_no_incident_has_says_so(
    store_url: str, capsys: pytest.CaptureFixture[str], matcher: str, meant: str
) -> None:
    """`incidents list --match Team=payments` lists nothing, exit 0, and warns on stderr that
    no incident has the label (naming the one meant), as `silence add` does: it listed
    nothing and said nothing, read as "no payments incident"."""
    code, out, err = _run(capsys, "incidents", "list", "--match", matcher)
    assert code == 0 and out == "", err
    [warning] = err.splitlines()
    assert warning.startswith("triage: incidents: warning: --match ") and "no incident" in warning
    assert f"did you mean {meant}?" in warning, warning


def test_a_listing_filtered_on_labels_incidents_have_warns_of_nothing(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A matcher on a label the incidents have, or one an absent label satisfies with no name
    near it (`canary!=true`), lists as asked with nothing on stderr."""
    for matcher in ("env=prod", "canary!=true"):
        code, out, err = _run(capsys, "incidents", "list", "--match", matcher)
        assert code == 0 and len(out.splitlines()) == 1 and err == "", (matcher, err)


# --- A body read from a terminal ---------------------------------------------------------------


class _TypedIn:
    """Standard input that is a terminal, holding what the operator typed before Ctrl-D."""

    def __init__(self, typed: bytes) -> None:
        self.buffer = io.BytesIO(typed)

    def isatty(self) -> bool:
        return True


def test_normalize_from_a_terminal_says_how_to_end_the_body(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`triage normalize -` typed at a terminal says on stderr that it reads the body from
    there and that Ctrl-D ends it (it waited with nothing said, as if hung), then reads it."""
    monkeypatch.setattr("sys.stdin", _TypedIn(b'{"title": "disk full", "dedup_key": "d1"}'))
    code, out, err = _run(capsys, "normalize", "-")
    assert code == 0 and json.loads(out)["title"] == "disk full", err
    assert err.splitlines() == [
        "triage: normalize: reading the message body from the terminal: end it with Ctrl-D"
    ]


def test_normalize_from_a_pipe_says_nothing_of_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`… | triage normalize -` prints the alert alone: the hint is for a terminal only."""
    piped = _TypedIn(b'{"title": "disk full", "dedup_key": "d1"}')
    monkeypatch.setattr(piped, "isatty", lambda: False)
    monkeypatch.setattr("sys.stdin", piped)
    code, out, err = _run(capsys, "normalize", "-")
    assert code == 0 and err == "" and json.loads(out)["title"] == "disk full"


def test_an_empty_listing_by_a_value_in_another_case_names_the_value_incidents_have(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`incidents list --match team=Payments` lists nothing, exit 0, and says on stderr that
    values are case-sensitive and incidents have team=payments, as `silence add` says; a
    listing that finds some says nothing."""
    code, out, err = _run(capsys, "incidents", "list", "--match", "team=Payments")
    assert code == 0 and out == "", err
    [warning] = err.splitlines()
    assert warning == (
        "triage: incidents: warning: --match 'team=Payments': values are case-sensitive, and "
        "incidents have team=payments"
    )
    code, out, err = _run(capsys, "incidents", "list", "--match", "team=~Pay.*|pay.*")
    assert code == 0 and len(out.splitlines()) == 1 and err == ""
