"""The operators' command line, round 8 (helper 562): standard output that is closed (`>&-`, a
cron line) or full is one line and an exit code for a one-shot command, never a crash log, and
the daemon, whose metrics (EMF) go to standard output, runs on without them instead of stopping
as a crashed helper."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from daemon_harness import SRC, daemon_env, drain_settings, made_store, make_queues, settings_for
from fork_harness import Zygote
from test_operator_silence_warnings import store_url
from triage.cli import main
from triage.demo.ticketd import TicketServer

__all__ = ["store_url"]  # the fixture, imported to be used here


def _closed_stdout(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    """`python -m triage ARGS >&-`: started with its standard output closed, as a shell (or
    a cron line, or a service manager told to) starts it."""
    return subprocess.run(
        ["sh", "-c", 'exec "$0" -m triage "$@" >&-', sys.executable, *args],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(SRC), "HOME": "/nonexistent", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["incidents", "list", "--state", "all"],
        ["silence", "add", "--match", "team=payments", "--for", "1h", "--comment", "db work"],
    ],
)
def test_a_command_started_with_stdout_closed_says_so_in_one_line(
    store_url: str, args: list[str]
) -> None:
    """`triage incidents list >&-` is exit 1 and one stderr line saying the output could not
    be written: it was a crash log (AttributeError on the flush of a stdout that is None)."""
    ran = _closed_stdout(args, {"TRIAGE_STORE_URL": store_url})
    lines = ran.stderr.decode().splitlines()
    assert lines == [f"triage: {args[0]}: cannot write the output: standard output is closed"]
    assert ran.returncode == 1


def test_a_command_that_prints_nothing_keeps_its_exit_with_stdout_closed(tmp_path: Path) -> None:
    """`triage normalize` of a body it refuses prints nothing on stdout: with stdout closed it
    says its own refusal and exits 1, with no crash log after it."""
    body = tmp_path / "notes.txt"
    body.write_text("not json", "utf-8")
    ran = _closed_stdout(["normalize", str(body)], {})
    err = ran.stderr.decode()
    assert ran.returncode == 1 and err.startswith("triage: normalize: "), err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err


@pytest.mark.parametrize("stdout", ["/dev/full", "closed"])
def test_the_daemon_runs_on_when_its_metrics_cannot_be_written(
    moto_url: str, backend: TicketServer, tmp_path: Path, stdout: str
) -> None:
    """`triage run` with EMF metrics and stdout on a full disk (or closed) drains and exits 0,
    the metrics dropped: the flush raised the command line's own "output lost" error (not an
    OSError, which the metrics' stream drops) and the daemon stopped as a crashed helper."""
    if stdout == "/dev/full" and not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    queues = make_queues(moto_url)
    queues.send({"title": "disk full on db-1", "dedup_key": "db-1-disk"})
    settings = drain_settings(
        settings_for(queues, backend.url, made_store(tmp_path / "t.db"))
    ).model_copy(update={"metrics": "emf", "metrics_interval_s": 0.05})
    env = {**daemon_env(settings), "TRIAGE_LOG_FORMAT": "json"}
    log = tmp_path / "daemon.log"
    if stdout == "closed":
        argv = ["sh", "-c", 'exec "$0" -m triage run --drain >&-', sys.executable]
        with log.open("wb") as err:
            code = subprocess.run(argv, env=env, stderr=err, timeout=120, check=False).returncode
    else:
        process = Zygote.shared().spawn(
            ["run", "--drain"], env=env, stderr=log, stdout=Path(stdout)
        )
        code = process.wait(timeout=120)
    events = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
    crashed = [
        e
        for e in events
        if e.get("event") in ("daemon.helper_crashed", "process.uncaught_exception")
    ]
    assert crashed == [] and code == 0, log.read_text()[-2000:]
    assert queues.depth() == 0


# --- An id pasted with a character it never holds ------------------------------------------


def _first_fingerprint(capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["incidents", "list", "--state", "all"]) == 0
    return str(json.loads(capsys.readouterr().out.splitlines()[0])["fingerprint"])


@pytest.mark.parametrize("invisible", ["\u200b", "\u200d", "\u2060", "\ufeff", "\u202e"])
def test_a_fingerprint_pasted_with_an_invisible_character_names_its_incident(
    store_url: str, capsys: pytest.CaptureFixture[str], invisible: str
) -> None:
    """A fingerprint copied from a chat or a web page with a zero-width space, joiner, word
    joiner, BOM or bidi mark inside shows its incident: it was "no incident a205341", the
    character dropped from the quote, naming the very prefix that works."""
    fingerprint = _first_fingerprint(capsys)
    pasted = f"{invisible}{fingerprint[:4]}{invisible}{fingerprint[4:8]}"
    assert main(["incidents", "show", pasted]) == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)["fingerprint"] == fingerprint


def test_a_silence_id_pasted_with_a_zero_width_space_expires_it(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`silence expire` takes an id pasted with a zero-width space as the id itself."""
    args = ["silence", "add", "--match", "team=payments", "--for", "1h", "--comment", "db"]
    assert main(args) == 0
    silence = str(json.loads(capsys.readouterr().out)["id"])
    assert main(["silence", "expire", f"{silence[:6]}\u200b{silence[6:]}"]) == 0
    assert json.loads(capsys.readouterr().out)["active"] is False


@pytest.mark.parametrize(
    ("look_alike", "named"),
    [("\u0430", "U+0430 (CYRILLIC SMALL LETTER A)"), ("\uff41", "U+FF41 (FULLWIDTH LATIN SMALL")],
)
def test_a_fingerprint_with_a_look_alike_letter_names_the_letter(
    store_url: str, capsys: pytest.CaptureFixture[str], look_alike: str, named: str
) -> None:
    """A fingerprint typed with a Cyrillic or full-width `a` is refused naming that letter
    by its code: "no incident" quoting it drew the prefix that works."""
    fingerprint = _first_fingerprint(capsys)
    typed = look_alike + fingerprint[1:8]
    with pytest.raises(SystemExit) as refused:
        main(["incidents", "show", typed])
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert named in err and look_alike not in err, err


# --- A store another process holds locked ----------------------------------------------------


def test_a_store_locked_by_another_writer_is_busy_not_a_configuration_mistake(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`incidents list` while another process holds the store's write lock (a `sqlite3`
    shell's open transaction, a backup) is exit 1 saying to try again: it was
    `triage: config: … cannot be opened: database is locked`, exit 2, a settings mistake."""
    import sqlite3

    holder = sqlite3.connect(store_url[len("sqlite:///") :], isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        code = main(["incidents", "list"])
    finally:
        holder.close()
    err = capsys.readouterr().err
    assert code == 1 and "config" not in err and "try again" in err, err


def test_a_matcher_name_with_a_zero_width_joiner_is_quoted_with_it(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`silence add --match 'ti<U+200D>tle=x'` is refused quoting the name with the joiner
    shown (`\\u200d`): it said "matcher name 'title' is not a field or label name"."""
    args = ["silence", "add", "--match", "ti\u200dtle=x", "--for", "1h", "--comment", "db"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "'title'" not in err and "200d" in err.lower(), err
