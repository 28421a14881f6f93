"""A secret's value continued over lines after its name's `=` (`--hmac-key=\\`, `DB_PASSWORD=\\`
in a shell script, Java .properties' `db.password=first\\` then `    rest`; raw or inside a
JSON string): the name rules read the value on the name's line only, where the continuation's
backslash ends it, so each piece goes, the backslashes, breaks and indentation kept.
"""

from __future__ import annotations

import re

from triage.redact.named_values import named_value_secret
from triage.redact.rule import _Rule, _rule

#: The name before the `=`: a word, an option's dashes aside (`--hmac-key`, `DB_PASSWORD`).
_NAME_BEFORE = re.compile(r"(?<![\w.$-])-{0,2}+(?P<name>[A-Za-z_][\w.-]{0,127}+)\Z")
#: A piece of a value on one line: no space, quote, backslash or a shell's operator.
_PIECE = r"[^\s\"'\\&;|]"
#: A continuation: the backslash glued to the piece before it (escaped inside a JSON string),
#: the line break (raw or escaped) and the next line's indentation.
_CONTINUATION = r"\\{1,2}(?:\r?\n|(?:\\r)?\\n)[ \t]{0,64}+"
_PIECES = re.compile(rf"(?P<piece>{_PIECE}{{0,512}}+)(?P<join>{_CONTINUATION}|\Z)")


def _continued_value(match: re.Match[str]) -> str:
    """Every piece of the value replaced, its continuations kept, if the name before the `=`
    says the value is a secret (`named_value_secret`, asked of the pieces joined); else the
    match unchanged."""
    start = match.start()
    name = _NAME_BEFORE.search(match.string, max(0, start - 132), start)
    value = match["value"]
    pieces = [(m["piece"], m["join"]) for m in _PIECES.finditer(value) if m[0]]
    joined = "".join(piece for piece, _ in pieces)
    if name is None or not named_value_secret(name["name"], joined):
        return match[0]
    replaced = "".join(("[REDACTED:password]" if piece else "") + join for piece, join in pieces)
    return f"={replaced}"


CONTINUED_RULES: tuple[_Rule, ...] = (
    # From the `=` (which the engine jumps to): pieces, each but the last ending in a
    # continuation, at least one; the first piece may be empty (`NAME=\\`).
    _rule(
        rf"=(?!\[REDACTED)(?P<value>(?:{_PIECE}{{0,512}}+{_CONTINUATION}){{1,16}}+"
        rf"(?!\[REDACTED){_PIECE}{{1,512}}+)",
        _continued_value,
        # The backslash and the break, not the `=`: a needle's first character is a place the
        # search for needles stops at, and `=` is in most texts.
        *("\\\n", "\\\r", "\\\\n", "\\\\r"),
        fold_needles=True,
    ),
)
