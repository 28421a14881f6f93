"""The one view of an alert that may leave the process: `RedactedAlert`.

Alert text is hostile and may hold secrets. The pipeline redacts each alert once, into a
`RedactedAlert`, and everything that goes on the wire renders from it: the sinks' requests
(ticket backend, GitHub, Slack), the LLM prompt, and the incident stored in a shared table. The
sinks and summarisers take a `RedactedAlert`, never an `Alert`, so mypy --strict proves that no
field of the raw alert reaches a request. The view has no raw payload; the prompt gets an excerpt
of it that was redacted before it was cut (a cut first could leave half a secret unrecognised),
and again after the cut (for what the cut leaves at its end), so the prompt need not redact it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from types import MappingProxyType
from urllib.parse import urlsplit, urlunsplit

from triage.display import MARKS_MAX, VARIATION_SELECTORS
from triage.models import Alert, Priority, Status, Ticket
from triage.normalize.common import cut
from triage.redact import Redactor, held
from triage.redact.named_values import named_value_secret

# draws_nothing: named here too, where the GitHub labels ask it beside `spelled_look_alikes`.
from triage.unseen import draws_nothing as draws_nothing
from triage.unseen import unseen_at

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class MemberView:
    """One alert of a group, as the ticket lists it (its title redacted when it was stored)."""

    fingerprint: str
    title: str
    status: Status
    since: datetime


@dataclass(frozen=True, slots=True)
class GroupView:
    """The group an incident is: the label values its alerts share, and its alerts."""

    by: Mapping[str, str]
    members: tuple[MemberView, ...]
    #: Alerts beyond the ones tracked: counted, not listed.
    untracked: int = 0

    @property
    def count(self) -> int:
        return len(self.members) + self.untracked

    @property
    def firing(self) -> int:
        return sum(m.status is Status.FIRING for m in self.members)

    @property
    def title(self) -> str:
        return ", ".join(f"{k}={v or '∅'}" for k, v in self.by.items())


@dataclass(frozen=True)
class RedactedAlert:
    """An alert with every text field redacted; field names as `Alert`'s."""

    fingerprint: str
    source: str
    status: Status
    title: str
    team: str | None
    priority: Priority | None
    severity: str | None
    description: str
    runbook_url: str | None
    occurred_at: datetime
    links: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    labels: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    #: The source's own payload as compact JSON, redacted, then cut; empty unless asked for.
    payload_excerpt: str = ""
    #: Set when the alert is one of a group incident's members.
    group: GroupView | None = None
    #: What `redact_alert` redacted every text field with, as it stands: the redactor, and the
    #: credentials the process held then. A view read back from the store (its text cut since)
    #: or made elsewhere has none; the prompt redacts it again (see `redacted_by`).
    redaction: tuple[Redactor, tuple[str, ...]] | None = field(
        default=None, compare=False, repr=False
    )

    @property
    def is_note(self) -> bool:
        """A close no alert of its own carries (by hand, or a held close let go):
        `lifecycle.closing_note` writes its note as both its title and its description."""
        return bool(self.title) and self.title == self.description

    @cached_property
    def text(self) -> str:
        """Every field in one string: what "does this occur in the alert?" is checked against."""
        parts = [self.source, self.title, self.team or "", self.severity or "", self.description]
        parts += [self.runbook_url or "", *self.links.values()]
        parts += [f"{k}={v}" for k, v in self.labels.items()]
        parts += [self.occurred_at.isoformat(), self.payload_excerpt]
        if self.group is not None:
            group = self.group
            parts += [group.title, f"{group.count} alerts, {group.firing} firing"]
            parts += [m.title for m in group.members]
        return "\n".join(parts)


def redact_alert(
    alert: Alert, redactor: Redactor, *, excerpt_chars: int = 0, group: GroupView | None = None
) -> RedactedAlert:
    """`alert` redacted field by field; with `excerpt_chars`, also the raw payload, redacted
    as a whole and then cut to that length (only new incidents need it: it costs the most).
    `group` (its text redacted already) says which group incident the alert is a member of."""
    text = redactor.text
    excerpt = ""
    if excerpt_chars > 0 and alert.raw:
        raw = json.dumps(redactor.value(alert.raw), ensure_ascii=False, separators=(",", ":"))
        excerpt = cut(raw, excerpt_chars, ellipsis=True)
        if excerpt != raw:
            # What the cut leaves at its end is read as any cut text is: the piece of a word
            # before its "…", a value the cut left unquoted after its key.
            excerpt = text(excerpt)
    return RedactedAlert(
        fingerprint=alert.fingerprint,
        source=text(alert.source),
        status=alert.status,
        title=text(alert.title),
        team=text(alert.team) if alert.team else None,
        priority=alert.priority,
        severity=text(alert.severity) if alert.severity else None,
        description=text(alert.description),
        runbook_url=text(alert.runbook_url) if alert.runbook_url else None,
        occurred_at=alert.occurred_at,
        links=MappingProxyType(_pairs(alert.links, redactor)),
        labels=MappingProxyType(_pairs(alert.labels, redactor)),
        payload_excerpt=excerpt,
        group=group,
        redaction=(redactor, held()),
    )


