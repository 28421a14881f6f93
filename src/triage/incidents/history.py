"""The history an incident keeps: what triage did with it, one short line per step, as an
operator reads it (`triage incidents show`, the status page).

Apart from `Store` because it is text, not protocol: each line is written in the write of the
step it tells (a decision, a sink's answer, a failed attempt), so history never costs a write
of its own, and repeats rewrite their line instead of pushing out what triage did.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime

from triage.incidents.lifecycle import HISTORY, Action, Event, Incident, State
from triage.incidents.records import Hold

#: A count line's note (`_alerts_note`): the line a later repeat of the same window rewrites.
_COUNT_NOTE = re.compile(r"\d+ alerts \(\+\d+\)")


def decision_history(
    stored: Incident | None,
    action: Action,
    decided: Incident,
    now: datetime,
    hold: Hold | None = None,
) -> tuple[Event, ...]:
    """The history of `decided` (an alert's decision) with the line it earns, if any; written
    in the decision's own write. A resolve of a closed incident earns none, and repeats
    (counted, or held by one silence) one line per update window (`_counted_history`): a
    storm must not push out what triage did."""
    history = decided.history
    if action is Action.IGNORE:
        return history
    if action is Action.SILENCED:
        assert hold is not None
        held = stored.held if stored is not None else None
        if held is None or held.silence != hold.silence:
            return _added(history, Event(now, action.value, f"silence {hold.silence}"))
        return _counted_history(stored, action, decided, now)
    if action is Action.COUNT:
        if stored is not None and stored.state is State.CLOSED and decided.state is State.OPEN:
            note = "fired while its close was held: not closed"
            return _added(history, Event(now, action.value, note))
        return _counted_history(stored, action, decided, now)
    if action is Action.UPDATE:
        return _added(history, Event(now, action.value, _alerts_note(stored, decided)))
    return _added(history, Event(now, action.value))


def _counted_history(
    stored: Incident | None, action: Action, decided: Incident, now: datetime
) -> tuple[Event, ...]:
    """The history with the alerts counted noted: the count line of this update window (since
    the last update, or the opening) rewritten when it is the newest line, else one line
    more. A repeat that counted nothing (a group member's event stamped later) notes nothing."""
    if stored is None or decided.occurrences <= stored.occurrences:
        return decided.history
    return counted_history(stored, action, decided.occurrences, decided.history, now)


def counted_history(
    stored: Incident, action: Action, occurrences: int, history: tuple[Event, ...], now: datetime
) -> tuple[Event, ...]:
    """`history` with the count line of `stored`'s update window noted, the incident now
    counting `occurrences` (more than `stored` did): that window's line rewritten when it is
    the newest, else one line more (`_counted_history`, and a storm's plain repeat)."""
    told = stored.occurrences_at_update
    line = Event(now, action.value, f"{occurrences} alerts (+{occurrences - told})")
    last = history[-1] if history else None
    since = stored.last_update_at or stored.opened_at
    if (
        last is not None
        and last.action == line.action
        and last.at >= since
        and _COUNT_NOTE.fullmatch(last.note)
    ):
        return (*history[:-1], line)
    return _added(history, line)


def _added(history: tuple[Event, ...], line: Event) -> tuple[Event, ...]:
    """`history` with `line` last, the oldest lines dropped past HISTORY."""
    return (*history, line)[-HISTORY:]


def _alerts_note(stored: Incident | None, after: Incident) -> str:
    """`N alerts (+K)`: the alerts counted, and how many of them came since the ticket was
    last told (its opening or its latest update)."""
    told = stored.occurrences_at_update if stored is not None else 0
    return f"{after.occurrences} alerts (+{after.occurrences - told})"


#: `Store.confirm`'s `why` for a sink whose service refused the effect (any other is a skip's).
REFUSED = "refused"
#: The sign between `failed` and how many times (a multiplication sign, as operators read it).
TIMES = "\N{MULTIPLICATION SIGN}"
#: A failure line's note (`failed_note`): the line the effect's next failure rewrites.
_FAILED_NOTE = re.compile(rf"failed {TIMES}(\d+)(: .*)?")


def sink_note(
    sink: str,
    ref: str | None,
    current: str | None,
    gone: bool | None,
    why: str | None = None,
    *,
    opened: bool = False,
) -> str:
    """What `sink` answered an effect: its ticket (`ref`, new, or the one it had; `opened`:
    its first for the incident, opened by a later effect), that the ticket is gone for good,
    or that it sent nothing: refused, or skipped (`why`)."""
    if gone:
        return f"{sink}: {current} (gone)" if current else f"{sink}: gone"
    if ref is None and gone is None:
        if why == REFUSED:
            return f"{sink}: refused"
        return f"{sink}: skipped: {why}" if why else f"{sink}: not sent"
    if opened:
        return f"{sink}: {current} (opened)"
    return f"{sink}: {current}" if current else f"{sink}: done"


def failed_note(attempts: int, reason: str | None) -> str:
    """`failed`, how many attempts of the effect failed, and the last one's `reason`."""
    failed = f"failed {TIMES}{attempts}"
    return f"{failed}: {reason}" if reason else failed


def _failed_at(history: tuple[Event, ...], action: str, times: int | None = None) -> int | None:
    """Where the newest failure line of an effect of kind `action` (one that failed `times`
    times, if given) is in `history`, if any."""
    for n in range(len(history) - 1, -1, -1):
        line = history[n]
        failed = _FAILED_NOTE.fullmatch(line.note) if line.action == action else None
        if failed is not None and (times is None or int(failed.group(1)) == times):
            return n
    return None


def failed_history(history: tuple[Event, ...], line: Event, *, first: bool) -> tuple[Event, ...]:
    """The history with the effect's failure line `line`: a line more for its first failure,
    the same line rewritten for the next (repeats counted meanwhile stay where they are)."""
    at = None if first else _failed_at(history, line.action)
    if at is None:
        return _added(history, line)
    return (*history[:at], line, *history[at + 1 :])


def answered(history: tuple[Event, ...], line: Event, failed: int) -> tuple[Event, ...]:
    """The history with a sink's answer `line` to an effect `failed` attempts of which failed
    before: the first answer after them takes the place of their line, saying how many."""
    at = _failed_at(history, line.action, failed) if failed else None
    if at is None:
        return _added(history, line)
    kept = (*history[:at], *history[at + 1 :])
    answer = dataclasses.replace(line, note=f"{line.note} (after {failed} failed attempts)")
    return _added(kept, answer)
