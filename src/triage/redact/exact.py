"""Credentials replaced by exact value, in one pass over the text however many there are.

The rule this keeps is the loop it replaces: each credential in the order given (longest
first, as the callers sort them), every occurrence of it still in the text replaced by
`MARK`, left to right. That loop reads the whole text once per credential, so an alert that
holds 4,000 values under secrets' names, taken out of its own 80 KB description split at
4,000 placeholders, cost 16 million searches (1.7 s). Here an Aho-Corasick automaton over
all the credentials finds, in one pass, which of them each stretch of the text holds, and
only those are replaced there, in the same order, with the same `str.replace`: the same
output.

Why only those: a credential that does not occur in the text can appear during the loop only
across a `MARK` an earlier one wrote (a value ending in `[RED` or starting with `ial]`, or one
inside `MARK`), and such credentials (`_touching_mark`, few and odd) are always replaced, over
the whole text. A credential found where a longer one also starts is not missed either: the
search reports every credential that ends at each place, not only the longest. And a stretch
is cut only where no credential's start is open, so no occurrence crosses two."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from triage.redact.per_credentials import PerCredentials

#: What replaces a credential: the placeholder `spelled.MARK` and `_scrub` write.
MARK = "[REDACTED:credential]"
#: Up to this many characters times credentials, the plain loop is cheaper than the search
#: (each `str.replace` runs in C; the automaton is walked in Python).
_LOOP_MAX = 1 << 18
#: Automata kept for the last few credential tuples (swapped whole: threads need no lock).
_MADE_MAX = 8


#: How far a node's number is shifted in a `goto` key, above any character's code point.
_SHIFT = 21


@dataclass(frozen=True, slots=True)
class _Automaton:
    """Aho-Corasick over the credentials: `goto[node << _SHIFT | ord(char)]` the next node,
    `fail[node]` the longest proper suffix that is also a node, `own[node]` the credentials
    (their indexes) that end at the node, `link[node]` the longest proper suffix that owns one
    (0: none). Flat: one dict of numbers, not one per node, so the garbage collector has
    nothing to walk in it (with a dict a node, every collection while it was alive walked
    tens of thousands of them)."""

    goto: dict[int, int]
    fail: tuple[int, ...]
    own: dict[int, tuple[int, ...]]
    link: tuple[int, ...]
    #: Credentials that could appear across or inside a `MARK` written before them.
    touching_mark: frozenset[int]

    def found(self, text: str) -> list[tuple[int, int, set[int]]]:
        """Where `text` holds credentials: pieces (start, end, the indexes found in it) that
        no occurrence crosses, cut where the walk is back at the root (no credential's start
        is open there). A node's suffixes are reported once a piece: the walk up `link` stops
        at a node reported already, so the time stays linear when credentials end inside one
        another (`aaaaaa`, `aaaaaaa`)."""
        goto, fail, own, link = self.goto, self.fail, self.own, self.link
        pieces: list[tuple[int, int, set[int]]] = []
        found: set[int] = set()
        reported: set[int] = set()
        start = node = 0
        for at, char in enumerate(text):
            code = ord(char)
            nxt = goto.get(node << _SHIFT | code)
            while nxt is None and node:
                node = fail[node]
                nxt = goto.get(node << _SHIFT | code)
            node = nxt or 0
            end = node if node in own else link[node]
            while end and end not in reported:
                reported.add(end)
                found.update(own[end])
                end = link[end]
            if not node:
                if found:
                    pieces.append((start, at + 1, found))
                    found, reported = set(), set()
                start = at + 1
        if found:
            pieces.append((start, len(text), found))
        return pieces


def _built(secrets: tuple[str, ...]) -> _Automaton:
    """The automaton over `secrets`, in time linear in their total length."""
    goto: dict[int, int] = {}
    own: dict[int, list[int]] = {}
    nodes = 1
    for index, secret in enumerate(secrets):
        node = 0
        for char in secret:
            key = node << _SHIFT | ord(char)
            nxt = goto.get(key)
            if nxt is None:
                nxt = goto[key] = nodes
                nodes += 1
            node = nxt
        own.setdefault(node, []).append(index)
    fail = [0] * nodes
    link = [0] * nodes
    # Breadth first: a node's suffixes are shallower, their links made before its own.
    children: dict[int, list[tuple[int, int]]] = {}
    for key, child in goto.items():
        children.setdefault(key >> _SHIFT, []).append((key & ((1 << _SHIFT) - 1), child))
    queue = deque(child for _, child in children.get(0, ()))
    while queue:
        node = queue.popleft()
        for code, child in children.get(node, ()):
            suffix = fail[node]
            nxt = goto.get(suffix << _SHIFT | code)
            while nxt is None and suffix:
                suffix = fail[suffix]
                nxt = goto.get(suffix << _SHIFT | code)
            fail[child] = nxt or 0
            link[child] = fail[child] if fail[child] in own else link[fail[child]]
            queue.append(child)
    touching = frozenset(i for i, secret in enumerate(secrets) if _touching_mark(secret))
    owned = {node: tuple(indexes) for node, indexes in own.items()}
    return _Automaton(goto, tuple(fail), owned, tuple(link), touching)


def _touching_mark(secret: str) -> bool:
    """Whether `secret` could first appear in a text once `MARK` is written into it: it lies
    inside `MARK`, holds it, or overlaps one of its ends (a suffix of `secret` that starts
    `MARK`, a prefix of it that ends `MARK`)."""
    if secret in MARK:
        return True
    if "[" not in secret and "]" not in secret:
        return False  # every overlap, and `MARK` itself, holds one of its brackets
    overlap = min(len(secret), len(MARK)) - 1
    return any(
        secret.endswith(MARK[:size]) or secret.startswith(MARK[-size:])
        for size in range(1, overlap + 1)
    )


#: The automaton over the credentials asked about, built again only when they change.
_automaton = PerCredentials(_built, _MADE_MAX)


def replaced(texts: list[str], secrets: tuple[str, ...]) -> list[str]:
    """Each of `texts` with `secrets` replaced by `MARK` as the loop `for secret in secrets:
    text = text.replace(secret, MARK)` replaces them, in time linear in the texts' length and
    the credentials' (not their product)."""
    if not secrets:
        return texts
    if len(secrets) * sum(map(len, texts)) <= _LOOP_MAX:
        return [_looped(text, secrets) for text in texts]
    return _replaced_by_search(texts, secrets)


