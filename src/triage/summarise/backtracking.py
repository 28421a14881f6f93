"""Whether a regular expression of the patterns file can make Python's `re` backtrack for
exponential time: a repeat whose one iteration can match the same text in several ways (a
repeat of a repeat, `(a+)+`, `(\\w+\\s?)*`, `(.*a){20}`; an alternation whose branches can start
alike, `(a|aa)*`) tries every split of the text among its iterations before it fails.

`re` is kept, not RE2 (which cannot backtrack): RE2's `\\b` and `\\w` are ASCII only, so the
bundled patterns would match other text beside non-ASCII letters ("éoom killed"). The check
is conservative: it refuses some patterns that do not backtrack, and says how to write them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # typeshed describes re's parser under its old, deprecated names
    import sre_constants as _constants
    import sre_parse as _parser
else:
    from re import _constants, _parser

#: How many ways a repeat may split one text among its iterations: `(\d{1,3}\.){3}` (27)
#: passes, `(a{1,2}){30}` (2**30) does not.
MAX_WAYS = 1000

_REPEATS = (_constants.MAX_REPEAT, _constants.MIN_REPEAT)
_UNBOUNDED = _constants.MAXREPEAT
#: The classes a set may name, as a regex matching one character of each.
_CATEGORIES = {
    "CATEGORY_DIGIT": re.compile(r"\d"),
    "CATEGORY_NOT_DIGIT": re.compile(r"\D"),
    "CATEGORY_SPACE": re.compile(r"\s"),
    "CATEGORY_NOT_SPACE": re.compile(r"\S"),
    "CATEGORY_WORD": re.compile(r"\w"),
    "CATEGORY_NOT_WORD": re.compile(r"\W"),
}
#: Characters tried when asking whether two branches can start alike (with each literal and
#: range end of the branches): Latin letters, digits, punctuation and spaces.
_PROBE = [chr(c) for c in range(0x250)] + ["\u2028", "\u3000", "\u0660", "\u4e00"]


def backtracking(pattern: str, flags: int = 0) -> str | None:
    """Why `pattern` (a valid regex) can backtrack for exponential time, else None."""
    tree = _parser.parse(pattern, flags)
    ignore_case = bool(tree.state.flags & re.IGNORECASE)
    for op, av in _nodes(tree.data):
        if op in _REPEATS and _most(av[1]) > 1:
            ways = _ways(av[2], ignore_case) ** _most(av[1])
            if ways > MAX_WAYS:
                return _REASON
    if any(_side_by_side(sequence, ignore_case) for sequence in _sequences(tree.data)):
        return _SIDE_BY_SIDE
    return None


_REASON = (
    "a repeat of something that can match the same text in more than one way (a repeat "
    "inside a repeat, as (a+)+ or (\\w+\\s?)*, or branches starting alike, as (a|aa)*) "
    "backtracks for exponential time on an alert that almost matches; repeat one "
    "character class instead, as [\\w\\s]{0,80}"
)


_SIDE_BY_SIDE = (
    "two repeats side by side that can take the same characters (as \\w+\\w* or "
    "\\d+\\.?\\d*) split an alert's text in a quadratic number of ways wherever a search "
    "starts; keep them apart by a character only one takes, or bound them, as \\w{1,40}"
)


def _most(maximum: int) -> float:
    """A repeat's upper bound, infinite when it has none."""
    return math.inf if maximum == _UNBOUNDED else maximum


