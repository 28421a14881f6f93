"""Generic titles that are a monitor's mail subject: `PROBLEM: X` / `RECOVERY: X` (Nagios,
Zabbix's `{TRIGGER.STATUS}: X`), CloudWatch's `ALARM: "x" in …` / `OK: …`, Nagios' `** PROBLEM
Service Alert: h/s is CRITICAL **`, OMD's `*** PROBLEM *** …`, Icinga's `[PROBLEM] s on h is
CRITICAL!` and Checkmk's `Check_MK: h/s OK -> CRIT`: the subject's state is the alert's status
unless a `status` says otherwise, and the incident is keyed without it (and without the check
state the subject ends with), so a problem and its recovery are one incident. Titles that only
contain such a word keep their title and key."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from case_chunks import assert_each
from factories import T0
from recording_pipeline import Sink, pipeline_into
from source_samples import one, run
from triage.models import Status
from triage.sqs.inbox import Message

#: (problem subject, recovery subject, the key both share) as monitors write them.
PAIRS = [
    ("PROBLEM: Disk full on db-1", "RECOVERY: Disk full on db-1", "Disk full on db-1"),
    ("PROBLEM: Disk full on db-1", "OK: Disk full on db-1", "Disk full on db-1"),
    ("Problem: Disk full on db-1", "Resolved in 5m 0s: Disk full on db-1", "Disk full on db-1"),
    ("Triggered: Disk full on db-1", "Recovered: Disk full on db-1", "Disk full on db-1"),
    ("FIRING: Disk full on db-1", "RESOLVED: Disk full on db-1", "Disk full on db-1"),
    ('ALARM: "cpu-high" in EU (Ireland)', 'OK: "cpu-high" in EU (Ireland)',
     '"cpu-high" in EU (Ireland)'),
    ("** PROBLEM Service Alert: db-1/Disk is CRITICAL **",
     "** RECOVERY Service Alert: db-1/Disk is OK **", "db-1/Disk"),
    ("** PROBLEM Host Alert: db-1 is DOWN **", "** RECOVERY Host Alert: db-1 is UP **", "db-1"),
    ("*** PROBLEM *** db-1 / Disk is CRITICAL", "*** RECOVERY *** db-1 / Disk is OK",
     "db-1 / Disk"),
    ("[PROBLEM] Disk on db-1 is CRITICAL!", "[RECOVERY] Disk on db-1 is OK!", "Disk on db-1"),
    ("[PROBLEM] Host db-1 is DOWN!", "[RECOVERY] Host db-1 is UP!", "Host db-1"),
    ("PROBLEM: db-1/Disk is WARNING", "RECOVERY: db-1/Disk is OK", "db-1/Disk"),
    ("Check_MK: db-1/Disk OK -> CRIT", "Check_MK: db-1/Disk CRIT -> OK", "db-1/Disk"),
    ("Checkmk: db-1 - UP -> DOWN", "Checkmk: db-1 - DOWN -> UP", "db-1"),
]  # fmt: skip


def _read(title: str, **extra: Any) -> tuple[Status, dict[str, str], str]:
    alert = one({"title": title, "source": "nagios", **extra})
    return alert.status, alert.identity, alert.fingerprint


def test_a_problem_subject_fires_and_its_recovery_resolves_one_incident() -> None:
    """Each monitor's problem subject fires and its recovery subject resolves, both keyed by
    the subject without its state, so they share one fingerprint."""

    def pair(case: tuple[str, str, str]) -> tuple[Any, Any]:
        problem, recovery, key = case
        keyed = {"source": "nagios", "title": key}
        got = (_read(problem)[:2], _read(recovery)[:2], _read(problem)[2] == _read(recovery)[2])
        return got, ((Status.FIRING, keyed), (Status.RESOLVED, keyed), True)

    assert_each(PAIRS, pair, name="pair")


def test_a_problem_that_changes_check_state_is_the_same_incident() -> None:
    """A service that goes from WARNING to CRITICAL is notified twice as a problem; both are
    one incident, as its host going DOWN then UNREACHABLE is."""
    assert (
        _read("** PROBLEM Service Alert: db-1/Disk is WARNING **")[2]
        == _read("** PROBLEM Service Alert: db-1/Disk is CRITICAL **")[2]
    )
    assert (
        _read("[PROBLEM] Host db-1 is DOWN!")[2] == _read("[PROBLEM] Host db-1 is UNREACHABLE!")[2]
    )
    assert (
        _read("Check_MK: db-1/Disk OK -> WARN")[2] == _read("Check_MK: db-1/Disk WARN -> CRIT")[2]
    )


def test_a_subject_shows_the_check_state_it_keys_without() -> None:
    """The ticket's title keeps what the check said (CRITICAL, not WARNING) and drops only the
    notification's type; the key drops both."""
    alert = one({"title": "** PROBLEM Service Alert: db-1/Disk is CRITICAL **", "source": "n"})
    assert (alert.title, alert.identity["title"]) == ("db-1/Disk is CRITICAL", "db-1/Disk")
    checkmk = one({"title": "Check_MK: db-1/Disk OK -> CRIT", "source": "n"})
    assert (checkmk.title, checkmk.identity["title"]) == ("db-1/Disk OK -> CRIT", "db-1/Disk")


