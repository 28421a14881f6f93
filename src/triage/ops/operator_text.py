"""`triage incidents list|show --output text`: incidents as a person reads them in a terminal,
each time both absolute and relative ("12 min ago").

Built only from `operator.incident_json` (redacted twice), and every text from it passes
`view.terminal_text`, so no escape sequence, bidi control or other invisible character an
alert held reaches the terminal: each is written as `\\uXXXX` (and a backslash of the text's
that would read as such an escape as `\\\\`). A URL in an alert's words (its title, a
history note) is written as it opens (`display.urls_as_opened`), since a terminal makes it a
link. Alert text set among triage's own facts (a team, a source, a label) is one plain word or
a quoted JSON string (`_value`), so it cannot add a fact of its own (`team "ops · source
cloudwatch"`). JSON stays what scripts read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from triage.display import link_url, urls_as_opened
from triage.view import json_line, spelled_look_alikes, terminal_cut, terminal_text

#: Characters of a title a list line shows (`show` prints it whole).
_TITLE_CHARS = 100
#: Characters of a fingerprint a list line shows: enough for `show`, which takes a prefix.
_FINGERPRINT_CHARS = 12


def relative(when: datetime, now: datetime) -> str:
    """`when` as a person says it from `now`: `40 s ago`, `12 min ago`, `3 h 4 min ago`,
    `2 d 5 h ago`, or `in 5 min` for a time ahead (a retry, a held close)."""
    seconds = int((now - when).total_seconds())
    span = _span(abs(seconds))
    return f"{span} ago" if seconds >= 0 else f"in {span}"


def _span(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


def _at(value: str | None, now: datetime) -> str:
    """An ISO time from `incident_json`, with how long ago (or ahead) it is."""
    if value is None:
        return "-"
    return f"{value} ({relative(datetime.fromisoformat(value), now)})"


def _shown(value: object) -> str:
    """Any value for the terminal: text escaped, nothing as `-`."""
    return "-" if value is None else terminal_text(str(value))


#: A value written bare among triage's facts: one word of letters or digits in any script,
#: and the punctuation of names (`payments`, `team-a/eu.west`, `db@prod`).
_PLAIN = re.compile(r"[\w.:/@+-]+")


def _words(text: str) -> str:
    """An alert's words (a title, a history note) for the terminal: `_shown`, each URL in them
    written as it opens (`display.urls_as_opened`, as the tickets' text has it). A terminal
    makes a URL in its output a link to click: `https://github.com@evil.example/` would read
    as GitHub while opening evil.example, and a host with a Cyrillic a as the real one."""
    return _shown(urls_as_opened(text))


def _value(value: object) -> str:
    """Alert text set among triage's own facts, as one value: bare when it is one plain word
    (`_PLAIN`, all of it drawn), else a quoted JSON string (`json_line`: `"` and `\\` escaped,
    each hidden character `\\uXXXX`), which no text can close early: a team of `ops · source
    cloudwatch` reads as one team, not as a team and a source. A look-alike letter inside a
    Latin word is written as its code too (`view.spelled_look_alikes`: `"p\\u0430y"` does not
    pass for the team `pay`). A URL in it is written as it opens (`_words`: a terminal makes
    it a link, bare or quoted). Nothing is `-`."""
    if value is None:
        return "-"
    text = urls_as_opened(str(value))
    shown = terminal_text(text)
    if _PLAIN.fullmatch(shown) and spelled_look_alikes(shown) == shown:
        return shown
    return spelled_look_alikes(json_line(text))


def _tickets(shown: Mapping[str, Any], between: str) -> str:
    tickets = [f"{_shown(sink)}{between}{_ref(ref)}" for sink, ref in shown["tickets"].items()]
    gone = shown.get("tickets_gone", {})
    tickets += [f"{_shown(sink)}{between}{_ref(ref)} (gone)" for sink, ref in gone.items()]
    return ", ".join(tickets) or "no ticket"


def _ref(ref: str) -> str:
    """A ticket's reference as `_shown`; one that is a link (a GitHub issue's address) as every
    surface writes a link (`display.link_url`): the URL it opens, without user info, since a
    terminal makes it a link to click and `https://github.com@evil.example/` reads as GitHub
    while it opens evil.example (and user info may be a token)."""
    return _shown(link_url(ref) or ref)


def incident_line(shown: Mapping[str, Any], opened_at: datetime, now: datetime) -> str:
    """One incident of `incidents list`: priority, state and its flags, when it (re)opened,
    alerts, team, source (each one value, `_value`), fingerprint (a prefix `show` takes),
    tickets and title. The flags and the tickets stand before the title, where no title can
    write them, and the title ends the line: a title ending `[silenced]` or `[github
    https://…/issues/12]` is the title's words, not a flag or a ticket."""
    # `close held`: listed open while its alert has resolved (it flapped; its tickets close
    # when it has stayed resolved), not an alert still firing.
    held = shown.get("close_held_until") is not None
    flags = "".join(
        f" [{flag}]"
        for flag, on in (
            ("flapping", shown.get("flapping")),
            ("close held", held),
            ("silenced", shown.get("silenced")),
            (_failing_flag(shown), "failing" in shown),
        )
        if on
    )
    title = terminal_cut(urls_as_opened(str(shown["title"])), _TITLE_CHARS)
    columns = (
        f"{_shown(shown['priority']):<8}",
        f"{_shown(shown['state']) + flags:<6}",
        f"{relative(opened_at, now):>14}",
        _counts(shown),
        _value(shown["team"]),
        _value(shown["source"]),
        _shown(shown["fingerprint"][:_FINGERPRINT_CHARS]),
        f"[{_tickets(shown, ' ')}]",
        title,
    )
    return "  ".join(columns)


