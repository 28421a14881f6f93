"""An automaton of a parsed regex with the choices Python's backtracking `re` makes: each
alternative, each further iteration or not, a bounded repeat unrolled (so `\\d{1,3}` has
its three lengths). A state takes one character (of a `regex_chars.CharClass`) or none; a
possessive repeat of one class ends only before a character it cannot take, so `(?:a++)+`
has one path. Lookarounds and anchors are read as taking nothing, and a back-reference as
any text: every path `re` can take is a path here (`regex_ambiguity` reads them).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from triage.summarise.regex_chars import CharClass, freeze, overlap, scoped

if TYPE_CHECKING:  # typeshed describes re's parser under its old, deprecated names
    import sre_constants as _constants
else:
    from re import _constants

#: A bounded repeat is unrolled while its copies hold at most this many nodes; a larger one
#: is read as a loop (which has every path the bounded one has), not as one of two unbounded
#: loops in series (its bound keeps that cost linear).
UNROLL = 64
#: An automaton past this is no pattern an operator writes: refused as too large to check.
MAX_STATES = 20_000

ONE_CHARACTER = (_constants.LITERAL, _constants.NOT_LITERAL, _constants.ANY, _constants.IN)
REPEATS = (_constants.MAX_REPEAT, _constants.MIN_REPEAT, _constants.POSSESSIVE_REPEAT)
_DOTALL = int(_constants.SRE_FLAG_DOTALL)


class TooLargeError(Exception):
    """Raised when a regex's automaton passes MAX_STATES, or a search of its paths its bound
    (`regex_ambiguity`): no pattern an operator writes, refused rather than checked for
    minutes."""


class State:
    """A state: one that takes a character (`char`), or an ε-state that only a character
    outside `exclude` may follow (a possessive repeat's end), or a plain ε-state."""

    __slots__ = ("char", "counted", "exclude", "out")

    def __init__(
        self, char: CharClass | None = None, exclude: CharClass | None = None, counted: bool = False
    ) -> None:
        self.char = char
        self.exclude = exclude
        #: Inside a bounded repeat too large to unroll, read as a loop: its cycles are bounded.
        self.counted = counted
        self.out: list[State] = []


#: A character-taking state reached, with the classes the character must stay outside.
Reached = tuple[State, frozenset[CharClass]]


class Builder:
    """Builds the automaton of parsed sequences, one state per character a node takes."""

    def __init__(self) -> None:
        self.states = 0
        self.cyclic = False
        self._counting = 0
        self._reach: dict[State, dict[Reached, int]] = {}
        self._busy: set[State] = set()

    def state(self, char: CharClass | None = None, exclude: CharClass | None = None) -> State:
        self.states += 1
        if self.states > MAX_STATES:
            raise TooLargeError
        return State(char, exclude, counted=self._counting > 0)

    def sequence(self, data: Iterable[Any], flags: int) -> tuple[State, State]:
        entry = end = self.state()
        for op, av in data:
            first, last = self.node(op, av, flags)
            end.out.append(first)
            end = last
        return entry, end

    def node(self, op: Any, av: Any, flags: int) -> tuple[State, State]:
        if op in ONE_CHARACTER:
            taker, after = self.state(CharClass(op, freeze(av), flags)), self.state()
            taker.out.append(after)
            return taker, after
        if op == _constants.SUBPATTERN:
            _, add, remove, data = av
            return self.sequence(data, scoped(flags, add, remove))
        if op == _constants.ATOMIC_GROUP:
            return self.sequence(av, flags)
        if op == _constants.BRANCH:
            return self.either(av[1], flags)
        if op == _constants.GROUPREF_EXISTS:
            return self.either([av[1], av[2] or []], flags)
        if op in REPEATS:
            lo, hi, body = av
            return self.repeat(body, lo, hi, flags, _possessive_end(op, hi, body, flags))
        if op in (_constants.AT, _constants.ASSERT, _constants.ASSERT_NOT):
            nothing = self.state()
            return nothing, nothing
        # A back-reference (or anything else): any text at all.
        anything = [(_constants.ANY, None)]
        return self.repeat(anything, 0, _constants.MAXREPEAT, flags | _DOTALL, None)

    def either(self, branches: Iterable[Any], flags: int) -> tuple[State, State]:
        fork, join = self.state(), self.state()
        for branch in branches:
            first, last = self.sequence(branch, flags)
            fork.out.append(first)
            last.out.append(join)
        return fork, join

    def repeat(
        self, body: Any, lo: int, hi: int, flags: int, exclude: CharClass | None
    ) -> tuple[State, State]:
        """`body` at least `lo` times then up to `hi` (each further copy inside the optional
        one before it, as `re` chooses: one more or stop), or a loop when unbounded."""
        size = max(1, _width(body))
        if hi != _constants.MAXREPEAT and hi * size > UNROLL:
            self._counting += 1
            try:
                return self.repeat(body, min(lo, 1), _constants.MAXREPEAT, flags, exclude)
            finally:
                self._counting -= 1
        unbounded = hi == _constants.MAXREPEAT
        lo = min(lo, 1) if lo * size > UNROLL else lo
        entry = end = self.state()
        for _ in range(lo):
            first, last = self.sequence(body, flags)
            end.out.append(first)
            end = last
        done = self.state(exclude=exclude)
        if unbounded:
            loop = self.state()
            first, last = self.sequence(body, flags)
            end.out.append(loop)
            loop.out += [first, done]
            last.out.append(loop)
            return entry, done
        for _ in range(hi - lo):
            first, last = self.sequence(body, flags)
            end.out += [first, done]
            end = last
        end.out.append(done)
        return entry, done

    def reach(self, state: State) -> dict[Reached, int]:
        """The character-taking states `state` leads to through ε-states, each with the
        number of ε-paths there (1, or 2 for more)."""
        if state.char is not None:
            return {(state, frozenset()): 1}
        known = self._reach.get(state)
        if known is not None:
            return known
        if state in self._busy:
            self.cyclic = True
            return {}
        self._busy.add(state)
        found: dict[Reached, int] = {}
        for successor in state.out:
            for (taker, excluded), paths in self.reach(successor).items():
                if state.exclude is not None:
                    excluded = excluded | {state.exclude}
                found[taker, excluded] = min(2, found.get((taker, excluded), 0) + paths)
        self._busy.discard(state)
        self._reach[state] = found
        return found


def _width(data: Iterable[Any]) -> int:
    """How many character-taking states a parsed sequence becomes (as `repeat` unrolls)."""
    width = 0
    for op, av in data:
        if op in ONE_CHARACTER:
            width += 1
        elif op in REPEATS:
            lo, hi, body = av
            inner = _width(body)
            copies = hi if hi != _constants.MAXREPEAT and hi * inner <= UNROLL else min(lo, 1) + 1
            width += copies * inner
        else:
            width += _width(children(op, av))
    return width


def _possessive_end(op: Any, hi: int, body: Any, flags: int) -> CharClass | None:
    """The class a possessive, unbounded repeat of one character class must not be followed
    by (it takes every such character), else None."""
    if op != _constants.POSSESSIVE_REPEAT or hi != _constants.MAXREPEAT or len(body) != 1:
        return None
    inner_op, inner_av = body[0]
    return CharClass(inner_op, freeze(inner_av), flags) if inner_op in ONE_CHARACTER else None


def children(op: Any, av: Any) -> list[Any]:
    """The nodes directly inside one node."""
    if op in REPEATS:
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


@dataclass(frozen=True, slots=True)
class Step:
    """One character taken: by which state, of which class, outside which classes, along
    how many ε-paths (1, or 2 for more), and the state it leaves the path at."""

    taker: State
    char: CharClass
    excluded: tuple[CharClass, ...]
    paths: int
    then: State


class Steps:
    """The steps from each state where a path can stand between two characters (an ε-state
    reached right after a character, followed through ε-states with one way on), with the
    steps of each indexed by the characters of the literals and small sets they take."""

    def __init__(self, builder: Builder) -> None:
        self._builder = builder
        self._steps: dict[State, list[Step]] = {}
        self._index: dict[State, tuple[dict[str, list[Step]], list[Step]]] = {}

    def of(self, state: State) -> list[Step]:
        found = self._steps.get(state)
        if found is None:
            found = [
                Step(taker, taker.char, tuple(excluded), paths, settled(taker.out[0]))
                for (taker, excluded), paths in self._builder.reach(state).items()
                if taker.char is not None
            ]
            self._steps[state] = found
        return found

    def along(self, step: Step, state: State) -> Iterator[Step]:
        """The steps from `state` that can take a character `step` takes."""
        by_char, broad = self._indexed(state)
        few = step.char.few()
        if few is None:
            candidates: Iterable[Step] = self.of(state)
        else:
            seen = {id(s): s for ch in few for s in by_char.get(ch, ())}
            candidates = [*seen.values(), *broad]
        for other in candidates:
            if same_step(step, other) or overlap(
                step.char, step.excluded, other.char, other.excluded
            ):
                yield other

    def _indexed(self, state: State) -> tuple[dict[str, list[Step]], list[Step]]:
        index = self._index.get(state)
        if index is None:
            by_char: dict[str, list[Step]] = {}
            broad: list[Step] = []
            for step in self.of(state):
                few = step.char.few()
                if few is None:
                    broad.append(step)
                for ch in few or ():
                    by_char.setdefault(ch, []).append(step)
            index = self._index[state] = (by_char, broad)
        return index


def same_step(one: Step, other: Step) -> bool:
    return one.taker is other.taker and one.excluded == other.excluded


def settled(state: State) -> State:
    """`state`, or the state a chain of plain ε-states with one way on leads to (where a
    path stands is the same for all the paths through the chain)."""
    seen: set[State] = set()
    while state.char is None and state.exclude is None and len(state.out) == 1:
        if state in seen:
            break
        seen.add(state)
        state = state.out[0]
    return state


#: A node of a graph whose strongly connected components are sought.
Node = TypeVar("Node", bound=Hashable)


def components(edges: Mapping[Node, Iterable[tuple[Node, bool]]]) -> dict[Node, int]:
    """Each node's strongly connected component (Tarjan's algorithm, without recursion)."""
    index: dict[Node, int] = {}
    low: dict[Node, int] = {}
    component: dict[Node, int] = {}
    stack: list[Node] = []
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        while work:
            node, targets = work[-1]
            target = next((t for t, _ in targets if t not in component), None)
            if target is not None and target not in index:
                index[target] = low[target] = len(index)
                stack.append(target)
                work.append((target, iter(edges[target])))
                continue
            if target is not None:
                low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    component[member] = index[node]
                    if member == node:
                        break
    return component
