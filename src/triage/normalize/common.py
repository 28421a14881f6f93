"""Shared rules for every normaliser: the result types, text cleaning and cutting, priorities,
timestamps, labels and links, so every source treats hostile input the same way.

Documented limits (cut by code point, never inside a character; a cut that would leave a
combining mark without its base drops the base too):

    title 200 (one line; "…" marks a cut)    description 4,000 ("…" marks a cut)
    label keys 128, label values 256, at most 64 labels per alert
    identity names and values 1,024 (a longer one: its start, "…" and a digest of the whole)
    links 2,048; other fields 1,024

What routes match and groups key on is read past the label limits, never shown (`Labels`,
`Alert.label`): up to 1,024 labels in all, and a value cut as shown whole (held to 1,024 as
an identity value is), so a route's label behind dozens of others still routes, and two long
values that differ only past the cut are two groups. Every reader builds its labels so, whatever
the source (`labels_from`, or `Labels()` and `add_label`); labels it gathers apart (a CloudWatch
alarm's metric facts) join them by `add_labels`, which keeps their whole values.

Every identity is held to its limit by the model itself (`models.identity_within_limit`),
whatever built it; every link a reader names goes through `url` or `links`.

Every value that is shown marks its cut with "…" (`line(..., shown=True)`, `word`, `text`,
`title`, `add_label`): a cut inside a secret keeps only its start, and the redactor knows such
a piece by the mark. An identity value is cleaned whole and never cut bare: one past its limit
keeps its start, "…" and a sha256 of the whole (`ident`, `models.identity_text`), so values that
differ only past the cut stay two incidents; where one is shown too, it is cut again as shown
text.

Titles and label values are one line: C0/C1 control characters and bidi controls (embeddings,
overrides, isolates U+202A to U+202E, U+2066 to U+2069, marks U+200E/U+200F/U+061C) are removed and all
whitespace, newlines included, collapses to one space. Descriptions keep newlines and tabs and the
LRM/RLM marks that mixed-direction prose needs, but lose other controls, embeddings and overrides;
a control that ends a line (a lone CR, a vertical tab, a form feed, NEL) becomes a newline there.
CJK, emoji (with their joiners), RTL letters and combining marks pass through untouched.
A title that shows nothing once displayed (zero-width, Hangul filler, tag, variation-selector or
blank-glyph characters only: `triage.unseen`) is as missing as a blank one (`showing`); one with
anything visible is kept as given, so no fingerprint moves.

Only identity, state and what recognises a format may refuse an alert. A display-only field of
an odd JSON type never does: text shows an object or array as JSON (`flat`, `text`, `text_map`),
a one-word field (team, severity, state) passes it over (`word`), and a container of facts that
is no object or array reads as empty (`obj_or_empty`, `items_or_empty`).
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from triage.errors import InvalidAlertError
from triage.models import IDENTITY_MAX as IDENTITY_MAX  # the model's limit, named here too
from triage.models import Alert, Priority, identity_text
from triage.models import Labels as Labels  # what a normaliser builds labels in, named here too
from triage.normalize.graphemes import boundary_before
from triage.redact import Redactor
from triage.unseen import CONTROLS, UNSEEN

TITLE_MAX = 200
DESCRIPTION_MAX = 4_000
LABEL_KEY_MAX = 128
LABEL_VALUE_MAX = 256
LABELS_MAX = 64
#: The most labels an alert keeps in all, the 64 shown and those past them that routes and
#: groups read (`add_label`): a Kubernetes alert joined with `kube_pod_labels` carries dozens
#: of `label_*` labels sorted before `namespace`; a hostile one's thousands cost no more.
LABELS_ROUTED_MAX = 1_024
URL_MAX = 2_048
FIELD_MAX = 1_024

#: How far a cut backs off to keep a character whole before it gives up (a "Zalgo" string); the
#: longest emoji sequences (families with skin tones, subdivision flags) are about ten.
_CLUSTER_BACKOFF = 32
#: Timestamps longer than this are not timestamps; refuse them before any parsing.
_TIMESTAMP_MAX = 112  # JavaScript's toString() names the zone: "(Central European Standard Time)"
#: Go's `time.Time.String()`, which Alertmanager's and Grafana's templates print for
#: `{{ .StartsAt }}`: "2026-11-23 09:00:00.123456789 +0000 UTC", with " m=+1.5" (the monotonic
#: clock reading) after it when the time came from the sender's own clock.
_GO_TIME = re.compile(
    r"(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?) ([+-]\d{4})"
    r"(?: (?:[A-Za-z]{1,6}|[+-]\d{2,4}))?(?: m=[+-]\d{1,20}\.\d{1,9})?"
)

# Embeddings, overrides and isolates reorder what a reader sees ("Trojan Source"); removed everywhere.
_BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# Direction marks are harmless in prose but pointless (and spoofable) in one-line fields.
_BIDI_MARKS = "\u200e\u200f\u061c"
_DROP_IN_TEXT = dict.fromkeys(map(ord, _BIDI_CONTROLS))
_DROP_IN_LINE = dict.fromkeys(map(ord, _BIDI_CONTROLS + _BIDI_MARKS))
#: The controls that end a line (`str.splitlines` knows each: a lone carriage return, a vertical
#: tab, a form feed, the file, group and record separators, NEL): a newline in multi-line text,
#: not nothing, which glued the lines' words ("clear\x0bon its own" read "clearon") for every
#: check and search. Other controls separate nothing and are dropped (`_strip_controls`).
_LINE_BREAKS = dict.fromkeys(map(ord, "\r\x0b\x0c\x1c\x1d\x1e\x85"), "\n")


@dataclass(frozen=True, slots=True)
class Skipped:
    """A message understood on purpose to change no ticket; the caller logs it."""

    source: str  # "sns", "cloudwatch", "grafana" …
    reason: str  # short machine word: "insufficient_data", "test_notification" …
    detail: str  # one human sentence for the log


@dataclass(frozen=True, slots=True)
class Normalized:
    """What one message body holds: its canonical alerts, what was skipped, and notes to log."""

    alerts: tuple[Alert, ...]
    skipped: tuple[Skipped, ...] = ()
    notes: tuple[str, ...] = ()


# --- text ------------------------------------------------------------------------------------


def cut(text: str, limit: int, *, ellipsis: bool = False, whole_words: bool = False) -> str:
    """At most `limit` code points, cut between user-perceived characters: never an accent
    without its letter, half a flag or half a joined emoji (see graphemes.py).

    `whole_words` (text that is shown, never identities): a cut inside a word drops what it
    kept of that word, when that leaves at least half the text. The redactor sees only what is
    kept, and the first 38 characters of a 40-character secret no longer look like one."""
    if len(text) <= limit:
        return text
    end = boundary_before(text, limit - 1 if ellipsis else limit, _CLUSTER_BACKOFF)
    out = text[:end].rstrip("\u200d")  # a trailing zero-width joiner would join the "…"
    if whole_words and out[-1:].isspace():  # cut just after a word: none of it to drop
        out = out.rstrip()
    elif whole_words and not text[end].isspace():
        parts = out.rsplit(None, 1)
        if len(parts) == 2 and len(parts[0]) >= len(out) // 2:
            out = parts[0]
    return out + "…" if ellipsis else out


def scalar(value: Any, field: str) -> str | None:
    """A JSON scalar as text: numbers and booleans coerced, None kept; objects are invalid."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise InvalidAlertError(f"{field} must be text, not a JSON {_kind(value)}")


