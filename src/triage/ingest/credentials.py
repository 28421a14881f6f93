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
(`without_tokens`): a body or a field that repeats one holds no name to drop it by.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from triage.normalize.common import cut
from triage.redact import secret_named

# The redactor's own reading of a value by its name (`Redactor.value` asks the same).
from triage.redact.named_values import blanked_by_name, hidden_in_name, named_value_secret

#: Dropped names an answer shows, and the characters of each: enough to see why a field went.
SHOWN_NAMES_MAX = 20
SHOWN_NAME_CHARS = 64

Field = tuple[str, str]

#: What stands in for one of the gateway's own tokens in what it queues (`without_tokens`): the
#: redactor's mark for a value the process holds.
TOKEN_BLANK = "[REDACTED:credential]"


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
    case-folded."""
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

    A token is looked for as the daemon will read it: in JSON, in each string and key as it
    decodes. A JSON writer may escape any of its characters (Go writes `&`, `<` and `>` as
    `\\u0026`, `\\u003c`, `\\u003e`; any character may stand as `\\uXXXX`, `/` as `\\/`, one
    past U+FFFF as a surrogate pair), so text holding such an escape (`_ESCAPE`) is parsed
    even when no token stands in it as written; text without one is parsed only when a token
    does. What is blanked is written again as JSON, the same value but the tokens; text that
    is no JSON has the token replaced where it stands. The written text may hold characters
    SQS refuses: the caller makes it safe (`sqs_safe`)."""
    held = tuple(dict.fromkeys(token for token in tokens if token))
    if not held:
        return None
    written = tuple(form for token in held for form in _written(token))
    plain = any(form in text for form in written)
    if not plain and _ESCAPE.search(text) is None:
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return _blank_text(text, written) if plain else None
    if not plain:
        decoded = _decoded(value)
        if not any(form in decoded for form in written):
            return None  # escapes that spell no token: found so in C, not by the walk below
    blanked, changed = _blank_json(value, held)
    return json.dumps(blanked, ensure_ascii=False) if changed else None


def _decoded(value: object) -> str:
    """Parsed JSON written again with only `"`, `\\` and controls escaped: every string and
    key as it decodes, so a token any escape spelled stands in it as `_written` finds it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


#: A JSON escape that may spell a token's character: `\n`, `\t` and the like spell only
#: whitespace and controls, which no token holds; `\"` and `\\` count, since `_written` finds
#: them only where no other escape stands in the same token.
_ESCAPE = re.compile(r'\\[u/"\\]')


def _written(token: str) -> tuple[str, ...]:
    """How `token` may stand in JSON text: as it is, with `"` and `\\` escaped (and any other
    character past ASCII, or kept), and with `/` escaped as well (as some JSON writers do)."""
    escaped = json.dumps(token)[1:-1]
    unicode = json.dumps(token, ensure_ascii=False)[1:-1]
    return tuple(dict.fromkeys((token, escaped, escaped.replace("/", "\\/"), unicode)))


def _blank_text(text: str, tokens: tuple[str, ...]) -> str:
    for token in tokens:
        text = text.replace(token, TOKEN_BLANK)
    return text


def _blank_json(value: object, tokens: tuple[str, ...]) -> tuple[object, bool]:
    """`value` (parsed JSON) with every token in a string blanked, and a whole number whose
    digits hold one made TOKEN_BLANK; and whether any was, so that text holding none is
    queued as sent."""
    if isinstance(value, str):
        blanked = _blank_text(value, tokens)
        return blanked, blanked != value
    if isinstance(value, list):
        items = [_blank_json(item, tokens) for item in value]
        return [item for item, _ in items], any(changed for _, changed in items)
    if isinstance(value, dict):
        keys = [_blank_json(key, tokens) for key in value]
        values = [_blank_json(item, tokens) for item in value.values()]
        blanked_dict = {key: item for (key, _), (item, _) in zip(keys, values, strict=True)}
        return blanked_dict, any(changed for _, changed in keys + values)
    digits = isinstance(value, int) and not isinstance(value, bool)
    if digits and any(token in str(value) for token in tokens):
        return TOKEN_BLANK, True
    return value, False
