"""The generic `status` words scripts actually send: Nagios/Icinga and Checkmk states and
notification types, Zabbix's, Uptime Kuma's and healthchecks.io's. Each fires, resolves or
changes no ticket; a word triage does not read stays a clear error naming the ones it does;
a title's "[Alert] X" bracket stays part of the title (its incident is not keyed anew)."""

from __future__ import annotations

import json

import pytest

from triage.errors import InvalidAlertError
from triage.models import Status
from triage.normalize import normalize_body
from triage.normalize.common import Normalized


def _read(status: object, title: str = "disk full on db-1") -> Normalized:
    return normalize_body(json.dumps({"title": title, "status": status}))


@pytest.mark.parametrize(
    "word",
    [
        "alert", "Alert", "ERROR", "error",  # scripts' own words
        "CRIT", "crit", "UNREACH",  # Checkmk's short states ($SERVICESHORTSTATE$, $HOSTSHORTSTATE$)
        "failing", "failed", "failure", "fail",  # Sensu Go's state; jobs and checks that failed
    ],
)  # fmt: skip
def test_words_that_say_something_is_wrong_fire(word: str) -> None:
    """A status saying something is wrong opens (or keeps) the incident."""
    [alert] = _read(word).alerts
    assert alert.status is Status.FIRING


@pytest.mark.parametrize("word", ["passing", "success", "succeeded", "Passing"])
def test_words_that_say_it_is_well_again_resolve(word: str) -> None:
    """Consul's and Sensu Go's `passing`, a job's `success`: the incident resolves."""
    [alert] = _read(word).alerts
    assert alert.status is Status.RESOLVED


@pytest.mark.parametrize(
    "word",
    [
        "UNKN",  # Checkmk's short UNKNOWN
        "ACKNOWLEDGEMENT", "FLAPPINGSTART", "FLAPPINGSTOP", "FLAPPINGEND",  # Nagios, Icinga,
        "DOWNTIMESTART", "DOWNTIMEEND", "DOWNTIMECANCELLED", "DOWNTIMEREMOVED", "CUSTOM",  # Checkmk
        "grace", "paused",  # healthchecks.io's check states
        "maintenance",  # Uptime Kuma
        "update",  # Zabbix's update operation
    ],
)  # fmt: skip
def test_words_that_change_nothing_are_skipped(word: str) -> None:
    """A notification type or a state that is neither wrong nor well changes no ticket: a
    Skipped naming the word, not an error that sends the message to the DLQ."""
    normalized = _read(word)
    assert normalized.alerts == ()
    [skipped] = normalized.skipped
    assert skipped.reason == "no_state_change"
    assert word in skipped.detail


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("PROBLEM", Status.FIRING), ("RECOVERY", Status.RESOLVED), ("OK", Status.RESOLVED),
        ("WARNING", Status.FIRING), ("CRITICAL", Status.FIRING), ("UNREACHABLE", Status.FIRING),
        ("DOWN", Status.FIRING), ("UP", Status.RESOLVED), ("RESOLVED", Status.RESOLVED),
    ],
)  # fmt: skip
def test_the_words_read_before_are_read_as_before(word: str, status: Status) -> None:
    """Nagios', Icinga's and Zabbix's words that fired or resolved still do."""
    [alert] = _read(word).alerts
    assert alert.status is status


def test_an_unknown_word_is_an_error_naming_the_words_read() -> None:
    """A word triage does not read is refused, and the error names words it does read."""
    with pytest.raises(InvalidAlertError) as raised:
        _read("escalated")
    message = str(raised.value)
    assert "status 'escalated' is not firing or resolved" in message
    for word in ("alert", "error", "critical", "passing", "grace"):
        assert word in message


def test_a_number_is_refused_with_the_reason() -> None:
    """A status number is refused: Nagios' 1 is a warning while Uptime Kuma's 1 is up, so
    the error asks for a word."""
    with pytest.raises(InvalidAlertError, match="send the word"):
        _read(1)


def test_a_title_bracket_with_a_new_word_stays_in_the_title() -> None:
    """ "[Alert] X" and "[Error] X" keep their bracket as part of the title and its identity,
    as they always did: the words are read as a stated `status` only."""
    for title in ("[Alert] disk full", "[Error] disk full"):
        [alert] = normalize_body(json.dumps({"title": title})).alerts
        assert alert.title == title
        assert alert.identity == {"source": "generic", "title": title}