def text(value: Any, field: str, limit: int = FIELD_MAX) -> str | None:
    """Multi-line text (descriptions): controls and bidi overrides removed, cut with "…". Such
    text is only ever shown, so an object or array in it reads as JSON text (`flat`)."""
    if isinstance(value, str) and len(value) <= _LINE_MEMO_CHARS:
        key = (value, limit)
        try:
            return _TEXTS[key]
        except KeyError:
            pass
        cleaned = _text(value, field, limit)
        if len(_TEXTS) >= _LINES_MAX:
            _TEXTS.clear()
        _TEXTS[key] = cleaned
        return cleaned
    return _text(value, field, limit)


def _text(value: Any, field: str, limit: int) -> str | None:
    raw = _bounded(scalar(flat(value), field), limit)
    if raw is None:
        return None
    broken = raw.replace("\r\n", "\n").translate(_LINE_BREAKS)
    cleaned = _strip_controls(broken, keep="\n\t").translate(_DROP_IN_TEXT)
    cleaned = cleaned.strip()
    return cut(cleaned, limit, ellipsis=True, whole_words=True) if cleaned else None


#: Short texts already cleaned by `line`, with their cleaning: the names, label keys and values
#: of a storm's alerts are the same few strings message after message. Forgotten all at once
#: when full, so it stays bounded.
_LINES: dict[tuple[str, int, bool, bool], str | None] = {}
#: The same for short multi-line texts (`text`): a storm's descriptions.
_TEXTS: dict[tuple[str, int], str | None] = {}
_LINES_MAX = 4_096
_LINE_MEMO_CHARS = 256


def line(
    value: Any, field: str, limit: int = FIELD_MAX, *, shown: bool = False, hashed: bool = False
) -> str | None:
    """One-line text (names, label values): controls and bidi removed, whitespace collapsed;
    `shown` (a label value, never an identity) cuts whole words and ends a cut with "…" (see
    `cut`). Text of several lines is redacted before they are joined, unless it is `hashed`
    only (an identity value: two secrets stay two incidents)."""
    if isinstance(value, str) and len(value) <= _LINE_MEMO_CHARS:
        key = (value, limit, shown, hashed)
        try:
            return _LINES[key]
        except KeyError:
            pass
        cleaned = _line(value, field, limit, shown, hashed)
        if len(_LINES) >= _LINES_MAX:
            _LINES.clear()
        _LINES[key] = cleaned
        return cleaned
    return _line(value, field, limit, shown, hashed)


