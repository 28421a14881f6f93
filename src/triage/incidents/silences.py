"""Silences: matchers with an expiry, kept in the store so every replica honours the same ones.

A silence is a list of matchers (Alertmanager's four operators) over an alert's `source`,
`team`, `title` and labels (any other name is a label's), all of which must hold:

    team=payments          equal
    env!=staging           not equal (a label that is absent is "", so it is not equal)
    title=~.*disk.*        the whole value matches the regular expression (case-sensitive)
    env!~staging|dev       the whole value does not match it (an absent label's "" does not)

Values are matched as operators see them and as the store keeps them: redacted (`AsShown`),
an alert's as its view shows it (also without a value it holds under a secret's name, in
every field). The pipeline holds the raw alert and the sweep the stored incident; both must
agree, or a silence would hold an alert and let it go at the next sweep.

Regular expressions are RE2's (Alertmanager's own syntax: no backreferences or lookarounds),
matched in time linear in the text: a pattern such as `(a+)+` cannot stall the daemon, whose
every alert is matched against every silence. Linear is not cheap for every pattern: a counted
repetition such as `(.?){1000}` compiles to a program of thousands of instructions, too many
states for RE2's DFA, and each match then steps through all of them per character (tens of ms
for one 256-character title). A pattern whose program is larger than `MAX_PROGRAM` is refused.

While a silence matches, an alert is counted and stored, but opens, updates, reopens and
notifies nothing (closes still go out: the ticket must not stay open). `SilenceCache` is how
the daemon reads them: at most `max_age_s` old, so a silence added or expired on one replica is
honoured by every other within that long. An alert is matched through `SilenceIndex`: only
against the silences whose indexed `name=value` it holds and those without an equality matcher,
so a team's hundreds of deploy silences cost it about what one does (regex-only ones do not).
"""

from __future__ import annotations

import asyncio
import collections
import re
import secrets
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

import structlog

from triage.errors import StoreNewerError
from triage.incidents.codec import MIN_READER, check_reader
from triage.logs import start_background
from triage.models import Alert
from triage.redact import Redactor, held
from triage.view import AlertView, RedactedAlert, quoted, redacted_pair_value

if TYPE_CHECKING:
    from triage.incidents.store import Store

log = structlog.get_logger(__name__)

#: What a matcher's name may be: a field, or a label name as sources write them.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:/-]{0,127}")
#: Longest value or pattern accepted, and how much of an alert's text a regex is run over.
MAX_VALUE_CHARS = 1024
#: Matchers per silence: every silence is kept in one store record, read each second.
MAX_MATCHERS = 32
MATCH_CHARS = 2048
#: The most instructions a pattern may compile to: a match costs up to this many steps per
#: character. Ordinary patterns take tens (`.*disk.*` 24); a Unicode class takes about a
#: thousand (`\pL+` 1,201) but stays on the DFA; `(.?){300}` takes 3,004 and does not.
MAX_PROGRAM = 2000
#: The most instructions the regular expressions of every silence in effect may compile to
#: together, and the most distinct ones: every alert is matched against all of them, so one
#: silence record (350 KB, thousands of patterns) could otherwise cost each alert seconds,
#: and more patterns than `_compiled` keeps would be compiled again on every re-read.
MAX_PROGRAM_TOTAL = 20_000
MAX_PATTERNS = 256
FIELDS = ("source", "team", "title")
#: The record format that first reads `!~`: a silence holding one is stored with it as its
#: `min_reader`, so a release before it skips the silence (`silence.unreadable`) and keeps it,
#: rather than reading the matcher some other way (`codec.RECORD_FORMAT` is at least this).
NOT_REGEX_FORMAT = 2
#: Stored times from this year on are refused: a silence lasts a year at most, and adding to
#: a time near the calendar's end (9999) raises OverflowError wherever it is done.
_LAST_YEAR = 9000


class Op(StrEnum):
    EQ = "="
    NE = "!="
    RE = "=~"
    NRE = "!~"


#: The operators as a matcher is split at the leftmost one: a name holds none of `!=~`, so
#: the first operator written ends the name, and `!~` or `=` inside a value stays there.
_OPERATOR = re.compile(r"!~|!=|=~|=")


