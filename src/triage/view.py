"""The one view of an alert that may leave the process: `RedactedAlert`.

Alert text is hostile and may hold secrets. The pipeline redacts each alert once, into a
`RedactedAlert`, and everything that goes on the wire renders from it: the sinks' requests
(ticket backend, GitHub, Slack), the LLM prompt, and the incident stored in a shared table. The
sinks and summarisers take a `RedactedAlert`, never an `Alert`, so mypy --strict proves that no
field of the raw alert reaches a request. The view has no raw payload; the prompt gets an excerpt
of it that was redacted before it was cut (a cut first could leave half a secret unrecognised),
and again after the cut (for what the cut leaves at its end), so the prompt need not redact it.
A value the alert holds under a secret's name (`db_password: …`) is redacted in every field
that repeats it (`redact_alert`), and the view carries it for the texts written from it.
"""

from __future__ import annotations

import dataclasses
import json
import re
import unicodedata
from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from types import MappingProxyType
from urllib.parse import urlsplit, urlunsplit

from triage.display import whole_unicode
from triage.models import Alert, Priority, Status, Ticket
from triage.normalize.common import cut
from triage.redact import Redactor, dropped, held
from triage.redact.calls import explained_secret
from triage.redact.named_values import named_value_secret
from triage.redact.redactor import Blanked
from triage.redact.spelled import MARK as HELD_MARK

# draws_nothing: named here too, where the GitHub labels ask it beside `spelled_look_alikes`.
from triage.terminal import _escaped, _for_terminal
from triage.terminal import terminal_cut as terminal_cut
from triage.terminal import terminal_line as terminal_line
from triage.terminal import terminal_text as terminal_text
from triage.unseen import draws_nothing as draws_nothing

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
        """Listed members firing, and every one past the listed ones (those are counted only
        while they fire)."""
        return sum(m.status is Status.FIRING for m in self.members) + self.untracked

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
    #: The values the alert held under a secret's name (`_held_by_name`), redacted in every
    #: field above wherever the alert repeats them: what a text written from this view (the
    #: model's ticket) must not show either (`Redactor.text_with`). Never stored nor shown.
    named_secrets: tuple[str, ...] = field(default=(), compare=False, repr=False)
    #: The labels past the 64 `labels` shows (`Alert.labels_past_cap`), redacted as those are:
    #: kept only in the view a silence holds (`view(past_cap=True)`), so the sweep and the
    #: listing match the held alert by every label the pipeline matched it by. Never shown: no
    #: sink, prompt or `text` reads them (`matched` is how a matcher does).
    labels_past_cap: Mapping[str, str] = field(default_factory=lambda: _EMPTY)

    @property
    def routed_labels(self) -> Mapping[str, str]:
        """Every label kept, as shown: those `labels` shows, then those past the cap."""
        if not self.labels_past_cap:
            return self.labels
        return ChainMap(dict(self.labels), dict(self.labels_past_cap))

    @property
    def matched(self) -> Matched:
        """This view as a silence or a listing's matcher reads it (`silences.Subject`)."""
        return Matched(self.source, self.team, self.title, self.routed_labels)

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


@dataclass(frozen=True, slots=True)
class Matched:
    """What silences and a listing's matchers read of a view (`silences.Subject`): its fields,
    and every label it keeps, those past the 64 it shows too. No sink takes one, so the
    labels past the cap cannot reach a ticket through it."""

    source: str
    team: str | None
    title: str
    labels: Mapping[str, str]


def redact_alert(
    alert: Alert,
    redactor: Redactor,
    *,
    excerpt_chars: int = 0,
    group: GroupView | None = None,
    past_cap: bool = False,
) -> RedactedAlert:
    """`alert` redacted field by field; with `excerpt_chars`, also the raw payload, redacted
    as a whole and then cut to that length (only new incidents need it: it costs the most).
    `group` (its text redacted already) says which group incident the alert is a member of.
    With `past_cap`, the view also keeps the labels past the 64 it shows (`labels_past_cap`:
    only the view a silence holds needs them, as the sweep matches it again).

    A value the redactor blanked for the name it stood under (`db_password: hunter2xyz`, a
    JSON member, `password=…` in the text) is a secret wherever the same alert repeats it:
    every field is redacted again with those values (`named_secrets`) as credentials, for
    this alert only. An alert holding none (nearly every one) costs nothing more. A caller
    that needs its title too redacts the fields once for both (`AlertView`)."""
    return AlertView(alert, redactor).view(
        excerpt_chars=excerpt_chars, group=group, past_cap=past_cap
    )