def redacted_by(view: RedactedAlert, redactor: Redactor) -> bool:
    """Whether `redact_alert` made `view` with `redactor` while the process held the
    credentials it holds now: then redacting its text again would find nothing new."""
    return (
        view.redaction is not None
        and view.redaction[0] is redactor
        and view.redaction[1] is held()  # a new tuple whenever a new credential is held
    )


def _pairs(pairs: Mapping[str, str], redactor: Redactor) -> dict[str, str]:
    """Each key and value redacted (see `redacted_pair_value`)."""
    return {redactor.text(k): redacted_pair_value(k, v, redactor) for k, v in pairs.items()}


def redacted_pair_value(key: str, value: str, redactor: Redactor) -> str:
    """A label's or link's value redacted, also in its key's context (`db_password: hunter2`
    says hunter2 is a secret even though hunter2 alone looks like nothing), as a JSON key's
    value is (`named_value_secret`: `password: YES` and `pass: 142` stay)."""
    if named_value_secret(key, value):
        return "[REDACTED:password]"
    return redactor.text(value)


#: Tickets a summariser settled (`settled`), by id: the ticket itself (so its id stays its
#: own), the redactor, and the credentials held then. Each is taken by the pipeline's pass;
#: one that never gets there (a failed save, a caller outside the pipeline) is dropped with
#: the rest when the table is full. More than the incidents summarised at once; a few MB at
#: most (a ticket may hold 20,000 characters); one dropped early is only redacted again.
_SETTLED: dict[int, tuple[Ticket, Redactor, tuple[str, ...]]] = {}
_SETTLED_MAX = 512


def settled(ticket: Ticket, redactor: Redactor, holding: tuple[str, ...]) -> Ticket:
    """`ticket`, noted as settled by `redactor` with the credentials `holding` (`held()`,
    taken before its texts were redacted): each text is as the redactor leaves it (checked
    so, or just redacted: redaction is idempotent). The pipeline's `redact_ticket` then hands
    it back as it is, once, unless a credential was held since."""
    if len(_SETTLED) >= _SETTLED_MAX:
        _SETTLED.clear()
    _SETTLED[id(ticket)] = (ticket, redactor, holding)
    return ticket


def redact_ticket(ticket: Ticket, redactor: Redactor) -> Ticket:
    """The ticket's text redacted (again: a credential learned since it was written is
    covered). A ticket `settled` by this redactor with the credentials held now is handed
    back as it is: redacting it again would change nothing (a long description costs a
    fraction of a millisecond to read)."""
    noted = _SETTLED.get(id(ticket))
    if noted is not None and noted[0] is ticket and noted[1] is redactor:
        _SETTLED.pop(id(ticket), None)  # handed back once: a later pass reads it again
        if noted[2] is held():
            return ticket
    return ticket.model_copy(
        update={
            "title": redactor.text(ticket.title),
            "description": redactor.text(ticket.description),
            "steps": tuple(redactor.text(step) for step in ticket.steps),
        }
    )


#: A run of letters (no digit, mark or underscore): one word.
_WORD = re.compile(r"[^\W\d_]+")
#: Scripts with letters drawn like Latin ones (Cyrillic a, Greek o, Armenian o, Cherokee A…).
_LOOK_ALIKE_SCRIPTS = ("CYRILLIC ", "GREEK ", "ARMENIAN ", "CHEROKEE ", "COPTIC ", "LISU ")


def spelled_look_alikes(text: str) -> str:
    """`text` with each letter drawn like a Latin one, inside a word that also has ASCII
    letters, written as its code (`p\\u0430y` for `pay` spelled with a Cyrillic a): for a
    name that must not pass for another (a GitHub label, a team in the terminal). A word in
    one script (Russian, Greek, fullwidth) stays as written."""
    return text if text.isascii() else _WORD.sub(_spelled_word, text)


def _spelled_word(word: re.Match[str]) -> str:
    letters = word[0]
    if letters.isascii() or not any(ch.isascii() for ch in letters):
        return letters
    return "".join(_escaped(ch) if _looks_latin(ch) else ch for ch in letters)