class Subject(Protocol):
    """What a silence is matched against: an alert, its redacted view, or a stored incident."""

    @property
    def source(self) -> str: ...
    @property
    def team(self) -> str | None: ...
    @property
    def title(self) -> str: ...
    @property
    def labels(self) -> Mapping[str, str]: ...


@dataclass(frozen=True, slots=True)
class Matcher:
    name: str
    op: Op
    value: str

    @classmethod
    def parse(cls, text: str) -> Matcher:
        """`KEY=VALUE`, `KEY!=VALUE`, `KEY=~REGEX` or `KEY!~REGEX`; ValueError says what is
        wrong."""
        found = _OPERATOR.search(text)
        if found is None:
            raise ValueError(
                f"matcher {quoted(text, 60)}: expected KEY=VALUE, KEY!=VALUE, KEY=~REGEX or KEY!~REGEX"
            )
        name, value = text[: found.start()], text[found.end() :]
        return cls.build(name.strip(), found.group(), value)

    @classmethod
    def build(cls, name: str, op: Op | str, value: str) -> Matcher:
        if not _NAME.fullmatch(name):
            raise ValueError(f"matcher name {quoted(name, 60)} is not a field or label name")
        if len(value) > MAX_VALUE_CHARS:
            raise ValueError(f"matcher {name}: value longer than {MAX_VALUE_CHARS} characters")
        if not is_unicode(value):
            raise ValueError(f"matcher {name}: value is not valid Unicode (a lone surrogate)")
        matcher = cls(name, Op(op), value)
        if matcher.is_regex:
            _check_pattern(f"{name}{matcher.op.value}", value)
        return matcher

    @property
    def is_regex(self) -> bool:
        """Whether the value is a regular expression (`=~` or `!~`): compiled by RE2 and
        counted in the silences' budget, kept as typed (redacting it would change it)."""
        return self.op in (Op.RE, Op.NRE)

    def holds(self, subject: Subject | AsShown) -> bool:
        """Whether the matcher holds for `subject` as operators see it (redacted)."""
        return self.holds_for(as_shown(subject).value(self.name))

    def holds_for(self, have: str) -> bool:
        """Whether the matcher holds for a value as shown (redacted) under its name, each
        letter composed on both sides (`composed`): `team=café` typed as keyboards type it
        holds for the team café that arrived as `e` and a combining accent."""
        have = composed(have)
        if self.op is Op.EQ:
            return have == composed(self.value)
        if self.op is Op.NE:
            return have != composed(self.value)
        pattern, have = _compiled(self.value), have[:MATCH_CHARS]
        try:
            matched = pattern.fullmatch(have) is not None
        except UnicodeEncodeError:
            # RE2 matches UTF-8: a lone surrogate (a record another writer stored) is U+FFFD,
            # as every listing shows it, rather than an encoder's error out of a listing or a
            # sweep.
            valid = have.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
            matched = pattern.fullmatch(valid) is not None
        return matched if self.op is Op.RE else not matched

    def holds_when_absent(self) -> bool:
        """Whether the matcher holds for an alert without its label (an absent label is "",
        as in Alertmanager): `env!=prod`, `env!~prod` and `env=~.*` do; `env=prod` does not."""
        return self.holds(_NOTHING)

    def holds_for_every_alert(self) -> bool:
        """Whether the matcher holds for any value its name can have: `title!=` (a source and
        a title are never empty), `title=~.+`, `team=~.*`. A regular expression is judged on
        `_ANY_VALUES` (empty, long, every printable ASCII character, a space first, other
        scripts), which a pattern that leaves some alert out fails: a warning, never a refusal,
        rests on it."""
        if self.op is Op.EQ:
            return False
        if self.op is Op.NE:
            return self.value == "" and self.name in _NEVER_EMPTY
        values = _ANY_VALUES[1:] if self.name in _NEVER_EMPTY else _ANY_VALUES
        return all(self.holds_for(value) for value in values)

    def __str__(self) -> str:
        return f"{self.name}{self.op.value}{self.value}"


