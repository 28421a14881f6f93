"""Which of a form's or a query string's fields the gateway drops rather than queues: every one
whose value the redactor (`triage.redact`) blanks because of the name it stands under, so that
neither the queue nor its dead-letter queue holds a secret that every sink would hide.

A field is dropped, its value never queued, answered or logged, when

- its name says it holds a credential (`credential_field`: `token`, `api_key`, `password`,
  `accessKeySecret`, …), whatever its value;
- its name and its value together say so (`named_value_secret`: `pass`, `jwt`, `bearer`,
  `session`, `ssh_key`, `kubeconfig`, `community` holding a secret's shape); the values the
  redactor keeps under those names stay (`pass=142`, `session=morning`, `community=public`);
- the fields are a name/value object naming a secret (`name=DB_PASSWORD&value=…`,
  `key=api_key&value=…`), or are written into a JSON object that is one (ingest/carried.py):
  its value (`named_object_values`);
- one name sent twice is a [name, value] pair naming a secret (`h=Authorization&h=Bearer …`):
  its second value.

A name is read as a server reading it loosely would (`_spellings`): as sent, and without
whitespace, invisible characters and a PHP-style `[]`, in its case and case-folded.

Before a request is authenticated only names are asked (`credential_field`, ingest/query.py):
a value's shape costs more to read, and a sender without a credential must not buy that work.
`sift` asks everything once the request is. The names dropped are shown in the answer and the
`ingest.accepted` line (`shown_names`), redacted, since a name is the sender's text too.

Beside those, the gateway's own tokens are blanked by value in whatever is queued
(`without_tokens`): a body or a field that repeats one holds no name to drop it by. A token is
found however a writer spelled it (percent-encoded, HTML-escaped, JSON-escaped at any depth of
the JSON the daemon reads; in base64, as HTTP Basic writes it: ingest/encoded_tokens.py), since a reader of what the daemon shows decodes each at a glance.
"""

from __future__ import annotations

import functools
import html.entities
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from triage.decode import load_json
from triage.errors import DecodeError
from triage.ingest.encoded_tokens import TOKEN_BLANK, without_base64_tokens
from triage.normalize.common import cut
from triage.redact import secret_named

# The redactor's own reading of a value by its name (`Redactor.value` asks the same).
from triage.redact.named_values import blanked_by_name, hidden_in_name, named_value_secret

#: Dropped names an answer shows, and the characters of each: enough to see why a field went.
SHOWN_NAMES_MAX = 20
SHOWN_NAME_CHARS = 64

Field = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Sifted:
    """A form's fields without the dropped ones (`kept`, in order), and the names of those
    dropped (`dropped`, in order, a name once)."""

    kept: tuple[Field, ...]
    dropped: tuple[str, ...]


def credential_field(name: str) -> bool:
    """Whether a field's `name`, in any of its spellings (`_spellings`), says it holds a
    credential (`secret_named`): dropped whatever its value."""
    return any(secret_named(spelling) for spelling in _spellings(name))


def secret_field(name: str, value: str) -> bool:
    """Whether the field `name`=`value` is dropped on its own: its name says credential, or
    its name and value together say secret (`named_value_secret`)."""
    spellings = _spellings(name)
    return any(secret_named(s) or named_value_secret(s, value) for s in spellings)


def sift(fields: Sequence[Field]) -> Sifted:
    """`fields` without every one the redactor would blank by its name (the module's list)."""
    dropped = {i for i, (name, value) in enumerate(fields) if secret_field(name, value)}
    dropped |= _blanked_together(fields, dropped)
    kept = tuple(field for i, field in enumerate(fields) if i not in dropped)
    names = dict.fromkeys(fields[i][0] for i in sorted(dropped))
    return Sifted(kept, tuple(names))


def shown_names(names: Iterable[str], redact: Callable[[str], str]) -> tuple[str, ...]:
    """Dropped fields' names as an answer shows them: each once, redacted, cut to
    SHOWN_NAME_CHARS characters, at most SHOWN_NAMES_MAX of them."""
    unique = list(dict.fromkeys(names))[:SHOWN_NAMES_MAX]
    return tuple(cut(redact(name), SHOWN_NAME_CHARS, ellipsis=True) for name in unique)


def _spellings(name: str) -> set[str]:
    """`name` as sent, and as a server reading it loosely reads it: without whitespace and
    invisible characters (`hidden_in_name`, the redactor's reading) and a PHP-style `[]`
    after it, in its case (a camel-case `accessKeySecret` says secret only so) and
    case-folded. A plain ASCII name (printable, no space) holds nothing to take out: it is
    read at C speed, not a character at a time, since query names are read before the
    request is authenticated and anyone may send 8 KB of them (a form, a megabyte)."""
    if name.isascii() and name.isprintable() and " " not in name:
        cleaned = name.removesuffix("[]")
    else:
        cleaned = "".join(
            ch for ch in name if not ch.isspace() and not hidden_in_name(ch)
        ).removesuffix("[]")
    return {name, cleaned, cleaned.casefold()}