QUIET = [
    "** ACKNOWLEDGEMENT Service Alert: db-1/Disk is CRITICAL **",
    "** DOWNTIMESTART Host Alert: db-1 is UP **",
    "** FLAPPINGSTART Service Alert: db-1/Disk is WARNING **",
    "[ACKNOWLEDGEMENT] Disk on db-1 is CRITICAL!",
    "[DOWNTIMESTART] Host db-1 is UP!",
    "[FLAPPINGEND] Disk on db-1 is OK!",
    "Check_MK: db-1/Disk Acknowledged (CRIT)",
    "Check_MK: db-1/Disk Downtime Start (OK)",
    "Check_MK: db-1/Disk Started Flapping",
    "Check_MK: db-1/Disk OK -> UNKN",
    'INSUFFICIENT_DATA: "cpu-high" in EU (Ireland)',
    "Updated problem in 2m 10s: Disk full on db-1",
]


def test_a_subject_that_is_no_state_change_changes_no_ticket() -> None:
    """An acknowledgement, downtime or flapping notice (and CloudWatch's INSUFFICIENT_DATA)
    in a subject is skipped as no state change, rather than opening a ticket of its own."""
    assert_each(
        QUIET,
        lambda title: ([s.reason for s in run({"title": title}).skipped], ["no_state_change"]),
        name="title",
    )


def test_a_stated_status_wins_over_the_subject_but_never_keys() -> None:
    """A `status` beside the subject decides the state; the subject's prefix still does not
    key the incident."""
    alert = one({"title": "RECOVERY: Disk full", "status": "firing", "source": "nagios"})
    assert (alert.status, alert.identity["title"]) == (Status.FIRING, "Disk full")
    nagios = one({"title": "** RECOVERY Host Alert: db-1 is UP **", "status": "resolved"})
    assert (
        nagios.fingerprint == one({"title": "** PROBLEM Host Alert: db-1 is DOWN **"}).fingerprint
    )


#: Titles that contain such a word, but as prose: each is its own title and key, and fires.
PROSE = [
    "Recovery of db-1 failed",
    "Disk recovery: slow on db-1",
    "OK status page is down",
    "Problem with nightly backups",
    "Resolved DNS names are stale",
    "Check_MK agent down on db-1",
    "db-1 is DOWN",
    "Queue depth on db-1 is OK!",
    "[PROD] Disk on db-1 is CRITICAL",
    "Recovery in progress: restoring db-1",
    "OK",
    "PROBLEM:",
    "** PROBLEM **",
    "Check_MK: db-1/Disk",
    "Check_MK: db-1/Disk OK -> PEND",
]


def test_titles_that_merely_contain_a_state_word_keep_title_and_key() -> None:
    """A state word that is no subject prefix (inside the title, without its colon, or a check
    state with no notification type before it) changes neither the status nor the key."""

    def kept(title: str) -> tuple[Any, Any]:
        alert = one({"title": title, "source": "s"})
        return (alert.status, alert.title, alert.identity), (
            Status.FIRING, title, {"source": "s", "title": title},
        )  # fmt: skip

    assert_each(PROSE, kept, name="title")


def test_a_hostile_subject_is_read_in_linear_time() -> None:
    """A 100,000-character title of repeated subject fragments is read (and refused or kept)
    without backtracking: each reader is anchored and bounded."""
    for fragment in ("** PROBLEM ", "Check_MK: a ", " is OK", "PROBLEM: ", " -> CRIT", "[P1] "):
        alert = one({"title": fragment * 8_000 + "x", "source": "s"})
        assert alert.title


@pytest.mark.parametrize(("problem", "recovery", "key"), PAIRS[6:8], ids=["service", "host"])
async def test_a_nagios_problem_mail_is_closed_by_its_recovery(
    problem: str, recovery: str, key: str
) -> None:
    """Through the pipeline: a Nagios problem subject opens a ticket, its repeat counts on it,
    and its recovery subject closes it."""
    sink = Sink()
    pipeline = pipeline_into(sink)
    actions = []
    for minute, title in enumerate((problem, problem, recovery)):
        at = T0 + timedelta(minutes=minute)
        body = json.dumps({"title": title, "host": "db-1"})
        message = Message(f"m-{minute}", body, f"r-{minute}", 1, at, received_at=at)
        actions += [str(outcome.action) for outcome in await pipeline.process(message)]
    assert (actions[0], actions[-1]) == ("open", "close")
    assert len(sink.effects) == 2, key