class AsShown:
    """`subject` as operators see it and as the store keeps it, read when a matcher first
    reads a value. Silences are matched against this, so the pipeline (which holds the raw
    alert) and the sweep (which reads the stored, redacted incident) agree, and a matcher
    copied from what the API lists matches both.

    An alert is read as its view shows it (`view.AlertView`, what the store keeps and lists):
    each field redacted, and also without a value the alert holds under a secret's name
    (`db_password: hunter2xyz` takes hunter2xyz out of its title too). Redacted one field at a
    time, a title repeating such a value would read otherwise than the stored one, and a
    silence on the title as listed would hold the incident but never its alert firing again.
    The view is made when a matcher first reads a value (an alert while no silence is active
    costs nothing), once for every silence, and once for a storm's repeats (`_Views`). A
    stored incident or a held view is redacted already: each value is read as `shown_value`
    (redacting it again changes nothing, and a hand-written record is redacted as an alert
    is)."""

    __slots__ = ("_redacted", "_shared", "_shown", "_subject")

    def __init__(
        self,
        subject: Subject,
        shared: AlertView | None = None,
        remembered: RedactedAlert | None = None,
    ) -> None:
        self._subject = subject
        #: The caller's own view of the alert (the pipeline's), made into its redaction here
        #: when no view of the same text is remembered: the caller's later uses (the title
        #: the store keeps, a new incident's effects, a held view) reuse it, so a new alert
        #: matched against the silences is redacted once, not once here and once there.
        self._shared = shared if shared is not None and shared.alert is subject else None
        self._shown: dict[str, str] = {}
        #: `remembered`: the alert's view `_VIEWS` holds (`_Views.peek`), read as it is.
        self._redacted: RedactedAlert | None = remembered

    def value(self, name: str) -> str:
        shown = self._shown.get(name)
        if shown is None:
            shown = self._shown[name] = self._read(name)
        return shown

    def _read(self, name: str) -> str:
        subject = self._subject
        if not isinstance(subject, Alert):
            return shown_value(name, _value_of(subject, name))
        if self._redacted is None:
            self._redacted = _VIEWS.of(subject, self._shared)
        return _alert_value(self._redacted, subject, name)


def _alert_value(view: RedactedAlert, alert: Alert, name: str) -> str:
    """Field or label `name` of `alert` as `view`, its redaction, shows it. A label past the
    64 an alert shows is matched too, as routes and groups read it: redacted as a shown label
    is, and without the alert's named secrets."""
    if name in FIELDS:
        return _value_of(view, name)
    shown = view.labels.get(name)
    if shown is not None:
        return shown
    raw = alert.routed_labels.get(name)
    if raw is None:
        return ""
    return _REDACTOR.without(shown_value(name, raw), view.named_secrets)


#: Alerts' views kept at most (then forgotten all at once): a storm repeats a few alerts.
_VIEWS_MAX = 256


class _Views:
    """Alerts' views (`AlertView`, by `_REDACTOR`) by the text they are made from, while the
    process holds the same credentials: a storm's repeat is its alert again (another time,
    the same text), and its view is made once, not for every repeat (60-170 µs for an alert of
    a dozen labels, most of it reading each label by its name; the key ~2 µs).

    A view not remembered is made by the caller's `shared` view when it gives one (the
    pipeline's, whose redactor is a `Redactor()` as `_REDACTOR` is: they redact alike), so the
    caller's own uses of it redact nothing more; a remembered one is read as it is, and the
    caller's view stays unmade until the caller needs it (a storm's repeat: never)."""

    def __init__(self) -> None:
        self._views: dict[tuple[object, ...], RedactedAlert] = {}
        self._held = held()

    def of(self, alert: Alert, shared: AlertView | None = None) -> RedactedAlert:
        holding = held()  # a new tuple whenever a new credential is held
        if holding is not self._held or len(self._views) >= _VIEWS_MAX:
            self._views.clear()
            self._held = holding
        key = _view_key(alert)
        view = self._views.get(key)
        if view is None:
            made_by = shared if shared is not None else AlertView(alert, _REDACTOR)
            view = self._views[key] = made_by.view()
        return view

    def peek(self, alert: Alert) -> RedactedAlert | None:
        """`alert`'s view when one is remembered for the credentials held now (what `of`
        would answer without making one), else None."""
        if held() is not self._held:
            return None
        return self._views.get(_view_key(alert))


