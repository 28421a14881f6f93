"""What operators are shown and may ask, the same on the command line, the API and the status page:
incidents as JSON objects, their filters, and silences made from matchers and a duration.

Everything shown is from the store, whose alert text was redacted before it was stored; it is
redacted once more here (a credential the process learned since is covered) and never carries a
raw payload or a held alert's description.
"""

from __future__ import annotations

import asyncio
import difflib
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from triage.incidents import Incident, State, Store
from triage.incidents.silences import (
    FIELDS,
    MAX_MATCHERS,
    MAX_VALUE_CHARS,
    AsShown,
    Matcher,
    Op,
    Silence,
    SilenceIndex,
    Subject,
    as_shown,
    first_match,
    is_unicode,
    shown_value,
)
from triage.models import Priority
from triage.normalize.common import line
from triage.redact import Redactor, dropped, secret_named
from triage.redact.named_values import named_value_secret
from triage.settings import did_you_mean
from triage.view import quoted, spelled_look_alikes

#: ASCII digits only (`\d` would take other scripts' digits), at most 7 per unit: enough for a
#: year in any unit, and a timedelta cannot overflow.
#: Weeks as amtool and Prometheus write them (`1w`): an Alertmanager user's `--for 1w` was refused.
_DURATION = re.compile(
    r"(?:([0-9]{1,7})w)?(?:([0-9]{1,7})d)?(?:([0-9]{1,7})h)?(?:([0-9]{1,7})m)?(?:([0-9]{1,7})s)?"
)
#: The longest silence: a year (a silence "forever" is a routes-file change instead).
MAX_SILENCE = timedelta(days=365)
#: History lines `show` prints.
SHOWN_HISTORY = 20
STATES = ("open", "closed", "all")


def parse_duration(text: str, most: timedelta | None = MAX_SILENCE) -> timedelta:
    """`90m`, `2h`, `1h30m`, `1d`, `1w`, `45s`, the units in any case (`1H`, as a state or a
    priority is read); ValueError for anything else, zero, or over `most` (a silence's year;
    None for a look back, which the calendar bounds)."""
    typed = text.strip().lower()
    found = _DURATION.fullmatch(typed)
    if typed.isdigit() and typed.isascii() and len(typed) <= 7 and int(typed):
        # A bare number is no duration: minutes, hours and days are all likely meant.
        raise ValueError(
            f"duration {quoted(text, 40)}: a duration needs its unit ({typed}m, {typed}h or "
            f"{typed}d; s and w too)"
        )
    if typed.isdigit() and typed.isascii() and not int(typed):
        raise ValueError(f"duration {quoted(text, 40)}: must be more than 0 and at most 365d")
    if not typed or found is None or not any(found.groups()):
        raise ValueError(
            f"duration {quoted(text, 40)}: expected e.g. 90m, 2h, 1h30m, 1d, 1w (at most 365d)"
        )
    weeks, days, hours, minutes, seconds = (int(g or 0) for g in found.groups())
    duration = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
    if duration <= timedelta(0) or (most is not None and duration > most):
        raise ValueError(f"duration {quoted(text, 40)}: must be more than 0 and at most 365d")
    return duration


def parse_until(text: str, now: datetime) -> datetime:
    """When a silence is to end, as an operator writes it: ISO 8601 with a UTC offset
    (`2026-12-05T06:00Z`, `2026-12-05T07:00+01:00`), returned in UTC. A time without an
    offset is refused, not read in this machine's zone: the operator's laptop, the daemon's
    replicas and whoever reads the silence next may each be in another, and a silence ending
    an hour early or late at 3 a.m. is the mistake it would make. ValueError also for a time
    already past, or more than a year ahead."""
    example = end_time_examples(now)
    try:
        when = datetime.fromisoformat(_utc_letter_upper(text.strip()))
    except ValueError:
        raise ValueError(f"until {quoted(text, 40)}: expected a date and time {example}") from None
    if when.utcoffset() is None:
        raise ValueError(
            f"until {quoted(text, 40)} has no UTC offset: add Z for UTC or the zone's offset, {example}"
        )
    try:
        when = when.astimezone(UTC)
    except OverflowError:  # the first or last day of the calendar, shifted past its edge
        raise ValueError(f"until {quoted(text, 40)}: out of the calendar's range") from None
    if when <= now:
        raise ValueError(
            f"until {quoted(text, 40)} is past: it is {now.isoformat(timespec='minutes')} now"
        )
    if when - now > MAX_SILENCE:
        raise ValueError(f"until {quoted(text, 40)}: a silence lasts at most 365d")
    return when


def end_time_examples(now: datetime) -> str:
    """`such as 2026-12-08T06:00Z (UTC) or 2026-12-08T07:00+01:00`: end times a silence takes,
    dated the day after `now` (a fixed date in an example is refused as past once it has gone)."""
    day = (now + timedelta(days=1)).date().isoformat()
    return f"such as {day}T06:00Z (UTC) or {day}T07:00+01:00"


def _silence_end(duration: str | None, until: str | None, now: datetime) -> datetime:
    """The end of a silence asked for with one of a duration or an end time."""
    if (duration is None) == (until is None):
        raise ValueError("give a silence either a duration (90m, 2h, 1d) or an end time (until)")
    if until is not None:
        return parse_until(until, now)
    assert duration is not None
    return now + parse_duration(duration)


@dataclass(frozen=True, slots=True)
class Filter:
    """Which incidents a list shows: every condition given must hold (`parse_filter` builds
    one from what an operator typed)."""

    state: str = "open"
    team: str | None = None
    flapping: bool = False
    source: str | None = None
    priorities: frozenset[Priority] = frozenset()
    #: Casefolded and composed (`folded`); found anywhere in the title as shown (redacted).
    search: str | None = None
    matchers: tuple[Matcher, ...] = ()
    #: Opened (or last reopened) at or after `since`, and before `before`.
    since: datetime | None = None
    before: datetime | None = None

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(
                f"state {quoted(self.state, 20)}: expected one of {', '.join(STATES)}"
                f"{did_you_mean(self.state, STATES)}"
            )
        if self.team is not None and not self.team.strip():
            # `--team "$TEAM"` with TEAM unset: neither the teamless incidents nor every
            # team's can be what was meant, so neither is answered.
            raise ValueError(f"team {self.team!r}: expected a team name (leave it out for all)")
        if self.team is not None and not is_unicode(self.team):
            # An argument whose bytes were not UTF-8: no stored team can equal it, so the
            # list would be empty, read as "no incident of this team".
            raise ValueError("team is not valid Unicode (a lone surrogate)")

    def keeps(self, incident: Incident) -> bool:
        """Whether every condition holds, the cheap ones first (a search or a matcher
        redacts the values it reads)."""
        if self.state != "all" and _listed_state(incident) != self.state:
            return False
        if self.team is not None and folded(team_of(incident) or "") != folded(self.team):
            return False
        if self.flapping and not incident.flapping:
            return False
        if self.source is not None and incident.source != self.source:
            return False
        if self.priorities and (incident.ticket is None or incident.ticket.priority not in
                                self.priorities):  # fmt: skip
            return False
        if not self._opened_within(_last_opened(incident)):
            return False
        return self._says(incident)

    def _opened_within(self, opened: datetime) -> bool:
        if self.since is not None and opened < self.since:
            return False
        return self.before is None or opened < self.before

    def _says(self, incident: Incident) -> bool:
        """Whether the incident, as operators see it, holds every matcher and the search."""
        if not self.matchers and self.search is None:
            return True
        subject = as_shown(_subject(incident))
        if not all(m.holds(subject) for m in self.matchers):
            return False
        return self.search is None or self.search in folded(subject.value("title"))


#: The longest `search`: a title is one line; more is a paste, not a search.
MAX_SEARCH_CHARS = 200
#: The values `priority` takes, besides the priorities' own names (P0 is critical).
_PRIORITY_NAMES = {
    **{p.value: p for p in Priority},
    **{f"p{p.rank}": p for p in Priority},
}


