"""Which characters one single-character node of a parsed regex (a literal, a class, `.`)
matches, and whether two such nodes share one: Python's `re` itself is asked, so case
folding (the Kelvin sign is a k under IGNORECASE), `\\w` beyond Latin letters and scoped
flags are exactly as it matches them, not a sample of characters.

A literal or a small set is enumerated (with every character that is another's case form);
anything broader is read as intervals of code points from one pass of `re` over every code
point, done once per class and only when two broad classes are compared.
"""

from __future__ import annotations

import array
import functools
import importlib
import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # typeshed describes re's parser under its old, deprecated names
    import sre_compile as _compiler
    import sre_constants as _constants
    import sre_parse as _parser
else:
    from re import _compiler, _constants, _parser

#: Inclusive code point ranges, sorted and apart.
Intervals = tuple[tuple[int, int], ...]

#: A set is enumerated when its literals and ranges hold at most this many characters.
_FEW = 512
_IGNORECASE = int(_constants.SRE_FLAG_IGNORECASE)
_TYPE_FLAGS = int(
    _constants.SRE_FLAG_ASCII | _constants.SRE_FLAG_LOCALE | _constants.SRE_FLAG_UNICODE
)


def freeze(value: Any) -> Any:
    """A parsed node's argument as nested tuples, so it can key a cache."""
    if isinstance(value, list | tuple):
        return tuple(freeze(item) for item in value)
    return value


def scoped(flags: int, add: int, remove: int) -> int:
    """The flags inside a group `(?add-remove:...)` as `re` compiles them: a type flag added
    (`(?a:` ASCII, `(?u:` Unicode) replaces the one in force."""
    if add & _TYPE_FLAGS:
        flags &= ~_TYPE_FLAGS
    return int((flags | add) & ~remove)


@dataclass(frozen=True, slots=True)
class CharClass:
    """One single-character node (`op`, `av` frozen) under the flags in force where it
    stands."""

    op: Any
    av: Any
    flags: int

    def matches(self, ch: str) -> bool:
        return _matcher(self).fullmatch(ch) is not None

    def few(self) -> tuple[str, ...] | None:
        """Every character the node matches, when it is a literal or a small set; else None."""
        return _few(self)

    def intervals(self) -> Intervals:
        return _intervals(self)


def overlap(
    a: CharClass, a_not: tuple[CharClass, ...], b: CharClass, b_not: tuple[CharClass, ...]
) -> bool:
    """Whether one character is matched by `a` and by `b`, and by none of the classes each
    must not be followed by (`a_not`, `b_not`: the exits of possessive repeats)."""
    return shared((a, b), (*a_not, *b_not))


@functools.cache
def shared(classes: tuple[CharClass, ...], excluded: tuple[CharClass, ...] = ()) -> bool:
    """Whether one character is matched by every one of `classes` and by none of
    `excluded`."""
    few = next((f for f in (c.few() for c in classes) if f is not None), None)
    if few is not None:
        return any(
            all(c.matches(ch) for c in classes) and not any(c.matches(ch) for c in excluded)
            for ch in few
        )
    common = classes[0].intervals()
    for c in classes[1:]:
        common = _intersect(common, c.intervals())
    for c in excluded:
        common = _subtract(common, c.intervals())
    return bool(common)


@functools.cache
def _matcher(cls: CharClass) -> Any:
    """`re`'s own compiled form of the one node: what it matches is what the regex's node
    matches."""
    return _compile([(cls.op, cls.av)], cls.flags)


def _compile(data: list[Any], flags: int) -> Any:
    state = _parser.State()
    state.flags = flags
    return _compiler.compile(_parser.SubPattern(state, data), flags)


@functools.cache
def _few(cls: CharClass) -> tuple[str, ...] | None:
    candidates = _candidates(cls)
    if candidates is None:
        return None
    found = {ch for ch in candidates if cls.matches(ch)}
    if cls.flags & _IGNORECASE:  # a match of another case is a cased character
        found.update(m.group() for m in _matcher(cls).finditer(_cased()))
    return tuple(sorted(found))


def _candidates(cls: CharClass) -> set[str] | None:
    """The characters a literal or a set of literals and small ranges names, else None."""
    if cls.op == _constants.LITERAL:
        return {chr(cls.av)}
    if cls.op != _constants.IN:
        return None
    chars: set[str] = set()
    for op, av in cls.av:
        if op == _constants.LITERAL:
            chars.add(chr(av))
        elif op == _constants.RANGE and av[1] - av[0] < _FEW:
            chars.update(map(chr, range(av[0], av[1] + 1)))
        else:  # a category, a negation or a wide range
            return None
        if len(chars) > _FEW:
            return None
    return chars


@functools.cache
def _intervals(cls: CharClass) -> Intervals:
    """The node's characters, read by `re` from one pass over every code point."""
    state = _parser.State()
    state.flags = cls.flags
    once = _parser.SubPattern(state, [(cls.op, cls.av)])
    runs = _compile([(_constants.MAX_REPEAT, (1, _constants.MAXREPEAT, once))], cls.flags)
    return tuple((m.start(), m.end() - 1) for m in runs.finditer(_every_code_point()))


@functools.cache
def _every_code_point() -> str:
    codes = array.array("I", range(sys.maxunicode + 1))
    if codes.itemsize != 4:  # an unsigned int of another size: no UTF-32 to decode
        return "".join(map(chr, codes))
    # Decoded as UTF-32 (surrogates passed through): four times as fast as joining chr()s.
    return codes.tobytes().decode(f"utf-32-{sys.byteorder[0]}e", "surrogatepass")


@functools.cache
def _cased() -> str:
    """Every character with another case form: only these can match a letter of another code
    point under IGNORECASE."""
    iscased = getattr(importlib.import_module("_sre"), "unicode_iscased", None)
    if iscased is not None:  # re's own test, mapped over every code point in C
        flags = bytes(map(iscased, range(sys.maxunicode + 1)))
        return "".join(chr(m.start()) for m in re.finditer(b"\x01", flags))
    return "".join(ch for ch in _every_code_point() if ch.lower() != ch or ch.upper() != ch)


def _intersect(a: Intervals, b: Intervals) -> Intervals:
    out: list[tuple[int, int]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def _subtract(a: Intervals, b: Intervals) -> Intervals:
    out: list[tuple[int, int]] = []
    for lo, hi in a:
        for b_lo, b_hi in b:
            if b_hi < lo or b_lo > hi:
                continue
            if b_lo > lo:
                out.append((lo, b_lo - 1))
            lo = b_hi + 1
            if lo > hi:
                break
        if lo <= hi:
            out.append((lo, hi))
    return tuple(out)