def _replaced_by_search(texts: list[str], secrets: tuple[str, ...]) -> list[str]:
    """`replaced` for many credentials or long texts: in each piece of a text that holds
    some (`_Automaton.found`), only those, in their order; the rest of the text as it is."""
    automaton = _automaton(secrets)
    return [_searched(text, secrets, automaton) for text in texts]


def _searched(text: str, secrets: tuple[str, ...], automaton: _Automaton) -> str:
    """`text` with the credentials `automaton` finds in it replaced. Each piece alone, unless
    a credential could appear across a `MARK` (`touching_mark`): then the whole text, with
    those credentials too, since a `MARK` written at a piece's end may join it to the next."""
    pieces = automaton.found(text)
    if automaton.touching_mark:
        held = automaton.touching_mark.union(*(found for _, _, found in pieces))
        return _looped(text, tuple(secrets[index] for index in sorted(held)))
    out: list[str] = []
    last = 0
    for start, end, found in pieces:
        out += (
            text[last:start],
            _looped(text[start:end], tuple(secrets[i] for i in sorted(found))),
        )
        last = end
    out.append(text[last:])
    return "".join(out)


def _looped(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with each of `secrets`, in order, replaced by `MARK` (a short text, or few)."""
    for secret in secrets:
        text = text.replace(secret, MARK)
    return text
