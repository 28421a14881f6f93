"""A secret's value on the line after its name's `=` and a line continuation (`--hmac-key=\\`,
`DB_PASSWORD=\\` in a shell script, raw or inside a JSON string): the name rules read the
value on the name's line, where the continuation's backslash stands alone.
"""

from __future__ import annotations

import re

from triage.redact.named_values import named_value_secret
from triage.redact.rule import _Rule, _rule

#: The name before the `=`: a word, an option's dashes aside (`--hmac-key`, `DB_PASSWORD`).
_NAME_BEFORE = re.compile(r"(?<![\w.$-])-{0,2}+(?P<name>[A-Za-z_][\w.-]{0,127}+)\Z")


def _continued_value(match: re.Match[str]) -> str:
    """The value after the continuation replaced if the name before the `=` says it is a
    secret (`named_value_secret`); else the match unchanged."""
    start = match.start()
    name = _NAME_BEFORE.search(match.string, max(0, start - 132), start)
    if name is None or not named_value_secret(name["name"], match["value"]):
        return match[0]
    return f"{match['head']}[REDACTED:password]"


CONTINUED_RULES: tuple[_Rule, ...] = (
    _rule(
        r"(?P<head>=\\{1,2}(?:\r?\n|(?:\\r)?\\n)[ \t]{0,64}+)(?!\[REDACTED)"
        r"(?P<value>[^\s\"'\\&;|]{1,512}+)",
        _continued_value,
        # The backslash and the break, not the `=`: a needle's first character is a place the
        # search for needles stops at, and `=` is in most texts.
        *("\\\n", "\\\r", "\\\\n", "\\\\r"),
        fold_needles=True,
    ),
)