def _view_key(alert: Alert) -> tuple[object, ...]:
    """Every text of `alert` its view is redacted from (`view._plain_view`): the same key, the
    same fields as shown, whatever its time, status or fingerprint."""
    return (
        alert.source,
        alert.title,
        alert.team,
        alert.severity,
        alert.description,
        alert.runbook_url,
        tuple(alert.links.items()),
        tuple(alert.labels.items()),
        tuple(alert.uncut_labels.items()),
    )


def shown_value(name: str, raw: str, redactor: Redactor | None = None) -> str:
    """The value of field or label `name` as operators see it and silences match it: redacted,
    a label's also by its name (`db_password`'s value is `[REDACTED:password]`, whatever it
    is). A new matcher's `=` or `!=` value is stored so, or it would never equal an alert's."""
    redactor = redactor or _REDACTOR
    if name in FIELDS:
        return redactor.text(raw)
    return redacted_pair_value(name, raw, redactor)


def composed(text: str) -> str:
    """`text` with each letter composed (NFC), as typed, whether it came so or decomposed."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def as_shown(subject: Subject | AsShown) -> AsShown:
    return subject if isinstance(subject, AsShown) else AsShown(subject)


def _value_of(subject: Subject, name: str) -> str:
    if name == "source":
        return subject.source
    if name == "team":
        return subject.team or ""
    if name == "title":
        return subject.title
    return subject.labels.get(name, "")


@dataclass(frozen=True, slots=True)
class _Empty:
    """A subject with every field and label empty or absent."""

    source: str
    team: str | None
    title: str
    labels: Mapping[str, str]


_NOTHING = _Empty("", None, "", MappingProxyType({}))
#: The fields every alert has a value for; a team or a label may be empty (absent).
_NEVER_EMPTY = frozenset({"source", "title"})
#: Values a matcher holding for every alert holds for, the empty one first.
_ANY_VALUES = (
    "",
    "a",
    " leading space",
    "CPU above 90% on web-1 (prod)",
    "".join(map(chr, range(0x20, 0x7F))),
    "é 日本語 🙂",
    "[REDACTED:password]",
    "x" * MATCH_CHARS,
)
#: Redacts what silences are matched against (it remembers the short texts it has seen).
_REDACTOR = Redactor()
_VIEWS = _Views()

_PATTERNS: dict[str, Any] = {}


def is_unicode(text: str) -> bool:
    """False when `text` holds a lone surrogate (a JSON `\\ud800` escape, or an argument
    that was not UTF-8, which Python decodes with surrogateescape): no UTF-8 encoder takes it,
    so it cannot be stored, served or printed as it is."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_pattern(named: str, pattern: str) -> None:
    """ValueError when RE2 cannot compile `pattern`, or compiles it too large to match cheaply
    (`named` is the matcher's name and operator, such as `title=~`, for the error)."""
    try:
        program = _compiled(pattern).programsize
    except _re2().error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):  # google-re2 raises its message as bytes
            reason = reason.decode("utf-8", "replace")
        raise ValueError(f"matcher {named}: not an RE2 regular expression: {reason}") from None
    if program > MAX_PROGRAM:
        raise ValueError(
            f"matcher {named}: too costly to match against every alert (RE2 compiles it to "
            f"{program} instructions, at most {MAX_PROGRAM}): counted repetitions such as "
            "(.?){300} compile large"
        )


def check_regex_budget(silences: Iterable[Silence]) -> None:
    """ValueError when the regular expressions of `silences` (those in effect, the new one
    among them) would cost every alert more than `MAX_PROGRAM_TOTAL` instructions, or hold
    more than `MAX_PATTERNS` distinct patterns."""
    patterns = {m.value for silence in silences for m in silence.matchers if m.is_regex}
    if len(patterns) > MAX_PATTERNS:
        raise ValueError(
            f"the silences in effect would hold {len(patterns)} distinct regular expressions, "
            f"at most {MAX_PATTERNS}: every alert is matched against all of them; expire some"
        )
    total = sum(_compiled(pattern).programsize for pattern in patterns)
    if total > MAX_PROGRAM_TOTAL:
        raise ValueError(
            f"the silences in effect would compile to {total} regular expression instructions, "
            f"at most {MAX_PROGRAM_TOTAL}: every alert is matched against all of them; expire "
            "some or write simpler patterns"
        )