def named_object_values(obj: Mapping[str, object], fields: Sequence[Field]) -> set[int]:
    """The positions in `fields` of the values the redactor blanks once they are written into
    `obj` (with them, the JSON object queued) when `obj` is a name/value object naming a
    secret (`{"name": "DB_PASSWORD", "value": …}`): each `value` that is no word the redactor
    keeps under that name (`blanked_by_name`)."""
    return {i for i, (name, value) in enumerate(fields) if blanked_by_name(name, value, obj)}


def _blanked_together(fields: Sequence[Field], dropped: set[int]) -> set[int]:
    """The fields left (those not in `dropped`) that the redactor blanks once they are one
    JSON object (`validate.fields_json`): a name/value object's value, and the second of a
    name sent twice as a [name, value] pair naming a secret."""
    left = [i for i in range(len(fields)) if i not in dropped]
    positions: dict[str, list[int]] = {}
    for i in left:
        positions.setdefault(fields[i][0], []).append(i)
    first_values = {name: fields[at[0]][1] for name, at in positions.items()}
    values = named_object_values(first_values, [fields[i] for i in left])
    blanked = {left[j] for j in values}
    for at in positions.values():
        if len(at) == 2 and _secret_pair(fields[at[0]][1], fields[at[1]][1]):
            blanked.add(at[1])
    return blanked


def _secret_pair(name: str, value: str) -> bool:
    """A [name, value] pair whose value the redactor blanks by its name."""
    return blanked_by_name(name, value)


def without_tokens(text: str, tokens: Iterable[str]) -> str | None:
    """`text` (JSON, as queued) with every one of the gateway's own `tokens` it holds blanked
    (TOKEN_BLANK), wherever: a key, a value, inside more text, a number of digits alone; None
    when it holds none. The gateway holds its tokens by value and the daemon's redactor does
    not, so a sender that echoes its token (`?key=`, a JSON field, a URL in a message) would
    otherwise have it queued, and shown by every sink, under a name that says no secret.

    A token is looked for as a reader of what the daemon shows reads it, in every spelling a
    writer gives it (`_character`): percent-encoded in a URL, HTML-escaped by a template, or
    JSON-escaped (Go writes `&`, `<` and `>` as `\\u0026`, `\\u003c`, `\\u003e`), in any mix.
    The text is read as the daemon reads it (`triage.decode.load_json`: past a byte-order
    mark), and so is each string in it that holds JSON (an object's JSON encoded again as a
    string, an SNS Message, a quoted response), at any depth: a token escaped in one is
    blanked there, and the string written again as JSON. What is blanked is written again as
    JSON, the same value but the tokens; text that is no JSON (or JSON in strings nested past
    what the stack walks) has the token replaced where it stands. A text in which no token may stand (`_Spelled.may_hold`) costs a few searches at
    C speed. The written text may hold characters SQS refuses: the caller makes it safe
    (`sqs_safe`)."""
    held = tuple(dict.fromkeys(token for token in tokens if token))
    if not held:
        return None
    spelled_out = _without_spelled_tokens(text, held)
    # Then base64 (Basic's `user:token`), which no spelling above reads (ingest/encoded_tokens.py).
    encoded_out = without_base64_tokens(text if spelled_out is None else spelled_out, held)
    return spelled_out if encoded_out is None else encoded_out


def _without_spelled_tokens(text: str, held: tuple[str, ...]) -> str | None:
    """`without_tokens` for the tokens spelled as text (`_character`): None when none is."""
    spelled = _spelled(held)
    if not spelled.may_hold(text):
        return None
    try:
        blanked_value, changed = _blank_json(load_json(text, "body"), spelled)
    except (DecodeError, RecursionError):
        # No JSON, or JSON inside strings nested past what the stack walks: blanked as it
        # stands (a spelling's backslashes are read up to five strings deep).
        blanked = spelled.pattern.sub(TOKEN_BLANK, text)
        return blanked if blanked != text else None
    return json.dumps(blanked_value, ensure_ascii=False) if changed else None


@dataclass(frozen=True, slots=True)
class _Spelled:
    """Every spelling of a set of tokens (`pattern`), and what any spelling of a token must
    leave in a text as it is (`words`): each token's runs of ASCII letters and digits, which
    no writer escapes unasked. A text that lacks one of each token's runs, and holds no
    letter or digit escaped, spells no token: it is never searched with the slower
    `pattern`."""

    words: tuple[tuple[str, ...], ...]
    pattern: re.Pattern[str]

    def may_hold(self, text: str) -> bool:
        """Whether a token may be spelled in `text`: every run of one token's letters and
        digits is in it, or a letter or digit escaped (which may be one of a run's)."""
        if any(all(run in text for run in runs) for runs in self.words):
            return True
        return _escapes_word_character(text)