def _line(value: Any, field: str, limit: int, shown: bool, hashed: bool) -> str | None:
    raw = _bounded(scalar(value, field), limit)
    if raw is None:
        return None
    if not hashed and _LINE_BREAK.search(raw):
        # Redacted while it has its lines: a secret known by its line (a table's column, a
        # YAML block, an env entry) loses that shape once the lines are joined, and the view
        # redacts only the joined line.
        raw = _REDACTOR.text(raw)
    # Controls become spaces first so "a\x00b" cannot glue two words into one. Printable text
    # (the common case, checked in C) holds no control character to replace.
    translated = raw.translate(_DROP_IN_LINE)
    if translated.isprintable():
        spaced = translated
    else:
        spaced = "".join(" " if _is_control(ch) else ch for ch in translated)
    cleaned = " ".join(spaced.split())
    # A shown value cut says so with "…", as a description does: a secret cut inside keeps
    # only its start, no longer its shape, and the redactor knows a "…"-ended piece for one.
    return cut(cleaned, limit, ellipsis=shown, whole_words=shown) if cleaned else None


def word(value: Any, field: str, limit: int = LABEL_VALUE_MAX) -> str | None:
    """A display-only one-line value (a team, a severity, a state word) like `line`, a cut
    marked as a shown value's is; one that is an object or array is passed over (`unnested`):
    JSON text would only name no real team. One that shows nothing (`showing`) is None: no
    route matches a team no reader can see."""
    return showing(line(unnested(value), field, limit, shown=True))


def whole_word(value: Any, field: str) -> str | None:
    """`word`'s value whole, neither cut nor held: what a reader gives `add_label` (alone, or
    joined with others as a notice's resources are), which shows it cut and keeps it whole
    for routes and groups, so two values that differ only past the cut are two groups. A
    value cut first (`word`) keeps nothing past the cut to tell them apart."""
    return showing(line(unnested(value), field, _UNCUT))


def title(value: Any, field: str = "title") -> str:
    """A required one-line title of at most 200 code points ("…" marks a cut); one that shows
    nothing (`showing`) is as missing as a blank one."""
    cleaned = showing(line(value, field, IDENTITY_MAX))
    if not cleaned:
        raise InvalidAlertError(f"{field} is missing or empty")
    return cut(cleaned, TITLE_MAX, ellipsis=True, whole_words=True)


def first_title(*candidates: Any, field: str = "title") -> str:
    """The title from the first candidate with text in it: an alert whose own title field is
    empty (or holds an object) is still titled by what else names it, rather than lost. A
    falsy candidate is passed over as `a or b` would; the caller's last candidate is usually
    one that cannot be empty ("Sentry issue 123")."""
    for value in candidates:
        if not value or isinstance(value, dict | list):
            continue
        cleaned = showing(line(value, field, IDENTITY_MAX))
        if cleaned:
            return cut(cleaned, TITLE_MAX, ellipsis=True, whole_words=True)
    raise InvalidAlertError(f"{field} is missing or empty")


#: Text that shows nothing: whitespace, controls, and the characters that draw nothing
#: (`unseen.UNSEEN`: Unicode's default-ignorable code points, such as zero-width spaces, the
#: Hangul fillers, variation selectors and the tag characters, and the blank glyphs, such as
#: the blank Braille pattern, used for invisible names).
_UNSEEN = re.compile(f"[\\s{CONTROLS}{UNSEEN}]*")


def showing(text: str | None) -> str | None:
    """`text` when it shows something once displayed; None when it is empty or made only of
    characters that show nothing (`_UNSEEN`: a zero-width space, a Hangul filler, tag
    characters), which a title, a name or a subject must not be: the ticket would be
    untitled, and each invisible spelling another incident."""
    if not text:
        return None
    if text.isascii() and text.isprintable() and not text.isspace():
        return text  # the common case, checked in C: printable ASCII beside its spaces
    return None if _UNSEEN.fullmatch(text) else text


#: The limit an identity value is cleaned to: none. All of it must reach the digest that holds
#: a long one to IDENTITY_MAX (`identity_text`); the queue's message size bounds it.
_UNCUT = sys.maxsize


def ident(value: Any, field: str) -> str:
    """A required value the fingerprint hashes: one line, exact otherwise, at most 1,024
    (a longer one is its start, "…" and a digest of the whole: `models.identity_text`)."""
    cleaned = ident_or_none(value, field)
    if not cleaned:
        raise InvalidAlertError(f"{field} is missing or empty: the alert cannot be identified")
    return cleaned


def ident_or_none(value: Any, field: str) -> str | None:
    """An optional identity value, cleaned like `ident`; None when absent or empty. Cleaned
    whole, never cut first: values that differ only past 1,024 characters stay apart."""
    cleaned = ident_line(value, field)
    return None if cleaned is None else identity_text(cleaned)


def ident_line(value: Any, field: str) -> str | None:
    """An identity value cleaned whole as one line, neither cut nor held; None when absent or
    empty. For a reader that splits or joins it before it is identity (a title it reads a
    scope from): the model holds what the reader keeps, so the value's end still counts."""
    return line(whole(value), field, _UNCUT, hashed=True)