def _compiled(pattern: str) -> Any:
    """Compiled once per process (silences are re-read every second, their patterns rarely
    change); the cache is bounded by the few patterns operators write."""
    compiled = _PATTERNS.get(pattern)
    if compiled is None:
        if len(_PATTERNS) > 2 * MAX_PATTERNS:
            _PATTERNS.clear()
        compiled = _PATTERNS[pattern] = _re2().compile(pattern, _options())
    return compiled


def _options() -> Any:
    """RE2's options with its own logging off: it writes parse errors (quoting the pattern)
    and "DFA out of memory" (on every slow match) as raw lines to stderr, where every line of
    ours is JSON; the error it raises says the same."""
    options = _re2().Options()
    options.log_errors = False
    return options


def _re2() -> Any:
    """google-re2, imported when the first pattern is compiled (~18 ms of CPU, which a daemon
    with no `=~` silence need not spend at start-up)."""
    import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

    return re2


@dataclass(frozen=True, slots=True)
class Silence:
    id: str
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    comment: str
    author: str
    #: Set when an operator expired it before `ends_at`.
    expired_at: datetime | None = None
    #: Fields a newer release stored with it: kept as read and written back unchanged, so an
    #: older replica that expires it drops nothing (`codec.py` says the rule for new fields).
    unknown: Mapping[str, object] = field(default_factory=dict, compare=False)

    @classmethod
    def new(
        cls,
        matchers: Sequence[Matcher],
        starts_at: datetime,
        ends_at: datetime,
        comment: str,
        author: str,
    ) -> Silence:
        _check_matchers(matchers)
        if ends_at <= starts_at:
            raise ValueError("a silence must end after it starts")
        if not comment.strip():
            raise ValueError("a silence needs a comment saying why")
        return cls(secrets.token_hex(6), tuple(matchers), starts_at, ends_at, comment, author)

    def ends(self) -> datetime:
        """When it stops matching: its end, or when it was expired by hand."""
        return self.expired_at if self.expired_at is not None else self.ends_at

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends()

    def may_mute(self, now: datetime) -> bool:
        """Whether it mutes at `now` or will: not ended, and ending after it starts. One that
        ends before its start (a record written by hand) or was expired before its start came
        (a replica's clock ahead) never mutes, and is not in effect nor listed as coming."""
        ends = self.ends()
        return ends > now and ends > self.starts_at

    def matches(self, subject: Subject | AsShown) -> bool:
        shown = as_shown(subject)
        return all(m.holds(shown) for m in self.matchers)

    def ruled_out(self, alert: Alert) -> bool:
        """Whether the raw `alert` shows, without its view, that this silence cannot match it:
        a matcher on `team` that an empty value fails (`team=payments`, `team=~.+`), while the
        alert has no team. Its view then has none either (`view._plain_view` redacts a team
        only when there is one), and a matcher reads an absent team as "". False when that
        does not settle it (the view must say)."""
        return not alert.team and _needs_team(self)

    def matches_every_alert(self) -> bool:
        """Whether every matcher holds for any alert (`Matcher.holds_for_every_alert`): made,
        as Alertmanager makes it, it quiets everything while it lasts."""
        return all(m.holds_for_every_alert() for m in self.matchers)

    def to_json(self) -> dict[str, object]:
        stored: dict[str, object] = {
            **self.unknown,
            "id": self.id,
            "matchers": [str(m) for m in self.matchers],
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "expired_at": self.expired_at.isoformat() if self.expired_at else None,
            "comment": self.comment,
            "author": self.author,
        }
        if any(m.op is Op.NRE for m in self.matchers):
            # A new operator in an existing field: a release that does not know it must skip
            # the silence, not read it as some other matcher (see NOT_REGEX_FORMAT).
            kept = self.unknown.get(MIN_READER)  # a number, or check_reader refused it
            stored[MIN_READER] = max(NOT_REGEX_FORMAT, kept if isinstance(kept, int) else 1)
        return stored

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Silence:
        """A stored silence, held to the rules a new one is: the record is shared, and anyone
        with access to the table can write it. ValueError or TypeError when it breaks one, or
        when it is for a newer release (`min_reader`): then it is not honoured, and kept."""
        try:
            check_reader(data, f"silence {str(data.get('id'))[:40]}")
        except StoreNewerError as exc:
            raise ValueError(str(exc)) from None
        matchers = data["matchers"]
        if not isinstance(matchers, list):
            raise TypeError(f"matchers is {type(matchers).__name__}, not a list")
        parsed = tuple(Matcher.parse(str(m)) for m in matchers)
        _check_matchers(parsed)
        expired = data.get("expired_at")
        return cls(
            id=str(data["id"]),
            matchers=parsed,
            starts_at=_aware(data["starts_at"]),
            ends_at=_aware(data["ends_at"]),
            comment=str(data["comment"]),
            author=str(data["author"]),
            expired_at=_aware(expired) if expired else None,
            unknown={k: v for k, v in data.items() if k not in _SILENCE_FIELDS},
        )


