"""`triage normalize FILE` prints what an alert wrote: its stdout and stderr are paths out of
the process, so every credential in the alert is redacted there as in the daemon's output."""

from __future__ import annotations

import io
import json
import sys

import pytest

from triage.cli import main

#: Made-up credentials: one of a shape the redactor knows, one only its name says is one.
GITHUB_TOKEN_LIKE = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
PASSWORD = "Zq7xK9pL2vWm"


def _normalize(
    body: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """`triage normalize -` on `body` in this process: its exit code, stdout and stderr."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(body.encode())))
    capsys.readouterr()
    code = main(["normalize", "-"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_normalize_prints_each_alert_redacted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A token in an alert's title and a password under a secret-named label are not on
    normalize's stdout; the alert's other fields are."""
    body = json.dumps(
        {
            "title": f"deploy failed with token {GITHUB_TOKEN_LIKE}",
            "dedup_key": "deploy-1",
            "labels": {"db_password": PASSWORD, "service": "orders"},
        }
    )
    code, out, err = _normalize(body, monkeypatch, capsys)
    assert code == 0, err
    [alert] = [json.loads(line) for line in out.splitlines()]
    assert GITHUB_TOKEN_LIKE not in out and PASSWORD not in out
    assert alert["title"].startswith("deploy failed with token [REDACTED")
    assert alert["labels"]["service"] == "orders"


def test_normalize_reasons_and_notes_on_stderr_are_redacted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What normalize tells on stderr about a batch (a note on an alert left out) quotes no
    credential the alert wrote."""
    batch = json.dumps(
        [
            {"labels": {"alertname": "Up"}},
            {"annotations": {"summary": f"password={PASSWORD}"}, "labels": {}},
        ]
    )
    code, out, err = _normalize(batch, monkeypatch, capsys)
    assert code == 0, err
    assert err.startswith("triage: normalize: note: ")
    assert PASSWORD not in out + err