def _looks_latin(ch: str) -> bool:
    """Whether a letter beyond ASCII is drawn like a Latin one: a letter of a script that has
    such letters, or one Unicode folds to ASCII (the fullwidth a, U+FF41, a mathematical
    bold a, the fi ligature)."""
    if ch.isascii():
        return False
    if unicodedata.name(ch, "").startswith(_LOOK_ALIKE_SCRIPTS):
        return True
    return unicodedata.normalize("NFKC", ch).isascii()


def json_line(value: object) -> str:
    """`value` as one line of JSON for a terminal (the CLI's output): text in any script stays
    readable, but each character a terminal could act on or that reorders what it shows (C0
    and C1 controls, bidi and other format characters, line separators) is written as a
    `\\uXXXX` escape, so a dead letter's raw excerpt cannot drive the operator's terminal; so
    is each character that draws nothing (`draws_nothing`: `db\\u2800down` does not pass for
    `db down`) and each combining mark past `display.MARKS_MAX` on one character (Zalgo
    text, which a terminal draws over the lines around it). JSON escapes its own
    backslashes: the line is still JSON, read back as the value."""
    return _for_terminal(json.dumps(value, ensure_ascii=False), backslashes=False)


def terminal_line(text: str) -> str:
    """Plain text for a terminal (the CLI's messages on stderr, which may quote what a user or
    an alert wrote, often as Python's repr spells it): every character `json_line` would
    escape is written as `\\uXXXX` here too, and so is a variation selector anywhere but
    after a symbol, a keycap's digit or an ideograph (there it chooses a glyph; after a
    letter, or another selector, it draws nothing)."""
    return _for_terminal(text, backslashes=False)


def terminal_text(text: str) -> str:
    """Stored alert text for a terminal (`incidents list|show --output text`): as
    `terminal_line`, and a backslash that would start something read as an escape (before
    `u` or another backslash, or before a character written as its code) is written `\\\\`,
    so a title spelling `\\u202e` cannot read as an escape triage wrote; any other stays one
    (`pg\\_dump`, `C:\\temp`)."""
    return _for_terminal(text, backslashes=True)


def _for_terminal(text: str, *, backslashes: bool) -> str:
    if text.isascii() and text.isprintable() and not (backslashes and "\\" in text):
        return text
    out: list[str] = []
    marks = 0
    hidden = unseen_at(text)
    for n, ch in enumerate(text):
        marks = marks + 1 if unicodedata.category(ch) in ("Mn", "Me") else 0
        shown = ch.isprintable() and marks <= MARKS_MAX and _draws(text, n, hidden)
        out.append(ch if shown else _escaped(ch))
    if backslashes:
        for n in range(len(out) - 1):  # no backslash but the last is read as anything else
            if out[n] == "\\" and out[n + 1][:1] in ("\\", "u", "U"):
                out[n] = "\\\\"
    return "".join(out)


def _draws(text: str, n: int, hidden: frozenset[int]) -> bool:
    """Whether `text[n]`, printable, draws something where it stands: a variation selector
    does only right after a symbol, a keycap's digit (`1\\ufe0f\\u20e3`) or an ideograph (a
    kanji's variant), where it chooses a glyph; anything else unless it draws nothing there
    (`hidden`, from `unseen.unseen_at`: a blank Braille cell of a drawing draws)."""
    ch = text[n]
    if _SELECTOR.match(ch):
        before, after = text[n - 1 : n] if n else "", text[n + 1 : n + 2]
        if before in _KEYCAP_BASES:
            return after == "\u20e3"
        return before != "" and (
            unicodedata.category(before) == "So"
            or unicodedata.name(before, "").startswith(_IDEOGRAPHS)
        )
    return n not in hidden


#: The names of the characters an ideographic variation sequence chooses a glyph of.
_IDEOGRAPHS = ("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH")
#: What a keycap emoji is drawn on: a digit, `#` or `*`, then U+FE0F and U+20E3.
_KEYCAP_BASES = frozenset("0123456789#*")
_SELECTOR = re.compile(f"[{VARIATION_SELECTORS}]")


def _escaped(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # JSON spells a character outside the BMP as a surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def url_origin(url: str) -> str:
    """Where a URL points, for a log line or a check's output: scheme, host, port and path. A
    proxy's key in its query (`?key=…`) or a user and password in it are not that, and could be
    a secret of a shape the redactor does not know."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return "<unreadable URL>"
    netloc = f"[{host}]{port}" if ":" in host else f"{host}{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
