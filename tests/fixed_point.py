"""Finding texts that redaction does not leave at a fixed point: `redact(redact(x)) != redact(x)`.

`body_texts` gives what a JSON body holds for the redactor (the body whole, and every key and
string `Redactor.value` reads); `unstable` names each text whose redaction changes when it is
redacted again, with both passes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from triage.redact import redact as default_redact


def body_texts(raw: str) -> Iterator[str]:
    """A JSON body whole, then every key and string inside it (what `Redactor.value` reads)."""
    yield raw
    stack: list[Any] = [json.loads(raw)]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for key, item in value.items():
                yield str(key)
                stack.append(item)
        elif isinstance(value, list):
            stack.extend(value)


def unstable(texts: Iterable[str], redact: Callable[[str], str] = default_redact) -> list[str]:
    """Each text whose redaction, redacted again, changes: the first pass and the second."""
    found = []
    for text in dict.fromkeys(texts):
        once = redact(text)
        twice = redact(once)
        if twice != once:
            found.append(f"{text[:200]!r}\n  once:  {once[:200]!r}\n  twice: {twice[:200]!r}")
    return found
