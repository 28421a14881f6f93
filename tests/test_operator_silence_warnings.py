"""A silence that cannot be what the operator meant is made, with a warning saying why: a
matcher on a label no stored incident has (`Team=` for `team=`), or no open incident matched.
Through `triage silence add` in process (stderr, exit 0) and the API (`warnings`), against a
SQLite store on disk."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from factories import alert
from test_operator_api import BEARER, NOW, serving
from test_store import LEASE, POLICY
from triage.cli import main
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import Routing
from triage.models import Priority, Ticket


async def _seeded(path: Path) -> SQLiteStore:
    """An open incident of team payments with the label env=prod."""
    store = SQLiteStore(str(path), POLICY, LEASE, POLICY.reopen_window * 24)
    await store.open()
    t = await store.begin(alert("db-disk"), "m1", NOW)
    assert t.after is not None
    ticket = Ticket(title="db disk", priority=Priority.HIGH, description="d")
    await store.save_ticket(
        t.after.fingerprint, "m1", ticket, Routing("default", "payments", {"env": "prod"})
    )
    await store.confirm(t.after.fingerprint, "m1", "backend", "T-1", finish=True)
    return store


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The environment of an operator's shell, pointed at the seeded store."""
    path = tmp_path / "triage.db"

    async def seed() -> None:
        await (await _seeded(path)).aclose()

    asyncio.run(seed())
    url = f"sqlite:///{path}"
    monkeypatch.setenv("TRIAGE_STORE_URL", url)
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "warning")
    return url


def _add(capsys: pytest.CaptureFixture[str], *matchers: str) -> tuple[int, dict[str, object], str]:
    args = ["silence", "add", "--for", "1h", "--comment", "db work", "--author", "op"]
    for matcher in matchers:
        args += ["--match", matcher]
    code = main(args)
    out, err = capsys.readouterr()
    return code, json.loads(out), err


@pytest.mark.parametrize(
    ("matcher", "meant"),
    [("Team=payments", "'team'"), ("enviroment=prod", None), ("Env=~pro.*", "'env'")],
)
def test_a_matcher_on_a_label_no_incident_has_is_made_with_a_warning(
    store_url: str, capsys: pytest.CaptureFixture[str], matcher: str, meant: str | None
) -> None:
    """`silence add` on a label name no incident has exits 0, prints the silence, and warns
    on stderr naming the label (and the name meant, when one is near)."""
    code, added, err = _add(capsys, matcher)
    assert code == 0 and added["matchers"] == [matcher]
    name = matcher.partition("=")[0]
    [label_warning] = [line for line in err.splitlines() if "no incident" in line]
    assert label_warning.startswith("triage: silence: warning:") and repr(name) in label_warning
    assert (f"did you mean {meant}" in label_warning) if meant else "did you mean" not in err
    assert "matches none of the 1 open incidents" in err


def test_a_silence_that_matches_an_open_incident_warns_of_nothing(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A silence on the team and label an open incident has is made without a word on stderr;
    a `!=` on a label nobody has is no mistake (an absent label is never equal)."""
    code, _, err = _add(capsys, "team=payments", "env=~pr.*", "canary!=true")
    assert code == 0 and err == ""


def test_a_silence_that_matches_no_open_incident_says_so(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A silence on known names that matches no open incident is made, with one warning."""
    code, _, err = _add(capsys, "team=search")
    assert code == 0
    assert err.splitlines() == [
        "triage: silence: warning: it matches none of the 1 open incidents: it quiets only "
        "alerts that arrive while it lasts"
    ]


async def test_the_api_answers_a_silence_with_its_warnings(tmp_path: Path) -> None:
    """POST /api/v1/silences answers 201 with `warnings` when there are some, none otherwise."""
    store = await _seeded(tmp_path / "t.db")
    body = {"matchers": ["Team=payments"], "duration": "1h", "comment": "db work"}
    try:
        async with serving(store) as client:
            typo = await client.post("/api/v1/silences", json=body, headers=BEARER)
            body["matchers"] = ["team=payments"]
            right = await client.post("/api/v1/silences", json=body, headers=BEARER)
    finally:
        await store.aclose()
    assert typo.status_code == right.status_code == 201
    assert len(typo.json()["warnings"]) == 2 and "did you mean 'team'" in typo.json()["warnings"][0]
    assert "warnings" not in right.json()


def test_a_value_that_differs_only_in_case_is_named(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`team=PAYMENTS` (the listing's --team ignores case, matchers do not) is made, with a
    warning naming the value open incidents have."""
    code, _, err = _add(capsys, "team=PAYMENTS", "env=Prod")
    assert code == 0
    hints = [line for line in err.splitlines() if "case-sensitive" in line]
    assert hints == [
        "triage: silence: warning: matcher 'team=PAYMENTS': values are case-sensitive, and "
        "open incidents have team=payments",
        "triage: silence: warning: matcher 'env=Prod': values are case-sensitive, and open "
        "incidents have env=prod",
    ]


def test_the_cli_says_when_an_add_keeps_a_later_end(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`silence add` again with an earlier end exits 0, answers the silence kept (its later
    end), and says on stderr that the later end is kept and how to end it sooner."""
    code, first, _ = _add(capsys, "team=payments")
    assert code == 0
    args = ["silence", "add", "--for", "10m", "--comment", "db work", "--author", "op"]
    assert main([*args, "--match", "team=payments"]) == 0
    out, err = capsys.readouterr()
    again = json.loads(out)
    assert again["id"] == first["id"] and again["ends_at"] == first["ends_at"]
    [kept] = [line for line in err.splitlines() if "is kept" in line]
    assert kept.startswith("triage: silence: warning:") and str(first["id"]) in kept
    assert "add this silence" in kept


async def test_the_api_says_when_an_add_keeps_a_later_end(tmp_path: Path) -> None:
    """POST /api/v1/silences again with an earlier end answers the kept silence with a warning
    saying its later end is kept; the first add has none about it."""
    store = await _seeded(tmp_path / "t.db")
    body = {"matchers": ["team=payments"], "duration": "2h", "comment": "db work"}
    try:
        async with serving(store) as client:
            first = await client.post("/api/v1/silences", json=body, headers=BEARER)
            body["duration"] = "10m"
            again = await client.post("/api/v1/silences", json=body, headers=BEARER)
    finally:
        await store.aclose()
    assert first.status_code == again.status_code == 201
    assert "warnings" not in first.json()
    assert again.json()["id"] == first.json()["id"]
    [kept] = again.json()["warnings"]
    assert first.json()["id"] in kept and "is kept" in kept