def shown_title(alert: Alert, redactor: Redactor) -> str:
    """`alert`'s title as its view shows it (`redact_alert` without the payload's excerpt):
    also without a value the alert holds under a secret's name in its labels, links or text.
    What the store keeps as its incident's title, and lists and group tickets show."""
    return AlertView(alert, redactor).title


#: `AlertView`'s redaction of the fields: as the rules leave them; also without the values
#: they hold under a secret's name; and what the rules took out (`Blanked`).
_Made = tuple[RedactedAlert, RedactedAlert, Blanked]


class AlertView:
    """One alert's redaction, shared by the uses one message makes of it: the title the store
    keeps (`title`) and the view a new incident's effects are written from (`view`): redacted
    for each apart, a new incident paid for its fields twice (bench/RESULTS.md, ~28 µs of
    its CPU when measured). The fields are redacted when
    first asked for, and again only when the process holds a credential it did not hold then;
    the payload only when an excerpt is asked for, so an event that opens nothing (a first
    event that is a resolve) pays for no excerpt. Each view is what `redact_alert` would make
    on its own, byte for byte (tests/test_view_once_382.py)."""

    __slots__ = ("_alert", "_made", "_redactor")

    def __init__(self, alert: Alert, redactor: Redactor) -> None:
        # Made for every event, a storm's repeats too: nothing more until a text is asked for.
        self._alert = alert
        self._redactor = redactor
        self._made: _Made | None = None

    @property
    def alert(self) -> Alert:
        """The alert redacted: a caller handed this with another alert makes its own."""
        return self._alert

    @property
    def title(self) -> str:
        """The title as the view shows it (`shown_title`)."""
        return self._redacted_fields()[1].title

    def view(
        self, *, excerpt_chars: int = 0, group: GroupView | None = None, past_cap: bool = False
    ) -> RedactedAlert:
        """The alert's view (`redact_alert`'s arguments). A value the payload holds under a
        secret's name is one in every field too: when the payload names one the fields did
        not, the fields are redacted again with all of them, as `redact_alert` always has."""
        plain, fields, found = self._redacted_fields()
        redactor = self._redactor
        raw, secrets = "", fields.named_secrets
        if excerpt_chars > 0 and self._alert.raw:
            in_raw = Blanked()
            raw = json.dumps(
                redactor.value(self._alert.raw, found=in_raw),
                ensure_ascii=False,
                separators=(",", ":"),
            )
            # The payload's first, as `_held_by_name` read them when it came first.
            in_raw.by_name += found.by_name
            in_raw.texts += found.texts
            secrets = _held_by_name(in_raw)
            if secrets != fields.named_secrets:
                fields = _again(plain, redactor, secrets) if secrets else plain
        past = self._alert.labels_past_cap if past_cap else _EMPTY
        if not raw and group is None and not past:
            return fields  # no excerpt, no group: as the title's (a copy costs ~5 µs)
        kept_past = MappingProxyType(_past_cap(past, redactor, secrets)) if past else _EMPTY
        return dataclasses.replace(
            fields,
            group=group,
            payload_excerpt=_excerpt(raw, excerpt_chars, redactor, secrets),
            labels_past_cap=kept_past,
        )

    def _redacted_fields(self) -> _Made:
        """The fields as the rules leave them, also without the values they hold under a
        secret's name, and what the rules took out: made once, and again when a credential
        was held since."""
        made = self._made
        if made is None or not redacted_by(made[0], self._redactor):
            found = Blanked()
            plain = _plain_view(self._alert, self._redactor, found)
            _named_in_payload(self._alert.raw, found)
            secrets = _held_by_name(found)
            fields = _again(plain, self._redactor, secrets) if secrets else plain
            made = self._made = (plain, fields, found)
        return made


