"""Credentials the process holds (a token it read, an installation token it minted, an API key
from its settings): every `Redactor` replaces them by exact value before any rule runs.
"""

from __future__ import annotations

import threading

# Credentials the process holds, least recently held first: a dict keeps insertion order and
# finds a value again at once. Bounded, so a process that mints a token an hour keeps only the
# recent ones. Readers take `_held_now`, a tuple swapped whole under the lock only when the set
# of values changes, and need no lock themselves: a redactor sorts its values again, and drops
# what it remembered, only when the tuple is a new one.
_HELD_MAX = 256
_held: dict[str, None] = {}
_held_now: tuple[str, ...] = ()
_held_lock = threading.Lock()


def hold(secret: str | None) -> None:
    """Remember a credential this process holds (a token it read, an installation token it minted,
    an API key from its settings) so every Redactor redacts it by exact value from now on."""
    global _held_now
    if secret is None or len(secret) < 6:  # a short value would blank out ordinary words
        return
    with _held_lock:
        if secret in _held:  # the backend's token, held again at every read: the same values
            _held[secret] = _held.pop(secret)  # the most recent now, last to be evicted
            return
        _held[secret] = None
        while len(_held) > _HELD_MAX:
            del _held[next(iter(_held))]
        _held_now = tuple(_held)


def held() -> tuple[str, ...]:
    """The credentials passed to `hold` (the most recent 256), in no promised order; the same
    tuple until a value not held yet is held."""
    return _held_now


def _forget_held() -> None:
    """Tests only: start again with no held credentials."""
    global _held_now
    with _held_lock:
        _held.clear()
        _held_now = ()