_SILENCE_FIELDS = frozenset(f.name for f in fields(Silence)) - {"unknown"}


def _check_matchers(matchers: Sequence[Matcher]) -> None:
    if not matchers:
        raise ValueError("a silence needs at least one matcher")
    if len(matchers) > MAX_MATCHERS:
        raise ValueError(f"a silence takes at most {MAX_MATCHERS} matchers")
    if all(m.holds_when_absent() for m in matchers):
        # As Alertmanager: `env!=prod`, `env!~prod`, `typo=` or `title=~.*` alone would
        # silence every alert (an absent label is ""), which is never what a typo meant.
        raise ValueError(
            "a silence needs a matcher that an empty or absent value does not satisfy "
            "(these would silence every alert)"
        )


def _aware(value: object) -> datetime:
    """A stored time. One without a UTC offset cannot be compared with now (every alert's
    match would raise), and one near the end of the calendar overflows when a week is added
    to it (the store keeps ended silences a week): both are refused."""
    when = datetime.fromisoformat(str(value))
    if when.utcoffset() is None:
        raise ValueError(f"time {str(value)[:40]!r} has no UTC offset")
    if when.year >= _LAST_YEAR:
        raise ValueError(f"time {str(value)[:40]!r} is past the year {_LAST_YEAR}")
    return when


def twin_of(silence: Silence, kept: Iterable[Silence], now: datetime) -> Silence | None:
    """The silence of `kept`, not ended by `now`, that asks for what `silence` does: the same
    matchers (in any order), comment and author. A second such add is the first one retried
    (its answer lost) or a script run again: kept as two, expiring the id the operator was
    shown would leave the other quieting alerts unseen, so the store keeps one (ending at the
    later end; `operator.silence_warnings` tells the operator when that is not the end asked).
    Not ended rather than active: a silence starts when it is added, by the clock of the
    replica that added it, which may read a few seconds ahead of the one a retry reaches
    (`dynamodb.CLOCK_TRUSTED_S`), so to the retry it has not started yet."""
    asked = (frozenset(silence.matchers), silence.comment, silence.author)
    return next(
        (
            s
            for s in kept
            if s.ends() > now and (frozenset(s.matchers), s.comment, s.author) == asked
        ),
        None,
    )


def first_match(
    silences: Iterable[Silence],
    subject: Subject,
    now: datetime,
    shared: AlertView | None = None,
) -> Silence | None:
    """The first active silence that matches `subject` (as operators see it), if any. An
    alert's `shared` view (the pipeline's) is the one its values are read from when its
    redaction is not remembered (`AsShown`)."""
    shown = AsShown(subject, shared)  # each value redacted once, for every silence
    index = index_of(silences)
    if index is not None:
        return index.first(shown, now)
    return next((s for s in silences if s.active(now) and s.matches(shown)), None)