def _named_in_payload(value: object, found: Blanked, depth: int = 0) -> None:
    """Note in `found` each value the payload `value` holds under a secret's name, at any
    depth (`named_value_secret`, as a label's is judged): the alert may repeat it in a shown
    field, and the fields are shown whether or not an excerpt of the payload is made (only
    for the LLM, so never with `TRIAGE_LLM=none`), and kept as the stored title."""
    if depth > 64:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and named_value_secret(key, item):
                found.by_name.append(item)
            else:
                _named_in_payload(item, found, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _named_in_payload(item, found, depth + 1)


def _plain_view(alert: Alert, redactor: Redactor, found: Blanked) -> RedactedAlert:
    """`alert`'s every field redacted by the rules (`_Fields`), what they took out noted in
    `found`; no payload excerpt, no group."""
    fields = _Fields(redactor, found)
    return RedactedAlert(
        fingerprint=alert.fingerprint,
        source=fields.text(alert.source),
        status=alert.status,
        title=fields.text(alert.title),
        team=fields.text(alert.team) if alert.team else None,
        priority=alert.priority,
        severity=fields.text(alert.severity) if alert.severity else None,
        description=fields.text(alert.description),
        runbook_url=fields.text(alert.runbook_url) if alert.runbook_url else None,
        occurred_at=alert.occurred_at,
        links=MappingProxyType(fields.pairs(alert.links)),
        labels=MappingProxyType(fields.pairs(alert.labels, alert.uncut_labels)),
        redaction=(redactor, held()),
    )


class _Fields:
    """Redacts an alert's fields as `redact_alert` always has, noting in `found` what it
    took out: each text the rules changed, each label or link value blanked for its key."""

    def __init__(self, redactor: Redactor, found: Blanked) -> None:
        self.redactor = redactor
        self.found = found

    def text(self, text: str) -> str:
        done = self.redactor.text(text)
        if done != text:
            self.found.texts.append((text, done))
        return done

    def pairs(self, pairs: Mapping[str, str], uncut: Mapping[str, str] = _EMPTY) -> dict[str, str]:
        """Each key and value redacted (`redacted_pair_value`); a value its key blanks noted
        whole, and as it was before the label's cut (`uncut`: the alert may repeat all of it)."""
        shown: dict[str, str] = {}
        for key, value in pairs.items():
            if named_value_secret(key, value):
                self.found.by_name += [value, uncut.get(key, value)]
                shown[self.redactor.text(key)] = "[REDACTED:password]"
            else:
                shown[self.redactor.text(key)] = self.text(value)
        return shown


def _past_cap(
    labels: Mapping[str, str], redactor: Redactor, secrets: tuple[str, ...]
) -> dict[str, str]:
    """The labels past the cap redacted as a shown label is (`redacted_pair_value`), and
    without the values the alert holds under a secret's name (`secrets`), as silences match
    them on the raw alert. Their own secret-named values are blanked here but not added to
    `secrets`: what the sinks show is the same with or without them."""
    kept: dict[str, str] = {}
    for key, value in labels.items():
        name, shown = redactor.text(key), redacted_pair_value(key, value, redactor)
        if secrets:
            name, shown = redactor.without(name, secrets), redactor.without(shown, secrets)
        kept[name] = shown
    return kept


def _again(view: RedactedAlert, redactor: Redactor, secrets: tuple[str, ...]) -> RedactedAlert:
    """`view`'s every text without `secrets`, the values its alert held under a secret's
    name (`Redactor.without`); the excerpt is `_excerpt`'s."""

    def again(text: str) -> str:
        return redactor.without(text, secrets)

    def pairs(shown: Mapping[str, str]) -> dict[str, str]:
        return {again(k): again(v) for k, v in shown.items()}

    return dataclasses.replace(
        view,
        source=again(view.source),
        title=again(view.title),
        team=again(view.team) if view.team else None,
        severity=again(view.severity) if view.severity else None,
        description=again(view.description),
        runbook_url=again(view.runbook_url) if view.runbook_url else None,
        links=MappingProxyType(pairs(view.links)),
        labels=MappingProxyType(pairs(view.labels)),
        named_secrets=secrets,
    )


def _excerpt(raw: str, chars: int, redactor: Redactor, secrets: tuple[str, ...]) -> str:
    """The redacted payload `raw` (compact JSON) cut to `chars`. The alert's `secrets` are
    taken out of the whole by exact value before the cut (a cut through one would leave its
    head, which no longer matches), then the cut excerpt is read again with them (their
    encoded and spelled-out forms; at most `chars` characters, whatever the payload's size)."""
    if not raw:
        return ""
    for secret in secrets:
        raw = raw.replace(secret, HELD_MARK)
        quoted = json.dumps(secret, ensure_ascii=False)[1:-1]  # as the dump writes it
        if quoted != secret:
            raw = raw.replace(quoted, HELD_MARK)
    excerpt = cut(raw, chars, ellipsis=True)
    if excerpt != raw:
        # What the cut leaves at its end is read as any cut text is: the piece of a word
        # before its "…", a value the cut left unquoted after its key.
        excerpt = redactor.text(excerpt)
    return redactor.without(excerpt, secrets)


#: The fewest characters a value must have to be redacted wherever the alert repeats it: a
#: shorter one would blank parts of ordinary words (`hold` draws the same line).
_SECRET_MIN_CHARS = 6
#: … and the most: a longer value blanked whole (a key file, a blob) is the rules' to find.
_SECRET_MAX_CHARS = 4096
#: Values that stand for no secret (a state or a placeholder a config writes in its place).
_NOT_SECRETS = frozenset(
    {"true", "false", "null", "none", "nil", "undefined", "redacted", "hidden", "masked"}
    | {"unknown", "unset", "notset", "not-set", "not_set", "default", "secret"}
    | {"password", "required", "missing", "invalid", "expired", "provided", "omitted"}
)
#: A placeholder for a value, not a value: a template's reference (`${DB_PASS}`, `{{ .pw }}`,
#: `%(pw)s`, `<password>`), one character repeated (`******`).
_PLACEHOLDER = re.compile(
    r"\$\{.*\}|\{\{.*\}\}|%\(.*\)s|<[^<>]*>|(.)\1*",
    re.DOTALL,
)
#: A placeholder the redactor writes, splitting a redacted text into what it kept.
_REDACTED = re.compile(r"\[REDACTED(?::[^\]\s]{1,40})?\]")
#: What may stand around a value the rules blanked but is no part of it.
_AROUND = " \t\r\n\"'`,;"


def _held_by_name(found: Blanked) -> tuple[str, ...]:
    """The values `found` notes, worth redacting wherever the alert repeats them: each string
    blanked whole for its name (a list's or an object's strings), each stretch of a text the
    rules replaced (`_replaced`), that may be a secret (`_may_be_secret`). Longest first."""
    values: set[str] = set()
    for blanked in found.by_name:
        values.update(_strings(blanked))
    for given, redacted in found.texts:
        values.update(_replaced(given, redacted))
    return tuple(sorted(filter(_may_be_secret, values), key=len, reverse=True))


def _strings(value: object, depth: int = 0) -> list[str]:
    """The strings in a JSON value: an object's values' (not its keys), a list's items'."""
    if isinstance(value, str):
        return [value]
    if depth > 64:
        return []
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list | tuple):
        return [s for item in value for s in _strings(item, depth + 1)]
    return []


