"""The deterministic summariser: a useful ticket from the alert alone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from factories import view
from triage.errors import ConfigError
from triage.models import Alert, Priority, Status
from triage.summarise.deterministic import DeterministicSummariser, load_patterns

SUMMARISER = DeterministicSummariser()


def alert(title: str, description: str = "", **fields: object) -> Alert:
    values: dict[str, object] = {
        "source": "generic",
        "status": Status.FIRING,
        "title": title,
        "description": description,
        "occurred_at": datetime(2026, 11, 23, 9, tzinfo=UTC),
        "identity": {"k": title},
    }
    values.update(fields)
    return Alert(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("title", "description", "category"),
    [
        ("api-7 OOMKilled", "container exceeded memory limit", "oom-kill"),
        ("Disk almost full on db-7", "No space left on device", "disk-full"),
        ("checkout 5xx rate above 5%", "", "http-5xx"),
        ("p99 latency high", "slow responses from /checkout", "latency"),
        ("orders-db", "FATAL: remaining connection slots are reserved", "db-connections"),
        ("replica lag on orders-db-2", "", "replication-lag"),
        ("TLS certificate for api.example.com expires in 5 days", "", "certificate-expiry"),
        ("payments pod in CrashLoopBackOff", "", "crash-loop"),
        (
            "orders queue backlog growing",
            "ApproximateNumberOfMessages above 10000",
            "queue-backlog",
        ),
        ("Deployment failed for checkout", "rollout stuck at 2/5", "deploy-failure"),
    ],
)
def test_each_pattern_category_contributes_its_steps(
    title: str, description: str, category: str
) -> None:
    """Each shipped category is recognised and its steps appear in the ticket."""
    [pattern] = [p for p in load_patterns() if p.category == category]
    ticket = SUMMARISER.write(view(alert(title, description)))
    assert f"Looks like: {category}" in ticket.description or category in ticket.description
    assert pattern.steps[0] in ticket.steps


def test_stated_priority_wins_over_severity_and_patterns() -> None:
    """A priority the source states is kept, whatever the severity or pattern says."""
    ticket = SUMMARISER.write(
        view(alert("db OOMKilled", priority=Priority.LOW, severity="critical"))
    )
    assert ticket.priority is Priority.LOW


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        ("CRITICAL", Priority.CRITICAL),
        ("error", Priority.HIGH),
        ("Warning", Priority.MEDIUM),
        ("info", Priority.LOW),
    ],
)
def test_severity_maps_to_priority_when_none_stated(severity: str, expected: Priority) -> None:
    """Without a stated priority, the documented severity mapping decides."""
    assert SUMMARISER.write(view(alert("something odd", severity=severity))).priority is expected


def test_unknown_everything_is_medium() -> None:
    """No priority, no known severity, no pattern: medium, with generic steps."""
    ticket = SUMMARISER.write(view(alert("something odd")))
    assert ticket.priority is Priority.MEDIUM
    assert len(ticket.steps) >= 3


def test_description_has_where_since_value_and_runbook_first() -> None:
    """The description says where, since when and value vs threshold; the runbook is step one."""
    ticket = SUMMARISER.write(
        view(
            alert(
                "cpu high on web-3",
                labels={
                    "host": "web-3",
                    "region": "eu-west-1",
                    "metric": "cpu",
                    "current_value": "97",
                    "threshold": "90",
                    "operator": ">",
                },
                runbook_url="https://runbooks.example.com/cpu",
            )
        )
    )
    assert "Where: region=eu-west-1, host=web-3" in ticket.description
    assert "Since: 2026-11-23T09:00:00+00:00" in ticket.description
    assert "Value: cpu = 97 (> threshold 90)" in ticket.description
    assert ticket.steps[0] == "Open the runbook: https://runbooks.example.com/cpu"


def test_invalid_patterns_file_is_a_config_error(tmp_path: Path) -> None:
    """A patterns file with a bad regex, a missing key or bad TOML fails with the entry named."""
    bad_regex = tmp_path / "a.toml"
    bad_regex.write_text(
        '[[pattern]]\ncategory="x"\npattern="(unclosed"\nseverity_hint="low"\nsteps=["s"]\n'
    )
    with pytest.raises(ConfigError, match=r"#1 \(x\)"):
        load_patterns(bad_regex)
    missing = tmp_path / "b.toml"
    missing.write_text('[[pattern]]\ncategory="x"\nseverity_hint="low"\nsteps=["s"]\n')
    with pytest.raises(ConfigError, match="missing key 'pattern'"):
        load_patterns(missing)
    broken = tmp_path / "c.toml"
    broken.write_text("[[pattern]\n")
    with pytest.raises(ConfigError, match=r"c\.toml"):
        load_patterns(broken)
    latin1 = tmp_path / "d.toml"  # not UTF-8: one line, not a UnicodeDecodeError traceback
    latin1.write_bytes('[[pattern]]\ncategory="caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match=r"d\.toml: not UTF-8 \(byte 25\)"):
        load_patterns(latin1)
