"""The deterministic summariser: a useful ticket from the alert alone, with no LLM.

Priority (the rule of `priority.py`): the source's stated priority; else the severity mapped by
`SEVERITY_PRIORITY`; else, with no severity or one we do not know, the first matching pattern's
hint moved at most one step from medium (a pattern matches alert text, which anyone can write),
with a line at the end of the description saying so; else medium. A line of the alert's text
stating another priority is corrected to the ticket's (`priority.agreeing`). Title: the alert's,
without its priority tags ("[P0]": `priority.untagged`), led by what failed and followed by
where when the alert names them and its title does not (`subject.py`). Steps: the runbook first, then the steps of the first (up to three) patterns in
`patterns.toml` that match the alert's text, then steps naming the alert's own metric, code
location and links; generic steps only make up three. Within the ticket contract (`base.py`).
Links are written as they open, as every sink writes them (`display.link_url`: no user info,
host as DNS spells it), and one that opens no http(s) host a label can name is left out; a URL
in the alert's own words that reads as another host is quoted as it opens
(`display.urls_as_opened`).
RE2 searches an alert with every pattern it can run, in time linear in the text
(`regex_linear`); `re` searches the first `PARTLY_SEARCHED_CHARS` with one it cannot, a cost
that does not grow with the text.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import structlog

from triage import config_files
from triage.display import link_url, urls_as_opened
from triage.errors import ConfigError
from triage.models import Priority, Ticket
from triage.normalize.common import cut, showing
from triage.settings import did_you_mean
from triage.summarise import subject
from triage.summarise.backtracking import backtracking
from triage.summarise.base import DESCRIPTION_CHARS, STEP_CHARS, TITLE_CHARS
from triage.summarise.priority import (
    SEVERITY_PRIORITY,
    Decision,
    agreeing,
    decide,
    default_priority,
    severity_priority,
    untagged,
)
from triage.summarise.regex_linear import (
    Alphabet,
    LinearRegex,
    LinearSet,
    Translation,
    Untranslatable,
    alphabets,
    translate,
)
from triage.view import RedactedAlert

__all__ = [
    "SEVERITY_PRIORITY",
    "DeterministicSummariser",
    "Pattern",
    "default_priority",
    "load_patterns",
]

log = structlog.get_logger(__name__)

#: Labels worth showing under "Where" and "What", in this order, when present.
_WHERE = (
    "account",
    "region",
    "namespace",
    "cluster",
    "service",
    "host",
    "instance",
    "device_id",
    "job",
    "mountpoint",
)
_MAX_STEPS = 8
_MAX_PATTERNS = 3


@dataclass(frozen=True, slots=True)
class Pattern:
    category: str
    regex: re.Pattern[str]
    severity_hint: Priority
    steps: tuple[str, ...]
    #: `regex` in ASCII mode, when it finds what `regex` finds in ASCII text (`_ascii_twin`):
    #: case-insensitive search is a third cheaper there, for a pattern `linear` is None for.
    ascii_regex: re.Pattern[str] | None = None
    #: The RE2 programs of the file this pattern came from, and its place among them
    #: (`linear`). Derived from `regex`, so two patterns of one regex are equal whatever
    #: they hold.
    programs: Programs | None = dataclasses.field(default=None, compare=False, repr=False)
    index: int = dataclasses.field(default=0, compare=False, repr=False)

    @property
    def linear(self) -> LinearRegex | None:
        """`regex` run by RE2 in time linear in the text (`regex_linear`), finding what it
        finds; None for one RE2 cannot run (or made by hand), searched by `re` in the first
        `PARTLY_SEARCHED_CHARS`."""
        return None if self.programs is None else self.programs.program(self.index)


class Programs:
    """The RE2 programs of one patterns file, built when the first alert is matched rather
    than as the file loads: building the alphabets reads tables of every code point (~0.15 s
    of CPU), which would otherwise count against the daemon's start-up (bench: ≤ 1 s to its
    first receive) though a storm of repeats never summarises. The patterns file is checked
    in full as it loads either way. One lock: the summariser matches in worker threads."""

    def __init__(self, patterns: tuple[Pattern, ...], where: str) -> None:
        self._regexes = [(p.regex, p.category) for p in patterns]
        self._where = where
        self._built: tuple[LinearRegex | None, ...] | None = None
        #: Per alphabet (by id): its programs as one set, and the index of each member.
        self._sets: dict[int, tuple[LinearSet, tuple[int, ...]] | None] = {}
        self._lock = threading.Lock()

    def program(self, index: int) -> LinearRegex | None:
        built = self._built
        if built is None:
            with self._lock:
                if self._built is None:
                    self._sets = _sets(built := _searched_linearly(self._regexes, self._where))
                    self._built = built
                built = self._built
        return built[index]

    def matching(self, alphabet: Alphabet, encoded: bytes) -> frozenset[int] | None:
        """The indexes of the patterns of `alphabet` matching the text it encoded as
        `encoded`, searched as one set; None when RE2 could not build their set (each is
        then searched alone). Asked only of a pattern's alphabet, so its programs are built."""
        found = self._sets.get(id(alphabet))
        if found is None:
            return None
        regexes, indexes = found
        return frozenset(indexes[at] for at in regexes.search(encoded))


