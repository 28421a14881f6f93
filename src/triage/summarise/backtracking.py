"""Whether a regular expression of the patterns file can make Python's `re` backtrack for
exponential (or high-polynomial) time on an alert that almost matches.

The parsed regex is read, not sampled: a repeat is refused when its loop can read one text
along two paths (`regex_ambiguity.ambiguous_loop`: `(a+)+`, `(a|a)*`, `(\\w+\\s?)*`, `(.*a){12}`,
whatever the characters) or its body can match empty text (`(a*)*`, `(.?){30}`); and two
unbounded loops one after the other that can read one text (`regex_ambiguity.loops_in_series`:
`\\w+\\w*`, `(?:ab)+[ab]{2,}`) are refused as quadratic wherever a search starts. Repeats
kept apart by a character the repeated part cannot hold (`([a-z0-9-]+\\.)+example\\.com`) or
whose alternatives the next character tells apart (`(a|ab)*c`) are taken. Each loop still
costs a search time in proportion to the text times the run it walks from each start.

Alerts are searched by RE2 wherever it can run a pattern (`regex_linear`, which gives it `re`'s
own classes); `re` itself searches only the start of an alert with a pattern RE2 cannot run
(a lookaround, a back-reference). The check still applies to every pattern, so a file does
not load or fail by which engine each entry gets.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from triage.summarise.regex_ambiguity import ambiguous_loop, loops_in_series
from triage.summarise.regex_chars import scoped
from triage.summarise.regex_nfa import ONE_CHARACTER, REPEATS, TooLargeError, children

if TYPE_CHECKING:  # typeshed describes re's parser under its old, deprecated names
    import sre_constants as _constants
    import sre_parse as _parser
else:
    from re import _constants, _parser

#: How many ways a bounded repeat may split one text among its iterations: `(\d{1,3}){2}`
#: (9) passes, `(\w{0,3}){0,3}` (64) and `(a{1,2}){30}` (2**30) do not. Each way is tried
#: again by whatever follows, so a loop after it rescans the text that many times.
MAX_WAYS = 16

_UNBOUNDED = _constants.MAXREPEAT

_REASON = (
    "a repeat of something that can match the same text in more than one way (a repeat "
    "inside a repeat, as (a+)+ or (\\w+\\s?)*, or branches that can take the same "
    "characters, as (a|aa)*) backtracks for exponential time on an alert that almost "
    "matches; keep the iterations apart by a character the repeated part cannot hold, as "
    "([a-z]+\\.)+, or repeat one character class instead, as [\\w\\s]{0,80}"
)

_EMPTY = (
    "a repeat of something that can match empty text (as (a*)* or (a?){30}) backtracks for "
    "exponential time on an alert that almost matches: each iteration may take nothing; "
    "take the empty choice out, as a*"
)

_SIDE_BY_SIDE = (
    "two repeats side by side that can take the same characters (as \\w+\\w* or "
    "\\d+\\.?\\d*) split an alert's text in a quadratic number of ways wherever a search "
    "starts; keep them apart by a character only one takes, or bound them, as \\w{1,40}"
)

_TOO_LARGE = "a repeat too large to check for backtracking; split the pattern into smaller ones"


def backtracking(pattern: str, flags: int = 0) -> str | None:
    """Why `pattern` (a valid regex) can backtrack for exponential time, else None."""
    tree = _parser.parse(pattern, flags)
    try:
        for op, av, where in _repeats(tree.data, tree.state.flags):
            reason = _repeat_reason(op, av, where)
            if reason is not None:
                return reason
        if any(
            loops_in_series(data, where) for data, where in _searched(tree.data, tree.state.flags)
        ):
            return _SIDE_BY_SIDE
    except TooLargeError:
        return _TOO_LARGE
    return None


def _repeat_reason(op: Any, av: Any, flags: int) -> str | None:
    """Why one repeat node backtracks for long, else None: a possessive repeat that can stop
    after one iteration never gives one back, and a repeat of at most one iteration has no
    iterations to split a text among."""
    lo, hi, body = av
    if hi < 2 or (op == _constants.POSSESSIVE_REPEAT and lo <= 1):
        return None
    if _nullable(body):
        # Bounded, each iteration takes a character or not: 2**hi ways at least.
        if hi == _UNBOUNDED or max(2.0, _ways(body)) ** hi > MAX_WAYS:
            return _EMPTY
        return None
    if not ambiguous_loop(body, flags):
        return None
    if hi == _UNBOUNDED:
        return _REASON
    ways = _ways(body)
    if ways == math.inf and hi == 2:
        return _SIDE_BY_SIDE  # (a+){2} is a+a+
    return _REASON if ways**hi > MAX_WAYS else None


def _repeats(data: Iterable[Any], flags: int) -> Iterator[tuple[Any, Any, int]]:
    """Every repeat node at any depth (lookarounds and atomic groups included), with the
    flags in force where it stands; inner repeats first, as the smaller to check."""
    for op, av in data:
        yield from _repeats(children(op, av), _scoped(op, av, flags))
        if op in REPEATS:
            yield op, av, flags


def _scoped(op: Any, av: Any, flags: int) -> int:
    """The flags inside a node: a group may add or remove some, as `(?i:...)`."""
    if op == _constants.SUBPATTERN:
        _, add, remove, _ = av
        return scoped(flags, add, remove)
    return flags


def _nullable(data: Iterable[Any]) -> bool:
    """Whether a parsed sequence can match empty text."""
    return all(_node_nullable(op, av) for op, av in data)


def _node_nullable(op: Any, av: Any) -> bool:
    if op in ONE_CHARACTER or op == _constants.GROUPREF:
        # A back-reference to a group that can be empty is a loop over any text to
        # `ambiguous_loop`, which finds that such a repeat can match empty text too.
        return False
    if op in REPEATS:
        return bool(av[0] == 0 or _nullable(av[2]))
    if op == _constants.SUBPATTERN:
        return _nullable(av[3])
    if op == _constants.ATOMIC_GROUP:
        return _nullable(av)
    if op == _constants.BRANCH:
        return any(_nullable(branch) for branch in av[1])
    if op == _constants.GROUPREF_EXISTS:
        return any(branch is None or _nullable(branch) for branch in av[1:])
    return True  # anchors and lookarounds take nothing


def _ways(body: Any) -> float:
    """An upper bound on how many ways one iteration of an ambiguous repeat's `body` can
    match one text: each variable repeat inside multiplies it by its number of lengths,
    each alternation by its number of branches. Possessive repeats and atomic groups never
    give text back, so they add no ways."""
    ways = 1.0
    for op, av in _backtracking_nodes(body):
        if op in (_constants.MAX_REPEAT, _constants.MIN_REPEAT) and av[0] != av[1]:
            ways *= math.inf if av[1] == _UNBOUNDED else av[1] - av[0] + 1
        elif op == _constants.BRANCH:
            ways *= len(av[1])
        elif op == _constants.GROUPREF_EXISTS or op == _constants.GROUPREF:
            ways *= math.inf if op == _constants.GROUPREF else 2
    return ways


def _backtracking_nodes(data: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
    """The nodes of `data` at any depth, leaving out what a possessive repeat, an atomic
    group or a lookaround holds (none of them is retried in another way)."""
    for op, av in data:
        yield op, av
        if op not in (
            _constants.POSSESSIVE_REPEAT,
            _constants.ATOMIC_GROUP,
            _constants.ASSERT,
            _constants.ASSERT_NOT,
        ):
            yield from _backtracking_nodes(children(op, av))


def _searched(data: Any, flags: int) -> Iterator[tuple[Any, int]]:
    """The regex's main sequence and each lookaround's (matched on its own), with the flags
    in force there."""
    yield data, flags
    yield from _lookarounds(data, flags)


def _lookarounds(data: Any, flags: int) -> Iterator[tuple[Any, int]]:
    for op, av in data:
        inner = _scoped(op, av, flags)
        if op in (_constants.ASSERT, _constants.ASSERT_NOT):
            yield from _searched(av[1], inner)
        else:
            yield from _lookarounds(children(op, av), inner)