def _replaced(given: str, redacted: str) -> list[str]:
    """The stretches of `given` that `redacted` shows as placeholders right after a name
    that says they are secrets (`password=[REDACTED:password]`, `_named_after`): the text
    between the pieces the redactor kept, found in `given` in order. What a rule blanked by
    its shape, or after another placeholder (`auth [user] [password]`), is left to the rules:
    a word a rule took for a value (`failed`) must not blank every other one. A text the
    redactor also changed elsewhere (escapes undone, invisible characters dropped) stops the
    reading where its kept pieces no longer match: what was read before stays."""
    kept = _REDACTED.split(redacted)
    if len(kept) < 2 or not given.startswith(kept[0]):
        return []
    stretches: list[str] = []
    at = len(kept[0])
    for n, piece in enumerate(kept[1:], start=1):
        end = _piece_at(given, piece, at, last=n == len(kept) - 1)
        if end < 0:
            break  # side by side with the next placeholder, or a piece that changed
        stretch = given[at:end].strip(_AROUND)
        before = kept[n - 1]
        if (
            _named_after(before, stretch)
            or _dsn_password(before, piece)
            or explained_secret(before, stretch, piece)
        ):
            stretches.append(stretch)
        at = end + len(piece)
    return stretches


def _piece_at(given: str, piece: str, at: int, *, last: bool) -> int:
    """Where the kept `piece` starts in `given`, from `at`: the last one ends it; an empty one
    between two placeholders is nowhere (where the first ends is unknown); -1 when not found."""
    if last:
        return len(given) - len(piece) if given.endswith(piece) else -1
    return given.find(piece, at) if piece else -1


#: A URL's user and the colon before its password (`postgres://backup:`), ending a text.
_URL_USER = re.compile(r"://[^\s/@:]{1,256}:$")


def _dsn_password(before: str, after: str) -> bool:
    """Whether the stretch between `before` and `after` is a URL's password: a name by its
    place (`postgres://backup:<password>@db`), as the rules blank it."""
    return after.startswith("@") and _URL_USER.search(before[-300:]) is not None


#: A name and what joins it to a value, ending a text: `password=`, `"db_pass": "`, `auth `.
_NAME_BEFORE = re.compile(r"([A-Za-z_][\w.-]{0,63})[\"']?[ \t]*(?:[:=]>?|[ \t])[ \t]*[\"'`]?$")


