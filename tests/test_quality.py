"""bench/quality.py: its checks fail the tickets they should, and over the sample payloads the
deterministic summariser keeps the scores QUALITY.md reports."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from factories import view
from triage.models import Alert, Priority, Status, Ticket

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import quality  # noqa: E402 - bench/ is not a package

RUNBOOK = "https://runbooks.example.com/disk-full"
SOURCE = Alert(
    source="grafana",
    status=Status.FIRING,
    title="DiskAlmostFull: Disk on db-7 is almost full",
    priority=Priority.HIGH,
    description="No space left on /var/lib/postgresql",
    runbook_url=RUNBOOK,
    labels={"alertname": "DiskAlmostFull", "instance": "db-7:9100"},
    occurred_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
    identity={"dedup_key": "disk-db-7"},
)
GOOD = Ticket(
    title="DiskAlmostFull on db-7",
    priority=Priority.HIGH,
    description="The disk of db-7 is almost full.",
    steps=(f"Open the runbook: {RUNBOOK}", "Free space on db-7 under /var/lib/postgresql"),
)


def scores(ticket: Ticket) -> dict[str, bool | None]:
    return quality.score(view(SOURCE), ticket, frozenset())


def test_a_good_ticket_passes_every_check() -> None:
    """A title naming what and where, the runbook first, grounded facts, a concrete step."""
    assert scores(GOOD) == dict.fromkeys(quality.CHECKS, True)


@pytest.mark.parametrize(
    ("change", "check"),
    [
        ({"priority": Priority.LOW}, "priority"),
        ({"steps": ("Free space on db-7", f"Open {RUNBOOK}")}, "runbook"),
        ({"title": "db-7 is out of space"}, "what"),
        ({"title": "DiskAlmostFull somewhere"}, "where"),
        ({"description": "db-9.corp.example at 203.0.113.77 is full."}, "grounded"),
        ({"title": "DiskAlmostFull on db-7 " + "x" * 120}, "lengths"),
        (
            {"steps": (f"Open the runbook: {RUNBOOK}", *quality.GENERIC_STEPS)},
            "concrete",
        ),
    ],
)
def test_each_check_fails_the_ticket_it_should(change: dict[str, object], check: str) -> None:
    """Each defect fails exactly its own check."""
    failed = [name for name, ok in scores(GOOD.model_copy(update=change)).items() if not ok]
    assert failed == [check]


def test_a_check_that_does_not_apply_is_not_counted() -> None:
    """An alert with no stated priority, no runbook and no label naming what or where."""
    bare = SOURCE.model_copy(
        update={"priority": None, "runbook_url": None, "labels": {}, "title": "Disk full"}
    )
    result = quality.score(view(bare), GOOD, frozenset())
    assert [name for name, ok in result.items() if ok is None] == [
        "priority",
        "runbook",
        "what",
        "where",
    ]


def _rates(table: str, column: int) -> dict[str, tuple[int, int]]:
    rates = {}
    for check in quality.CHECKS:
        row = re.search(rf"^\| {check} \|(.*)$", table, re.M)
        assert row is not None, check
        cell = row.group(1).split("|")[column].strip()
        passed, applicable = re.match(r"(\d+)/(\d+)", cell).groups()  # type: ignore[union-attr]
        rates[check] = (int(passed), int(applicable))
    return rates


def test_the_bench_scores_both_summarisers_over_the_sample_payloads(tmp_path: Path) -> None:
    """`bench/quality.py --model stub` writes the table for the deterministic summariser and
    the loopback model: the deterministic titles name where whenever the alert says, every
    ticket of both is grounded and within the contract, and the model's tokens are reported."""
    output = tmp_path / "QUALITY.md"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "quality.py"),
            "--model",
            "stub",
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    table = output.read_text(encoding="utf-8")
    deterministic, model = _rates(table, 0), _rates(table, 1)
    for rates in (deterministic, model):
        for check in ("priority", "runbook", "grounded", "lengths"):
            passed, applicable = rates[check]
            assert passed == applicable > 0, (check, rates)
    assert deterministic["where"][0] == deterministic["where"][1] > 30
    concrete = deterministic["concrete"]
    assert concrete[0] >= concrete[1] - 1  # only the hostile payload with nothing to name
    assert re.search(r"Tokens per incident with model: prompt mean \d+, max \d+", table)
    assert "(group of 3)" in table
