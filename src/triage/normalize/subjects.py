"""How monitors write an alert's state into its title, read for the generic path: a state in
brackets ("[Recovered] X"), a mail subject's state before a colon ("RECOVERY: X"), Nagios' and
OMD's stars ("** PROBLEM Service Alert: h/s is CRITICAL **") and Checkmk's arrow ("Check_MK:
h/s OK -> CRIT"). A title read so is shown without its state and keyed without the check state
it ends with too, so a problem and its recovery are one incident. Every pattern is anchored
and bounded: a hostile title costs one linear pass."""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from triage.normalize import common

#: A state in brackets before a title, as tools that send no `status` write it: "[Recovered] X",
#: "[RESOLVED] X", "[FIRING:2] X", "[OK] X", Datadog's "[P1] [Triggered on {host:a}] X". The
#: bracket is short and brace-free, so a hostile title costs one linear pass.
_STATE_PREFIX = re.compile(
    r"\s*(?:\[P[0-5]\]\s*)?\[(?P<word>[A-Za-z][A-Za-z _-]{0,24}?)(?::\d{1,6})?"
    r"(?: on \{(?P<scope>[^{}]{0,1000})\})?\]\s*(?P<rest>\S.*)",
    re.DOTALL,
)
#: A state before a colon, as monitors write their mail subjects and scripts forward them as
#: the title: Zabbix's ("Problem: X", "Resolved in 5m 0s: X", "Updated problem in 1h 2m: X",
#: an acknowledgement or a comment; before 5.0 "{TRIGGER.STATUS}: X", PROBLEM or OK), Nagios'
#: "PROBLEM: X" / "RECOVERY: X", CloudWatch's SNS subject ('ALARM: "x" in EU (Ireland)', OK,
#: INSUFFICIENT_DATA) and the firing/resolved words of other tools. Only Zabbix's words take
#: its " in <duration>": "Recovery in progress: X" is prose.
_COLON_SUBJECT = re.compile(
    r"\s*(?P<word>(?:Resolved|Updated problem)(?: in [^:]{1,40})?|Problem|Recovery|Recovered|OK"
    r"|Alarm|Insufficient_data|Firing|Triggered):\s+(?P<rest>\S.*)",
    re.DOTALL | re.IGNORECASE,
)
#: The state each colon subject's word says (a Zabbix update is an acknowledgement).
_COLON_WORDS = {"updated problem": "acknowledged"}
#: Nagios' default mail subjects ("** PROBLEM Service Alert: db-1/Disk is CRITICAL **", "**
#: RECOVERY Host Alert: db-1 is UP **") and OMD's ("*** PROBLEM *** db-1 / Disk is CRITICAL"):
#: the notification type after the stars.
_NAGIOS_SUBJECT = re.compile(
    r"\s*\*{2,3} ?(?P<word>[A-Za-z]{2,24}) (?:(?:Service|Host) Alert:|\*{2,3})"
    r" ?(?P<rest>\S.*?) ?(?:\*{2,3})?",
    re.DOTALL,
)
#: Nagios' and Icinga's notification types ($NOTIFICATIONTYPE$): a problem fires, a recovery
#: resolves, the rest change no ticket (as a generic `status` of that word does).
NOTIFICATION_TYPES = frozenset({"problem", "recovery", "acknowledgement", "flappingstart",
                                 "flappingstop", "flappingend", "flappingdisabled",
                                 "downtimestart", "downtimeend", "downtimecancelled",
                                 "downtimeremoved", "custom"})  # fmt: skip