def whole(value: Any) -> Any:
    """An id sent as a whole float (4504689410.0) is the id 4504689410, as the same id sent as
    an integer or text is: one alert, one fingerprint, whatever its sender's JSON library."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


#: A count (seconds, occurrences) has at most this many digits; more is no count a sender
#: meant, and int() refuses text of over 4,300 digits with an exception.
_COUNT_DIGITS = 18


def count(value: Any) -> int | None:
    """A whole number a sender gave as a JSON number or as ASCII digits (" 540 "), or None:
    other scripts' digits ("²", which str.isdigit() takes and int() refuses), more than 18
    digits, fractions, words and booleans are no count."""
    value = whole(value)
    if isinstance(value, str):
        digits = value.strip()
        if digits.isascii() and digits.isdigit() and len(digits) <= _COUNT_DIGITS:
            return int(digits)
        return None
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**_COUNT_DIGITS:
        return value
    return None


def _bounded(raw: str | None, limit: int) -> str | None:
    """Cleaning only shrinks text, so a 1 MiB field need not be walked to keep 4,000 of it."""
    return raw[: limit * 4] if raw is not None and len(raw) > limit * 4 else raw


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cs")  # C0, DEL, C1; lone surrogates


def _strip_controls(value: str, keep: str) -> str:
    if value.isprintable():
        return value  # the common case, checked in C
    return "".join(ch for ch in value if ch in keep or not _is_control(ch))


def shown(value: Any) -> str:
    """A value as a reader expects it in prose: text as it is, anything else as JSON writes it
    (null, true, 93.5, {"a":1}), never as Python prints it (None, True)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def flat(value: Any) -> Any:
    """A display-only value that is an object or array, as compact JSON text (`shown`): kept
    for the reader rather than refusing the alert; anything else as it is."""
    return shown(value) if isinstance(value, dict | list) else value


def unnested(value: Any) -> Any:
    """A display-only value that is an object or array, as if absent (None): for one-word
    fields (a team, a severity, a state) that JSON text would only make wrong."""
    return None if isinstance(value, dict | list) else value