def none_match(silences: Iterable[Silence], alert: Alert, now: datetime) -> bool:
    """True only when `first_match` would find no silence of `silences` for `alert`, shown
    without making the alert's view: each active silence is either ruled out on the raw
    alert (`Silence.ruled_out`) or matched against the view remembered for the alert's text
    (`_Views.peek`: a storm's alert, whose first event made it), exactly as `first_match`
    reads it. False when neither settles it: the caller matches the general way (which
    remembers the view for the next repeat)."""
    index = index_of(silences)
    if index is not None:
        if not index.may_match(alert, now):
            return True
        remembered = _VIEWS.peek(alert)
        if remembered is None:
            return False
        shown = AsShown(alert, remembered=remembered)
        return index.first(shown, now, ruled_out_for=alert) is None
    left = [s for s in silences if s.active(now) and not s.ruled_out(alert)]
    if not left:
        return True
    remembered = _VIEWS.peek(alert)
    if remembered is None:
        return False
    shown = AsShown(alert, remembered=remembered)
    return not any(s.matches(shown) for s in left)


#: Fewer silences than this are matched one by one: an index's lookups would cost more.
INDEX_FROM = 8
#: Indexes kept (then forgotten all at once): the pipeline's silences in effect, the sweep's
#: for its pass, an expiry's others; each is made again only when its tuple is a new one.
_INDEXES_MAX = 8
_INDEXES: dict[int, tuple[tuple[Silence, ...], SilenceIndex]] = {}


def index_of(silences: Iterable[Silence]) -> SilenceIndex | None:
    """The index of `silences` when they are a tuple of at least `INDEX_FROM` (made once per
    tuple: `SilenceCache.in_effect` answers the same one until the store or the time changes
    what is in effect), else None (match them one by one). A tuple is never changed, so its
    index stays right while it lives; the entry holds it, so its id names no other meanwhile."""
    if not isinstance(silences, tuple) or len(silences) < INDEX_FROM:
        return None
    entry = _INDEXES.get(id(silences))
    if entry is not None and entry[0] is silences:
        return entry[1]
    if len(_INDEXES) >= _INDEXES_MAX:
        _INDEXES.clear()
    index = SilenceIndex(silences)
    _INDEXES[id(silences)] = (silences, index)
    return index


class SilenceIndex:
    """Silences indexed by one equality matcher each, so an alert is matched against those
    whose indexed matcher holds for it (and those with none: regex and negative matchers
    only), not all of them; the answer is the linear scan's, the first in their order.

    A silence is indexed under the (name, value composed) of its equality matcher that the
    fewest silences share (then the one whose name most share, so an alert reads few names):
    `service=svc-12` rather than the `env=prod` of every deploy silence. An alert's value
    under each indexed name is read as a matcher reads it (`AsShown.value`, composed), so
    the silences of the bucket it names are the only indexed ones whose matcher can hold."""

    __slots__ = ("_buckets", "_names", "_silences", "_teamless", "_unindexed")

    def __init__(self, silences: Sequence[Silence]) -> None:
        self._silences = tuple(silences)
        keys = [
            frozenset((m.name, composed(m.value)) for m in s.matchers if m.op is Op.EQ)
            for s in self._silences
        ]
        shared_by = collections.Counter(key for each in keys for key in each)
        named_by = collections.Counter(name for each in keys for name in {n for n, _ in each})
        buckets: dict[tuple[str, str], list[int]] = {}
        unindexed: list[int] = []
        for position, each in enumerate(keys):
            if not each:
                unindexed.append(position)
                continue
            chosen = min(each, key=lambda key: (shared_by[key], -named_by[key[0]], key))
            buckets.setdefault(chosen, []).append(position)
        self._buckets = {key: tuple(found) for key, found in buckets.items()}
        self._names = tuple(sorted({name for name, _ in buckets}))
        self._unindexed = tuple(unindexed)
        #: Those `Silence.ruled_out` keeps for an alert without a team.
        self._teamless = tuple(s for s in self._silences if not _needs_team(s))

    def first(
        self, shown: AsShown, now: datetime, ruled_out_for: Alert | None = None
    ) -> Silence | None:
        """The first active silence, in the order given, that matches `shown`; one that
        `ruled_out_for` (the raw alert, when given) rules out is passed over."""
        # With no equality matcher to look up (regex or negative ones only), every silence is.
        for silence in self.candidates(shown) if self._names else self._silences:
            if not silence.active(now):
                continue
            if ruled_out_for is not None and silence.ruled_out(ruled_out_for):
                continue
            if silence.matches(shown):
                return silence
        return None

    def candidates(self, shown: AsShown) -> list[Silence]:
        """The silences, in the order given, that may match `shown` (active or not): those
        whose indexed matcher holds for it, and those with no equality matcher."""
        return [self._silences[position] for position in self.positions(shown)]

    def positions(self, shown: AsShown) -> list[int]:
        """Where `candidates` are in the order given, ascending."""
        found = list(self._unindexed)
        for name in self._names:
            bucket = self._buckets.get((name, composed(shown.value(name))))
            if bucket is not None:
                found += bucket
        found.sort()
        return found

    def may_match(self, alert: Alert, now: datetime) -> bool:
        """Whether some active silence is not ruled out on the raw `alert` (`ruled_out`)."""
        kept = self._silences if alert.team else self._teamless
        return any(s.active(now) for s in kept)