def _sets(
    built: tuple[LinearRegex | None, ...],
) -> dict[int, tuple[LinearSet, tuple[int, ...]] | None]:
    """The programs of each alphabet as one `LinearSet` (None for one RE2 cannot build)."""
    members: dict[int, list[int]] = {}
    for index, linear in enumerate(built):
        if linear is not None:
            members.setdefault(id(linear.alphabet), []).append(index)
    sets: dict[int, tuple[LinearSet, tuple[int, ...]] | None] = {}
    for key, indexes in members.items():
        try:
            regexes = LinearSet([built[i] for i in indexes])  # type: ignore[misc]
        except Untranslatable:
            sets[key] = None
        else:
            sets[key] = (regexes, tuple(indexes))
    return sets


#: A larger file is no patterns file: refused before it is read whole.
MAX_PATTERNS_BYTES = 1 << 20


def load_patterns(path: Path | None = None) -> tuple[Pattern, ...]:
    """Read a patterns file (the bundled one by default); any mistake is a ConfigError of one
    line, worded as the routes file's are."""
    if not path:
        return _bundled_patterns()
    return _parsed(_read_patterns(path), str(path))


@functools.cache
def _bundled_patterns() -> tuple[Pattern, ...]:
    """The bundled file, read and checked once per process (~20 ms of CPU): it never changes
    while the process runs, and its patterns are immutable."""
    text = (resources.files(__package__) / "patterns.toml").read_text(encoding="utf-8")
    return _parsed(text, "bundled patterns.toml")


def _parsed(text: str, name: str) -> tuple[Pattern, ...]:
    data = config_files.parse_toml(text, f"TRIAGE_PATTERNS_FILE {name}")
    entries = _entries(data, f"TRIAGE_PATTERNS_FILE {name}")
    patterns = tuple(
        _pattern(entry, f"TRIAGE_PATTERNS_FILE {name}: [[pattern]] #{i + 1}")
        for i, entry in enumerate(entries)
    )
    _refuse_repeated_regexes(patterns, f"TRIAGE_PATTERNS_FILE {name}")
    programs = Programs(patterns, f"TRIAGE_PATTERNS_FILE {name}")
    return tuple(
        dataclasses.replace(pattern, programs=programs, index=index)
        for index, pattern in enumerate(patterns)
    )


def _searched_linearly(
    regexes: list[tuple[re.Pattern[str], str]], where: str
) -> tuple[LinearRegex | None, ...]:
    """The RE2 program of each regex (with its entry's category) where RE2 can run it
    (sharing alphabets, so an alert's text is encoded once for most); one log line for each
    RE2 cannot run, saying why and how much of an alert it searches instead."""
    translations: dict[int, Translation] = {}
    reasons: dict[int, str] = {}
    for index, (regex, _category) in enumerate(regexes):
        try:
            translations[index] = translate(regex.pattern, regex.flags)
        except Untranslatable as exc:
            reasons[index] = str(exc)
    linear: dict[int, LinearRegex] = {}
    for index, alphabet in zip(translations, alphabets(list(translations.values())), strict=True):
        if alphabet is None:
            reasons[index] = "too many kinds of characters to tell apart (over 255)"
            continue
        try:
            linear[index] = LinearRegex(translations[index], alphabet)
        except Untranslatable as exc:
            reasons[index] = str(exc)
    for index, reason in sorted(reasons.items()):
        log.warning(
            "patterns.searched_in_part",
            where=f"{where}: [[pattern]] #{index + 1} ({regexes[index][1]})",
            reason=reason,
            chars=PARTLY_SEARCHED_CHARS,
        )
    return tuple(linear.get(index) for index in range(len(regexes)))


