"""What the redactor makes of the credentials it holds, made again only when they change.

`spelled` (each credential's spellings) and `exact` (an automaton over them) are asked once per
text for the same credentials tuple: the last tuple's answer is kept by identity (one check a
text), and a few others' (a process whose redactors know different credentials, the gateway's
tokens beside the held ones), cleared when full."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

Made = TypeVar("Made")


class PerCredentials(Generic[Made]):
    """`make(secrets)`, made once per credentials tuple: the last tuple's by identity, then up
    to `most` tuples' by value. `last` (the tuple and what was made of it) is swapped whole, so
    threads read it without a lock, and a caller on a hot path may read it before calling."""

    def __init__(self, make: Callable[[tuple[str, ...]], Made], most: int) -> None:
        self._make = make
        self._most = most
        self.last: tuple[tuple[str, ...], Made] | None = None
        self._made: dict[tuple[str, ...], Made] = {}
        self._lock = threading.Lock()

    def __call__(self, secrets: tuple[str, ...]) -> Made:
        last = self.last
        if last is not None and last[0] is secrets:
            return last[1]
        made = self._made.get(secrets)
        if made is None:
            made = self._make(secrets)
            with self._lock:
                if len(self._made) >= self._most:
                    self._made.clear()
                self._made[secrets] = made
        self.last = (secrets, made)
        return made
