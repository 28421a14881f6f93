"""Whether the loop of a repeat in a parsed regex can read one text along two different
paths: then Python's backtracking `re`, on a text that almost matches, tries every way of
splitting the text among the iterations, and the ways grow exponentially with its length.
And whether two loops in series can each read one text (`loops_in_series`): then the ways
grow with the square of its length, from every place a search starts.

Both follow paths of the automaton (`regex_nfa`) side by side, each step taking one
character all of them can take: a loop is ambiguous when two paths standing together can
part and stand together again (`(a+)+`: "aa" is one iteration or two; `(a|a)*`: either
branch; `(\\w+\\s?)*`: `\\s?` skipped). The automaton has every path `re` takes and may
have more, so a safe loop may be called ambiguous, never the reverse.
"""

from __future__ import annotations

from typing import Any

from triage.summarise.regex_chars import shared
from triage.summarise.regex_nfa import (
    Builder,
    State,
    Steps,
    TooLargeError,
    components,
    same_step,
    settled,
)

#: A search of paths (pairs or triples of states), or a count of loops, past these is no
#: pattern an operator writes: refused as too large to check rather than checked for minutes.
MAX_PAIRS = 50_000
MAX_LOOPS = 1_000


def ambiguous_loop(body: Any, flags: int) -> bool:
    """Whether the loop of a repeat of `body` (a parsed sequence) under `flags` can read one
    text along two paths that part and meet again."""
    builder = Builder()
    loop = State()
    entry, end = builder.sequence(body, flags)
    loop.out.append(entry)
    end.out.append(loop)
    parts = _paths_part_and_meet(builder, loop)
    # An ε-cycle (a body that can match empty text) has endless paths: ambiguous.
    return builder.cyclic or parts


#: Two paths at once: where each stands.
_Pair = tuple[State, State]
#: Three paths at once.
_Triple = tuple[State, State, State]


def _paths_part_and_meet(builder: Builder, loop: State) -> bool:
    """Whether two paths that stand together can take different steps and stand together
    again, having read the same characters."""
    steps = Steps(builder)
    edges: dict[_Pair, list[tuple[_Pair, bool]]] = {}
    start = settled(loop)
    todo: list[_Pair] = [(start, start)]
    while todo:
        pair = todo.pop()
        if pair in edges:
            continue
        if len(edges) >= MAX_PAIRS:
            raise TooLargeError
        edges[pair] = _pair_steps(pair, steps)
        todo += [target for target, _ in edges[pair]]
        # Every place one path can stand is also where two can stand together.
        todo += [(step.then, step.then) for step in steps.of(pair[0])]
    component = components(edges)
    return any(
        parting and component[pair] == component[target]
        for pair, targets in edges.items()
        for target, parting in targets
    )


def _pair_steps(pair: _Pair, steps: Steps) -> list[tuple[_Pair, bool]]:
    """Where two paths standing at `pair` go on one character both can take, and whether,
    standing together, they step differently (they part)."""
    mine, theirs = pair
    together = mine is theirs
    found: list[tuple[_Pair, bool]] = []
    for one in steps.of(mine):
        for other in steps.along(one, theirs):
            parting = together and (not same_step(one, other) or one.paths > 1)
            found.append(((one.then, other.then), parting))
    return found


def loops_in_series(data: Any, flags: int) -> bool:
    """Whether the parsed regex `data` has two unbounded loops, the second reachable from the
    first, and one text that each can read round its loop and that leads from the first to
    the second (`\\w+\\w+`, `\\d+\\.?\\d*`, `(?:ab)+[ab]{2,}`): every split of such a text
    between the two is tried wherever a search starts, a quadratic number of ways."""
    builder = Builder()
    entry, _ = builder.sequence(data, flags)
    return _Series(Steps(builder), settled(entry)).found()


class _Series:
    """Two loops in series: three paths read one text, one round the first loop (p to p),
    one from the first to the second (p to q) and one round the second (q to q)."""

    def __init__(self, steps: Steps, start: State) -> None:
        self._steps = steps
        self._graph: dict[State, list[State]] = {}
        todo = [start]
        while todo:
            state = todo.pop()
            if state not in self._graph:
                self._graph[state] = [step.then for step in steps.of(state)]
                todo += self._graph[state]
        self._component = components({s: [(t, False) for t in ts] for s, ts in self._graph.items()})
        self._reaches: dict[State, set[State]] = {}
        self._next: dict[_Triple, list[_Triple]] = {}

    def found(self) -> bool:
        component = self._component
        looping = [
            s
            for s, targets in self._graph.items()
            if not s.counted and any(component[t] == component[s] for t in targets)
        ]
        if len(looping) > MAX_LOOPS:
            raise TooLargeError
        checked = 0
        for p in looping:
            after_p = self._reachable(p)
            for q in looping:
                if component[p] == component[q] or q not in after_p:
                    continue
                checked += 1
                if checked > MAX_PAIRS:
                    raise TooLargeError
                if self._joined(p, q):
                    return True
        return False

    def _joined(self, p: State, q: State) -> bool:
        """Whether from (p, p, q) the three paths reach (p, q, q) on one text."""
        component = self._component
        start, goal = (p, p, q), (p, q, q)
        seen = {start}
        todo = [start]
        while todo:
            for triple in self._after(todo.pop()):
                x, y, z = triple
                if triple in seen or component[x] != component[p] or component[z] != component[q]:
                    continue
                if q not in self._reachable(y):
                    continue
                if triple == goal:
                    return True
                seen.add(triple)
                todo.append(triple)
        return False

    def _after(self, triple: _Triple) -> list[_Triple]:
        """Where three paths go on one character all three can take."""
        found = self._next.get(triple)
        if found is None:
            if len(self._next) >= MAX_PAIRS:
                raise TooLargeError
            x, y, z = triple
            found = [
                (one.then, two.then, three.then)
                for one in self._steps.of(x)
                for two in self._steps.along(one, y)
                for three in self._steps.along(one, z)
                if shared(
                    (one.char, two.char, three.char),
                    (*one.excluded, *two.excluded, *three.excluded),
                )
            ]
            self._next[triple] = found
        return found

    def _reachable(self, state: State) -> set[State]:
        """The states a path at `state` can go on to (itself included)."""
        found = self._reaches.get(state)
        if found is None:
            found = {state}
            todo = [state]
            while todo:
                for target in self._graph.get(todo.pop(), ()):
                    if target not in found:
                        found.add(target)
                        todo.append(target)
            self._reaches[state] = found
        return found