def parse_filter(
    *,
    now: datetime,
    state: str = "open",
    team: str | None = None,
    flapping: bool = False,
    source: str | None = None,
    priority: str | None = None,
    search: str | None = None,
    match: Sequence[str] = (),
    since: str | None = None,
    before: str | None = None,
) -> Filter:
    """The filter an operator typed (`triage incidents list`, `GET /api/v1/incidents`), each
    value strict: ValueError names the first one that could only mislead (an unknown source
    or priority, a blank search, a matcher a silence would refuse, a time without a UTC
    offset, a `since` after `before`), never a filter that quietly keeps all or nothing."""
    opened_since = parse_moment("since", since, now) if since is not None else None
    opened_before = parse_moment("before", before, now) if before is not None else None
    if opened_since is not None and opened_since > now:
        # A date typed a day or a year wrong: no incident opened in the future.
        raise ValueError(
            f"since {quoted(str(since), 40)} is ahead of now ({now.isoformat(timespec='minutes')}): "
            "nothing can match"
        )
    if opened_since is not None and opened_before is not None and opened_since >= opened_before:
        raise ValueError("since is not before before: nothing can match")
    return Filter(
        # Read as every other filter's word: `?state=Open`, `?state=%20all` name a state.
        state.strip().lower() or state,
        _team(team) if team is not None else None,
        flapping,
        source=_known_source(source) if source is not None else None,
        priorities=_priorities(priority) if priority is not None else frozenset(),
        search=_search(search) if search is not None else None,
        matchers=_filter_matchers(match),
        since=opened_since,
        before=opened_before,
    )


def _refuse_control(name: str, given: str) -> None:
    """ValueError naming filter `name` and the character when `given` holds a control
    character that is no whitespace (`%00`, a terminal's escape pasted): the normaliser
    writes each as a space, so no stored team or title holds one, and a filter holding it
    would answer "none" while the incidents meant are open."""
    for ch in given:
        if unicodedata.category(ch) == "Cc" and not ch.isspace():
            raise ValueError(
                f"{name} holds a control character ({_code_point(ch)}), which no stored "
                f"{name if name == 'team' else 'title'} holds: type the words as shown"
            )


def _team(given: str) -> str:
    """A team as alerts hold it: trimmed, each run of whitespace one space (the normaliser
    writes every team so), without the invisible characters no stored team has
    (`_as_stored`). `--team "payments "` (a phone keyboard's autocomplete adds the space, a
    pasted cell a tab) would otherwise list nothing, read as "no incident of this team". A
    blank one is left blank, for `Filter` to refuse; one holding a control character is
    refused (`_refuse_control`)."""
    _refuse_control("team", given)
    shown = " ".join(_as_stored(given).split())
    return shown or (given if not given.strip() else "")


def _as_stored(typed: str) -> str:
    """`typed` without the invisible characters the redactor drops from every text the store
    keeps (`redact.dropped`: zero-width spaces and joiners, bidi marks). Words copied from a
    GitHub issue's title or a Slack message hold those triage put there (`#\u200b4`, so
    GitHub links no issue #4), and a search or team holding one could match no incident."""
    if typed.isascii():
        return typed
    return "".join(ch for ch in typed if not dropped(ch))


def _known_source(given: str) -> str:
    """`given`, trimmed and in lower case, when an alert can have it as its source; else
    ValueError with the one meant. Read as a team and a priority are: `--source " cloudwatch"`
    (a pasted cell, a dashboard variable with a space) and `CloudWatch` (as AWS writes it)
    name the source they spell, as no source has a space or a capital."""
    from triage.routes import KNOWN_SOURCES  # the normalisers' names, loaded when asked for

    spelt = given.strip().lower()
    if spelt in KNOWN_SOURCES:
        return spelt
    raise ValueError(
        f"source {quoted(given, 40)}: no alert has it{_source_meant(given)}; sources are "
        f"{', '.join(KNOWN_SOURCES)}"
    )


def _source_meant(given: str) -> str:
    """` (did you mean 'cloudwatch'?)` for the source `given` is likeliest a typo of, or ""."""
    from triage.routes import KNOWN_SOURCES

    meant = difflib.get_close_matches(given.lower(), KNOWN_SOURCES, n=1, cutoff=0.6)
    return f" (did you mean {meant[0]!r}?)" if meant else ""


def _priorities(given: str) -> frozenset[Priority]:
    """`critical`, `P1`, or several with commas (`critical,high`), any case."""
    names = [name.strip().lower() for name in given.split(",")]
    chosen = [_PRIORITY_NAMES.get(name) for name in names]
    if not chosen or None in chosen:
        unknown = next(name for name, p in zip(names, chosen, strict=True) if p is None)
        raise ValueError(
            f"priority {quoted(given, 40)}: expected critical, high, medium or low (or P0..P3), "
            f"several separated by commas{did_you_mean(unknown, _PRIORITY_NAMES)}"
        )
    return frozenset(p for p in chosen if p is not None)


def _search(given: str) -> str:
    _refuse_control("search", given)
    if not _as_stored(given).strip():
        raise ValueError("search: expected some words of the title (leave it out for all)")
    if len(given) > MAX_SEARCH_CHARS:
        raise ValueError(f"search: at most {MAX_SEARCH_CHARS} characters")
    if not is_unicode(given):
        raise ValueError("search is not valid Unicode (a lone surrogate)")
    # Titles are stored one line, single-spaced and without invisible characters: so is the
    # search, or a pasted one never holds.
    return folded(" ".join(_as_stored(given).split()))


def folded(text: str) -> str:
    """`text` as a search or a team filter compares it: case ignored, and each letter
    composed (NFC), so `é` typed as one character finds `é` stored as `e` and a combining
    accent (macOS file names, some tools' output), which every reader sees as the same letter
    (GitHub gives both one `team:` label). Not folded further: a full-width or mathematical
    letter stays apart from the Latin one it looks like."""
    if text.isascii():
        return text.casefold()
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())


def _filter_matchers(texts: Sequence[str]) -> tuple[Matcher, ...]:
    """Matchers as a silence takes them (and refuses them): a matcher copied from a silence
    lists what it quiets, and one a silence would refuse as a mistake lists nothing here."""
    if len(texts) > MAX_MATCHERS:
        raise ValueError(f"a filter takes at most {MAX_MATCHERS} matchers")
    redactor = Redactor()
    return tuple(_new_matcher(text, redactor) for text in texts)


def parse_moment(name: str, text: str, now: datetime) -> datetime:
    """A time an operator gives a filter: a duration back from `now` (`90m`, `2h`, `1d`) or
    ISO 8601 with a UTC offset (`2026-12-05T06:00Z`), in UTC; ValueError names `name`. A time
    without an offset is refused, as for a silence's end: whose zone it is in is a guess."""
    try:
        # Not a silence's length: a look back may be longer than the year a silence lasts.
        back = parse_duration(text, most=None)
    except ValueError:
        pass
    else:
        try:
            return now - back
        except OverflowError:
            raise ValueError(f"{name} {quoted(text, 40)}: out of the calendar's range") from None
    example = "a duration back from now (90m, 2h, 1d) or a time such as 2026-12-05T06:00Z"
    try:
        when = datetime.fromisoformat(_utc_letter_upper(_offset_sign_restored(text.strip())))
    except ValueError:
        raise ValueError(f"{name} {quoted(text, 40)}: expected {example}") from None
    if when.utcoffset() is None:
        raise ValueError(
            f"{name} {quoted(text, 40)} has no UTC offset: add Z for UTC, or {example}"
        )
    try:
        return when.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{name} {quoted(text, 40)}: out of the calendar's range") from None


def _utc_letter_upper(text: str) -> str:
    """`text` with a last `z` (UTC) written `Z`: RFC 3339 allows it in lower case (as it does
    `t`, which `fromisoformat` already reads), and a time a script or a log wrote so
    (`2026-12-06T10:00:00z`) was refused as no time at all."""
    return f"{text[:-1]}Z" if text.endswith("z") else text


#: A time whose positive UTC offset lost its `+` to a query's reading of `+` as a space
#: (`2026-12-05T07:00 01:00`, from `?since=2026-12-05T07:00+01:00` typed bare).
_OFFSET_SIGN_LOST = re.compile(
    r"(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)"
)


def _offset_sign_restored(text: str) -> str:
    """`text` with the `+` of its UTC offset back where a query left a space: in a URL a `+`
    means a space, so a time typed into curl or an address bar with `+01:00` arrives as
    ` 01:00`, which no time has otherwise (a negative offset keeps its `-`)."""
    found = _OFFSET_SIGN_LOST.fullmatch(text)
    return f"{found[1]}+{found[2]}" if found else text


def _last_opened(incident: Incident) -> datetime:
    """When the incident opened, or last reopened: what "opened in the last hour" means."""
    return incident.reopened_at or incident.opened_at


def _listed_state(incident: Incident) -> str:
    """The state a list filters by: a flapping incident resolved while its close is held back
    is closed in the store but open on its tickets, and an operator asking for the open ones
    (or the flapping ones, open by default) means those too."""
    if incident.close_held_until is not None:
        return State.OPEN.value
    return incident.state.value


