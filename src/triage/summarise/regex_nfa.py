"""Whether the loop of a repeat in a parsed regex can read one text along two different
paths: then Python's backtracking `re`, on a text that almost matches, tries every way of
splitting the text among the iterations, and the ways grow exponentially with its length.
And whether two loops in series can each read one text (`loops_in_series`): then the ways
grow with the square of its length, from every place a search starts.

The repeat's body becomes an automaton with the choices `re` makes (each alternative, each
further iteration or not; a bounded repeat unrolled, so `\\d{1,3}` has its three lengths), its
end joined back to its start. Two paths are followed side by side from every state, each
step taking one character both can take; the loop is ambiguous when they can part and meet
again at one state (`(a+)+`: "aa" is one iteration or two; `(a|a)*`: either branch; `(\\w+\\s?)*`:
`\\s?` skipped). A possessive repeat of one class ends only before a character it cannot take,
so `(?:a++)+` has one path. Lookarounds and anchors are read as taking nothing, and a
back-reference as any text: the test may call a safe loop ambiguous, never the reverse.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from triage.summarise.regex_chars import CharClass, freeze, overlap, shared

if TYPE_CHECKING:  # typeshed describes re's parser under its old, deprecated names
    import sre_constants as _constants
else:
    from re import _constants

#: A bounded repeat is unrolled while its copies hold at most this many nodes; a larger one
#: is read as a loop (which has every path the bounded one has), not as one of two unbounded
#: loops in series (its bound keeps that cost linear).
UNROLL = 64
#: An automaton, a search of paths or a count of loops past these is no pattern an operator
#: writes: refused as too large to check (TooLargeError) rather than checked for minutes.
MAX_STATES = 20_000
MAX_PAIRS = 50_000
MAX_LOOPS = 1_000

ONE_CHARACTER = (_constants.LITERAL, _constants.NOT_LITERAL, _constants.ANY, _constants.IN)
REPEATS = (_constants.MAX_REPEAT, _constants.MIN_REPEAT, _constants.POSSESSIVE_REPEAT)
_DOTALL = int(_constants.SRE_FLAG_DOTALL)


class TooLargeError(Exception):
    """Raised when a regex's automaton passes MAX_STATES or its pair search MAX_PAIRS."""


class _State:
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
        self.out: list[_State] = []


#: A character-taking state reached, with the classes the character must stay outside.
_Reached = tuple[_State, frozenset[CharClass]]


def ambiguous_loop(body: Any, flags: int) -> bool:
    """Whether the loop of a repeat of `body` (a parsed sequence) under `flags` can read one
    text along two paths that part and meet again."""
    builder = _Builder()
    loop = _State()
    entry, end = builder.sequence(body, flags)
    loop.out.append(entry)
    end.out.append(loop)
    parts = _paths_part_and_meet(builder, loop)
    # An ε-cycle (a body that can match empty text) has endless paths: ambiguous.
    return builder.cyclic or parts


class _Builder:
    """Builds the automaton of parsed sequences, one state per character a node takes."""

    def __init__(self) -> None:
        self.states = 0
        self.cyclic = False
        self._counting = 0
        self._reach: dict[_State, dict[_Reached, int]] = {}
        self._busy: set[_State] = set()

    def state(self, char: CharClass | None = None, exclude: CharClass | None = None) -> _State:
        self.states += 1
        if self.states > MAX_STATES:
            raise TooLargeError
        return _State(char, exclude, counted=self._counting > 0)

    def sequence(self, data: Iterable[Any], flags: int) -> tuple[_State, _State]:
        entry = end = self.state()
        for op, av in data:
            first, last = self.node(op, av, flags)
            end.out.append(first)
            end = last
        return entry, end

    def node(self, op: Any, av: Any, flags: int) -> tuple[_State, _State]:
        if op in ONE_CHARACTER:
            taker, after = self.state(CharClass(op, freeze(av), flags)), self.state()
            taker.out.append(after)
            return taker, after
        if op == _constants.SUBPATTERN:
            _, add, remove, data = av
            return self.sequence(data, (flags | add) & ~remove)
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

    def either(self, branches: Iterable[Any], flags: int) -> tuple[_State, _State]:
        fork, join = self.state(), self.state()
        for branch in branches:
            first, last = self.sequence(branch, flags)
            fork.out.append(first)
            last.out.append(join)
        return fork, join

    def repeat(
        self, body: Any, lo: int, hi: int, flags: int, exclude: CharClass | None
    ) -> tuple[_State, _State]:
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

    def reach(self, state: _State) -> dict[_Reached, int]:
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
        found: dict[_Reached, int] = {}
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
class _Step:
    """One character taken: by which state, of which class, outside which classes, along
    how many ε-paths (1, or 2 for more), and the state it leaves the path at."""

    taker: _State
    char: CharClass
    excluded: tuple[CharClass, ...]
    paths: int
    then: _State


