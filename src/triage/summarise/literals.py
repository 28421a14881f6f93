"""The literals the answer checks' gates look for, found in a text in one pass.

Each check of the model's answer is searched for only in text holding one of its literals
(a claim's words, a priority's key, a credential's name …). Asked one by one, the gates read
each answer text once per literal, a few hundred times for a short description; here every
gate's literals are one RE2 set, matched once per text (and remembered for the last few
texts, as the checks of one answer ask about the same text in turn), and a gate's question
is a test of two sets.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

#: A text longer than this is matched each time it is asked about, not remembered.
_REMEMBERED_CHARS = 4096


class Literals:
    """Literals one gate needs, registered with the shared set when made."""

    __slots__ = ("words",)

    def __init__(self, words: Iterable[str]) -> None:
        self.words = frozenset(words)
        _register(self.words)

    def any_in(self, text: str) -> bool:
        """Whether `text` holds one of the literals (as `any(w in text for w in words)`)."""
        return not found(text).isdisjoint(self.words)

    def in_(self, text: str) -> frozenset[str]:
        """The literals `text` holds."""
        return found(text) & self.words


_lock = threading.Lock()
#: Every registered literal, in the order RE2's set numbers them.
_registered: list[str] = []
_known: set[str] = set()
#: The set built from the first n registered literals: (n, set or None when RE2 could not
#: build it). Swapped whole.
_built: tuple[int, Any] = (0, None)


def _register(words: frozenset[str]) -> None:
    with _lock:
        for word in sorted(words - _known):
            _known.add(word)
            _registered.append(word)
    _found.cache_clear()


def found(text: str) -> frozenset[str]:
    """The registered literals that occur in `text`."""
    if len(text) > _REMEMBERED_CHARS:
        return _match(text)
    return _found(text)


@lru_cache(maxsize=64)
def _found(text: str) -> frozenset[str]:
    return _match(text)


def _match(text: str) -> frozenset[str]:
    count, matcher = _built
    if count != len(_registered):
        count, matcher = _build()
    words = _registered
    if matcher is None:  # pragma: no cover - literals always compile
        return frozenset([word for word in words[:count] if word in text])
    # A lone surrogate (JSON's "\ud800") is written as UTF-8 writes any other character of
    # the Basic Multilingual Plane, three bytes no literal's own holds: it matches nothing.
    encoded = text.encode("utf-8", "surrogatepass")
    return frozenset([words[i] for i in matcher.Match(encoded) or ()])


def _build() -> tuple[int, Any]:
    """The RE2 set of every literal registered so far, its literals as UTF-8 bytes: UTF-8
    marks where each character's bytes start, so a literal's bytes occur in a text's bytes
    exactly where its characters occur in the text."""
    global _built
    import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

    with _lock:
        words = tuple(_registered)
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1  # bytes as bytes: literals match bytewise
    options.never_capture = True
    options.log_errors = False
    matcher: Any = re2.Set.SearchSet(options)
    try:
        for word in words:
            matcher.Add(_escaped(word.encode("utf-8", "surrogatepass")))
        matcher.Compile()
    except re2.error:  # pragma: no cover - literals always compile
        matcher = None
    _built = (len(words), matcher)
    return _built


def _escaped(literal: bytes) -> bytes:
    """`literal` as an RE2 pattern matching exactly its bytes."""
    return b"".join(b"\\x%02x" % byte for byte in literal)