#: Checkmk's default subjects, "Check_MK: db-1/Disk OK -> CRIT" and (a host) "Checkmk: db-1 -
#: UP -> DOWN": the state changed to is the last word. Its notices of no state change end in
#: an event instead: "Acknowledged (CRIT)", "Downtime Start (OK)", "Started Flapping".
_CHECKMK_SUBJECT = re.compile(r"\s*(?:Check_MK|Checkmk): (?P<rest>\S.*)", re.DOTALL)
_CHECKMK_CHANGE = re.compile(
    r"(?: -)? [A-Z]{2,8} -> (?P<after>OK|WARN|CRIT|UNKN|UP|DOWN|UNREACH)\Z"
)
_CHECKMK_EVENT = re.compile(
    r"(?: -)? (?:Acknowledged|Started Flapping|Stopped Flapping|Disabled Flapping"
    r"|Downtime [A-Z][a-z]{2,12}|Custom Notification)(?: \([A-Z]{2,8}\))?\Z"
)
#: The check state a subject ends with ("db-1/Disk is CRITICAL", Icinga's "... is OK!"): it
#: changes between a problem and its recovery, so the incident is keyed without it.
_CHECK_STATE_END = re.compile(
    r" is (?P<state>OK|WARNING|CRITICAL|UNKNOWN|UP|DOWN|UNREACHABLE|WARN|CRIT|UNKN|UNREACH)!?\Z",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Subject:
    """What a title that carries its state says: the title to show, the title the incident is
    keyed by (without the check state that changes between a problem and its recovery), and
    the state's word, read as a `status` is, and the check state it names ("CRITICAL" of
    "… is CRITICAL", "CRIT" of "OK -> CRIT"), which ranks the alert as its severity."""

    shown: Any
    keyed: Any
    word: str | None = None
    check_state: str | None = None


def title_state(title: Any, bracket_words: AbstractSet[str]) -> Subject:
    """A title read for the state it starts with: a bracket ("[Recovered] X"), a subject
    before a colon ("RECOVERY: X"), Nagios' stars ("** PROBLEM Service Alert: h/s is OK **")
    or Checkmk's arrow ("Check_MK: h/s OK -> CRIT"). The title as it is, with no word, when
    it starts with none ("[PROD] X", "Recovery of db-1 failed" name no state)."""
    # Read as the title will be shown: a control character before the bracket hides nothing.
    shown = common.ident_line(title, "title") if isinstance(title, str) else None
    if not shown:
        return Subject(title, title)
    subject = _checkmk_subject(shown) or _nagios_subject(shown) or _zabbix_service_subject(shown)
    subject = subject or _colon_subject(shown)
    return subject or _bracket_subject(shown, bracket_words) or Subject(title, title)


def _stated_in_title(rest: str, word: str) -> Subject:
    """A title after its state's word: shown as it is, keyed without the check state it ends
    with ("db-1/Disk is CRITICAL" is keyed "db-1/Disk")."""
    rest = rest.rstrip()
    end = _CHECK_STATE_END.search(rest)
    if end is not None and end.start() > 0:
        return Subject(rest, rest[: end.start()], word, end["state"])
    return Subject(rest, rest, word)


def _colon_subject(shown: str) -> Subject | None:
    """ "PROBLEM: X", "RECOVERY: X", "Resolved in 5m 0s: X", 'OK: "alarm" in …'
    (`_COLON_SUBJECT`), read by the word before the colon and its duration, if any."""
    subject = _COLON_SUBJECT.match(shown)
    if subject is None:
        return None
    said = subject["word"].lower().split(" in ")[0]
    return _stated_in_title(subject["rest"], _COLON_WORDS.get(said, said))


#: Zabbix's default subjects of a business service's notices (6.0 and later): 'Service "Shop"
#: problem: X', 'Service "Shop" resolved in 5m 0s: X' (the problem's name again), and its
#: update 'Changed "Shop" service status to High in 1h 2m', which names no problem.
_ZABBIX_SERVICE = re.compile(
    r'\s*Service "(?P<service>[^"]{1,256})" (?P<word>problem|resolved in [^:]{1,40}): (?P<rest>\S.*)',
    re.DOTALL,
)
_ZABBIX_SERVICE_UPDATE = re.compile(
    r'\s*Changed "(?P<service>[^"]{1,256})" service status to [^"]{1,64} in [^"]{1,40}'
)


def _zabbix_service_subject(shown: str) -> Subject | None:
    """Zabbix's service notices (`_ZABBIX_SERVICE`): the problem fires and its recovery
    resolves, one incident keyed by the service and the problem's name (two services with a
    problem of one name are two); the service's update (its status changed) changes no
    ticket, as a problem's update does."""
    update = _ZABBIX_SERVICE_UPDATE.fullmatch(shown.rstrip())
    if update is not None:
        return Subject(shown, shown, "updated")
    subject = _ZABBIX_SERVICE.match(shown)
    if subject is None:
        return None
    word = "problem" if subject["word"] == "problem" else "resolved"
    stated = _stated_in_title(subject["rest"], word)
    service = f'Service "{subject["service"]}"'
    return Subject(
        f"{service}: {stated.shown}", f"{service}: {stated.keyed}", word, stated.check_state
    )


def _nagios_subject(shown: str) -> Subject | None:
    """Nagios' and OMD's mail subjects, read by their notification type (`_NAGIOS_SUBJECT`)."""
    subject = _NAGIOS_SUBJECT.fullmatch(shown)
    if subject is None or subject["word"].lower() not in NOTIFICATION_TYPES:
        return None
    if subject["word"].upper() == _CUSTOM:
        return _custom_note(subject["rest"]) or _stated_in_title(subject["rest"], subject["word"])
    return _stated_in_title(subject["rest"], subject["word"])


#: The notification type of a note someone sent on a check (Nagios' and Icinga's CUSTOM).
_CUSTOM = "CUSTOM"
#: The check states a custom note can be sent in that are a problem: the note is the
#: problem's (a CRITICAL check's note joins the incident its PROBLEM opened).
_FAILING_CHECK_STATES = frozenset({"CRITICAL", "WARNING", "DOWN", "UNREACHABLE", "CRIT", "WARN",
                                   "UNREACH"})  # fmt: skip


def _custom_note(rest: str) -> Subject | None:
    """A custom notification's subject after its type ("Disk on db-1 is CRITICAL!"): keyed as
    the check's problem is, firing in the check's state when that is a problem (so the note
    joins the problem's incident as a repeat, never opens one of its own), and changing no
    ticket in any other state (a note on an OK check is no recovery). None when it ends in no
    check state: then "[CUSTOM]" is no notification type but a tag of the title."""
    subject = _stated_in_title(rest, _CUSTOM.lower())
    state = (subject.check_state or "").upper()
    if not state:
        return None
    word = state if state in _FAILING_CHECK_STATES else _CUSTOM.lower()
    return Subject(subject.shown, subject.keyed, word, subject.check_state)


def _checkmk_subject(shown: str) -> Subject | None:
    """Checkmk's mail subjects: the state changed to is the status, the host and service the
    key; a notice of no state change (an acknowledgement, a downtime) changes no ticket."""
    subject = _CHECKMK_SUBJECT.match(shown)
    if subject is None:
        return None
    rest = subject["rest"].rstrip()
    change = _CHECKMK_CHANGE.search(rest)
    if change is not None and change.start() > 0:
        return Subject(rest, rest[: change.start()], change["after"], change["after"])
    event = _CHECKMK_EVENT.search(rest)
    if event is not None and event.start() > 0:
        return Subject(rest, rest[: event.start()], "acknowledgement")
    return None


def _bracket_subject(shown: str, words: AbstractSet[str]) -> Subject | None:
    """A state in brackets (`_STATE_PREFIX`). A Datadog group ("on {host:a}") stays in the
    title, so each group is its own incident."""
    head = _STATE_PREFIX.match(shown)
    if head is not None and head["word"] == _CUSTOM and not head["scope"]:
        # Icinga's "[CUSTOM] Disk on db-1 is CRITICAL!"; a "[Custom] X" tag stays in the title.
        return _custom_note(head["rest"])
    if head is None or head["word"].lower() not in words:
        return None
    rest = head["rest"].rstrip()
    return _stated_in_title(f"{rest} on {head['scope']}" if head["scope"] else rest, head["word"])