def _named_after(before: str, value: str) -> bool:
    """Whether `before`, the text the redactor kept before `value`, ends with a name that
    says `value` is a secret (`named_value_secret`: `password=`, `"pass": "`, `auth `)."""
    name = _NAME_BEFORE.search(before[-96:])
    return name is not None and named_value_secret(name[1], value)


def _may_be_secret(value: str) -> bool:
    """Whether `value` may be a secret worth hunting through the rest of its alert: long
    enough, no number, no word a config writes for a secret it leaves out, no placeholder."""
    if not _SECRET_MIN_CHARS <= len(value) <= _SECRET_MAX_CHARS:
        return False
    if value.casefold() in _NOT_SECRETS or _PLACEHOLDER.fullmatch(value):
        return False
    if "[REDACTED" in value:  # what the redactor wrote, not what it took out
        return False
    try:
        float(value)
    except ValueError:
        return True
    return False  # a number (`pin: 123456`): redacted everywhere, it blanks counts and ids


def redacted_by(view: RedactedAlert, redactor: Redactor) -> bool:
    """Whether `redact_alert` made `view` with `redactor` while the process held the
    credentials it holds now: then redacting its text again would find nothing new."""
    return (
        view.redaction is not None
        and view.redaction[0] is redactor
        and view.redaction[1] is held()  # a new tuple whenever a new credential is held
    )


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


#: Redacts what an error or warning quotes of what someone typed (`quoted`), built at the
#: first one.
_QUOTING: list[Redactor] = []


def quoted(typed: str, chars: int = 80) -> str:
    """`typed` (a matcher, a filter's value, an argument) as an error or a warning quotes it:
    redacted, then cut to `chars` and written as Python's repr. Cut first, a credential pasted
    into it would be quoted less its end, a prefix too short for its shape (`ghp_` and 29 of
    its 36 characters) that no redaction of the whole message finds."""
    if not _QUOTING:
        _QUOTING.append(Redactor())
    shown = _QUOTING[0].text(typed)
    if shown != typed and shown == "".join(ch for ch in typed if not dropped(ch)):
        # The redactor only dropped invisible characters (a zero-width joiner, a bidi mark):
        # they are what the reader must see, each spelled by its code (`ti<U+200D>tle`; a `\u`
        # escape would be read back as the character by a redaction of the whole message).
        shown = "".join(f"<U+{ord(ch):04X}>" if dropped(ch) else ch for ch in typed)
    return repr(shown[:chars])


def spelled_look_alikes(text: str, spell: Callable[[str], str] | None = None) -> str:
    """`text` with each letter drawn like a Latin one, inside a word that also has ASCII
    letters, written as its code (`p\\u0430y` for `pay` spelled with a Cyrillic a; `spell`
    writes it otherwise, as a silence's matcher shows it: `p<U+0430>y`): for a name that
    must not pass for another (a GitHub label, a team in the terminal). A word in one script
    (Russian, Greek, fullwidth) stays as written. A Latin letter in another font
    (`_styled_latin`: the mathematical sans-serif p, U+1D5C9, which GitHub draws as `p`) is
    a Latin letter to every reader: a word holding one is a Latin word, each such letter
    spelled, so `team:` and U+1D5C9 U+1D5BA U+1D5D2 is not drawn as `team:pay`."""
    if text.isascii():
        return text
    return _WORD.sub(lambda word: _spelled_word(word[0], spell or _escaped), text)


def _spelled_word(letters: str, spell: Callable[[str], str]) -> str:
    if letters.isascii() or not any(ch.isascii() or _styled_latin(ch) for ch in letters):
        return letters
    return "".join(spell(ch) if _looks_latin(ch) else ch for ch in letters)


def _styled_latin(ch: str) -> bool:
    """Whether `ch` is a Latin letter in another font, which Unicode decomposes with the
    `<font>` tag to ASCII: the mathematical alphabets (bold, italic, sans-serif, script,
    double-struck, monospace) and the letterlike symbols among them (the Planck constant
    U+210E, the script l U+2113). Not a full-width letter (`<wide>`), drawn wide enough to
    tell apart."""
    return unicodedata.decomposition(ch).startswith("<font>") and (
        unicodedata.normalize("NFKC", ch).isascii()
    )


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
    backslashes: the line is still JSON, read back as the value, but for a lone surrogate
    (a silence's comment another writer stored), which is U+FFFD as the API writes it
    (`display.whole_unicode`): its `\\ud800` is JSON that strict readers (Rust's serde_json)
    refuse, and a script reading the line would fail on it."""
    return _for_terminal(json.dumps(whole_unicode(value), ensure_ascii=False), backslashes=False)


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