class _Steps:
    """The steps from each state where a path can stand between two characters (an ε-state
    reached right after a character, followed through ε-states with one way on), with the
    steps of each indexed by the characters of the literals and small sets they take."""

    def __init__(self, builder: _Builder) -> None:
        self._builder = builder
        self._steps: dict[_State, list[_Step]] = {}
        self._index: dict[_State, tuple[dict[str, list[_Step]], list[_Step]]] = {}

    def of(self, state: _State) -> list[_Step]:
        found = self._steps.get(state)
        if found is None:
            found = [
                _Step(taker, taker.char, tuple(excluded), paths, _settled(taker.out[0]))
                for (taker, excluded), paths in self._builder.reach(state).items()
                if taker.char is not None
            ]
            self._steps[state] = found
        return found

    def along(self, step: _Step, state: _State) -> Iterator[_Step]:
        """The steps from `state` that can take a character `step` takes."""
        by_char, broad = self._indexed(state)
        few = step.char.few()
        if few is None:
            candidates: Iterable[_Step] = self.of(state)
        else:
            seen = {id(s): s for ch in few for s in by_char.get(ch, ())}
            candidates = [*seen.values(), *broad]
        for other in candidates:
            if _same(step, other) or overlap(step.char, step.excluded, other.char, other.excluded):
                yield other

    def _indexed(self, state: _State) -> tuple[dict[str, list[_Step]], list[_Step]]:
        index = self._index.get(state)
        if index is None:
            by_char: dict[str, list[_Step]] = {}
            broad: list[_Step] = []
            for step in self.of(state):
                few = step.char.few()
                if few is None:
                    broad.append(step)
                for ch in few or ():
                    by_char.setdefault(ch, []).append(step)
            index = self._index[state] = (by_char, broad)
        return index


def _same(one: _Step, other: _Step) -> bool:
    return one.taker is other.taker and one.excluded == other.excluded


def _settled(state: _State) -> _State:
    """`state`, or the state a chain of plain ε-states with one way on leads to (where a
    path stands is the same for all the paths through the chain)."""
    seen: set[_State] = set()
    while state.char is None and state.exclude is None and len(state.out) == 1:
        if state in seen:
            break
        seen.add(state)
        state = state.out[0]
    return state


#: Two paths at once: where each stands.
_Pair = tuple[_State, _State]
#: Three paths at once.
_Triple = tuple[_State, _State, _State]
_Node = TypeVar("_Node", _Pair, _State)


def _paths_part_and_meet(builder: _Builder, loop: _State) -> bool:
    """Whether two paths that stand together can take different steps and stand together
    again, having read the same characters."""
    steps = _Steps(builder)
    edges: dict[_Pair, list[tuple[_Pair, bool]]] = {}
    start = _settled(loop)
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
    component = _components(edges)
    return any(
        parting and component[pair] == component[target]
        for pair, targets in edges.items()
        for target, parting in targets
    )


def _pair_steps(pair: _Pair, steps: _Steps) -> list[tuple[_Pair, bool]]:
    """Where two paths standing at `pair` go on one character both can take, and whether,
    standing together, they step differently (they part)."""
    mine, theirs = pair
    together = mine is theirs
    found: list[tuple[_Pair, bool]] = []
    for one in steps.of(mine):
        for other in steps.along(one, theirs):
            parting = together and (not _same(one, other) or one.paths > 1)
            found.append(((one.then, other.then), parting))
    return found


def _components(edges: Mapping[_Node, Iterable[tuple[_Node, bool]]]) -> dict[_Node, int]:
    """Each node's strongly connected component (Tarjan's algorithm, without recursion)."""
    index: dict[_Node, int] = {}
    low: dict[_Node, int] = {}
    component: dict[_Node, int] = {}
    stack: list[_Node] = []
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


def loops_in_series(data: Any, flags: int) -> bool:
    """Whether the parsed regex `data` has two unbounded loops, the second reachable from the
    first, and one text that each can read round its loop and that leads from the first to
    the second (`\\w+\\w+`, `\\d+\\.?\\d*`, `(?:ab)+[ab]{2,}`): every split of such a text
    between the two is tried wherever a search starts, a quadratic number of ways."""
    builder = _Builder()
    entry, _ = builder.sequence(data, flags)
    return _Series(_Steps(builder), _settled(entry)).found()


class _Series:
    """Two loops in series: three paths read one text, one round the first loop (p to p),
    one from the first to the second (p to q) and one round the second (q to q)."""

    def __init__(self, steps: _Steps, start: _State) -> None:
        self._steps = steps
        self._graph: dict[_State, list[_State]] = {}
        todo = [start]
        while todo:
            state = todo.pop()
            if state not in self._graph:
                self._graph[state] = [step.then for step in steps.of(state)]
                todo += self._graph[state]
        self._component = _components(
            {s: [(t, False) for t in ts] for s, ts in self._graph.items()}
        )
        self._reaches: dict[_State, set[_State]] = {}
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

    def _joined(self, p: _State, q: _State) -> bool:
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

    def _reachable(self, state: _State) -> set[_State]:
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