def team_of(incident: Incident) -> str | None:
    """The incident's team: from its ticket's alert, else the alert a silence holds."""
    if incident.team is not None or incident.held is None:
        return incident.team
    from triage.incidents.codec import view_from_json

    return view_from_json(incident.held.alert).team


def labels_of(incident: Incident) -> Mapping[str, str]:
    """The incident's labels: from its ticket's alert, else (no ticket yet: a silence held
    its open) the alert the silence holds, which the listing's matchers and every silence
    match it by."""
    if incident.has_ticket or incident.held is None:
        return incident.labels
    from triage.incidents.codec import view_from_json

    return view_from_json(incident.held.alert).labels  # the 64 shown, as its ticket will


_T = TypeVar("_T")


class OffLoop:
    """Work of the page and the API whose CPU grows with the store, run on a worker thread:
    each silence matched against every open incident is 250,000 matches for 50 silences
    during a storm of 5,000, seconds of CPU per view, and on the daemon's event loop each
    reload stalled alerts and `/healthz` behind it. One piece at a time, so views never hold
    more than one thread of the loop's default pool (DNS lookups share it); a piece whose view
    was given up (its connection's deadline) still holds that place until its thread ends."""

    def __init__(self) -> None:
        self._one = asyncio.Lock()

    async def run(self, work: Callable[[], _T]) -> _T:
        """`work()`, on a worker thread once the one before it has ended."""
        await self._one.acquire()
        try:
            running = asyncio.get_running_loop().run_in_executor(None, work)
        except BaseException:
            self._one.release()
            raise
        running.add_done_callback(self._ended)
        return await asyncio.shield(running)

    def _ended(self, running: asyncio.Future[Any]) -> None:
        self._one.release()
        if not running.cancelled():
            running.exception()  # read: a view given up does not log it as never retrieved


