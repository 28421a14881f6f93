"""Text whose backslash escapes are escaped again (`db:\\\\n  password: x\\\\n`: YAML, an INI
file or JSON quoted into a JSON string once more), read a level down: one level of escapes
undone, keeping where each character came from, so that what the rules find there is put back
where it stood and every other byte stays (`percent._spliced`). The pass that reads it is
`Redactor`'s (`_escaped_twice`).
"""

from __future__ import annotations

import re

#: A backslash escaped before an escape's letter or quote: the text quotes text that holds
#: escapes (`\\\\n`, `\\\\t`, `\\\\r`, `\\\\"`).
_DOUBLED = re.compile(r'\\\\[nrt"]')
#: One level of JSON's escapes; a backslash before anything else stays as it is.
_ONE_ESCAPE = re.compile(r'\\(u[0-9A-Fa-f]{4}|["\\/bfnrt])')
_UNESCAPED = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "\\": "\\", "/": "/"}


def escaped_twice(text: str) -> bool:
    """Whether `text` holds an escape escaped again (`_DOUBLED`)."""
    return "\\\\" in text and _DOUBLED.search(text) is not None


def unescaped_once(text: str) -> tuple[str, list[int]]:
    """`text` with one level of backslash escapes undone (`\\\\n` becomes `\\n`, `\\n` a line
    break, `\\"` a quote), and where in `text` each character of it starts (one entry more:
    `len(text)`), so a span of the decoded text can be found again in `text`."""
    pieces: list[str] = []
    starts: list[int] = []
    last = 0
    for escape in _ONE_ESCAPE.finditer(text):
        pieces.append(text[last : escape.start()])
        starts += range(last, escape.start())
        code = escape[1]
        pieces.append(_UNESCAPED.get(code) or chr(int(code[1:], 16)))
        starts.append(escape.start())
        last = escape.end()
    pieces.append(text[last:])
    starts += range(last, len(text) + 1)
    return "".join(pieces), starts