def _failing_flag(shown: Mapping[str, Any]) -> str:
    """`close failed 2 times`: the effect a sink keeps failing (the sweep tries it again), so
    a closed incident whose ticket stays open is told apart in a list of closed ones."""
    failing = shown.get("failing")
    if not failing:
        return ""
    attempts = int(failing["failed_attempts"])
    return f"{_shown(failing['effect'])} failed {attempts} time{'' if attempts == 1 else 's'}"


def _counts(shown: Mapping[str, Any]) -> str:
    """A list line's counts: an incident of one alert's occurrences as `N alerts`; a group's
    alerts (members) and occurrences each once, as its page row says them (`12 alerts, 5
    firing · 340 occurrences`), not its occurrences as `340 alerts` while it holds 12."""
    if "members" in shown:
        return f"{members_said(shown)} · {occurrences_said(shown)}"
    count = shown["occurrences"]
    return f"{count:>5} alert{'' if count == 1 else 's'}"


def incident_block(shown: Mapping[str, Any], now: datetime) -> str:
    """One incident of `incidents show`: what it is, where its tickets are, what triage did
    (its history, oldest first) and what it has yet to do (a pending effect)."""
    since = shown["closed_at"] if shown["state"] == "closed" else shown["opened_at"]
    flags = [flag for flag in ("flapping", "silenced") if shown.get(flag)]
    facts = [
        ("fingerprint", _shown(shown["fingerprint"])),
        ("state", f"{_shown(shown['state'])} since {_at(since, now)}"
                  + "".join(f" [{flag}]" for flag in flags)),
        ("priority", _shown(shown["priority"])),
        ("team", f"{_value(shown['team'])} · source {_value(shown['source'])} · route "
                 f"{_value(shown['route'])}"),
        ("alerts", f"{occurrences_said(shown)} · last change {_at(shown['updated_at'], now)}"),
        ("tickets", _tickets(shown, ": ")),
        ("labels", ", ".join(f"{_value(k)}={_value(v)}" for k, v in shown["labels"].items())
                   or "-"),
    ]  # fmt: skip
    facts += optional_facts(shown, now, _shown, _at)
    width = max(len(name) for name, _ in facts)
    lines = [_words(shown["title"]), *(f"  {name:<{width}}  {value}" for name, value in facts)]
    lines.append("history (oldest first):")
    lines += _history_lines(shown["history"], now)
    return "\n".join(lines)


def _history_lines(history: list[Mapping[str, Any]], now: datetime) -> list[str]:
    """One line per history event: when, the action, and what it did (a sink's answer, the
    alerts counted), each in its own column so the notes read down one edge."""
    rows = [
        (
            _at(event["at"], now),
            _shown(event["action"]),
            _words(event["note"]) if event["note"] else "",
        )
        for event in history
    ]
    when_width = max((len(when) for when, _, _ in rows), default=0)
    action_width = max((len(action) for _, action, _ in rows), default=0)
    return [
        f"  {when:<{when_width}}  {action:<{action_width}}  {note}".rstrip()
        for when, action, note in rows
    ]


def members_said(shown: Mapping[str, Any]) -> str:
    """A group's alerts (its members) and how many of them fire: `12 alerts, 5 firing`."""
    members = shown["members"]
    return f"{members} alert{'' if members == 1 else 's'}, {shown['members_firing']} firing"


def occurrences_said(shown: Mapping[str, Any]) -> str:
    """How many times an incident's alerts came: a group's as `340 occurrences`, apart from
    its alerts (`members_said`), which a bare `340` beside `12 alerts` would read as; an
    incident of one alert's as the bare count, its `alerts` (`incident_line`'s word)."""
    count = shown["occurrences"]
    if "members" not in shown:
        return str(count)
    return f"{count} occurrence{'' if count == 1 else 's'}"


def optional_facts(
    shown: Mapping[str, Any],
    now: datetime,
    text: Callable[[str], str],
    when: Callable[[str | None, datetime], str],
) -> list[tuple[str, str]]:
    """The facts only some incidents have (a group, a held effect, a held close, an escalation,
    when it closes if quiet, an effect still to go out and when it is tried again), each written by `text` and `when`
    for where it is shown: the terminal here, HTML on the status page."""
    facts = []
    if "members" in shown:
        facts.append(("group", members_said(shown)))
    if "held" in shown:
        held = shown["held"]
        facts.append(("held", f"{text(held['effect'])} by silence {text(held['silence'])}"))
    if shown.get("reopened_at") is not None:
        # What `since` and `before` keep it by, and when its escalation clock started.
        facts.append(("reopened", when(shown["reopened_at"], now)))
    if shown["close_held_until"] is not None:
        facts.append(("close held", f"until {when(shown['close_held_until'], now)}"))
    if shown["escalated_at"] is not None:
        facts.append(("escalated", when(shown["escalated_at"], now)))
    if shown.get("resolve_at") is not None:
        # When the sweep closes it if no alert comes first (its route's `resolve_after_s`).
        quiet = text(f"{shown['resolve_after_s']:g}")
        closes = f"{when(shown['resolve_at'], now)} · no alert for {quiet} s (resolve_after_s)"
        facts.append(("closes if quiet", closes))
    pending = shown.get("pending")
    if pending is not None:
        done = ", ".join(text(sink) for sink in pending["done"]) or "no sink yet"
        said = f"{text(pending['effect'])}, done by {done}"
        if "failed_attempts" in pending:
            said += (
                f"; failed {pending['failed_attempts']} times, next try "
                f"{when(pending['retry_at'], now)}"
            )
        facts.append(("pending", said))
    return facts
