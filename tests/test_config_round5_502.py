"""Configuration round 5 (helper 502): `triage check` naming every problem when the settings
are refused, a routes file that routes nothing, `.env.example`'s credential files, and a red
team of settings as env files, queue URLs, DLQs and concurrency write them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from triage.cli import main
from triage.settings import credential_file_variables

ROOT = Path(__file__).resolve().parents[1]
#: A queue on a local SQS where nothing listens: the check's call fails at once.
LOCAL_QUEUE = "http://127.0.0.1:9/000000000000/alerts"
#: A backend token long enough to be taken for one, which no check may print.
TOKEN = "tok-502-9f3c1a7e5b2d4c6e"


def _local_stack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Settings a check can run on without reaching past this machine: a queue, a backend and a
    SQLite store on loopback, where nothing answers."""
    monkeypatch.setenv("ALERT_TRIAGE_QUEUE_URL", LOCAL_QUEUE)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("BACKEND_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{tmp_path / 'triage.db'}")


def _report(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, str], str]:
    """`triage check` in process: its exit code, each check's first line by name, stderr."""
    code = main(["check", *args])
    out, err = capsys.readouterr()
    lines: dict[str, str] = {}
    for line in out.splitlines()[:-1]:
        name = line.split()[1]
        lines.setdefault(name, line)
    return code, lines, err


# --- `triage check` with refused settings names every problem it can find -----------------


def test_check_with_a_refused_setting_still_checks_the_routes_and_the_queue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A refused TRIAGE_CONCURRENCY no longer hides a broken routes file and an unreachable
    queue: one run names all three, and exits 2 as a configuration error."""
    _local_stack(monkeypatch, tmp_path)
    routes = tmp_path / "routes.toml"
    routes.write_text('[[route]]\nname = "a"\nsinks = ["backnd"]\n', "utf-8")
    monkeypatch.setenv("TRIAGE_ROUTES_FILE", str(routes))
    monkeypatch.setenv("TRIAGE_CONCURRENCY", "0")
    code, lines, err = _report(capsys)
    assert code == 2
    assert err.startswith("triage: config: TRIAGE_CONCURRENCY: must be at least 1"), err
    assert lines["config"].startswith("FAIL") and "TRIAGE_CONCURRENCY" in lines["config"]
    assert lines["routes"].startswith("FAIL") and "did you mean 'backend'" in lines["routes"]
    assert lines["queue"].startswith("FAIL"), lines
    assert lines["token"].startswith("ok"), lines
    assert TOKEN not in json.dumps(lines)


def test_a_check_reading_a_refused_setting_is_skipped_not_passed_on_its_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With AWS_REGION refused, the store and queue checks are `skip` lines naming it (their
    default region proves nothing), and the summary counts them apart from the passed."""
    _local_stack(monkeypatch, tmp_path)
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.setenv("ALERT_TRIAGE_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/1/q")
    monkeypatch.setenv("TRIAGE_STORE_URL", "dynamodb://incidents")
    monkeypatch.setenv("AWS_REGION", "us-east1")
    code = main(["check"])
    out = capsys.readouterr().out
    assert code == 2
    assert "skip  queue    skipped: it reads AWS_REGION, refused above" in out, out
    assert "skip  store    skipped: it reads AWS_REGION, refused above" in out, out
    assert out.splitlines()[-1].endswith("2 skipped (a setting refused)"), out


def test_check_with_refused_settings_in_json_counts_the_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--output json` with a refused setting: a line per check on stdout and a summary that
    counts the skipped, so a script sees every problem too."""
    _local_stack(monkeypatch, tmp_path)
    monkeypatch.setenv("ALERT_TRIAGE_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/1/q")
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.setenv("AWS_REGION", "us-east1")
    assert main(["check", "--output", "json"]) == 2
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    verdicts = {row["check"]: row["verdict"] for row in rows[:-1]}
    assert verdicts["config"] == "FAIL" and verdicts["queue"] == "skip", rows
    assert rows[-1]["skipped"] == 1 and rows[-1]["failed"] >= 1, rows


def test_check_with_a_credentials_file_unread_says_it_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A refusal no setting can be left out for (a credential's file missing) is one FAIL line
    and exit 2, not a traceback."""
    _local_stack(monkeypatch, tmp_path)
    monkeypatch.setenv("GITHUB_TOKEN_FILE", str(tmp_path / "missing"))
    assert main(["check"]) == 2
    out = capsys.readouterr().out
    assert out.startswith("FAIL  config   GITHUB_TOKEN_FILE"), out
    assert out.splitlines()[-1] == "0 of 1 checks passed", out


# --- A routes file that routes nothing ------------------------------------------------------


@pytest.mark.parametrize("text", ["# every route commented out\n# [[route]]\n", "route = []\n"])
def test_check_warns_of_a_routes_file_holding_no_route(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str,
) -> None:
    """A routes file of comments only (or `route = []`) is taken as no routes file, and the
    routes line is a `warn` saying every incident goes to TRIAGE_SINKS and how to say so."""
    _local_stack(monkeypatch, tmp_path)
    routes = tmp_path / "routes.toml"
    routes.write_text(text, "utf-8")
    monkeypatch.setenv("TRIAGE_ROUTES_FILE", str(routes))
    _, lines, _ = _report(capsys)
    assert lines["routes"] == (
        f"warn  routes   TRIAGE_ROUTES_FILE {routes} holds no [[route]]: every incident goes "
        "to TRIAGE_SINKS (backend); add a [[route]], or unset TRIAGE_ROUTES_FILE to go "
        "without one"
    )


# --- .env.example ---------------------------------------------------------------------------


def test_env_example_names_every_credentials_file_variable() -> None:
    """Each `<VARIABLE>_FILE` a credential may be read from is in .env.example (commented,
    as setting it beside its variable is refused), the backend token's too."""
    text = (ROOT / ".env.example").read_text("utf-8")
    shown = set(re.findall(r"^# ([A-Z_]+_FILE)=/run/secrets/", text, re.M))
    assert shown == {*credential_file_variables(), "BACKEND_TOKEN_FILE"}
