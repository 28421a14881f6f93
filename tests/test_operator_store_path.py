"""`triage incidents` and `triage silence` run from a shell whose TRIAGE_STORE_URL names no
SQLite store (a typo, or the default `sqlite:///triage.db` in another directory than the
daemon's): one line and exit 2, and no empty store left behind, instead of an empty listing
or a silence written where the daemon never reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.cli import main


@pytest.mark.parametrize(
    "command",
    [
        ["incidents", "list"],
        ["incidents", "show", "abcdef12"],
        ["silence", "list"],
        ["silence", "add", "--match", "team=payments", "--for", "1h", "--comment", "deploy"],
        ["silence", "expire", "abc"],
    ],
)
def test_a_sqlite_store_that_does_not_exist_is_a_configuration_mistake(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    """The command exits 2 with one line naming the path, and creates no file."""
    missing = tmp_path / "elsewhere" / "triage.db"
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{missing}")
    code = main(command)
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and str(missing) in err and "TRIAGE_STORE_URL" in err
    assert not missing.exists() and not missing.parent.exists()


def test_the_default_relative_store_is_looked_for_where_the_command_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without TRIAGE_STORE_URL, a directory with no triage.db is refused, naming the full path."""
    monkeypatch.delenv("TRIAGE_STORE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    code = main(["silence", "list"])
    err = capsys.readouterr().err
    assert code == 2 and str(tmp_path / "triage.db") in err
    assert not (tmp_path / "triage.db").exists()