@functools.lru_cache(maxsize=8)
def _spelled(held: tuple[str, ...]) -> _Spelled:
    """The spellings of the tokens `held` (built once for each set of tokens: a rotation
    makes a new one). The longest token is tried first, so one holding another goes whole."""
    ordered = sorted(held, key=len, reverse=True)
    starts = {start for token in ordered for start in _starts(token[0])} - {"\\"}
    either = "|".join("".join(map(_character, token)) for token in ordered)
    # The look-ahead lets the search skip, one comparison each, the places no token starts;
    # in a run of backslashes a spelling starts at its first (a run of many is tried once).
    begins = rf"(?=[{re.escape(''.join(sorted(starts)))}]|(?<!\\)\\)"
    pattern = re.compile(f"{begins}(?:{either})")
    return _Spelled(tuple(map(_word_runs, held)), pattern)


def _word_runs(token: str) -> tuple[str, ...]:
    """`token`'s runs of ASCII letters and digits, the longest (the rarest in a text) first;
    none when it has none (every text may hold such a token then)."""
    return tuple(sorted(set(_WORD_RUN.findall(token)), key=len, reverse=True))


_WORD_RUN = re.compile(r"[A-Za-z0-9]+")


def _character(ch: str) -> str:
    """A pattern of each way `ch` is written in a token's spellings: as it is; JSON-escaped,
    behind its backslashes (`_BACKSLASHES`: a string encoded as JSON again doubles them);
    percent-encoded in either case of hex, encoded again any number of times (`%2526`); as
    an HTML character reference, named (with or without `;`, as browsers read the old ones),
    decimal or hex, escaped again (`&amp;lt;`) or behind Go's `\\u0026`; a space as a form's
    `+`, and a `+` as the space a query's reader makes of it."""
    code = ord(ch)
    forms = [re.escape(ch), _json_escape(code)]
    if ch in _SHORT_ESCAPES:
        forms.append(_BACKSLASHES + re.escape(_SHORT_ESCAPES[ch]))
    forms.append("".join(_percent_byte(_hex(byte, 2)) for byte in ch.encode("utf-8", "replace")))
    names = sorted(_ENTITY_NAMES.get(ch, ()), key=len, reverse=True)
    forms += _html_references(str(code), _hex(code, 1), names)
    forms += _FORM_SPELLINGS.get(ch, [])
    return f"(?:{'|'.join(forms)})"


def _starts(ch: str) -> set[str]:
    """The characters a spelling of `ch` (`_character`) may start with."""
    return {ch, "\\", "%", "&", *(form.removeprefix("\\") for form in _FORM_SPELLINGS.get(ch, []))}


def _json_escape(code: int) -> str:
    """`\\uXXXX` of the character `code` (a surrogate pair past U+FFFF), behind its
    backslashes."""
    if code <= 0xFFFF:
        return _json_unit(_hex(code, 4))
    high, low = divmod(code - 0x10000, 0x400)
    return _json_unit(_hex(0xD800 + high, 4)) + _json_unit(_hex(0xDC00 + low, 4))


#: The backslashes before a JSON escape: one, doubled each time a string holding it is written
#: as JSON again, up to five times (31). Bounded, so that a long run of them costs a search
#: a bounded try at each of its places, not one the length of the run.
_BACKSLASHES = r"\\{1,32}"


def _json_unit(hex4: str) -> str:
    """A pattern of `\\u` and the four hex digits `hex4` (a pattern), behind its backslashes
    (`_BACKSLASHES`)."""
    return f"{_BACKSLASHES}u{hex4}"


def _percent_byte(hex2: str) -> str:
    """A pattern of one byte percent-encoded (its hex, `hex2`, a pattern), and encoded again
    any number of times (`%253C`: a URL carried in another URL's query)."""
    return rf"%(?:25)*{hex2}"


def _html_references(decimal: str, hexadecimal: str, names: Sequence[str]) -> list[str]:
    """Patterns of a character reference to the character whose code is `decimal` and
    `hexadecimal` (patterns), or one of its `names`: its `&` as it is or JSON-escaped
    (`\\u0026`, as Go writes it), escaped again any number of times (`&amp;lt;`)."""
    spelled = [rf"#0*{decimal};?", rf"#[xX]0*{hexadecimal};?", *map(re.escape, names)]
    reference = f"(?:amp;)*(?:{'|'.join(spelled)})"
    return [f"&{reference}", _json_unit("0026") + reference]


