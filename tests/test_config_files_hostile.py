"""TRIAGE_ROUTES_FILE and TRIAGE_PATTERNS_FILE naming what is no configuration file, or holding
what no operator writes: each is one ConfigError line naming the setting and the path (exit 2
at start-up), never a hang or a traceback."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from triage.cli import main
from triage.config_files import read_text
from triage.errors import ConfigError
from triage.routes import load_router
from triage.settings import Settings
from triage.summarise.deterministic import load_patterns

#: How long reading one small file may take before the test calls it a hang.
READ_DEADLINE_S = 10.0

LOADERS: dict[str, Callable[[Path], object]] = {
    "TRIAGE_ROUTES_FILE": lambda path: load_router(Settings(routes_file=path)),
    "TRIAGE_PATTERNS_FILE": load_patterns,
}


def _error(setting: str, path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        LOADERS[setting](path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{setting} {path}: "), message
    return message


@pytest.mark.parametrize("setting", sorted(LOADERS))
def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path: Path, setting: str) -> None:
    """A named pipe (no writer) as the file: refused as no regular file, without waiting for
    a writer that never comes (start-up hung for good)."""
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    outcome: list[BaseException | str] = []

    def read() -> None:
        try:
            outcome.append(read_text(fifo, setting, 1024))
        except BaseException as exc:  # handed to the test's thread
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(READ_DEADLINE_S)
    if reader.is_alive():
        # Release the blocked open, so the thread ends, then fail.
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(READ_DEADLINE_S)
        pytest.fail("reading a FIFO waited for a writer")
    (result,) = outcome
    assert isinstance(result, ConfigError), result
    assert str(result) == f"{setting} {fifo}: not a regular file (a FIFO)"


@pytest.mark.parametrize("setting", sorted(LOADERS))
def test_a_device_is_refused_as_no_regular_file(setting: str) -> None:
    """/dev/zero (or any device) as the file: one line saying it is no regular file."""
    assert _error(setting, Path("/dev/zero")).endswith(": not a regular file (a device)")


@pytest.mark.parametrize("setting", sorted(LOADERS))
@pytest.mark.parametrize("text", [b"", b"\xef\xbb\xbf", b"  \n\t\n"])
def test_an_empty_file_is_refused(tmp_path: Path, setting: str, text: bytes) -> None:
    """A file of nothing but whitespace (a config map's key missing, a copy cut short) is an
    error saying so, not a routes file of no routes taken in silence."""
    path = tmp_path / "config.toml"
    path.write_bytes(text)
    assert _error(setting, path) == f"{setting} {path}: empty (unset {setting} to go without one)"


def test_a_routes_file_of_comments_only_is_taken_as_no_routes(tmp_path: Path) -> None:
    """A file holding only comments was written so on purpose: the default route alone."""
    path = tmp_path / "routes.toml"
    path.write_text("# no routes yet: everything goes to the default sinks\n")
    assert load_router(Settings(routes_file=path)).rules == ()


def test_the_daemon_refuses_a_fifo_routes_file_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage run` with TRIAGE_ROUTES_FILE naming a FIFO: exit 2 and one `triage: config:`
    line, before it touches SQS."""
    fifo = tmp_path / "routes.toml"
    os.mkfifo(fifo)
    monkeypatch.setenv("TRIAGE_ROUTES_FILE", str(fifo))
    monkeypatch.setenv("ALERT_TRIAGE_QUEUE_URL", "http://127.0.0.1:9/123456789012/q")
    # A local queue reached as one (else the daemon refuses it first: AWS_ENDPOINT_URL unset).
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{tmp_path / 't.db'}")
    monkeypatch.setenv("BACKEND_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("BACKEND_TOKEN", "t" * 32)
    outcome: list[int | BaseException] = []

    def run() -> None:
        try:
            outcome.append(main(["run", "--drain"]))
        except BaseException as exc:
            outcome.append(exc)

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    runner.join(READ_DEADLINE_S * 3)
    if runner.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        runner.join(READ_DEADLINE_S)
        pytest.fail("triage run waited on a FIFO routes file")
    assert outcome == [2]
    (line,) = capsys.readouterr().err.strip().splitlines()[-1:]
    assert line == f"triage: config: TRIAGE_ROUTES_FILE {fifo}: not a regular file (a FIFO)"


#: TOML nested past Python's recursion limit: tomllib raises RecursionError, not its own
#: TOMLDecodeError, so the loaders (which catch only that) let a traceback out.
DEEP = {
    "arrays": "a = " + "[" * 5_000 + "]" * 5_000 + "\n",
    "inline tables": "a = " + "{b = " * 5_000 + "1" + "}" * 5_000 + "\n",
}


@pytest.mark.parametrize("setting", sorted(LOADERS))
@pytest.mark.parametrize("shape", sorted(DEEP))
def test_toml_nested_past_the_recursion_limit_is_one_line(
    tmp_path: Path, setting: str, shape: str
) -> None:
    """A file nesting arrays or inline tables thousands deep is one ConfigError line, not
    a RecursionError traceback at start-up."""
    path = tmp_path / "config.toml"
    path.write_text(DEEP[shape])
    assert _error(setting, path).endswith("nested too deeply")


PATTERN = '[[pattern]]\ncategory = "x"\nseverity_hint = "high"\nsteps = ["s"]\n'


@pytest.mark.parametrize("regex", ["(a+)+$", "(a|aa)*b", "(\\\\w+\\\\s?)*$"])
def test_a_pattern_with_a_nested_repeat_is_refused(tmp_path: Path, regex: str) -> None:
    """A patterns entry whose regex repeats a repeat (catastrophic backtracking on an alert
    of 30 'a's) is refused at start-up, naming the entry."""
    path = tmp_path / "patterns.toml"
    path.write_text(PATTERN + f'pattern = "{regex}"\n')
    assert "[[pattern]] #1 (x)" in _error("TRIAGE_PATTERNS_FILE", path)


def test_an_unknown_key_in_a_pattern_entry_is_named(tmp_path: Path) -> None:
    """A key no [[pattern]] entry has (`stpes` beside `steps`) is an error naming the entry
    and the key."""
    path = tmp_path / "patterns.toml"
    path.write_text(PATTERN + 'pattern = "disk"\nstpes = ["t"]\n')
    assert "'stpes'" in _error("TRIAGE_PATTERNS_FILE", path)