#: Redacts the values errors and notes quote (`short`), and a one-line value's lines before
#: they are joined (`_line`).
_REDACTOR = Redactor()
#: What `str.splitlines` breaks a line at.
_LINE_BREAK = re.compile("[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return type(value).__name__


def short(value: Any, limit: int = 60) -> str:
    """A hostile value made safe to quote in an error message or log line: redacted before it
    is cut, as the cut may fall inside a secret, and what it keeps of one no longer has the
    shape the redactor knows (the log line's redaction would see `'… ya29.pqnvs6yf…'`)."""
    if isinstance(value, dict | list):
        return f"<JSON {_kind(value)}>"
    if value is None or isinstance(value, bool):
        return shown(value)  # null, true: never 'None', which reads as that text
    return repr(cut(_REDACTOR.text(line(str(value), "") or ""), limit, ellipsis=True))


# --- structure -------------------------------------------------------------------------------


def obj(value: Any, field: str, *, required: bool = False) -> dict[str, Any]:
    """A nested JSON object; {} when absent (unless required), InvalidAlertError when not an object."""
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        what = "missing" if value is None else f"a JSON {_kind(value)}, not an object"
        raise InvalidAlertError(f"{field} is {what}")
    return value


def obj_or_empty(value: Any) -> dict[str, Any]:
    """A nested object that only holds display-only facts; {} when it is anything else, so an
    odd one costs the reader those facts, not the alert its ticket."""
    return value if isinstance(value, dict) else {}


def items_or_empty(value: Any) -> list[Any]:
    """A JSON array that only holds display-only facts; [] when it is anything else."""
    return value if isinstance(value, list) else []


def items(value: Any, field: str) -> list[Any]:
    """A JSON array; [] when absent, InvalidAlertError when something else."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidAlertError(f"{field} must be an array, not a JSON {_kind(value)}")
    return value


def string_map(value: Any, field: str) -> dict[str, str]:
    """Every entry of a flat label/annotation object as exact text (for identities)."""
    out: dict[str, str] = {}
    for key, raw in obj(value, field).items():
        if isinstance(raw, dict | list):
            raise InvalidAlertError(f"{field}.{short(key)} must be text, not a JSON {_kind(raw)}")
        out[key] = scalar(raw, f"{field}.{key}") or ""
    return out


def text_map(value: Any) -> dict[str, str]:
    """A flat object of display-only text (annotations, legacy tags) as text: an object or
    array in it as JSON text, null as ""; {} when it is not an object. Never an identity."""
    return {str(key): scalar(flat(raw), "") or "" for key, raw in obj_or_empty(value).items()}


#: Short label keys and values already cleaned by `add_label`, as (key, value) or None for a
#: label left out: a storm's alerts carry the same few labels message after message. Forgotten
#: all at once when full, so it stays bounded.
_LABELS: dict[tuple[str, str], tuple[str, str] | None] = {}


def add_label(labels: dict[str, str], key: str, value: Any) -> None:
    """Add one human-facing label (one line, cut) unless empty. Past the 64-label cap it is
    not shown: `Labels` (what `labels_from` makes) keep it for routes and groups, up to
    LABELS_ROUTED_MAX labels in all, where a plain dict drops it. `Labels` keep the whole
    value of one whose shown value is cut too (`Alert.label`)."""
    past_cap = len(labels) >= LABELS_MAX and key not in labels
    if past_cap and not _room_past_cap(labels, key):
        return
    cleaned = _cleaned_label(key, value)
    if cleaned is None:
        return
    name, shown_value = cleaned
    if not isinstance(labels, Labels):
        labels[name] = shown_value
        return
    (labels.past_cap if past_cap else labels)[name] = shown_value
    labels.uncut.pop(name, None)  # a label set again is read as set last
    whole = _uncut(key, value, shown_value)
    if whole is not None:
        labels.uncut[name] = whole


def _room_past_cap(labels: dict[str, str], key: str) -> bool:
    """`labels` are `Labels` with room for `key` past the cap: it is kept there already, or
    fewer than LABELS_ROUTED_MAX labels are kept in all."""
    if not isinstance(labels, Labels):
        return False
    return key in labels.past_cap or len(labels) + len(labels.past_cap) < LABELS_ROUTED_MAX


def _uncut(key: str, value: Any, shown_value: str) -> str | None:
    """The whole value of a label whose shown value (`shown_value`) is cut, one line and held
    to IDENTITY_MAX as an identity's is (its start and a digest of the whole); None when the
    shown value is whole. Only a cut value ends with "…", so nearly every label costs one
    comparison; a value that ends so uncut is cleaned again to tell."""
    if not shown_value.endswith("…"):
        return None
    whole = line(value, f"labels.{key}", _UNCUT)
    if whole is None or len(whole) <= LABEL_VALUE_MAX:
        return None
    return identity_text(whole)


def _cleaned_label(key: str, value: Any) -> tuple[str, str] | None:
    """The label (key, value) as shown (`_label`), remembered for short ones (`_LABELS`)."""
    memo = (
        isinstance(key, str)
        and isinstance(value, str)
        and len(key) <= _LINE_MEMO_CHARS
        and len(value) <= _LINE_MEMO_CHARS
    )
    if memo:
        try:
            cleaned = _LABELS[key, value]
        except KeyError:
            cleaned = _label(key, value)
            if len(_LABELS) >= _LINES_MAX:
                _LABELS.clear()
            _LABELS[key, value] = cleaned
    else:
        cleaned = _label(key, value)
    return cleaned


def _label(key: str, value: Any) -> tuple[str, str] | None:
    k = line(key, "label", LABEL_KEY_MAX, shown=True)  # shown too: a key may be a tag's text
    v = (
        line(value, f"labels.{key}", LABEL_VALUE_MAX, shown=True)
        if not isinstance(value, dict | list)
        else None
    )
    # A key or value that shows nothing is as empty as a blank one: no sink shows it.
    k, v = showing(k), showing(v)
    return (k, v) if k and v else None


def add_labels(labels: dict[str, str], more: Mapping[str, str]) -> None:
    """Add each of `more`'s labels (`add_label`), in order, a later one replacing one of the
    same name as `|` would. Labels gathered apart (a CloudWatch alarm's metric facts) are
    cleaned and cut already; when they are `Labels`, a value cut there is added whole, so
    routes and groups read it as they read one added directly (the shown value is the same:
    cleaning a cleaned value changes nothing)."""
    whole = more.uncut if isinstance(more, Labels) else {}
    for key, value in more.items():
        add_label(labels, key, whole.get(key, value))


def labels_from(mapping: Mapping[str, Any]) -> Labels:
    """Human-facing labels from a source's own label object, cleaned and capped, carrying
    for routes and groups those past the cap and the whole values of those cut (`Labels`)."""
    labels = Labels()
    for key in sorted(mapping):
        add_label(labels, key, mapping[key])
    return labels


def url(value: Any, field: str) -> str | None:
    """An absolute http(s) link, or None: anything else is dropped rather than trusted."""
    if not isinstance(value, str):
        return None
    s = value.strip()
    if len(s) > URL_MAX or not s.lower().startswith(("https://", "http://")):
        return None
    if any(ch.isspace() or _is_control(ch) for ch in s) or len(s) <= len("https://"):
        return None
    return s


def links(**named: str | None) -> dict[str, str]:
    """The named links that are given and within 2,048 characters: a link a reader makes from
    a long name (a console URL percent-encodes each "é" to six characters) is left out, as a
    long link a sender gives is (`url`)."""
    return {name: link for name, link in named.items() if link and len(link) <= URL_MAX}


# --- priority --------------------------------------------------------------------------------

_C, _H, _M, _L = Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM, Priority.LOW
#: P0..P3 and words; the incident-severity scale SEV0/SEV1..SEV4 (SEV1 the worst, as
#: `summarise.priority.SEVERITY_PRIORITY` reads it) and Zabbix's words (disaster, average)
#: too, so a script's "priority": "SEV1" is critical rather than no priority at all. A
#: warning (Zabbix's Warning, between Information and Average; Checkmk's WARN, below CRIT) is
#: medium, as the summariser reads a warning severity. P4 and P5 are low: every scale that
#: has them (Opsgenie's and PagerDuty's P1..P5, ITIL's) puts them below P3, already the lowest
#: of the four; a bare 4 or 5 stays unread, as a number alone here is 0 to 3.
PRIORITY_WORDS: Mapping[str, Priority] = {
    **dict.fromkeys(("p0", "0", "critical", "crit", "urgent", "emergency", "highest", "blocker",
                     "sev0", "sev1", "disaster"), _C),
    **dict.fromkeys(("p1", "1", "high", "major", "important", "sev2"), _H),
    **dict.fromkeys(("p2", "2", "medium", "med", "moderate", "normal", "sev3", "average",
                     "warning", "warn"), _M),
    **dict.fromkeys(("p3", "3", "low", "lowest", "minor", "info", "informational", "trivial",
                     "sev4", "information", "p4", "p5"), _L),
}  # fmt: skip


def priority(value: Any) -> Priority | None:
    """critical|high|medium|low from P0..P3, 0..3, SEV0..SEV4 or a word, any case or spacing,
    alone or leading a remark ("P1 (page the on-call)", "high - customer facing"); None
    otherwise."""
    return priority_on(value, PRIORITY_WORDS)


def priority_on(value: Any, levels: Mapping[str, Priority]) -> Priority | None:
    """`value` read by `levels` (lower-case keys such as "p1", "1", "sev2", "high"), written
    any way a sender writes one: an integer, a whole float or text, in any case, "P 1" or
    "P-1", alone or leading a remark; None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, str | int):
        return None
    text = str(value).strip().lower()[:_PRIORITY_CHARS]
    numbered = _NUMBERED_WORD.match(text)
    if numbered is not None and (named := levels.get(numbered[1])) is not None:
        # ServiceNow's "3 - Moderate", "1 - Critical": the word names the level, the number is
        # the tool's own scale (1 to 5 there), not ours (0 to 3).
        return named
    found = levels.get(_level_key(text))
    if found is None and (lead := _LEADING_LEVEL.match(text)):
        found = levels.get(_level_key(lead[0]))
    return found


@dataclass(frozen=True, slots=True)
class PriorityScale:
    """How a source's stated priority is read (`read`), and how a note names what it reads
    (`named`), kept together so a note never lists a scale its source does not read."""

    read: Callable[[Any], Priority | None]
    named: str


#: The scale every source reads unless it has its own (`priority`).
PRIORITY_SCALE = PriorityScale(
    priority, "P0 to P3, 0 to 3, SEV0 to SEV4, or a word such as critical, high, medium, low"
)


def first_priority(
    labels: dict[str, str],
    *stated: tuple[str, Any],
    scale: PriorityScale = PRIORITY_SCALE,
    shown_as: Mapping[str, str] | None = None,
) -> tuple[Priority | None, tuple[str, ...]]:
    """The first priority a source states, of the (field, value) pairs given in the order
    read, that `scale` reads; when none is, the alert states none and `unread_priority` notes
    why. A source that notes an unread value passed over for a later one says so itself
    (`passed_over`)."""
    for _, value in stated:
        found = scale.read(value)
        if found is not None:
            return found, ()
    return None, unread_priority(labels, *stated, scale=scale, shown_as=shown_as)


def passed_over(*stated: tuple[str, Any], scale: PriorityScale = PRIORITY_SCALE) -> tuple[str, ...]:
    """A note for each value stated that `scale` cannot read before the first it reads, which
    the source took instead; none when no value is read (`unread_priority` notes those)."""
    for index, (read_from, value) in enumerate(stated):
        if scale.read(value) is not None:
            return tuple(
                passed_over_note(field, unread, scale, read_from)
                for field, unread in stated[:index]
                if states_priority(unread)
            )
    return ()


def passed_over_note(field: str, value: Any, scale: PriorityScale, read_from: str) -> str:
    """A note for a stated priority `scale` cannot read, passed over for the one `read_from`
    states (quoted redacted and cut: `short`). It is kept as no label: the labels show the
    priority read, not one that was not."""
    return (
        f"{field} {short(value)}: no priority triage reads ({scale.named}); passed over for "
        f"the priority {read_from} states; the value is not in the labels (they show the "
        "priority read)"
    )


def unread_priority(
    labels: dict[str, str],
    *stated: tuple[str, Any],
    scale: PriorityScale = PRIORITY_SCALE,
    shown_as: Mapping[str, str] | None = None,
) -> tuple[str, ...]:
    """A note for the log for each (field, value) stated that `scale` does not read. The first
    such value stays visible as the label `priority` (unless `labels` hold one), or where a
    label already shows it: `shown_as` maps a field to that label (a Sentry tag's own)."""
    notes: list[str] = []
    for field, value in stated:
        if scale.read(value) is not None or not states_priority(value):
            continue
        kept = _kept_as(labels, value, (shown_as or {}).get(field))
        notes.append(unread_priority_note(field, [value], scale, kept))
    return tuple(notes)


def _kept_as(labels: dict[str, str], value: Any, shown_as: str | None) -> str | None:
    """The label that shows an unread priority: `shown_as` or `priority` when it already holds
    this value, else `priority` once added; None when `priority` holds another value or the
    labels are full."""
    as_label: dict[str, str] = {}
    add_label(as_label, "priority", flat(value))
    cleaned = as_label.get("priority")
    if shown_as is not None and labels.get(shown_as) == cleaned:
        return shown_as
    if "priority" not in labels:
        add_label(labels, "priority", flat(value))
    return "priority" if labels.get("priority") == cleaned else None


def states_priority(value: Any) -> bool:
    """Whether `value` says anything as a priority: not absent, blank or invisible."""
    if value is None:
        return False
    if isinstance(value, str):
        return showing(line(value, "priority", _PRIORITY_CHARS)) is not None
    return True


#: Distinct unread values one note quotes; the rest are counted.
_UNREAD_QUOTED = 3


def unread_priority_note(
    field: str,
    values: list[Any],
    scale: PriorityScale = PRIORITY_SCALE,
    kept_as: str | None = "priority",
) -> str:
    """One note for the stated priorities of one or more alerts that `scale` cannot read,
    quoting the distinct values (redacted, cut: `short`) and naming the label that shows them
    (`kept_as`; None: no label does)."""
    distinct = list(dict.fromkeys(short(value) for value in values))
    quoted = ", ".join(distinct[:_UNREAD_QUOTED])
    if len(distinct) > _UNREAD_QUOTED:
        quoted += f" and {len(distinct) - _UNREAD_QUOTED} more"
    whose = f" of {len(values)} alerts" if len(values) > 1 else ""
    kept = (
        f"the value is kept as the label {kept_as}"
        if kept_as
        else "the value is not in the labels (they hold another priority, or are full)"
    )
    return (
        f"{field}{whose} {quoted}: no priority triage reads ({scale.named}); read as none "
        f"stated, so the ticket's priority follows the severity (medium without one); {kept}"
    )


#: A priority is a word or two; only its start is read, so an essay costs nothing.
_PRIORITY_CHARS = 64
_LEVEL_DASH = re.compile(r"^(p|sev)[-_]")
#: The level a remark starts with: "p 1", "sev-2" or one word, ending where the remark's
#: punctuation or spacing starts (not inside "1.5" or "critical!").
#: A bare number, a separator and a word: a tool's numbered level ("3 - Moderate").
_NUMBERED_WORD = re.compile(r"\d{1,2}\s{0,4}[-\u2013\u2014:.)]\s{0,4}([a-z]{3,16})(?![\w-])")
_LEADING_LEVEL = re.compile(r"(?:(?:p|sev)[\s_-]?\d|\w+)(?=$|[\s(\[,;:/-])")


def _level_key(text: str) -> str:
    """ "P 1", "P-1" → "p1"; "SEV-1" → "sev1"."""
    return _LEVEL_DASH.sub(r"\1", "".join(text.split()))


# --- time ------------------------------------------------------------------------------------


def timestamp(value: Any) -> datetime | None:
    """ISO 8601 (Z, ±hh:mm, ±hhmm, fractions to nanoseconds), Go's `Time.String()` form, an
    ISO-like time followed by "UTC" or "GMT", an RFC 2822 / HTTP date or epoch s/ms/µs/ns →
    aware UTC.

    A leap second (second 60) reads as second 59 of its minute.

    None for absent or unreadable values and for the instants that say "no time" (`unset_time`):
    the Unix epoch however it is spelt (the number 0, "1970-01-01T00:00:00Z", "Thu, 01 Jan 1970
    00:00:00 GMT": what a script prints for a time it never set), and Go's zero time
    "0001-01-01T00:00:00Z" (or "0001-01-01 00:00:00 +0000 UTC"), which Grafana and Alertmanager
    send as `endsAt` for an alert that has not ended. Taken as a time, either would date an
    alert before everything it follows, and the lifecycle would ignore it as older.
    """
    when = instant(value)
    return None if when == _EPOCH else when


def instant(value: Any) -> datetime | None:
    """The instant `value` names, the epoch included; None when it names none (year 1 too).
    Alerts are dated by `timestamp`; this is for a field whose format gives the epoch a
    meaning of its own (Alertmanager's API takes an `endsAt` in 1970 as ended, not as unset)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        s = value.strip()
        if not s or len(s) > _TIMESTAMP_MAX:
            return None
        # ASCII only: str.isdigit() also takes "²" or "৩", which float() refuses or misreads.
        if s.isascii() and s.replace(".", "", 1).isdigit():
            return instant(float(s))
        if ":60" in s:
            s = _LEAP_SECOND.sub(":59", s)
        go = _GO_TIME.fullmatch(s)
        if go:  # the zone name after the numeric offset adds nothing: the offset is exact
            s = f"{go[1]}T{go[2]}{go[3]}"
        try:
            # RFC 3339 allows a lower-case "t" and "z"; fromisoformat does not.
            parsed = datetime.fromisoformat(s.upper() if "t" in s or "z" in s else s)
        except ValueError:
            other = _other_time_form(s)
            if other is None:
                return None
            parsed = other
        if parsed.year <= 1:
            return None
        try:
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
        except OverflowError:  # 9999-12-31T23:00-05:00 has no UTC equivalent
            return None
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            return None
        # Epoch seconds stay below 1e11 until the year 5138; bigger numbers are ms, µs or ns.
        for bound, scale in ((1e17, 1e9), (1e14, 1e6), (1e11, 1e3)):
            if number >= bound:
                number /= scale
                break
        if not 0 <= number < 253_402_300_800:  # from 1970, before the year 10000
            return None
        return datetime.fromtimestamp(number, UTC)
    return None


#: The Unix epoch: the instant a time left at zero prints as, in any zone or form.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Words templates print for a time they were given none of (Python's None, JavaScript's
#: undefined and null, Go's and Ruby's nil), and placeholders.
_UNSET_WORDS = frozenset({"null", "none", "nil", "undefined", "n/a", "-"})
#: MySQL's zero date ("0000-00-00 00:00:00"), which no reader parses: year 0 is no year.
_ZERO_DATE = re.compile(r"0000-00-00(?:[ T]00:00:00(?:\.0+)?(?:Z|[+-]00:?00)?)?", re.IGNORECASE)


def unset_time(value: Any) -> bool:
    """Whether `value` is how senders write "no time" rather than a time: absent, blank, a
    template's null, undefined or nil, or an instant no alert happened at (the epoch in any
    spelling, Go's and .NET's year 1, MySQL's year 0), all of which `timestamp` reads as None.
    A reader dates such an alert when it was queued, without noting the value as unreadable."""
    if value is None:
        return True
    if isinstance(value, str):
        s = value.strip()
        if not s or s.lower() in _UNSET_WORDS or _ZERO_DATE.fullmatch(s):
            return True
        if s.startswith("0001-01-01"):  # year 1, in any of the forms `timestamp` reads
            return True
    return not isinstance(value, bool) and instant(value) == _EPOCH


#: Second 60 of a minute: a leap second ("2016-12-31T23:59:60Z", which NTP-synced clocks and
#: RFC 3339 allow). Python's datetime holds no second 60, so it reads as second 59 of that
#: minute (its fraction kept): the time the sender stated, not the moment it was queued.
_LEAP_SECOND = re.compile(r"(?<=\d\d:\d\d):60(?!\d)")


#: An ISO-like time followed by a zone name: Ruby's `Time#to_s` in UTC, `date -u '+%F %T %Z'`.
_ZONE_NAMED_UTC = re.compile(r"(.{10,40}\d) ?(?:UTC|GMT)", re.IGNORECASE)


#: JavaScript's `Date.toString()`, which `String(new Date())` writes: "Mon Nov 23 2026
#: 10:00:00 GMT+0100 (Central European Standard Time)"; the zone's name adds nothing.
_JS_DATE = re.compile(r"(.{8,40}\d\d:\d\d:\d\d) (?:GMT|UTC)([+-]\d{4})(?: \([^()]{1,60}\))?")


_SLASHED_DATE = re.compile(r"\d{4}/\d\d/\d\d(?:[ T]|$)")


def _other_time_form(s: str) -> datetime | None:
    """The forms scripts write besides ISO 8601: "2026-11-23 09:00:00 UTC", RFC 2822 / HTTP
    dates ("Mon, 23 Nov 2026 09:00:00 GMT", `date -R`, JavaScript's toUTCString()) and
    JavaScript's toString() ("Mon Nov 23 2026 10:00:00 GMT+0100 (…)") and year-first dates with
    slashes ("2026/11/23 10:00:00"; day-first ones are ambiguous and not read).
    A time with no zone (RFC 2822's "-0000") is taken as UTC, as ISO times without one are."""
    named = _ZONE_NAMED_UTC.fullmatch(s)
    if named and named[1][:1].isdigit():
        try:
            parsed = datetime.fromisoformat(named[1])
        except ValueError:
            return None
        return parsed if parsed.tzinfo is None else None  # "+02:00 UTC" contradicts itself
    if _SLASHED_DATE.match(s):  # "2026/11/23 10:00:00": ISO with slashes (strftime %Y/%m/%d)
        try:
            return datetime.fromisoformat(s.replace("/", "-", 2))
        except ValueError:
            return None
    js = _JS_DATE.fullmatch(s)
    if js:  # the RFC 2822 parser reads "GMT+0100" as GMT and drops the offset
        s = f"{js[1]} {js[2]}"
    try:
        return parsedate_to_datetime(s)
    except (ValueError, TypeError, OverflowError, IndexError):
        return None


#: When the message being read was queued, if the reader knows (`queued_at`).
_QUEUED_AT: ContextVar[datetime | None] = ContextVar("queued_at", default=None)


@contextmanager
def queued_at(when: datetime | None) -> Iterator[None]:
    """Alerts read inside the block that state no time get `when` (their message's SQS
    SentTimestamp): the same on every delivery, where the moment of reading is later on each,
    so a repeat delivered again after its resolve would look newer than the resolve."""
    token = _QUEUED_AT.set(when)
    try:
        yield
    finally:
        _QUEUED_AT.reset(token)


def now() -> datetime:
    """When a source gives no usable time: when its message was queued (`queued_at`), else the
    moment we read it. Noted for a watched reading (`watch_clock`)."""
    asked = _CLOCK_ASKED.get()
    if asked is not None:
        asked.append(None)
    return _QUEUED_AT.get() or datetime.now(UTC)


#: While a reading is watched (`watch_clock`): one entry each time it asked the clock (`now`).
#: A context variable, not a global: a worker thread reading another body beside the loop (a
#: large one, or the gateway's) keeps its own.
_CLOCK_ASKED: ContextVar[list[None] | None] = ContextVar("clock_asked", default=None)


def watch_clock() -> tuple[list[None], Token[list[None] | None]]:
    """Start noting whether the reading that follows asks the clock (`now`): a reading that
    does not is the same for every sending of its body, and may be remembered. The list is
    non-empty once it asked; pass the token to `unwatch_clock` when the reading ends."""
    asked: list[None] = []
    return asked, _CLOCK_ASKED.set(asked)


def unwatch_clock(token: Token[list[None] | None]) -> None:
    _CLOCK_ASKED.reset(token)


def watching() -> bool:
    """Whether a reading under way is watched (`watch_clock`)."""
    return _CLOCK_ASKED.get() is not None