def _needs_team(silence: Silence) -> bool:
    """Whether a matcher of `silence` on the team fails an empty one (`Silence.ruled_out`)."""
    return any(m.name == "team" and not m.holds_for("") for m in silence.matchers)


class SilenceCache:
    """The store's silences, read at most once per `max_age_s` by however many workers ask."""

    def __init__(
        self,
        store: Store,
        max_age_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.max_age_s = max_age_s
        self._clock = clock
        self._silences: tuple[Silence, ...] = ()
        self._read_at: float | None = None
        self._reading: asyncio.Task[tuple[Silence, ...]] | None = None
        #: `in_effect`'s answer: the silences read, from when it holds, and until it is pruned.
        self._effect: tuple[tuple[Silence, ...], datetime, datetime, tuple[Silence, ...]] | None
        self._effect = None

    async def current(self) -> tuple[Silence, ...]:
        """Every silence the store holds (active or not), no older than `max_age_s`."""
        if self._read_at is not None and self._clock() - self._read_at < self.max_age_s:
            return self._silences
        if self._reading is None or self._reading.done():
            # One read for every worker waiting: a storm must not become a storm of reads.
            started = self._clock()
            self._reading = start_background(self._read(started), name="silences-read")
        return await asyncio.shield(self._reading)

    async def _read(self, started: float) -> tuple[Silence, ...]:
        silences = tuple(await self.store.silences())
        if silences == self._silences:
            # The same tuple as before: its silences in effect (and their index) stay worked
            # out until one ends, rather than again on every read.
            silences = self._silences
        else:
            # Each replica says when it first honours a change (an add, an expiry by hand).
            log.info("silences.changed", kept=len(silences), ids=[s.id for s in silences][-10:])
        # Age from when the read began: what the store said then is at most that old.
        self._silences, self._read_at = silences, started
        return silences

    async def in_effect(self, now: datetime) -> tuple[Silence, ...]:
        """The silences not ended at `now` (active, or starting later by another clock): what
        an alert is matched against, so that a message costs the silences that mute, not the
        week of ended ones kept for `silence list --all` (up to `MAX_SILENCES`). Worked out
        once per read of the store; again for a `now` before the one it was worked out for
        (a worker's clock read earlier), as a silence that had ended then may not have."""
        silences = await self.current()
        effect = self._effect
        if effect is None or effect[0] is not silences or not effect[1] <= now < effect[2]:
            live = tuple(s for s in silences if s.may_mute(now))
            # Pruned again once the first of them ends, so the tuple stays short.
            until = min((s.ends() for s in live), default=datetime.max.replace(tzinfo=now.tzinfo))
            effect = self._effect = (silences, now, until, live)
        return effect[3]

    async def matching(self, subject: Subject, now: datetime) -> Silence | None:
        return first_match(await self.in_effect(now), subject, now)