class SharedScan:
    """One scan of the store's incidents, shared by the status page's and the API's requests
    for `max_age_s`. A scan decodes every incident on the daemon's event loop (about 0.8 s of
    CPU at 20,000), so requests that each scanned, at once or one per reload, would stall the
    daemon's messages behind them; concurrent requests wait for the one scan under way. The
    scan is let go once it is too old to answer with (60 MB at 20,000 incidents), so a page
    viewed once does not keep it for the daemon's life."""

    #: As old as a listing may be: reloads within it cost nothing, a change shows after it.
    MAX_AGE_S = 2.0

    def __init__(
        self, max_age_s: float = MAX_AGE_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_age_s = max_age_s
        self._clock = clock
        self._lock = asyncio.Lock()
        self._incidents: list[Incident] = []
        self._scanned_at: float | None = None
        self._let_go: asyncio.TimerHandle | None = None

    @property
    def kept(self) -> int:
        """How many incidents the scan holds (0 once it was let go)."""
        return len(self._incidents)

    async def incidents(self, store: Store) -> list[Incident]:
        """The store's incidents as of at most `max_age_s` ago (a failed scan is not kept)."""
        async with self._lock:
            if self._scanned_at is None or self._clock() - self._scanned_at >= self.max_age_s:
                self._incidents = await store.incidents()
                self._scanned_at = self._clock()
                self._forget_later()
            return self._incidents

    def _forget_later(self) -> None:
        if self._let_go is not None:
            self._let_go.cancel()
        self._let_go = asyncio.get_running_loop().call_later(self.max_age_s, self._forget)

    def _forget(self) -> None:
        self._incidents, self._scanned_at, self._let_go = [], None, None


async def list_incidents(
    store: Store, keep: Filter, scan: SharedScan | None = None
) -> list[Incident]:
    """The incidents `keep` keeps, most urgent first, then the newest, then by fingerprint (from
    `scan` when the daemon's surfaces share one; the command line reads the store itself). The
    fingerprint makes the order total, so pages (`offset`) of incidents opened in the same
    instant neither repeat nor skip one, whatever order the store read them in."""
    everything = await (scan.incidents(store) if scan is not None else store.incidents())
    problem = listed_key_problem(keep, everything)
    if problem is not None:
        raise FilterRefused(problem)
    return _ordered(i for i in everything if keep.keeps(i))


class FilterRefused(ValueError):
    """A filter that parsed, refused once the store's incidents show it can only mislead
    (`listed_key_problem`): the listing's answer, like a value that names nothing, is a
    refusal saying why (exit 2, a 400)."""


#: Keys an incident is listed with that are not its labels, each with what filters by it: a
#: matcher copied from a listed incident (`priority=critical`) reads a label of that name.
_LISTED_NOT_LABELS = {
    "priority": "the priority filter (--priority critical, priority=critical)",
    "state": "the state filter (--state closed, state=closed)",
    "flapping": "the flapping filter (--flapping, flapping=true)",
    "route": "a matcher on a label the route matches alerts by (no filter takes the route)",
    "fingerprint": "the incident's own answer (incidents show FINGERPRINT, "
    "/api/v1/incidents/FINGERPRINT), which also takes a prefix",
}


def listed_key_problem(keep: Filter, incidents: Iterable[Incident]) -> str | None:
    """Why `keep` can only mislead over `incidents`, or None: a matcher on a key the listing
    shows but no incident has as a label (`priority=critical` copied from a listed incident)
    holds for none of them, or, negated, for all, and its answer would read as "no critical
    incident". An alert that does have such a label is matched by it as by any other."""
    named = {m.name for m in keep.matchers if m.name in _LISTED_NOT_LABELS}
    for incident in incidents:
        if not named:
            return None
        named.difference_update(_subject(incident).labels)
    matcher = next((m for m in keep.matchers if m.name in named), None)
    if matcher is None:
        return None
    lists = "every incident" if matcher.holds_when_absent() else "nothing"
    return (
        f"matcher {quoted(str(matcher))}: {matcher.name} is shown in the listing but is no "
        f"incident's label (matchers read labels), so it would list {lists}; use "
        f"{_LISTED_NOT_LABELS[matcher.name]}"
    )


def _ordered(incidents: Iterable[Incident]) -> list[Incident]:
    """Open first (as listed: a close held back while it flaps is open on its tickets, and
    ranks among the open by its priority), most urgent first, then the newest, then by
    fingerprint (a total order)."""
    return sorted(incidents, key=_listed_key)  # the order `page_cursor` names a place in


def _listed_key(incident: Incident) -> tuple[int, int, int, str]:
    """Where `incident` stands in `_ordered`'s order, as one tuple compared in it."""
    opened_us = _epoch_us(incident.opened_at)
    return (
        int(_listed_state(incident) != State.OPEN.value),
        _rank(incident),
        -opened_us,
        incident.fingerprint,
    )


def _epoch_us(when: datetime) -> int:
    return (when - _EPOCH) // timedelta(microseconds=1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: `page_cursor`'s text: closed-or-open, rank, opened (µs since 1970, the key's own negation
#: undone) and the fingerprint, each within what an incident can have.
_CURSOR = re.compile(r"([01])\.([0-4])\.(-?[0-9]{1,18})\.([0-9a-f]{1,64})")


def page_cursor(incident: Incident) -> str:
    """The `next` cursor of a page whose last incident is `incident`: where it stood, so the
    next page starts after that place whatever moved meanwhile (an incident shown before
    that closed, or a new one ahead of it, moves no other). An offset counts places in a
    list that changed, and a page by it skips or repeats one."""
    closed, rank, opened_us, fingerprint = _listed_key(incident)
    return f"{closed}.{rank}.{-opened_us}.{fingerprint}"


def after_cursor(listed: Sequence[Incident], cursor: str) -> list[Incident]:
    """The incidents of `listed` (in `_ordered`'s order) after the place `cursor` names;
    ValueError when it is no cursor `page_cursor` writes (edited, cut, or made up)."""
    found = _CURSOR.fullmatch(cursor)
    if found is None:
        raise ValueError(
            f"after {quoted(cursor, 40)}: not a cursor of this listing (give the one the page "
            "before named, as it is; without it the first page is listed)"
        )
    key = (int(found[1]), int(found[2]), -int(found[3]), found[4])
    return [i for i in listed if _listed_key(i) > key]


def unreadable_silences_said(unreadable: Sequence[tuple[str, str]]) -> str:
    """How many stored silences `silence list` left out as unreadable, and that they still
    mute wherever a release that reads them runs."""
    count = len(unreadable)
    records = "1 stored silence" if count == 1 else f"{count} stored silences"
    shown = "is" if count == 1 else "are"
    return (
        f"{records} could not be read and {shown} not listed ({unreadable[0][1][:200]}); "
        "a replica that reads it still honours it"
    )


def unreadable_said(unreadable: int) -> str:
    """How many stored incidents could not be read and are in no listing (the API's
    `unreadable`, the page's note), for the command line's stderr."""
    records = "1 stored incident" if unreadable == 1 else f"{unreadable} stored incidents"
    shown = "is" if unreadable == 1 else "are"
    return (
        f"{records} could not be read and {shown} not listed (a newer release's record, or "
        "damage): the store.unreadable_record log lines name each"
    )


#: The shortest fingerprint prefix `incidents show` and `close` take, as git takes a commit's.
MIN_PREFIX = 4
#: Fingerprints an ambiguous prefix's error names.
_NAMED = 5


async def find_incident(store: Store, given: str, scan: SharedScan | None = None) -> Incident:
    """The incident `given` names: its fingerprint, or an unambiguous prefix of one of at
    least `MIN_PREFIX` characters (a fingerprint copied in part, as git takes a commit's).
    LookupError says why none is chosen: unknown, ambiguous (the ones it could be), or the
    fingerprint of a group's member, which is not an incident of its own (its group is).
    The API passes its `scan`, so a request naming no fingerprint costs no read of its own."""
    # Fingerprints are lower-case hex: one read out over a call or copied from a tool that
    # writes hex in capitals names the same incident, as does one pasted with the spaces of
    # a table's cell around it.
    given = given.strip().lower()
    found = await store.get(given)
    if found is not None:
        return found
    everything = await (scan.incidents(store) if scan is not None else store.incidents())
    groups = [i for i in everything if i.group is not None and given in i.group.members]
    if groups:
        raise LookupError(
            f"{given} is a member of the group incident {groups[0].fingerprint}: "
            "show or close that one"
        )
    matching = sorted(i.fingerprint for i in everything if i.fingerprint.startswith(given))
    if not matching and store.unreadable_listed:
        # Not "no incident": one it cannot read may be the one meant, and its fingerprint
        # whole gets the reason (a newer release's record, damage) rather than none.
        raise LookupError(
            f"no incident {given} among those read: {unreadable_said(store.unreadable_listed)}; "
            "its whole fingerprint says why"
        )
    if not matching:
        raise LookupError(f"no incident {given}")
    if len(given) < MIN_PREFIX:
        # Not "no incident" alone: some start with it, and an operator reading that as none
        # being there looks no further.
        raise LookupError(
            f"{given} names no incident: a prefix takes at least {MIN_PREFIX} characters of "
            f"the fingerprint ({len(matching)} incident{'' if len(matching) == 1 else 's'} "
            "start with it)"
        )
    if len(matching) > 1:
        named = ", ".join(matching[:_NAMED]) + (", …" if len(matching) > _NAMED else "")
        raise LookupError(
            f"{given} is ambiguous: {len(matching)} incidents start with it ({named})"
        )
    return next(i for i in everything if i.fingerprint == matching[0])


#: A silence id as triage makes it (`secrets.token_hex`), in any case.
_HEX_ID = re.compile(r"[0-9a-fA-F]+")


def silence_id(given: str) -> str:
    """The id of the silence `given` names as an operator pastes it: without the spaces or
    line end a table's cell or a shell's `$(…)` leaves around it, and in lower case when it is
    hex, as triage writes every id (one read out in capitals over a call is the same id; a
    "no silence" would leave its alerts quiet while the operator thinks it ended)."""
    trimmed = given.strip()
    return trimmed.lower() if _HEX_ID.fullmatch(trimmed) else given


async def end_named_silence(store: Store, given: str, now: datetime) -> tuple[Silence, bool]:
    """End the silence `given` names (`Store.end_silence`'s answer): its id, or an
    unambiguous prefix of at least `MIN_PREFIX` characters, as an incident is named, since
    operators copy an id from a narrow table or read its start out over a call. A prefix is
    judged against every kept silence, ended ones too, so one that also starts an ended
    silence's id is ambiguous rather than quietly the other one. LookupError says why none
    is ended: unknown, too short, or ambiguous (naming the candidates)."""
    wanted = silence_id(given)
    ended = await store.end_silence(wanted, now)
    if ended is not None:
        return ended
    ids = [s.id for s in await store.silences()]
    unread = [(i, why) for i, why in store.unreadable_silences if i.startswith(wanted)]
    if unread and len(wanted) >= MIN_PREFIX and not any(i.startswith(wanted) for i in ids):
        # Not "no silence": it is kept, and mutes wherever a release that reads it runs.
        unread_id, why = unread[0]
        raise LookupError(
            f"silence {unread_id} cannot be read by this release, so it is not ended ({why})"
        )
    chosen = _silence_by_prefix(wanted, ids)
    ended = await store.end_silence(chosen, now)
    if ended is None:  # dropped meanwhile: a week after it ended
        raise LookupError(f"no silence {chosen}")
    return ended


def released_by(
    ended: Silence, incidents: Iterable[Incident], silences: Iterable[Silence], now: datetime
) -> tuple[int, int]:
    """How many incidents whose effect `ended` held the sweep now lets go (no other active
    silence matches them), and how many another silence still holds: told with an expiry,
    so the operator knows tickets are about to open, or why they stay quiet."""
    others = tuple(s for s in silences if s.id != ended.id and s.active(now))
    released = still_held = 0
    for incident in incidents:
        if incident.held is None or incident.held.silence != ended.id:
            continue
        if first_match(others, _subject(incident), now) is None:
            released += 1
        else:
            still_held += 1
    return released, still_held


def released_said(released: int, still_held: int) -> str | None:
    """The one line an expiry's `released_by` counts come to, or None when it held nothing."""
    if not released and not still_held:
        return None
    said = []
    if released:
        one = released == 1
        said.append(
            f"{released} incident{'' if one else 's'} it held {'goes' if one else 'go'} out "
            "with the daemon's next sweep (TRIAGE_SWEEP_INTERVAL_S)"
        )
    if still_held:
        one = still_held == 1
        said.append(
            f"{still_held} incident{'' if one else 's'} it held {'stays' if one else 'stay'} "
            "quiet: another silence matches"
        )
    return "; ".join(said)


def _silence_by_prefix(given: str, ids: Sequence[str]) -> str:
    """The one id of `ids` starting with `given` (at least `MIN_PREFIX` characters), or
    LookupError saying why there is none to take."""
    if not given.strip():
        raise LookupError("no silence id given: `triage silence list` lists them")
    matching = sorted(i for i in ids if i.startswith(given))
    if not matching:
        raise LookupError(f"no silence {given[:80]}")  # however long the id pasted
    if len(given) < MIN_PREFIX:
        raise LookupError(
            f"{given} names no silence: a prefix takes at least {MIN_PREFIX} characters of the "
            f"id ({len(matching)} silence{'' if len(matching) == 1 else 's'} start with it)"
        )
    if len(matching) > 1:
        named = ", ".join(matching[:_NAMED]) + (", …" if len(matching) > _NAMED else "")
        raise LookupError(f"{given} is ambiguous: {len(matching)} silences start with it ({named})")
    return matching[0]


def _rank(incident: Incident) -> int:
    return incident.ticket.priority.rank if incident.ticket else 4


def incident_json(
    incident: Incident, redactor: Redactor, *, history: bool = False
) -> dict[str, Any]:
    """One incident as operators see it (`incidents list` prints one per line)."""
    text = redactor.text
    ticket = incident.ticket
    team = team_of(incident)
    shown: dict[str, Any] = {
        "fingerprint": incident.fingerprint,
        # As the lists and counts have it: a close held while it flaps is open on its tickets
        # (`close_held_until` says when it goes out), so a script reading the objects counts
        # what the page and `?state=open` count.
        "state": _listed_state(incident),
        "title": text(incident.title),
        "source": text(incident.source),
        "team": text(team) if team else None,
        "priority": ticket.priority.value if ticket else None,
        "occurrences": incident.occurrences,
        "opened_at": _time(incident.opened_at),
        # When it last reopened (null if never): what `since` and `before` keep it by, and
        # when its escalation clock started.
        "reopened_at": _time(incident.reopened_at),
        "updated_at": _time(incident.applied_at or incident.last_update_at or incident.opened_at),
        "closed_at": _time(incident.closed_at),
        "flapping": incident.flapping,
        # Resolved while flapping: its tickets are closed then, if it stays resolved.
        "close_held_until": _time(incident.close_held_until),
        "tickets": {
            s: text(ref) for s, ref in incident.refs.items() if not incident.ticket_gone(s)
        },
        "route": incident.route,
        "silenced": incident.held is not None,
        "escalated_at": _time(incident.escalation.done_at) if incident.escalation else None,
        # Open, ticketed and of a route with `resolve_after_s`: when the sweep closes it if
        # no alert comes before (a new alert moves it); null otherwise.
        "resolve_at": _time(incident.resolve_at),
        "resolve_after_s": incident.resolve_after_s,
    }
    gone = {s: text(ref) for s, ref in incident.refs.items() if incident.ticket_gone(s)}
    if gone:
        # A ticket its sink said is gone (deleted, archived, moved out of reach) is listed
        # apart, with the reference it had: not a link to follow, but what was there. Only
        # when there is one, as scripts read the listing's other keys as they always were.
        shown["tickets_gone"] = gone
    if incident.group is not None:
        shown["members"] = len(incident.group.members) + incident.group.untracked
        shown["members_firing"] = incident.group.still_firing
    if incident.held is not None:
        shown["held"] = {"effect": incident.held.kind.value, "silence": incident.held.silence}
    pending = incident.pending
    if pending is not None and pending.attempts:
        # A sink failed its effect and the sweep tries again: listed (not only shown one by
        # one), so a script finds a close by hand that left a ticket open, and only then,
        # as scripts read the listing's other keys as they always were.
        shown["failing"] = {
            "effect": pending.kind.value,
            "failed_attempts": pending.attempts,
            "retry_at": _time(pending.retry_at),
        }
    if history:
        shown["labels"] = {text(k): text(v) for k, v in labels_of(incident).items()}
        shown["history"] = [
            {"at": _time(e.at), "action": e.action, "note": text(e.note)}
            for e in incident.history[-SHOWN_HISTORY:]
        ]
        if incident.pending is not None:
            shown["pending"] = {
                "effect": incident.pending.kind.value,
                "until": _time(incident.pending.until),
                "done": list(incident.pending.done),
            }
            if incident.pending.attempts:  # a sink failed it: the sweep tries again then
                shown["pending"]["failed_attempts"] = incident.pending.attempts
                shown["pending"]["retry_at"] = _time(incident.pending.retry_at)
    return shown


def _marked(matcher: str) -> str:
    """A matcher as it can be shown: each invisible character (which the redactor drops) or
    one a terminal acts on written as `<U+200B>`, so the operator sees why `team=pay<U+200B>ments`
    (pasted with it) does not match `payments`; so is a letter drawn like a Latin one inside
    a Latin word (`view.spelled_look_alikes`: `team=p<U+0430>yments`, a Cyrillic a typed on
    another keyboard layout), which would read as the `team=payments` it does not quiet."""
    spelled = spelled_look_alikes(matcher, _code_point)
    return "".join(_code_point(ch) if dropped(ch) or not ch.isprintable() else ch for ch in spelled)


def _code_point(ch: str) -> str:
    """`ch` written as its code point, as a matcher shows a character it must not hide."""
    return f"<U+{ord(ch):04X}>"


def silence_json(silence: Silence, redactor: Redactor, now: datetime) -> dict[str, Any]:
    text = redactor.text
    return {
        "id": silence.id,
        "matchers": [text(_marked(str(m))) for m in silence.matchers],
        "starts_at": _time(silence.starts_at),
        "ends_at": _time(silence.ends()),
        "active": silence.active(now),
        "comment": text(silence.comment),
        "author": text(silence.author),
    }


#: Open incidents a silence's `matching` names, most urgent first (it counts them all).
MATCHING_NAMED = 10
#: Silences a listing says `matching` for, soonest end first: each is matched against every
#: open incident (at most `_CHECKED`, fewer within a view's `MATCH_BUDGET`).
MATCHED_SILENCES = 100
#: Silence-by-incident matches one view of the page or the API's silence list makes at most.
#: A match costs ~15 µs: 50 silences against 5,000 open incidents in a storm were 250,000 of
#: them, seconds of CPU per view, past the port's 5 s deadline, so the operator got no page
#: when they needed it most. Within it each silence is matched against fewer of the most
#: urgent open incidents, and the answer says how many it checked.
MATCH_BUDGET = 40_000


def open_subjects(
    incidents: Iterable[Incident], most: int | None = None
) -> list[tuple[Incident, AsShown]]:
    """The open incidents (at most `most`, `_CHECKED` unless given; most urgent first), each
    with what a silence matches it by: read (and redacted) once, however many silences are
    matched against it."""
    opened = _ordered(i for i in incidents if _listed_state(i) == "open")
    kept = opened[: _CHECKED if most is None else most]
    return [(incident, as_shown(_subject(incident))) for incident in kept]


def checked_within_budget(silences: int) -> int:
    """How many open incidents each of `silences` silences is matched against in one view:
    `_CHECKED`, or fewer so that together they make at most MATCH_BUDGET matches."""
    return max(1, min(_CHECKED, MATCH_BUDGET // max(1, silences)))


def matching_json(
    silence: Silence,
    subjects: Sequence[tuple[Incident, AsShown]],
    redactor: Redactor,
    *,
    partly: bool | None = None,
    matched: list[Incident] | None = None,
) -> dict[str, Any]:
    """Which open incidents `silence` matches (whether or not it is in effect): how many,
    and the first `MATCHING_NAMED` by fingerprint and title; `checked` (how many were) only
    when there were more open incidents than `subjects`: `partly` says so, else `subjects`
    being `open_subjects`' most does. `matched`: those it matches, when worked out already
    (`silences_json`, for many silences at once)."""
    if matched is None:
        matched = [incident for incident, subject in subjects if silence.matches(subject)]
    shown: dict[str, Any] = {
        "open": len(matched),
        "incidents": [
            {"fingerprint": i.fingerprint, "title": redactor.text(i.title)}
            for i in matched[:MATCHING_NAMED]
        ],
    }
    if partly if partly is not None else len(subjects) == _CHECKED:
        shown["checked"] = len(subjects)
    return shown


def silences_json(
    silences: Sequence[Silence],
    incidents: Iterable[Incident],
    redactor: Redactor,
    now: datetime,
    *,
    budgeted: bool = False,
) -> list[dict[str, Any]]:
    """Silences as listed, each of the first `MATCHED_SILENCES` with its `matching`; against
    fewer open incidents when `budgeted` (a view on the daemon's port: MATCH_BUDGET)."""
    incidents = list(incidents)
    matched = silences[:MATCHED_SILENCES]
    most = checked_within_budget(len(matched)) if budgeted else _CHECKED
    subjects = open_subjects(incidents, most)
    partly = None
    if budgeted:
        partly = sum(1 for i in incidents if _listed_state(i) == "open") > len(subjects)
    shown = [silence_json(s, redactor, now) for s in silences]
    by_silence = _matched_by_silence(matched, subjects)
    for silence, listed, found in zip(matched, shown, by_silence, strict=False):
        listed["matching"] = matching_json(
            silence, subjects, redactor, partly=partly, matched=found
        )
    return shown


def _matched_by_silence(
    silences: Sequence[Silence], subjects: Sequence[tuple[Incident, AsShown]]
) -> list[list[Incident]]:
    """Per silence of `silences`, the incidents of `subjects` (in their order) it matches:
    each incident matched against the silences its values can satisfy
    (`SilenceIndex.positions`), not all of them, so a list of a hundred silences costs about
    what one does."""
    index = SilenceIndex(silences)
    matched: list[list[Incident]] = [[] for _ in silences]
    for incident, subject in subjects:
        for position in index.positions(subject):
            if silences[position].matches(subject):
                matched[position].append(incident)
    return matched


def new_silence(
    matchers: Sequence[str],
    duration: str | None,
    comment: str,
    author: str,
    now: datetime,
    redactor: Redactor | None = None,
    *,
    until: str | None = None,
) -> Silence:
    """A silence from its command-line or API form, lasting `duration` or ending at `until`
    (one of them); ValueError names the first mistake. Its comment and author are redacted
    before it is stored, as alert text is: whoever reads the shared store must not find a
    credential an operator quoted (matchers are kept as typed: they must equal what alerts
    hold)."""
    if len(matchers) > MAX_MATCHERS:  # counted before any regex is compiled
        raise ValueError(f"a silence takes at most {MAX_MATCHERS} matchers")
    redactor = redactor or Redactor()
    parsed = [_new_matcher(m, redactor) for m in matchers]
    problem = note_problem(comment, author)
    if problem is not None:
        raise ValueError(problem)
    redacted = redactor.text
    ends = _silence_end(duration, until, now)
    return Silence.new(parsed, now, ends, redacted(comment), redacted(author) or "unknown")


def given_author(author: str | None, otherwise: Callable[[], str]) -> str:
    """The author an operator gave, trimmed; `otherwise()` when none was given or it is
    blank (a script's `--author "$AUTHOR"` with AUTHOR unset), on the command line and the
    API alike: a silence or close note credited to spaces says nobody who acted."""
    trimmed = (author or "").strip()
    return trimmed or otherwise()


def note_problem(comment: str, author: str) -> str | None:
    """Why an operator's comment and author (of a silence, of a close by hand) cannot be kept
    as written, or None: longer than a note holds, or not valid Unicode (an argument whose
    bytes were not UTF-8), which, stored or sent, would fail every page and line showing it."""
    for name, text, most in (("comment", comment, 1000), ("author", author, 100)):
        if len(text) > most:  # said which, and by how much: a paste, or a script's variable
            return f"{name}: {len(text):,} characters, more than a note keeps ({most:,})"
    for name, text in (("comment", comment), ("author", author)):
        if not is_unicode(text):
            return f"{name} is not valid Unicode (a lone surrogate)"
    return None


#: What an `=` or `!=` value of a new matcher may not start with: `env!=~prod` (`!~`
#: misremembered) would be read as "not the literal ~prod" and quiet every alert of the
#: silence's other matchers, `env==prod` and `env=!prod` would quiet nothing.
_OPERATOR_CHARS = ("~", "=", "!")


def _new_matcher(text: str, redactor: Redactor) -> Matcher:
    """A matcher as typed; an `=` or `!=` value is kept redacted, as the alerts it is matched
    against are (a secret typed into it is never stored, and it still matches). A regular
    expression is kept as typed: redacted, `.*token=.*` would become another pattern."""
    _refuse_braces(text)
    matcher = Matcher.parse(text)
    _refuse_quoted(matcher)
    made = _new_pattern(matcher) if matcher.is_regex else _new_value(matcher, redactor)
    _refuse_unknown_source(made)
    return made


#: A character written by its code, as triage shows one it must not hide: `<U+0430>` (a
#: silence's matcher, `_code_point`) or `\\u0430` (a page, the terminal; a character past U+FFFF
#: as its surrogate pair, `\\ud835\\udc29`), not after a backslash (`\\\\u0430` is how those write
#: the alert's own backslash and letters).
_SPELLED_CODE = re.compile(
    r"<U\+(?P<code_point>[0-9A-Fa-f]{4,6})>"
    r"|(?<!\\)\\u(?P<high>[dD][89abAB][0-9a-fA-F]{2})\\u(?P<low>[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<!\\)\\u(?P<single>[0-9a-fA-F]{4})"
)


def unspelled(value: str) -> str:
    """`value` with each character written by its code as triage's lists and pages write one
    they must not hide, back as that character: a matcher copied from what triage shows holds
    for the value shown. `<U+…>` is any character (a listing spells invisible ones so too);
    `\\u…` only a letter or a mark (a letter drawn like a Latin one, `p\\u0430yments`), as an
    alert's own text may spell a control so (`pay\\u001bments`, matched as typed). A code
    that names no character (half a surrogate pair, past U+10FFFF) stays as typed."""
    if "<U+" not in value and "\\u" not in value:
        return value
    return _SPELLED_CODE.sub(_character, value)


def _character(found: re.Match[str]) -> str:
    code_point, high, low, single = found.group("code_point", "high", "low", "single")
    if high is not None:
        code = 0x10000 + ((int(high, 16) - 0xD800) << 10) + (int(low, 16) - 0xDC00)
    else:
        code = int(code_point or single, 16)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return found.group()
    if code_point is None and unicodedata.category(chr(code))[0] not in "LM":
        return found.group()
    return chr(code)


def _new_value(matcher: Matcher, redactor: Redactor) -> Matcher:
    """An `=` or `!=` matcher as kept: refused when its value can only mislead, else with
    the value redacted, and a character written by its code (`p<U+0430>yments`, copied from
    a silence list) read as that character."""
    matcher = Matcher.build(matcher.name, matcher.op, unspelled(matcher.value))
    if matcher.value[:1] in _OPERATOR_CHARS:
        raise ValueError(
            f"matcher {quoted(str(matcher))}: its value starts with {matcher.value[0]!r}, as a "
            "mistyped operator's would (env!=~x, env==x, env=!x); the operators are =, !=, "
            f"=~ and !~{_meant_operator(matcher)}"
        )
    if not _holdable(matcher.value):
        raise ValueError(
            f"matcher {quoted(str(matcher))}: no alert value is like this one (alert values "
            "are trimmed and single-spaced, without controls or bidi marks): pasted text?"
        )
    return Matcher.build(
        matcher.name, matcher.op, shown_value(matcher.name, matcher.value, redactor)
    )


def _refuse_unknown_source(matcher: Matcher) -> None:
    """ValueError for a matcher on `source` that no source an alert can have satisfies as
    written (`source=cloudwatchh`, `source=~sentryy`: quieting or listing nothing) or that
    excludes none (`source!=cloudwatchh`: the other matchers' every alert, the source meant
    too), as `--source` and the routes file refuse an unknown source. An empty value is left
    to the other checks: `source!=` holds for every alert, as it is said when made."""
    from triage.routes import KNOWN_SOURCES

    if matcher.name != "source" or not matcher.value:
        return
    names_a_source = matcher.op in (Op.EQ, Op.RE)
    if any(matcher.holds_for(source) is names_a_source for source in KNOWN_SOURCES):
        return
    if matcher.is_regex:
        why = "the pattern matches no source an alert has"
    else:
        why = f"no alert has source {quoted(matcher.value, 40)}"
    raise ValueError(
        f"matcher {quoted(str(matcher))}: {why}{_source_meant(matcher.value)}; sources are "
        f"{', '.join(KNOWN_SOURCES)}"
    )


#: An escape inside Alertmanager's double-quoted value: `\"`, `\\` or `\n`.
_AMTOOL_ESCAPE = re.compile(r'\\(["\\n])')
#: A double quote inside one, that no backslash escapes: where a quoted value ended.
_UNESCAPED_QUOTE = re.compile(r'(?<!\\)"')


def _refuse_braces(text: str) -> None:
    """ValueError for Alertmanager's selector copied whole (`{env!~"prod|staging"}`), saying
    what to write: parsed, it would be refused as `{env` being no label name."""
    if text.lstrip().startswith("{"):
        raise ValueError(
            f"matcher {quoted(text)}: Alertmanager's selector in braces; give each matcher on "
            "its own, without braces or quotes (env!~prod|staging)"
        )


def _refuse_quoted(matcher: Matcher) -> None:
    """ValueError for a value in double quotes, as amtool and Alertmanager's own silence form
    write it (`env!~"prod|staging"`): here quotes are part of the value, and alert values
    seldom have them around them, so `=` and `=~` would hold for none and `!=` and `!~`
    exclude nothing, quieting the very alerts they name. The error names the matcher
    unquoted; a value that is quoted indeed is matched by a pattern (`title=~\\".*\\"`)."""
    value = matcher.value.strip()
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return
    if _UNESCAPED_QUOTE.search(value[1:-1]):  # env="prod", team="db": a list, not a value
        raise ValueError(
            f"matcher {quoted(str(matcher))}: the value holds quotes as Alertmanager's list of "
            "matchers does; give each matcher on its own, without quotes (team=db)"
        )
    unquoted = _AMTOOL_ESCAPE.sub(lambda m: "\n" if m[1] == "n" else m[1], value[1:-1])
    meant = f"{matcher.name}{matcher.op.value}{unquoted}"
    raise ValueError(
        f"matcher {quoted(str(matcher))}: the value is in double quotes, as Alertmanager writes "
        f"it; here they would be part of the value: did you mean {quoted(meant)}?"
    )


def _new_pattern(matcher: Matcher) -> Matcher:
    """A regular expression as typed, unless it can only mislead: every value a matcher reads
    is trimmed, so `env!~ prod` (copied from Alertmanager, which trims around the operator)
    would exclude nothing and quiet every other env too, and `env=~ prod` would match nothing;
    so would a pattern holding a character the redactor drops from every value (the
    zero-width space of `#\u200b4` in a title copied from GitHub); and a label whose values
    redaction hides is matched as `[REDACTED:password]` (`_hidden_pattern_problem`)."""
    hidden = _hidden_pattern_problem(matcher)
    if hidden is not None:
        raise ValueError(hidden)
    invisible = next((ch for ch in matcher.value if dropped(ch)), None)
    if invisible is not None:
        # An `=` value loses it as every alert's does; a pattern cannot (`[^…]`, `\…`).
        raise ValueError(
            f"matcher {quoted(_marked(str(matcher)))}: the pattern holds {_code_point(invisible)}, "
            "which no alert value has (it is dropped from every one), so =~ would hold for none "
            "and !~ exclude nothing: pasted from a GitHub title or a Slack message? write the "
            "pattern without it"
        )
    trimmed = matcher.value.strip()
    if trimmed != matcher.value:
        meant = f"{matcher.name}{matcher.op.value}{trimmed}"
        raise ValueError(
            f"matcher {quoted(str(matcher))}: the pattern starts or ends with whitespace, which "
            f"no alert value does (they are trimmed): did you mean {quoted(meant)}?"
        )
    return matcher


#: One value of each shape redaction hides under a name that says a secret only by its
#: value's shape (`named_value_secret`): a token of mixed case and digits (a `session` id, a
#: `pass`, a `jwt`, a `cache_key`'s key, an SNMP community), a key of 40 hex characters, and
#: a user:password pair (`cred`).
_SECRET_SHAPES = (
    "Zx9Qw3Er7Ty1Ui5Op2As8Df4",
    "3f9a0c1d2e4b5a6978c0d1e2f3a4b5c6d7e8f901",
    "ops:Zx9Qw3Er7Ty1",
)


def _hidden_pattern_problem(matcher: Matcher) -> str | None:
    """Why a pattern on `matcher`'s label can only mislead, or None: alerts show (and
    silences match) the label's value as `[REDACTED:password]` whatever it is (a secret's
    name: `db_password`), or whenever it has a secret's shape (`session`, `pass`, `jwt`, a
    key's name), and no pattern tells one hidden value from another. Such a pattern would
    silently miss every hidden value, or take them all by the placeholder; a match that
    depended on the hidden value would let whoever adds silences probe it. The message does
    not repeat the pattern, which may hold the secret."""
    name, typed = matcher.name, f"{matcher.name}{matcher.op.value}"
    if secret_named(name):
        return (
            f"matcher {typed}…: {name} is named as a secret, so alerts show its value (and "
            "silences match it) as [REDACTED:password], which no pattern tells apart: for "
            # Each matcher ends its clause: a word after `db_password=` would be redacted on
            # the way out as the value it seems to give.
            f"alerts with one write {name}!=, for alerts without one write {name}="
        )
    if _hidden_by_shape(name):
        return (
            f"matcher {typed}…: alerts show a {name} that has a secret's shape (and silences "
            "match it) as [REDACTED:password], which no pattern tells apart: write "
            f"{name}=VALUE for a value as alerts show it, {name}=[REDACTED:password] for every "
            f"hidden one, {name}!= for alerts with one, {name}= for alerts without"
        )
    return None


def _hidden_by_shape(name: str) -> bool:
    """Whether redaction hides some values of label `name` by their shape alone, as it
    redacts alerts' labels (`named_value_secret`); a field's value is redacted as text,
    whatever its name."""
    return name not in FIELDS and any(named_value_secret(name, v) for v in _SECRET_SHAPES)


def _meant_operator(matcher: Matcher) -> str:
    """The matcher `env!=~prod` was typed for, `env!~prod` (the value does not match the
    regular expression), as the refusal's hint; "" for the other mistyped operators."""
    if matcher.op is not Op.NE or not matcher.value.startswith("~"):
        return ""
    meant = f"{matcher.name}{Op.NRE.value}{matcher.value[1:]}"
    return f" (did you mean {quoted(meant)}?)"


def _holdable(value: str) -> bool:
    """Whether an alert's value can equal `value`: every field a matcher reads was made one
    line by the normaliser (trimmed, whitespace collapsed, controls and bidi marks removed),
    so an `=` value it would change never holds, and a `!=` one always does. Checked when a
    silence is made, not when one is read: a stored one keeps working as it did."""
    return not value or line(value, "matcher", MAX_VALUE_CHARS) == value


#: Open incidents a new silence is matched against for its warning: each costs the values'
#: redaction (about 20 µs), and the API does it on the daemon's event loop.
_CHECKED = 5000


#: How much earlier than the kept silence's end an add may ask to end and still be taken for
#: the same end asked again: a duration add retried on a replica whose clock reads a few
#: seconds behind the first one's (`dynamodb.CLOCK_TRUSTED_S`) ends that much earlier.
_SAME_END_WITHIN = timedelta(minutes=1)


def silence_warnings(
    silence: Silence,
    incidents: Sequence[Incident],
    *,
    asked: Silence | None = None,
    silences: Iterable[Silence] = (),
) -> list[str]:
    """What the operator who just added `silence` (the store's answer to the add of `asked`)
    should hear, judged by the store's incidents and `silences`: that it ends later than
    asked (`end_kept_warning`), or that another silence quiets the same alerts for longer
    (`outlasting_warnings`), so the end asked for is not when they are heard again; a
    matcher on a label no incident has (`Team=payments` for `team=`, a label the source never
    writes) can only hold if such alerts come, and a silence that matches no open incident
    quiets none of those the operator is looking at. Warnings, not refusals: a silence may be
    made ahead of the alerts it is for. A silence that matches every alert (`title=~.+`) is
    made too, as Alertmanager makes it, and the operator hears that it quiets everything."""
    subjects = [(incident, _subject(incident)) for incident in incidents]
    everything = every_alert_warning(silence)
    warnings = [everything] if everything else []
    kept = end_kept_warning(asked, silence) if asked is not None else None
    warnings += [kept] if kept else []
    warnings += outlasting_warnings(silence, silences)
    warnings += unknown_label_warnings(silence.matchers, [subject for _, subject in subjects])
    opened = [subject for incident, subject in subjects if _listed_state(incident) == "open"]
    checked = opened[:_CHECKED]
    if not any(silence.matches(subject) for subject in checked):
        counted = f"{len(opened)}" if checked == opened else f"{len(checked)} (of {len(opened)})"
        warnings.append(
            f"it matches none of the {counted} open incidents: it quiets only alerts "
            "that arrive while it lasts"
        )
        warnings.extend(case_hints(silence.matchers, checked))
        warnings.extend(_look_alike_hints(silence, checked))
    warnings.extend(_negation_case_hints(silence, checked))
    return warnings


#: Matchers an `every_alert_warning` names, at most.
_EVERY_ALERT_NAMED = 3


def every_alert_warning(silence: Silence) -> str | None:
    """The warning when `silence` matches every alert (`Silence.matches_every_alert`): while
    it lasts nothing opens or notifies, which a matcher meant to narrow it may have failed to
    do (`title!=` for `title!=x`, `.+` for a pattern)."""
    if not silence.matches_every_alert():
        return None
    named = ", ".join(repr(str(m)[:80]) for m in silence.matchers[:_EVERY_ALERT_NAMED])
    more = len(silence.matchers) - _EVERY_ALERT_NAMED
    named += f" and {more} more" if more > 0 else ""
    return (
        f"it matches every alert ({named} hold for any): while it lasts, every alert is "
        "counted but opens, updates, reopens and notifies nothing; add a matcher that narrows "
        "it (team=…, source=…) unless that is what you mean"
    )


def end_kept_warning(asked: Silence, kept: Silence) -> str | None:
    """The warning when the store answered the add of `asked` with `kept`, a silence with the
    same matchers, comment and author that ends later (`silences.twin_of`): it quiets until
    its own end, as two Alertmanager silences would until the later one ends, and an operator
    who asked for an earlier end must hear that it is not the one in effect, and how to get it
    (without a moment unsilenced between: the new silence first, then the expiry)."""
    if kept.id == asked.id or kept.ends() - asked.ends_at <= _SAME_END_WITHIN:
        return None
    wanted = _time(asked.ends_at)
    return (
        f"silence {kept.id}, with the same matchers, comment and author, is in effect until "
        f"{_time(kept.ends())}: it is kept, ending then and not at {wanted} (adding a "
        f"silence again never shortens it); to end the quiet at {wanted}, add this silence "
        f"with another comment, then expire {kept.id}"
    )


#: Other silences named by `outlasting_warnings`, at most.
_OUTLASTING_NAMED = 3


def outlasting_warnings(silence: Silence, silences: Iterable[Silence]) -> list[str]:
    """One warning for each other silence of `silences` that holds for every alert `silence`
    does (its matchers are a subset of `silence`'s) and ends later: those alerts stay quiet
    until it ends, whatever end `silence` asked for (as with Alertmanager, silences overlap,
    and the last to end decides). Each names the silence and its end, not its matchers (the
    operator can list them), and how to end the quiet sooner."""
    mine = frozenset(silence.matchers)
    outlasting = [
        other
        for other in silences
        if other.id != silence.id
        and other.ends() - silence.ends() > _SAME_END_WITHIN
        and frozenset(other.matchers) <= mine
    ]
    return [
        f"silence {other.id} holds for every alert this one does and lasts until "
        f"{_time(other.ends())}: they stay quiet until then, not until {_time(silence.ends())}; "
        f"to end the quiet sooner, expire {other.id} too"
        for other in sorted(outlasting, key=lambda s: s.ends(), reverse=True)[:_OUTLASTING_NAMED]
    ]


def case_hints(
    matchers: Iterable[Matcher], subjects: Sequence[Subject], whose: str = "open incidents"
) -> list[str]:
    """For each `=` or `=~` matcher (a silence's, or a listing's filter that listed none) no
    subject holds, the value a subject has that it would hold for were case ignored: `triage
    incidents list --team` ignores case, and an operator who copies the team from a thought
    (`payments`) rather than from the listing (`Payments`) gets a silence that holds for
    nothing. `whose`: what `subjects` are, as the hint names them."""
    hints = []
    for matcher in matchers:
        if matcher.op not in (Op.EQ, Op.RE) or any(matcher.holds(s) for s in subjects):
            continue
        have = _value_ignoring_case(matcher, subjects, holds=True)
        if have is not None:
            hints.append(
                f"matcher {quoted(str(matcher))}: values are case-sensitive, and {whose} "
                f"have {matcher.name}={have[:80]}"
            )
    return hints


def _look_alike_hints(silence: Silence, subjects: Sequence[Subject]) -> list[str]:
    """For each `=` or `=~` matcher no subject holds whose value has a letter of another
    script drawn like a Latin one inside a Latin word (`team=p\u0430yments`, a Cyrillic a
    typed on another keyboard layout), that letter by its code and name, and the value of an
    open incident it would hold for with a Latin letter there: the matcher reads as
    `payments` and quiets none of its alerts, and "matches none" alone does not say why."""
    hints = []
    for matcher in silence.matchers:
        if matcher.op not in (Op.EQ, Op.RE) or any(matcher.holds(s) for s in subjects):
            continue
        letters = _look_alike_letters(matcher.value)
        if not letters:
            continue
        named = ", ".join(f"{_code_point(ch)} ({unicodedata.name(ch, '?')})" for ch in letters)
        hint = (
            f"matcher {quoted(_marked(str(matcher)))}: it holds {named}, a letter of another "
            "script drawn like a Latin one"
        )
        have = _value_with_any_letter(matcher, letters, subjects)
        if have is not None:
            hint += f", and open incidents have {matcher.name}={have[:80]}"
        hints.append(hint + ": typed on another keyboard layout?")
    return hints


def _look_alike_letters(value: str) -> list[str]:
    """The letters of `value` that `view.spelled_look_alikes` would spell (each once, in
    order): those drawn like a Latin one inside a Latin word."""
    found: list[str] = []

    def note(ch: str) -> str:
        if ch not in found:
            found.append(ch)
        return ch

    spelled_look_alikes(value, note)
    return found


def _value_with_any_letter(
    matcher: Matcher, letters: Sequence[str], subjects: Sequence[Subject]
) -> str | None:
    """A subject's value `matcher` would hold for were each of `letters` any ASCII letter
    (`p[a-zA-Z]yments`): what the operator meant, when one has it."""
    kept: Callable[[str], str] = str if matcher.is_regex else re.escape
    latin = "".join("[a-zA-Z]" if ch in letters else kept(ch) for ch in matcher.value)
    try:
        meant = Matcher.build(matcher.name, Op.RE, latin)
    except ValueError:  # a pattern too large once widened: no value is named
        return None
    values = (as_shown(s).value(matcher.name) for s in subjects)
    return next((v for v in values if meant.holds_for(v)), None)


def _negation_case_hints(silence: Silence, subjects: Sequence[Subject]) -> list[str]:
    """For each `!=` or `!~` matcher, a value of an open incident it lets through only because
    of case (`env!~Prod|staging` where incidents have env=prod): a negation that excludes
    nothing quiets what it was written to spare, and no other warning says so, as the
    silence then matches."""
    hints = []
    for matcher in silence.matchers:
        if matcher.op not in (Op.NE, Op.NRE):
            continue
        have = _value_ignoring_case(matcher, subjects, holds=False)
        if have is not None:
            hints.append(
                f"matcher {quoted(str(matcher))}: values are case-sensitive, and it excludes "
                f"none of the open incidents with {matcher.name}={have[:80]}"
            )
    return hints


def _value_ignoring_case(
    matcher: Matcher, subjects: Sequence[Subject], *, holds: bool
) -> str | None:
    """A subject's value for `matcher` whose outcome case decides: one it would hold for
    (`holds`) or not (otherwise) were case ignored, and does the opposite as written."""
    folded = _ignoring_case(matcher)
    if folded is None:
        return None
    values = (as_shown(s).value(matcher.name) for s in subjects)
    return next(
        (v for v in values if folded(v) is holds and matcher.holds_for(v) is not holds), None
    )


def _ignoring_case(matcher: Matcher) -> Callable[[str], bool] | None:
    """Whether `matcher` would hold for a value were case ignored; None for a pattern RE2
    compiles too large once it ignores case (case folding widens Unicode classes)."""
    if not matcher.is_regex:
        wanted, equal = matcher.value.casefold(), matcher.op is Op.EQ
        return lambda have: (have.casefold() == wanted) is equal
    try:
        return Matcher.build(matcher.name, matcher.op, f"(?i:{matcher.value})").holds_for
    except ValueError:
        return None


def unknown_label_warnings(matchers: Iterable[Matcher], subjects: Sequence[Subject]) -> list[str]:
    """A warning per matcher on a name none of `subjects` has (`_unknown_name`): a silence's,
    which can quiet only alerts yet to come, or a listing's filter, which lists nothing (or,
    negated, everything) while reading as an answer about the label meant."""
    names = set(FIELDS).union(*(subject.labels for subject in subjects))
    return [
        warning
        for matcher in matchers
        if matcher.name not in names and (warning := _unknown_name(matcher, names))
    ]


def subjects_of(incidents: Iterable[Incident]) -> list[Subject]:
    """What matchers are matched against for each of `incidents` (`_subject`)."""
    return [_subject(incident) for incident in incidents]


def _unknown_name(matcher: Matcher, names: set[str]) -> str | None:
    """The warning for a matcher whose name no incident holds, with the likeliest name meant.
    A matcher an absent label satisfies (`canary!=true`, `canary!~true`) excludes what no
    alert has yet, which is no mistake, unless a name near it is one incidents have
    (`Env!~prod` for `env`): then it excludes nothing it was written to exclude."""
    by_case = {name.lower(): name for name in names}
    meant = by_case.get(matcher.name.lower()) or next(
        iter(difflib.get_close_matches(matcher.name, sorted(names), n=1, cutoff=0.75)), None
    )
    absent_holds = matcher.holds_when_absent()
    if absent_holds and meant is None:
        return None
    hint = f" (did you mean {meant!r}?)" if meant else ""
    effect = f", so it holds for every alert without {matcher.name!r}" if absent_holds else ""
    return (
        f"matcher {quoted(str(matcher))}: no incident in the store has a label {matcher.name!r}"
        f"{hint}{effect}; names are case-sensitive, and the fields are {', '.join(FIELDS)}"
    )


def _subject(incident: Incident) -> Subject:
    """What silences are matched against for a stored incident, as the sweep does
    (`sweep.subject_of`): the alert a silence holds, with its labels past the 64 it shows,
    else the incident as its ticket was opened, with the labels past the 64 it keeps."""
    if incident.held is None:
        return incident.matched
    from triage.incidents.codec import view_from_json

    return view_from_json(incident.held.alert).matched


def shown_silences(silences: Iterable[Silence], now: datetime, *, every: bool) -> list[Silence]:
    """Active and coming silences (with `every`, the recently ended too), soonest end first."""
    kept = [s for s in silences if every or s.may_mute(now)]
    return sorted(kept, key=lambda s: s.ends())


def _time(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None
