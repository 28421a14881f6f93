"""The priority rule both summarisers follow, so alert text cannot talk a ticket up.

    1. The priority the source states wins outright.
    2. Otherwise the default is what the severity maps to (`SEVERITY_PRIORITY`, case-insensitive),
       and medium when there is no severity or one we do not know.
    3. A reading of the alert text (the model's answer, or a known pattern's hint) may move the
       default at most one step: critical > high > medium > low. Asking for more is limited to
       one step. Whenever the result differs from the default, the ticket says why in one line.

Every function takes plain values (not an `Alert`), so any view of the alert can use them.
"""

from __future__ import annotations

from dataclasses import dataclass

from triage.models import Priority
from triage.normalize.common import cut, line

#: Source severities (lower-cased) and the priority they imply when the source states none.
SEVERITY_PRIORITY = {
    **dict.fromkeys(
        [
            "critical",
            "crit",
            "fatal",
            "emergency",
            "emerg",
            "alert",
            "sev1",
            "sev-1",
            "p0",
            "disaster",
        ],
        Priority.CRITICAL,
    ),
    **dict.fromkeys(
        ["error", "err", "high", "major", "sev2", "sev-2", "p1", "page"], Priority.HIGH
    ),
    **dict.fromkeys(
        ["warning", "warn", "medium", "minor", "average", "sev3", "sev-3", "p2"], Priority.MEDIUM
    ),
    **dict.fromkeys(
        ["info", "informational", "notice", "low", "debug", "sev4", "sev-4", "p3", "none"],
        Priority.LOW,
    ),
}

#: Least to most urgent: one step is one place in this list.
_LADDER = (Priority.LOW, Priority.MEDIUM, Priority.HIGH, Priority.CRITICAL)

#: Severity is alert text: the note quotes at most this much of it.
_SEVERITY_CHARS = 32


def severity_priority(severity: str | None) -> Priority | None:
    """The priority a severity maps to, or None when there is none or we do not know it."""
    if not severity:
        return None
    return SEVERITY_PRIORITY.get(severity.strip().lower())


def default_priority(severity: str | None) -> Priority:
    """The priority an alert gets when nothing but its severity is trusted: mapped, else medium."""
    return severity_priority(severity) or Priority.MEDIUM


def one_step(default: Priority, suggested: Priority) -> Priority:
    """`suggested`, but at most one step away from `default`."""
    start, wanted = _LADDER.index(default), _LADDER.index(suggested)
    return _LADDER[max(start - 1, min(start + 1, wanted))]


@dataclass(frozen=True, slots=True)
class Decision:
    priority: Priority
    #: One line for the end of the description when the priority is not the default, else None.
    note: str | None = None


def decide(
    stated: Priority | None,
    severity: str | None,
    suggested: Priority | None,
    *,
    by: str,
    suggester: str,
) -> Decision:
    """The ticket's priority under the rule above, and the line that explains a move.

    `by` ends the note's first sentence ("by the summary's reading of the alert"); `suggester`
    names what suggested the priority ("summary", "pattern"), for when it asked for more.
    """
    if stated is not None:
        return Decision(stated)
    default = default_priority(severity)
    if suggested is None or suggested is default:
        return Decision(default)
    final = one_step(default, suggested)
    direction = "above" if _LADDER.index(final) > _LADDER.index(default) else "below"
    note = f"Priority: {final}, one step {direction} {default} ({_why_default(severity)}), {by}."
    if final is not suggested:
        note += (
            f" The {suggester} suggested {suggested}; a {suggester} may move priority one step"
            " from the severity's default."
        )
    return Decision(final, note)


def _why_default(severity: str | None) -> str:
    shown = line(severity, "severity", _SEVERITY_CHARS * 4) if severity else None
    if not shown:
        return "the default without a severity"
    quoted = "'" + cut(shown, _SEVERITY_CHARS, ellipsis=True) + "'"
    if severity_priority(severity) is None:
        return f"the default for the unrecognised severity {quoted}"
    return f"the default for severity {quoted}"
