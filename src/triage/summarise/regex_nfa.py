"""Whether the loop of a repeat in a parsed regex can read one text along two different
paths: then Python's backtracking `re`, on a text that almost matches, tries every way of
splitting the text among the iterations, and the ways grow exponentially with its length.

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

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from triage.summarise.regex_chars import CharClass, freeze, overlap

if TYPE_CHECKING:  # typeshed describes re's parser under its old, deprecated names
    import sre_constants as _constants
else:
    from re import _constants

#: A bounded repeat is unrolled while its copies hold at most this many nodes; a larger one
#: is read as unbounded (which has every path the bounded one has).
UNROLL = 64
#: An automaton or a pair search larger than this is no pattern an operator writes.
MAX_STATES = 20_000
MAX_PAIRS = 200_000

ONE_CHARACTER = (_constants.LITERAL, _constants.NOT_LITERAL, _constants.ANY, _constants.IN)
REPEATS = (_constants.MAX_REPEAT, _constants.MIN_REPEAT, _constants.POSSESSIVE_REPEAT)
_DOTALL = int(_constants.SRE_FLAG_DOTALL)


class TooLargeError(Exception):
    """Raised when a regex's automaton passes MAX_STATES or its pair search MAX_PAIRS."""


class _State:
    """A state: one that takes a character (`char`), or an ε-state that only a character
    outside `exclude` may follow (a possessive repeat's end), or a plain ε-state."""

    __slots__ = ("char", "exclude", "out")

    def __init__(self, char: CharClass | None = None, exclude: CharClass | None = None) -> None:
        self.char = char
        self.exclude = exclude
        self.out: list[_State] = []


#: A step to a character-taking state, with the classes the character must stay outside.
_Step = tuple[_State, frozenset[CharClass]]


def ambiguous_loop(body: Any, flags: int) -> bool:
    """Whether the loop of a repeat of `body` (a parsed sequence) under `flags` can read one
    text along two paths that part and meet again."""
    builder = _Builder()
    loop = _State()
    entry, end = builder.sequence(body, flags)
    loop.out.append(entry)
    end.out.append(loop)
    steps = _steps_from(builder, loop)
    # An ε-cycle (a body that can match empty text) has endless paths: ambiguous.
    return builder.cyclic or _paths_part_and_meet(steps)


class _Builder:
    """Builds the automaton of parsed sequences, one state per character a node takes."""

    def __init__(self) -> None:
        self.states = 0
        self.cyclic = False
        self._reach: dict[_State, dict[_Step, int]] = {}
        self._busy: set[_State] = set()

    def state(self, char: CharClass | None = None, exclude: CharClass | None = None) -> _State:
        self.states += 1
        if self.states > MAX_STATES:
            raise TooLargeError
        return _State(char, exclude)

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
        size = max(1, sum(1 for _ in nodes(body)))
        unbounded = hi == _constants.MAXREPEAT or hi * size > UNROLL
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

    def reach(self, state: _State) -> dict[_Step, int]:
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
        found: dict[_Step, int] = {}
        for successor in state.out:
            for (taker, excluded), paths in self.reach(successor).items():
                if state.exclude is not None:
                    excluded = excluded | {state.exclude}
                found[taker, excluded] = min(2, found.get((taker, excluded), 0) + paths)
        self._busy.discard(state)
        self._reach[state] = found
        return found


def _possessive_end(op: Any, hi: int, body: Any, flags: int) -> CharClass | None:
    """The class a possessive, unbounded repeat of one character class must not be followed
    by (it takes every such character), else None."""
    if op != _constants.POSSESSIVE_REPEAT or hi != _constants.MAXREPEAT or len(body) != 1:
        return None
    inner_op, inner_av = body[0]
    return CharClass(inner_op, freeze(inner_av), flags) if inner_op in ONE_CHARACTER else None


def nodes(data: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
    """Every node of a parsed sequence, at any depth."""
    for op, av in data:
        yield op, av
        yield from nodes(children(op, av))


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


#: For each character-taking state of a loop: its steps (the state, its class, the classes
#: the character must stay outside), with their numbers of ε-paths.
_Steps = dict[_State, list[tuple[_State, CharClass, frozenset[CharClass], int]]]


def _steps_from(builder: _Builder, loop: _State) -> _Steps:
    steps: _Steps = {}
    todo = [taker for taker, _ in builder.reach(loop)]
    while todo:
        taker = todo.pop()
        if taker in steps:
            continue
        found = builder.reach(taker.out[0])
        steps[taker] = [(t, t.char, excluded, n) for (t, excluded), n in found.items() if t.char]
        todo += [t for t, _ in found]
    return steps


#: Two paths at once: the state each is at.
_Pair = tuple[_State, _State]


def _paths_part_and_meet(steps: _Steps) -> bool:
    """Whether two paths that start together at a state can take different steps and be
    together at that state again, having read the same characters."""
    edges: dict[_Pair, list[tuple[_Pair, bool]]] = {}
    todo: list[_Pair] = [(s, s) for s in steps]
    while todo:
        pair = todo.pop()
        if pair in edges:
            continue
        if len(edges) >= MAX_PAIRS:
            raise TooLargeError
        edges[pair] = _pair_steps(pair, steps)
        todo += [target for target, _ in edges[pair]]
    component = _components(edges)
    return any(
        parting and component[pair] == component[target] and pair[0] is pair[1]
        for pair, targets in edges.items()
        for target, parting in targets
    )


def _pair_steps(pair: _Pair, steps: _Steps) -> list[tuple[_Pair, bool]]:
    """Where two paths at `pair` go on one character both can take, and whether the two
    step differently from one state (they part)."""
    mine, theirs = pair
    found: list[tuple[_Pair, bool]] = []
    for t1, class1, out1, n1 in steps[mine]:
        for t2, class2, out2, _ in steps[theirs]:
            same = t1 is t2 and out1 == out2
            if same or overlap(class1, tuple(out1), class2, tuple(out2)):
                found.append(((t1, t2), mine is theirs and (not same or n1 > 1)))
    return found


def _components(edges: dict[_Pair, list[tuple[_Pair, bool]]]) -> dict[_Pair, int]:
    """Each pair's strongly connected component (Tarjan's algorithm, without recursion)."""
    index: dict[_Pair, int] = {}
    low: dict[_Pair, int] = {}
    component: dict[_Pair, int] = {}
    stack: list[_Pair] = []
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