def _hex(number: int, digits: int) -> str:
    """A pattern of `number` in hex, at least `digits` long, its letters in either case."""
    return "".join(
        f"[{digit}{digit.upper()}]" if digit.isalpha() else digit
        for digit in f"{number:0{digits}x}"
    )


#: The JSON escapes of one letter (`\\n`, `\\/`, `\\"`, `\\\\`).
_SHORT_ESCAPES = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "\b": "b",
    "\f": "f",
    "\n": "n",
    "\r": "r",
    "\t": "t",
}

#: A space as a form or a query writes it, and a `+` as a query's reader reads it: a token
#: holding `+` sent in a URL's query unencoded is shown with a space.
_FORM_SPELLINGS = {" ": [r"\+"], "+": [" "]}


def _entity_names() -> dict[str, list[str]]:
    """The names of HTML's character references, by the one character each stands for."""
    names: dict[str, list[str]] = {}
    for name, character in html.entities.html5.items():
        if len(character) == 1:
            names.setdefault(character, []).append(name)
    return names


_ENTITY_NAMES = _entity_names()

#: The hex and the decimal code of an ASCII letter or digit (0-9: 0x30-0x39, 48-57; A-Z:
#: 0x41-0x5A, 65-90; a-z: 0x61-0x7A, 97-122), as patterns.
_WORD_HEX = "(?:3[0-9]|[46][1-9a-fA-F]|[57][0-9aA])"
_WORD_DECIMAL = "(?:4[89]|5[0-7]|6[5-9]|[78][0-9]|9[07-9]|1[01][0-9]|12[0-2])"

#: An ASCII letter or digit escaped in each way `_character` reads it: JSON's `\u0031` (behind
#: any number of backslashes, whose last one this finds), a URL's `%31` (`%2531`), an HTML
#: reference `&#49;`, `&#x31;` (`&amp;#49;`, `\u0026#49;`). Each starts with a character of
#: its own, which the search skips to at C speed.
_ESCAPED_WORD_CHARACTERS = (
    re.compile(rf"\\u00{_WORD_HEX}"),
    re.compile(_percent_byte(_WORD_HEX)),
    re.compile(
        rf"#(?:(?<=&#)|(?<=amp;#)|(?<=\\u0026#))(?:0*{_WORD_DECIMAL};?|[xX]0*{_WORD_HEX};?)"
    ),
)


def _escapes_word_character(text: str) -> bool:
    """Whether `text` holds an ASCII letter or digit escaped (`_ESCAPED_WORD_CHARACTERS`)."""
    return any(escaped.search(text) is not None for escaped in _ESCAPED_WORD_CHARACTERS)


def _json_inside(text: str) -> object:
    """The value of `text`, an object's or an array's JSON, read as the daemon reads JSON
    (`load_json`); None when it does not parse."""
    try:
        return load_json(text.lstrip(_LEADING), "string")
    except DecodeError:
        return None


#: What may lead JSON text: its whitespace, and a UTF-8 byte-order mark.
_LEADING = "\ufeff \t\r\n"


def _blank_string(text: str, spelled: _Spelled) -> tuple[str, bool]:
    """`text` with every token spelled in it blanked, and whether any was. A string holding
    JSON in which a token may be (`_Spelled.may_hold`) is read as JSON (the daemon reads some
    so, a reader the rest) and, when one was in it, written again as JSON without it."""
    if text.lstrip(_LEADING).startswith(("{", "[")) and spelled.may_hold(text):
        inner = _json_inside(text)
        if inner is not None:
            blanked, changed = _blank_json(inner, spelled)
            return (json.dumps(blanked, ensure_ascii=False), True) if changed else (text, False)
    if spelled.pattern.search(text) is None:
        return text, False
    return spelled.pattern.sub(TOKEN_BLANK, text), True


def _blank_json(value: object, spelled: _Spelled) -> tuple[object, bool]:
    """`value` (parsed JSON) with every token in a string blanked (`_blank_string`), and a
    whole number whose digits hold one made TOKEN_BLANK; and whether any was, so that text
    holding none is queued as sent."""
    if isinstance(value, str):
        return _blank_string(value, spelled)
    if isinstance(value, list):
        items = [_blank_json(item, spelled) for item in value]
        return [item for item, _ in items], any(changed for _, changed in items)
    if isinstance(value, dict):
        keys = [_blank_string(key, spelled) for key in value]
        values = [_blank_json(item, spelled) for item in value.values()]
        blanked_dict = {key: item for (key, _), (item, _) in zip(keys, values, strict=True)}
        return blanked_dict, any(changed for _, changed in keys + values)
    digits = isinstance(value, int) and not isinstance(value, bool)
    if digits and _blank_string(str(value), spelled)[1]:
        return TOKEN_BLANK, True
    return value, False