def _refuse_repeated_regexes(patterns: tuple[Pattern, ...], where: str) -> None:
    """A ConfigError for a regex two entries share: every alert the first matches, the second
    matches too, and the ticket would list both entries' steps for one cause."""
    first: dict[tuple[str, int], int] = {}
    for number, pattern in enumerate(patterns, start=1):
        key = (pattern.regex.pattern, pattern.regex.flags)
        if key in first:
            raise ConfigError(
                f"{where}: [[pattern]] #{number} ({pattern.category}): the same pattern as "
                f"#{first[key]}; merge their steps into one entry"
            )
        first[key] = number


def _entries(data: dict[str, Any], where: str) -> list[Any]:
    """The file's [[pattern]] entries; a ConfigError when there are none, naming the table a
    typo of [[pattern]] was written as."""
    entries = data.get("pattern", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{where}: pattern must be an array of tables ([[pattern]])")
    if not entries:
        typo = next((key for key in data if did_you_mean(key, ["pattern"])), None)
        hint = f" (written as [[{typo}]]?)" if typo else ""
        raise ConfigError(f"{where}: no [[pattern]] entries{hint}")
    _refuse_unknown(data, ("pattern",), where)
    return entries


def _read_patterns(path: Path) -> str:
    """The patterns file's text, or one ConfigError line saying why it cannot be read."""
    return config_files.read_text(path, "TRIAGE_PATTERNS_FILE", MAX_PATTERNS_BYTES)


#: The keys every [[pattern]] entry has.
_ENTRY_KEYS = ("category", "pattern", "severity_hint", "steps")


def _pattern(entry: Any, where: str) -> Pattern:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be a table ([[pattern]])")
    missing = next((key for key in _ENTRY_KEYS if key not in entry), None)
    if missing is not None:
        named = f" ({entry['category']})" if isinstance(entry.get("category"), str) else ""
        raise ConfigError(f"{where}{named}: missing key {missing!r}{_written_as(missing, entry)}")
    category = _category(entry["category"], where)
    _refuse_unknown(entry, _ENTRY_KEYS, f"{where} ({category})")
    pattern, hint, steps = (entry[key] for key in _ENTRY_KEYS[1:])
    regex = _regex(pattern, f"{where} ({category})")
    priority = _severity_hint(hint, f"{where} ({category})")
    if _UNBOUNDED_GAP.search(pattern):
        raise ConfigError(
            f"{where} ({category}): an unbounded gap (.*, .+, [^…]*, \\S+) costs the square of"
            " the alert's text on every search; bound it, as .{0,80}"
        )
    if not isinstance(steps, list) or not all(isinstance(s, str) for s in steps):
        raise ConfigError(f"{where} ({category}): steps must be a list of strings")
    _refuse_meaningless_steps(steps, f"{where} ({category})")
    return Pattern(category, regex, priority, tuple(steps), _ascii_twin(pattern))


def _refuse_meaningless_steps(steps: list[str], where: str) -> None:
    """A ConfigError for a step a reader could not act on: a blank one (an empty bullet in
    the ticket), or one listed twice (whitespace and case aside). No steps at all is an entry
    that only names a category and a severity."""
    seen: dict[str, int] = {}
    for number, step in enumerate(steps, start=1):
        words = " ".join(step.split()).casefold()
        if not words:
            raise ConfigError(f"{where}: step {number} is blank")
        if words in seen:
            raise ConfigError(f"{where}: step {number} repeats step {seen[words]}")
        seen[words] = number


#: A category is shown in tickets and logs and named by routes: words on one line.
_CATEGORY = re.compile(r"[^\x00-\x1f\x7f]{1,80}")


def _category(category: Any, where: str) -> str:
    """The entry's category, its whitespace collapsed as a routes file's words are (trimmed,
    each run of spaces one): a route must be able to name it, and `" disk-full "` kept as
    written could be named by none. A ConfigError for anything but a short name on one line."""
    if isinstance(category, str) and _CATEGORY.fullmatch(category) and category.strip():
        return " ".join(category.split())
    raise ConfigError(
        f"{where}: category must be a name (a string of 1 to 80 characters, no control characters)"
    )


#: How much of an unknown key an error shows (a key is any string TOML can quote).
_KEY_CHARS = 40


def _refuse_unknown(table: dict[str, Any], known: tuple[str, ...], where: str) -> None:
    """A ConfigError naming the first key of `table` that is not `known` (a typo of an
    optional key, a key of another tool's format, would otherwise be taken in silence), with
    the key it was a typo of, else the known ones."""
    unknown = next((key for key in table if key not in known), None)
    if unknown is None:
        return
    meant = did_you_mean(unknown, known) or f"; known: {', '.join(known)}"
    raise ConfigError(f"{where}: unknown key {unknown[:_KEY_CHARS]!r}{meant}")


def _regex(pattern: Any, where: str) -> re.Pattern[str]:
    """The entry's pattern compiled (case-insensitive); a ConfigError for what is no regular
    expression, is nested past the parser's stack, or can backtrack for exponential time on
    an alert (`backtracking.py`): every alert's text is searched with it. One that matches
    empty text matches every alert, so it is refused too."""
    if not isinstance(pattern, str):
        raise ConfigError(f"{where}: pattern must be a string (a regular expression)")
    try:
        regex = re.compile(pattern, re.IGNORECASE)
        slow = backtracking(pattern, re.IGNORECASE)
    except (re.error, OverflowError) as exc:  # OverflowError: a repeat count past re's own
        raise ConfigError(f"{where}: pattern is no regular expression: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{where}: pattern is nested too deeply") from None
    if slow is not None:
        raise ConfigError(f"{where}: {slow}")
    if regex.search(""):
        raise ConfigError(f"{where}: pattern matches any text (it matches empty text)")
    return regex


#: An escape that may name a character outside ASCII (\u, \U, \N{…}, \x, an octal) or a
#: group by its number: a pattern holding one gets no ASCII twin (a cautious test).
_WIDE_ESCAPE = re.compile(r"\\[uUNx0-9]")


def _ascii_twin(pattern: str) -> re.Pattern[str] | None:
    """`pattern` compiled case-insensitive in ASCII mode, when it reads ASCII text (`_ascii`)
    as in Unicode mode: every character it names is ASCII. Unicode case-folds some others to
    ASCII letters (the long s to s, the Kelvin sign to k), and `(?u)` refuses ASCII mode."""
    if not pattern.isascii() or _WIDE_ESCAPE.search(pattern):
        return None
    try:
        return re.compile(pattern, re.IGNORECASE | re.ASCII)
    except (re.error, ValueError):
        return None


#: The only ASCII characters whose class differs between the modes: Unicode's \s holds them.
_UNICODE_SPACES = re.compile("[\x1c-\x1f]")


def _ascii(text: str) -> bool:
    """Whether a pattern's ASCII twin reads `text` as the pattern does: ASCII text without the
    information separators (U+001C to U+001F), which only Unicode's \\s counts as spaces."""
    return text.isascii() and _UNICODE_SPACES.search(text) is None


def _written_as(missing: str, entry: dict[str, Any]) -> str:
    """` (written as 'key'?)` when a key of the entry is a typo of the missing one, else ""."""
    typo = next(
        (key for key in entry if key not in _ENTRY_KEYS and did_you_mean(key, [missing])), None
    )
    return f" (written as {typo!r}?)" if typo else ""


def _severity_hint(hint: Any, where: str) -> Priority:
    """The entry's severity_hint as a priority; a ConfigError naming the levels (and the one a
    typo was of) for any other word."""
    try:
        return Priority(hint)
    except ValueError:
        levels = [p.value for p in Priority]
        raise ConfigError(
            f"{where}: severity_hint must be {', '.join(levels[:-1])} or {levels[-1]}"
            f"{did_you_mean(hint, levels)}"
        ) from None


#: Only this much alert text is matched against the patterns, to bound regex work (RE2's
#: reads it once per pattern).
MATCH_CHARS = 8_000
#: A gap repeated without bound over a class that crosses words (`.*`, `.+`, `.{2,}`,
#: `[^,]*`, `\S+`, `\D*`, `\W*`): from each place a search may start, it runs to the end of
#: the text, so a text repeating the words before it (anyone can write "cert cert cert …")
#: costs quadratic time. Bounded gaps (`.{0,80}`) stay linear.
_UNBOUNDED_GAP = re.compile(
    r"(?<!\\)(?:\\\\)*(?:\.|\\[SDW]|\[\^(?:\\.|[^\]\\])+\])(?:[*+]|\{\d*,\})"
)


#: How much of an alert's text a pattern RE2 cannot run is searched: `re` retries such a
#: pattern at every place, so a search costs up to the square of this.
PARTLY_SEARCHED_CHARS = 1_000


def match(patterns: tuple[Pattern, ...], alert: RedactedAlert) -> list[Pattern]:
    """The first patterns (at most three, in file order) matching the alert's title,
    description and label values."""
    text = " ".join([alert.title, alert.description, *alert.labels.values()])[:MATCH_CHARS]
    encoded: dict[int, bytes] = {}
    matching: dict[tuple[int, int], frozenset[int] | None] = {}
    found: list[Pattern] = []
    for pattern in patterns:
        if _found(pattern, text, encoded, matching):
            found.append(pattern)
            if len(found) == _MAX_PATTERNS:
                break
    return found


def _found(
    pattern: Pattern,
    text: str,
    encoded: dict[int, bytes],
    matching: dict[tuple[int, int], frozenset[int] | None],
) -> bool:
    """Whether `pattern` matches `text`: by RE2 on the text as its alphabet encodes it
    (`encoded` keeps each alphabet's encoding for the next pattern; `matching`, which of a
    file's patterns of that alphabet its set found, `Programs.matching`), else by `re` on
    the text's start."""
    linear = pattern.linear
    if linear is None:
        start = text[:PARTLY_SEARCHED_CHARS]
        regex = pattern.ascii_regex if pattern.ascii_regex and _ascii(start) else pattern.regex
        return regex.search(start) is not None
    key = id(linear.alphabet)
    if key not in encoded:
        encoded[key] = linear.alphabet.encode(text)
    programs = pattern.programs
    if not isinstance(programs, Programs):  # a pattern given its program by hand
        return linear.search(encoded[key])
    where = (id(programs), key)
    if where not in matching:
        matching[where] = programs.matching(linear.alphabet, encoded[key])
    found = matching[where]
    return linear.search(encoded[key]) if found is None else pattern.index in found


class DeterministicSummariser:
    def __init__(self, patterns: tuple[Pattern, ...] | None = None) -> None:
        self.patterns = patterns if patterns is not None else load_patterns()

    async def summarise(self, alert: RedactedAlert) -> Ticket:
        return self.write(alert)

    def write(self, alert: RedactedAlert) -> Ticket:
        matched = self.match(alert)
        decision = self.priority(alert, matched)
        note = f"\n\n{decision.note}" if decision.note else ""
        # The alert's own text may state another priority than the ticket's (its description
        # "Priority: critical" beside a priority field of high): corrected, then cut.
        corrected = 0

        def stated(text: str, limit: int) -> str:
            nonlocal corrected
            text, count = agreeing(
                cut(urls_as_opened(text), limit, ellipsis=True),
                decision.priority,
                severity=alert.severity,
            )
            corrected += count
            return cut(text, limit, ellipsis=True) if count else text

        title, tags = _title(alert, decision.priority)
        corrected += tags
        ticket = Ticket(
            title=stated(title, TITLE_CHARS),
            priority=decision.priority,
            description=stated(
                _description(alert, matched, decision.priority), DESCRIPTION_CHARS - len(note)
            )
            + note,
            steps=tuple(stated(step, STEP_CHARS) for step in _steps(alert, matched)),
        )
        if corrected:
            log.info("summary.priority_corrected", count=corrected, priority=decision.priority)
        return ticket

    def match(self, alert: RedactedAlert) -> list[Pattern]:
        return match(self.patterns, alert)

    def priority(self, alert: RedactedAlert, matched: list[Pattern]) -> Decision:
        """The module docstring's rule; a known severity leaves no room for a pattern's hint."""
        hint = matched[0] if matched and severity_priority(alert.severity) is None else None
        return decide(
            alert.priority,
            alert.severity,
            hint.severity_hint if hint else None,
            by=f"from the known pattern {hint.category}" if hint else "",
            suggester="pattern",
        )

    async def aclose(self) -> None:
        """Nothing to release."""


def _title(alert: RedactedAlert, final: Priority) -> tuple[str, int]:
    """The alert's own title (for a group: what its alerts share and how many there are),
    without its priority tags (`priority.untagged`: each sink shows the ticket's `final`),
    led by what failed and followed by where, when the alert names them and the title does
    not (`subject.py`); and how many tags named another priority than `final`."""
    group = alert.group
    own = (
        alert.title if group is None or group.count <= 1 else f"{group.count} alerts: {group.title}"
    )
    title, tags = untagged(own, final)
    if not _visible(title):
        # A title of invisible characters only (zero-width, soft hyphens, tags) is empty once
        # redacted, one of priority tags alone once untagged; a ticket needs one, and this is
        # the summariser that must not fail.
        title = _untitled(alert)
    whats = subject.what(alert)
    if whats and not any(subject.names(title, w) for w in whats):
        title = f"{cut(whats[0], 60, ellipsis=True)}: {title}"
    suffix = ""
    places = subject.placed(alert)
    if places and not any(subject.names(title, value) for _, value in places):
        label, value = places[0]
        suffix = f" {'on' if label in _HOSTS else 'in'} {cut(value, 60, ellipsis=True)}"
        # A sentence's full stop would end the title before its place ("… i-0abc. in us-east-1").
        title = title.rstrip(" .:;,") or title
    title = cut(title, TITLE_CHARS - len(suffix), ellipsis=True) + suffix
    # What failed and where are label values, which may carry a tag of their own.
    bare, more = untagged(title, final)
    return (bare, tags + more) if _visible(bare) else (title, tags)


def _untitled(alert: RedactedAlert) -> str:
    """What stands for a title that shows nothing."""
    return f"Untitled {alert.source} alert"


def _visible(text: str) -> bool:
    """Whether `text` shows anything once displayed (`common.showing`): not only spaces,
    controls, default-ignorable characters (zero-width, tags) or fillers that draw nothing
    (Hangul fillers, the blank Braille pattern), which a title must not be."""
    return showing(text) is not None


#: Where-labels that name a machine: the title says "on" it, not "in" it.
_HOSTS = frozenset({"host", "instance", "device_id", "tag.server_name", "server_name"})


#: Members of a group a description lists; the rest are counted.
_LISTED_MEMBERS = 20


def _description(alert: RedactedAlert, matched: list[Pattern], final: Priority) -> str:
    """The alert's description (else its title, untagged as the ticket's is), the group's
    members, and the facts the alert gives, one labelled line each. Plain text, as every
    description is: each sink escapes it for its own markup (GitHub shows Markdown markers
    written here as typed)."""
    labels = alert.labels
    opening = alert.description.strip() or untagged(alert.title, final)[0] or _untitled(alert)
    lines = [opening, ""]
    group = alert.group
    if group is not None:
        lines += [
            f"Group: {group.count} alerts ({group.firing} firing) grouped by {group.title}",
            *(f"- {m.status.value}: {m.title}" for m in group.members[:_LISTED_MEMBERS]),
        ]
        if group.count > _LISTED_MEMBERS:
            # The total, not the rest: a summary states no number the alerts do not hold.
            lines.append(f"- … and more ({group.count} in all)")
        lines.append("")
    what = f"What: {alert.source} alert, {alert.status.value}"
    if alert.severity:
        what += f", severity {alert.severity}"
    lines.append(what)
    where = ", ".join(f"{k}={labels[k]}" for k in _WHERE if labels.get(k))
    if where:
        lines.append(f"Where: {where}")
    lines.append(f"Since: {alert.occurred_at.isoformat(timespec='seconds')}")
    value, threshold = labels.get("current_value") or labels.get("value"), labels.get("threshold")
    if value and threshold:
        metric = labels.get("metric") or labels.get("metric_name") or "value"
        operator = labels.get("operator") or labels.get("comparison") or "vs"
        lines.append(f"Value: {metric} = {value} ({operator} threshold {threshold})")
    elif threshold:
        lines.append(f"Threshold: {threshold}")
    if matched:
        lines.append(f"Looks like: {', '.join(p.category for p in matched)}")
    runbook = link_url(alert.runbook_url or "")
    if runbook:
        lines.append(f"Runbook: {runbook}")
    for name, url in _links(alert):
        lines.append(f"{name.capitalize()}: {url}")
    return "\n".join(lines)


def _links(alert: RedactedAlert) -> list[tuple[str, str]]:
    """The alert's named links as they open (`display.link_url`), those that open no http(s)
    host a label can name left out: no sink links them either."""
    return [(name, opened) for name, url in alert.links.items() if (opened := link_url(url))]


#: Steps for any alert: only used to make up three when the alert offers fewer of its own.
GENERIC_STEPS = (
    "Confirm the alert against the source dashboard or logs",
    "Check recent deploys and configuration changes around the start time",
    "Escalate to the owning team if it is not understood within 30 minutes",
)
#: Links worth a step of their own, in this order (a silence link is not a first step): an
#: uptime check's URL (`check`) and an AWS console page of the resource or anomaly among them.
_STEP_LINKS = ("dashboard", "panel", "issue", "event", "finding", "alert", "alarm", "source",
               "check", "resource", "anomaly", "status_page")  # fmt: skip


def _steps(alert: RedactedAlert, matched: list[Pattern]) -> tuple[str, ...]:
    """The runbook, the matched patterns' steps, then steps naming the alert's own metric,
    code location and links; generic steps only make up three."""
    steps: list[str] = []
    runbook = link_url(alert.runbook_url or "")
    if runbook:
        steps.append(f"Open the runbook: {runbook}")
    for pattern in matched:
        steps.extend(s for s in pattern.steps if s not in steps)
    steps.extend(s for s in _specific_steps(alert) if s not in steps)
    steps.extend(GENERIC_STEPS[: max(0, 3 - len(steps))])
    return tuple(cut(step, STEP_CHARS, ellipsis=True) for step in steps[:_MAX_STEPS])


def _specific_steps(alert: RedactedAlert) -> list[str]:
    labels = alert.labels
    places = subject.where(alert)
    at = f" on {places[0]}" if places else ""
    steps = []
    metric = labels.get("metric") or labels.get("metric_name")
    value = labels.get("current_value") or labels.get("value")
    threshold = labels.get("threshold")
    if metric and value and threshold:
        steps.append(f"Check {metric}{at}: {value} against the threshold {threshold}")
    elif metric:
        steps.append(f"Check {metric}{at} over the last hour")
    if labels.get("alarm_rule"):
        steps.append(f"Find which alarm of the rule is in ALARM: {labels['alarm_rule']}")
    if labels.get("metrics"):
        steps.append(f"Check each metric of the expression: {labels['metrics']}")
    if labels.get("culprit"):
        steps.append(f"Read the stack trace of the latest event in {labels['culprit']}")
    if labels.get("resources"):  # an EventBridge event's affected resources (ARNs, ids)
        steps.append(f"Check the affected resources: {labels['resources']}")
    opened = dict(_links(alert))
    links = [(name, opened[name]) for name in _STEP_LINKS if name in opened]
    steps += [f"Open the {name.replace('_', ' ')}: {url}" for name, url in links[:2]]
    thing = subject.about(alert)
    if not steps and thing is not None:
        kind, name = thing
        steps.append(f"Check {kind} {name}{at}: its recent events, logs and changes")
    return steps