def _nodes(data: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
    """Every node of a parsed pattern, at any depth."""
    for op, av in data:
        yield op, av
        yield from _nodes(_children(op, av))


def _children(op: Any, av: Any) -> list[Any]:
    """The nodes directly inside one node."""
    if op in (*_REPEATS, _constants.POSSESSIVE_REPEAT):
        return list(av[2])
    if op == _constants.SUBPATTERN:
        return list(av[3])
    if op in (_constants.ASSERT, _constants.ASSERT_NOT):
        return list(av[1])
    if op == _constants.ATOMIC_GROUP:
        return list(av)
    if op == _constants.BRANCH:
        return [node for branch in av[1] for node in branch]
    if op == _constants.GROUPREF_EXISTS:
        return [node for branch in av[1:] if branch is not None for node in branch]
    return []


def _ways(body: Any, ignore_case: bool) -> float:
    """An upper bound on how many ways one iteration of a repeat's `body` can match the same
    text: each variable repeat inside multiplies it by its number of lengths, each
    alternation whose branches can start alike by its number of branches. Possessive repeats
    and atomic groups never give text back, so they add no ways."""
    ways = 1.0
    for op, av in _backtracking_nodes(body):
        if op in _REPEATS and av[0] != av[1]:
            ways *= _most(av[1]) - av[0] + 1
        elif op == _constants.BRANCH and _alike(av[1], ignore_case):
            ways *= len(av[1])
    return ways


def _backtracking_nodes(data: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
    """The nodes of `data` at any depth, leaving out what a possessive repeat, an atomic
    group or a lookaround holds (none of them is retried in another way)."""
    for op, av in data:
        yield op, av
        if op not in (_constants.POSSESSIVE_REPEAT, _constants.ATOMIC_GROUP) and op not in (
            _constants.ASSERT,
            _constants.ASSERT_NOT,
        ):
            yield from _backtracking_nodes(_children(op, av))


def _alike(branches: list[Any], ignore_case: bool) -> bool:
    """Whether two of the branches can start with the same character, one can match nothing
    (`a|aa` is parsed as `a(?:|a)`), or one starts with something this check cannot tell."""
    firsts = [_first(branch) for branch in branches]
    known: list[list[tuple[Any, Any]]] = []
    for first, empty in firsts:
        if first is None or empty:
            return True
        known.append(first)
    return any(
        _overlap(mine, theirs, ignore_case)
        for i, mine in enumerate(known)
        for theirs in known[i + 1 :]
    )


#: What a piece of a pattern can start with (None: something this check does not follow,
#: a back-reference), and whether it can match nothing.
_Start = tuple[list[tuple[Any, Any]] | None, bool]


def _first(data: Any) -> _Start:
    """The single-character nodes a sequence can start with, and whether it can match
    nothing."""
    firsts: list[tuple[Any, Any]] = []
    for op, av in data:
        if op in (_constants.LITERAL, _constants.NOT_LITERAL, _constants.ANY, _constants.IN):
            return [*firsts, (op, av)], False
        if op in (_constants.AT, _constants.ASSERT, _constants.ASSERT_NOT):
            continue  # takes no character
        inner, empty = _first_of(op, av)
        if inner is None:
            return None, False
        firsts += inner
        if not empty:
            return firsts, False
    return firsts, True


def _first_of(op: Any, av: Any) -> _Start:
    """What a group, repeat or alternation can start with, and whether it can match nothing."""
    if op in (*_REPEATS, _constants.POSSESSIVE_REPEAT):
        inner, empty = _first(av[2])
        return inner, empty or av[0] == 0
    if op == _constants.SUBPATTERN:
        return _first(av[3])
    if op == _constants.ATOMIC_GROUP:
        return _first(av)
    if op == _constants.BRANCH:
        parts = [_first(branch) for branch in av[1]]
        nodes: list[tuple[Any, Any]] = []
        for part, _ in parts:
            if part is None:
                return None, False
            nodes += part
        return nodes, any(empty for _, empty in parts)
    return None, False


def _ends(first: list[tuple[Any, Any]]) -> Iterator[str]:
    """The literal characters and range ends the nodes name: tried as well as the probe."""
    for op, av in first:
        if op in (_constants.LITERAL, _constants.NOT_LITERAL):
            yield chr(av)
        elif op == _constants.IN:
            for item_op, item_av in av:
                if item_op == _constants.LITERAL:
                    yield chr(item_av)
                elif item_op == _constants.RANGE:
                    yield from (chr(item_av[0]), chr(item_av[1]))


def _in(ch: str, first: list[tuple[Any, Any]], ignore_case: bool) -> bool:
    """Whether one of the nodes matches `ch` (in any case, with `ignore_case`)."""
    # One character's other case may be two (ß → SS): those match no single character.
    cases = {c for c in (ch, ch.lower(), ch.upper()) if len(c) == 1} if ignore_case else {ch}
    return any(_matches(c, op, av) for c in cases for op, av in first)


def _matches(ch: str, op: Any, av: Any) -> bool:
    """Whether one single-character node matches `ch`; `.` is taken to match a newline too
    (as it does with an inline `(?s)`), and anything else to match every character."""
    if op == _constants.LITERAL:
        return ord(ch) == int(av)
    if op == _constants.NOT_LITERAL:
        return ord(ch) != int(av)
    if op == _constants.IN:
        negated = bool(av) and av[0][0] == _constants.NEGATE
        items = av[1:] if negated else av
        return negated != any(_in_set(ch, item_op, item_av) for item_op, item_av in items)
    return True


def _in_set(ch: str, op: Any, av: Any) -> bool:
    """Whether one item of a character set ([a-z], \\d, x) holds `ch`."""
    if op == _constants.LITERAL:
        return ord(ch) == int(av)
    if op == _constants.RANGE:
        return bool(av[0] <= ord(ch) <= av[1])
    if op == _constants.CATEGORY:
        category = _CATEGORIES.get(str(av))
        return category is None or category.fullmatch(ch) is not None
    return True


#: The nodes that match one character.
_ONE_CHARACTER = (_constants.LITERAL, _constants.NOT_LITERAL, _constants.ANY, _constants.IN)


def _sequences(data: Any) -> Iterator[Any]:
    """`data` and every sequence inside it (a group's, a repeat's, each branch)."""
    yield data
    for op, av in data:
        if op == _constants.BRANCH:
            for branch in av[1]:
                yield from _sequences(branch)
        elif op == _constants.GROUPREF_EXISTS:
            for branch in av[1:]:
                if branch is not None:
                    yield from _sequences(branch)
        else:
            children = _children(op, av)
            if children:
                yield from _sequences(children)


def _side_by_side(sequence: Any, ignore_case: bool) -> bool:
    """Whether `sequence` holds an unbounded repeat of one character class after another
    that can take the same characters, with nothing between them that the earlier one cannot
    take (each such pair splits a text a quadratic number of ways)."""
    open_repeats: list[list[tuple[Any, Any]]] = []
    for op, av in sequence:
        if op == _constants.AT:
            continue  # takes no character
        one = _one_character(op, av)
        if one is None:
            open_repeats = []  # a group or an alternation: followed no further
        elif op in _REPEATS and av[1] == _UNBOUNDED:
            if any(_overlap(one, earlier, ignore_case) for earlier in open_repeats):
                return True
            open_repeats.append(one)
        elif op not in _REPEATS or av[0] > 0:
            # A character that must be taken ends every open repeat that cannot take it.
            open_repeats = [r for r in open_repeats if _overlap(one, r, ignore_case)]
    return False


def _one_character(op: Any, av: Any) -> list[tuple[Any, Any]] | None:
    """The node itself when it matches one character, its body when it repeats one (as
    `\\w+`), else None."""
    if op in _ONE_CHARACTER:
        return [(op, av)]
    if op in _REPEATS and len(av[2]) == 1 and av[2][0][0] in _ONE_CHARACTER:
        return [av[2][0]]
    return None


def _overlap(mine: list[tuple[Any, Any]], theirs: list[tuple[Any, Any]], ignore_case: bool) -> bool:
    """Whether some character matches both single-character nodes (tried on the probe)."""
    probe = [*_PROBE, *_ends(mine), *_ends(theirs)]
    return any(_in(ch, mine, ignore_case) and _in(ch, theirs, ignore_case) for ch in probe)
