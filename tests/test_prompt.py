"""What the model is shown: the known-error patterns as a hint, the runbook first, a group's
members summarised, all within the token budget; and the runbook first in the ticket."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from factories import view
from triage.demo.model import alert_in, hint_in
from triage.models import Alert, Status
from triage.redact import Redactor
from triage.summarise import grounding, prompt
from triage.summarise.deterministic import load_patterns
from triage.summarise.llm import contain
from triage.view import GroupView, MemberView, RedactedAlert

PATTERNS = load_patterns()
RUNBOOK = "https://runbooks.example.com/disk-full"
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def disk_alert(**fields: object) -> Alert:
    values: dict[str, object] = {
        "source": "grafana",
        "status": Status.FIRING,
        "title": "DiskAlmostFull: Disk on db-7 is almost full",
        "description": "No space left on /var/lib/postgresql",
        "runbook_url": RUNBOOK,
        "labels": {"alertname": "DiskAlmostFull", "instance": "db-7:9100"},
        "occurred_at": T0,
        "identity": {"dedup_key": "disk-db-7"},
    }
    values.update(fields)
    return Alert(**values)  # type: ignore[arg-type]


def build(alert: RedactedAlert, max_tokens: int = 1500) -> prompt.Prompt:
    from triage.summarise.deterministic import match

    return prompt.build(alert, Redactor(), max_tokens, match(PATTERNS, alert))


def request_of(built: prompt.Prompt) -> dict[str, object]:
    return {"messages": built.messages()}


def test_matched_patterns_are_a_hint_before_the_fence() -> None:
    """An alert the disk-full pattern matches: its category and steps come before the fenced
    alert, as triage's hint, and the view lists the runbook right after the title."""
    built = build(view(disk_alert()))
    user = built.user
    assert user.index("Known error patterns") < user.index("<alert-")
    [hint] = hint_in(request_of(built))
    disk = next(p for p in PATTERNS if p.category == "disk-full")
    assert hint == {"category": "disk-full", "steps": list(disk.steps)}
    assert built.hints == ("disk-full",)
    keys = list(alert_in(request_of(built)))
    assert keys.index("runbook_url") == keys.index("title") + 1


def test_an_alert_no_pattern_matches_gets_no_hint() -> None:
    """No pattern, no hint line: the model is not led towards a category."""
    built = build(view(disk_alert(title="Nightly report sent", description="", labels={})))
    assert "Known error patterns" not in built.user
    assert hint_in(request_of(built)) == []


def _group(count: int) -> GroupView:
    members = tuple(
        MemberView(
            fingerprint=f"fp{i}",
            title=f"KubePodCrashLooping: pod {'api' if i % 4 else 'worker'} restarting",
            status=Status.FIRING if i % 5 else Status.RESOLVED,
            since=T0 + timedelta(seconds=i),
        )
        for i in range(count)
    )
    return GroupView(by={"alertname": "KubePodCrashLooping", "namespace": "shop"}, members=members)


def test_a_group_is_summarised_by_distinct_titles_with_counts() -> None:
    """200 members with two titles: the model sees what they share, how many fire, each title
    once with its count and firing count, and when the first began; not 200 lines."""
    group = _group(200)
    alert = view(disk_alert())
    summary = prompt.group_summary(group)
    assert summary["grouped_by"] == {"alertname": "KubePodCrashLooping", "namespace": "shop"}
    assert (summary["alerts"], summary["firing"]) == (200, 160)
    assert summary["titles"] == [
        {"title": "KubePodCrashLooping: pod api restarting", "alerts": 150, "firing": 120},
        {"title": "KubePodCrashLooping: pod worker restarting", "alerts": 50, "firing": 40},
    ]
    assert summary["first_since"] == T0.isoformat()
    grouped = RedactedAlert(**{**alert.__dict__, "group": group})
    shown = alert_in(request_of(build(grouped)))
    assert shown["group"] == json.loads(json.dumps(summary))


@pytest.mark.parametrize("budget", [300, 600, 1500])
def test_the_user_message_fits_the_token_budget(budget: int) -> None:
    """A hostile alert (a huge description, 500 labels, 1,000 distinct members, a raw payload of
    non-Latin text) is cut until the whole user message, hint included, fits the budget; the
    title and runbook survive every cut."""
    labels = {f"label_{i}": "value " * 20 for i in range(500)}
    members = tuple(
        MemberView(f"fp{i}", f"member {i} is failing", Status.FIRING, T0) for i in range(1000)
    )
    alert = disk_alert(
        description="Disk full. " * 3000, labels=labels, raw={"log": "磁盘空间不足 " * 20_000}
    )
    redacted = view(alert, excerpt_chars=budget * 4)
    grouped = RedactedAlert(
        **{**redacted.__dict__, "group": GroupView(by={"alertname": "x"}, members=members)}
    )
    built = build(grouped, budget)
    assert prompt.tokens(built.user) <= budget
    shown = alert_in(request_of(built))
    assert shown["title"] == alert.title
    assert shown["runbook_url"] == RUNBOOK


def test_the_estimate_counts_bytes_not_characters() -> None:
    """Four ASCII characters are one token; a CJK character (three UTF-8 bytes) almost one."""
    assert prompt.tokens("abcd" * 100) == 100
    assert prompt.tokens("磁" * 100) == 75


def _draft(steps: list[str]) -> prompt.TicketDraft:
    return prompt.TicketDraft(
        title="Disk almost full", priority="high", description="Disk on db-7.", steps=steps
    )


@pytest.mark.parametrize(
    ("steps", "first"),
    [
        (["Free space on db-7", f"Read {RUNBOOK}"], f"Read {RUNBOOK}"),
        (["Free space on db-7"], f"Follow the runbook: {RUNBOOK}"),
    ],
)
def test_the_runbook_is_always_the_first_step(steps: list[str], first: str) -> None:
    """The model's own runbook step is moved to the front; without one, one is added first."""
    alert = view(disk_alert())
    shown = grounding.evidence(prompt.alert_view(alert, Redactor(), 1500))
    ticket = contain(_draft(steps), alert, Redactor(), shown).ticket
    assert ticket.steps[0] == first
    assert "Free space on db-7" in ticket.steps
    assert len(ticket.steps) == 2
