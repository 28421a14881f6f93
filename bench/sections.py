"""The results file's own `## ` sections, found by their whole heading line: a copy kept under
"Earlier figures" is headed `#### Head-of-line blocking in a storm (19:08)`, which contains the
live heading as text and must never be taken for it."""

from __future__ import annotations

import re

#: Sections a phase adds go before this one.
MACHINE = "## Machine and versions"


def span(document: str, heading: str) -> tuple[int, int] | None:
    """Where the section headed by the line `heading` starts, and where it ends: at the next
    `## ` heading line, or at the end of `document`. None when no line is `heading`."""
    found = re.search(rf"^{re.escape(heading)}[ \t]*$", document, re.MULTILINE)
    if found is None:
        return None
    following = re.compile(r"^## ", re.MULTILINE).search(document, found.end())
    return found.start(), following.start() if following else len(document)


def replace(document: str, heading: str, lines: list[str]) -> str:
    """`document` with the section `heading` replaced by `lines` (or, if it has none, put before
    "## Machine and versions", else appended); every other section stays as it was."""
    text = "\n".join(lines).rstrip("\n") + "\n\n"
    found = span(document, heading)
    if found is not None:
        start, end = found
        return document[:start] + text + document[end:]
    machine = span(document, MACHINE)
    if machine is None:
        return document.rstrip("\n") + "\n\n" + text
    return document[: machine[0]] + text + document[machine[0] :]
