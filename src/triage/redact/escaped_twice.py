"""Text whose backslash escapes are escaped again (`db:\\\\n  password: x\\\\n`: YAML, an INI
file or JSON quoted into a JSON string once more; a character JSON escaped, `\\\\u003d`, as Gson
writes `=` and Go `&` and `<`, in a log line quoted into another's JSON), read a level down: one
level of escapes undone, keeping where each character came from, so that what the rules find
there is put back where it stood and every other byte stays (`percent._spliced`). The pass that reads it is
`Redactor`'s (`_escaped_twice`).
"""

from __future__ import annotations

import re

#: A backslash escaped before an escape's letter or quote: the text quotes text that holds
#: escapes (`\\\\n`, `\\\\t`, `\\\\r`, `\\\\"`, `\\\\u003d`).
_DOUBLED = re.compile(r'\\\\(?:[nrt"]|u[0-9A-Fa-f]{4})')
#: One level of JSON's escapes; a backslash before anything else stays as it is. First, a
#: printable ASCII character but a quote and a backslash escaped a level further down
#: (`\\\\u003d`, its backslash not itself escaped): read as the character, two levels at once,
#: since the rules read `password=` but not `password\\u003d`, and the level below undoes
#: such escapes only after its rules have run, too late for the splice to find their
#: placeholders in what it decoded.
_ONE_ESCAPE = re.compile(
    r"(?<!\\)\\\\u(?P<deep>00(?:2[013-9A-Fa-f]|[3-4][0-9A-Fa-f]|5[0-9ABD-Fabd-f]|6[0-9A-Fa-f]|7[0-9A-Ea-e]))"
    r'|\\(u[0-9A-Fa-f]{4}|["\\/bfnrt])'
)
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
        code = escape["deep"] or escape[2]
        pieces.append(_UNESCAPED.get(code) or chr(int(code.removeprefix("u"), 16)))
        starts.append(escape.start())
        last = escape.end()
    pieces.append(text[last:])
    starts += range(last, len(text) + 1)
    return "".join(pieces), starts
