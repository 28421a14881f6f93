"""Alertmanager's and Grafana's default SNS subject (`[FIRING:n] group (common labels)`): one
group is one incident however its common labels change as alerts join and leave it, and
Grafana's partly resolved form `[FIRING:1, RESOLVED:1]` is that group's, still firing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from triage.models import Alert, Status
from triage.normalize import normalize_body

PAYLOADS = Path(__file__).parent / "payloads"


def _subject(subject: str) -> Alert:
    body: dict[str, Any] = json.loads(
        (PAYLOADS / "sns" / "alertmanager-default-firing.json").read_text(encoding="utf-8")
    )
    [alert] = normalize_body(json.dumps(body | {"Subject": subject})).alerts
    return alert


def _keys(*subjects: str) -> set[str]:
    return {_subject(subject).fingerprint for subject in subjects}


def test_a_group_whose_common_labels_change_is_one_incident() -> None:
    """One instance firing, then two (the instance no longer shared), then none shared at
    all, then resolved: the group's labels before the parentheses key it, one fingerprint."""
    subjects = (
        "[FIRING:1] HighLatency checkout (checkout-1:8080 page payments)",
        "[FIRING:2] HighLatency checkout (page payments)",
        "[FIRING:3] HighLatency checkout ",
        "[RESOLVED] HighLatency checkout (page payments)",
    )
    assert len(_keys(*subjects)) == 1
    assert _subject(subjects[-1]).status is Status.RESOLVED


def test_common_labels_cut_by_sns_are_still_the_groups() -> None:
    """SNS cuts a Subject to 100 characters: a cut inside the parentheses (no closing one)
    keys the group as the whole subject does."""
    whole = "[FIRING:2] DiskAlmostFull Infra (" + "x" * 40 + " platform)"
    cut = ("[FIRING:2] DiskAlmostFull Infra (" + "y" * 200)[:100]
    assert len(_keys(whole, cut)) == 1


@pytest.mark.parametrize(
    ("subject", "status"),
    [
        ("[FIRING:1, RESOLVED:1] DiskAlmostFull Infra (platform)", Status.FIRING),
        ("[FIRING:2, RESOLVED:13] DiskAlmostFull Infra", Status.FIRING),
        ("[firing:1, resolved:1] DiskAlmostFull Infra (platform db)", Status.FIRING),
        ("[RESOLVED] DiskAlmostFull Infra (platform)", Status.RESOLVED),
    ],
)
def test_grafanas_partly_resolved_subject_is_the_groups(subject: str, status: Status) -> None:
    """Grafana's `[FIRING:n, RESOLVED:m]` is the group's incident, still firing (some of it
    is), titled without the bracket."""
    alert = _subject(subject)
    assert alert.fingerprint in _keys("[FIRING:2] DiskAlmostFull Infra (platform)")
    assert alert.status is status
    assert not alert.title.startswith("[")


def test_parentheses_inside_the_group_stay_part_of_it() -> None:
    """Only the trailing parentheses are the common labels: a group value holding some keeps
    them, and two groups that differ there stay apart."""
    one = _subject("[FIRING:1] Disk (root) full (db-1)")
    assert one.identity["title"] == "Disk (root) full"
    assert _keys("[FIRING:1] Disk (root) full (db-1)") != _keys("[FIRING:1] Disk (var) full (db-1)")


def test_the_title_shows_the_common_labels() -> None:
    """The ticket's title keeps what the subject says after the bracket, common labels too;
    only the key leaves them out."""
    alert = _subject("[FIRING:1] HighLatency (checkout-1:8080 page)")
    assert alert.title == "HighLatency (checkout-1:8080 page)"


def test_a_subject_in_no_group_form_keeps_its_parentheses_in_its_key() -> None:
    """A script's own subject with parentheses and no state bracket is keyed whole, as
    before: "DB failover (eu-west-1)" and "DB failover (us-east-1)" are two incidents."""
    assert len(_keys("DB failover (eu-west-1)", "DB failover (us-east-1)")) == 2
