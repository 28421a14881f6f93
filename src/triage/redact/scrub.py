"""Applying the rules to a text (`_scrub`): the exact credentials first (and spelled out,
`spelled`), then each rule that can match, in order.

Most rules cannot match text that holds none of their needles (literals every match holds).
A few regex searches for every needle (`_needle_sets_in`; split by their first characters,
`_any_needle`) tell which sets of needles a text holds, so a text pays for the few rules it may match, not for all of them. A rule that
matched changes the text, and may have written a needle (a placeholder): the needles are looked
for again around what changed (`_changed_span`), and the rules after it that the text may now
match run; after a change spread over a long text, each later rule tests its own needles
(`_applied`).

A rule that may match is still skipped without the regex engine when what its pattern says
of every match rules the text out (`_Rule.shape`: too short, or no line starts in it but
the first) or its gate does (`_Rule.gate`: a key by its shape needs a long run of its
characters): the engine tries a pattern that no literal starts at every position.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import NamedTuple

from triage.redact import exact
from triage.redact.rule import _Replacement, _Rule
from triage.redact.rules import _RULES
from triage.redact.spelled import MIN_CHARS, unspelled

#: The characters besides A-Z that IGNORECASE matches to an ASCII letter but that str.lower()
#: does not turn into that letter (tests/test_redact.py checks this list against every code
#: point): dotted and dotless I, long s. (The Kelvin sign lowers to "k" already.)
_FOLD_ODD = (("i\u0307", "i"), ("\u0131", "i"), ("\u017f", "s"))


def _fold(text: str) -> str:
    """`text` lowered so that an IGNORECASE match of a lower-case ASCII needle in `text` is a
    plain substring of the result."""
    folded = text.lower()
    if not folded.isascii():
        for odd, letter in _FOLD_ODD:
            folded = folded.replace(odd, letter)
    return folded


def _trie(words: list[str]) -> str:
    """A pattern of `words` (none empty) as a tree of their letters, `c(?:o(?:okie|de=)|…)`:
    the engine reads a position's next letter once, not once for each word that could follow.
    A word that ends where a longer one goes on is optional there, so the longest is found."""
    by_first: dict[str, list[str]] = {}
    for word in words:
        by_first.setdefault(word[0], []).append(word[1:])
    alternatives = []
    for first, rests in by_first.items():
        longer = [rest for rest in rests if rest]
        tail = _trie(longer) if longer else ""
        if longer and len(longer) < len(rests):
            tail = f"(?:{tail})?"
        alternatives.append(re.escape(first) + tail)
    return alternatives[0] if len(alternatives) == 1 else f"(?:{'|'.join(alternatives)})"


#: The most first characters of needles one search looks for (`_any_needle`).
_FIRSTS_PER_SEARCH = 16


def _any_needle(*, folded: bool, ascii_only: bool = False) -> tuple[re.Pattern[str], ...]:
    """Searches that together find any needle of the rules that do (or do not) fold case: a
    tree of their letters each (`_trie`), so that what one finds at a position is the longest
    needle there (the others there are that needle's prefixes). `ascii_only`: only the needles
    ASCII text can hold (the engine skips positions by the needles' first characters, a test
    that costs more for each one beyond ASCII: пароль, 密码).

    The needles are split by their first character, `_FIRSTS_PER_SEARCH` first characters to a
    search at most, each needle in one: at a position holding a first character, the engine
    tries every branch of the tree's root in turn (~5 ns each), so one search of 49 branches
    cost ~250 ns at each letter of the text; four of 13 cost a third less over the bench's
    texts, calls and all. Every needle at a position is still found, by the search its first
    character is in."""
    needles = {n for rule in _RULES if rule.folded == folded for n in rule.needles}
    if ascii_only:
        needles = {n for n in needles if n.isascii()}
    firsts = sorted({needle[0] for needle in needles})
    count = -(-len(firsts) // _FIRSTS_PER_SEARCH)
    return tuple(
        re.compile(_trie(sorted(n for n in needles if n[0] in firsts[part::count])))
        for part in range(count)
    )


def _needle_set_bits() -> dict[tuple[tuple[str, ...], bool], int]:
    """One bit for each set of needles that rules look for (rules sharing theirs share its bit)."""
    bits: dict[tuple[tuple[str, ...], bool], int] = {}
    for rule in _RULES:
        if rule.needles:
            bits.setdefault((rule.needles, rule.folded), 1 << len(bits))
    return bits


_NEEDLE_SET_BITS = _needle_set_bits()


def _bits_of_needles(*, folded: bool) -> dict[str, int]:
    """For each needle of the rules that do (or do not) fold case: the bits of the needle sets
    that text holding it holds a needle of, its own and those of the needles inside it. Read
    through each needle's substrings of a needle's length (a few hundred dictionary lookups
    per needle), not by testing every set's needles inside every needle: 1,500 needles made
    that 140 ms of a replica's start."""
    own: dict[str, int] = {}
    for (needles, folds), bit in _NEEDLE_SET_BITS.items():
        if folds == folded:
            for needle in needles:
                own[needle] = own.get(needle, 0) | bit
    lengths = sorted({len(needle) for needle in own})
    bits_of: dict[str, int] = {}
    for needle in own:
        bits = 0
        for length in lengths:
            if length > len(needle):
                break
            for start in range(len(needle) - length + 1):
                bits |= own.get(needle[start : start + length], 0)
        bits_of[needle] = bits
    return bits_of


class _Searches(NamedTuple):
    """The searches for any needle, and what each needle found says of the needle sets."""

    #: Every needle as written; case folded; case folded, of ASCII alone (`_any_needle`).
    written: tuple[re.Pattern[str], ...]
    folded: tuple[re.Pattern[str], ...]
    ascii_folded: tuple[re.Pattern[str], ...]
    #: For each needle (as written; folded): the bits of the needle sets a text holding it holds.
    written_bits: dict[str, int]
    folded_bits: dict[str, int]


@functools.cache
def _needle_searches() -> _Searches:
    """The searches for any needle: as written, case folded, and case folded of ASCII alone.
    One search for every needle at once, then each match's bits: the needle sets a text holds,
    found in one pass over it instead of one `in` test per needle (300-odd of them). Compiled
    at the first text, not at import, and so are the needles' bits: they cost tens of
    milliseconds a replica starting on a storm of repeats need not spend before its first
    receive (a repeat redacts nothing)."""
    return _Searches(
        _any_needle(folded=False),
        _any_needle(folded=True),
        _any_needle(folded=True, ascii_only=True),
        _bits_of_needles(folded=False),
        _bits_of_needles(folded=True),
    )


#: A rule as `_scrub` runs it: the rule (its pattern compiled when first run), replacement,
#: the bit of its needles (0: none), needles, whether they are looked for in the folded text.
_Run = tuple[_Rule, _Replacement, int, tuple[str, ...], bool]
_RUNS: tuple[_Run, ...] = tuple(
    (
        rule,
        rule.replacement,
        _NEEDLE_SET_BITS.get((rule.needles, rule.folded), 0),
        rule.needles,
        rule.folded,
    )
    for rule in _RULES
)


def _needle_sets_in(text: str) -> int:
    """The bits of the needle sets of which `text` holds a needle (case folded for the rules
    that ignore case). The search goes on from the position after each match's start, so that
    a needle overlapping the one found is found too."""
    present = 0
    written, folded, ascii_folded, written_bits, folded_bits = _needle_searches()
    for haystack, searches, bits in (
        (text, written, written_bits),
        (_fold(text), ascii_folded if text.isascii() else folded, folded_bits),
    ):
        for pattern in searches:
            search = pattern.search
            match = search(haystack)
            while match is not None:
                present |= bits[match[0]]
                match = search(haystack, match.start() + 1)
    return present


#: How far from a change a needle it made can start: the longest needle, and a character
#: each side whose case folding depends on its neighbour (a final sigma).
_NEEDLE_REACH = max(len(n) for rule in _RULES for n in rule.needles) + 2
#: The longest change whose surroundings are searched again for needles; after a longer one
#: (a rule replacing all over a long text), each later rule's needles are tested instead
#: (`_applied`), which costs less than the search over so much text.
_RESCAN_MAX = 4096


def _common_prefix(a: str, b: str) -> int:
    """The length of the longest common prefix of `a` and `b`, by halving: each step compares
    in C only the part not yet known to be common, so the steps copy `a` twice at most."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if b.startswith(a[low:middle], low):
            low = middle
        else:
            high = middle - 1
    return low


def _common_suffix(a: str, b: str, limit: int) -> int:
    """The length of the longest common suffix of `a` and `b`, `limit` at most; as
    `_common_prefix`."""
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if b.endswith(a[len(a) - middle : len(a) - low], 0, len(b) - low):
            low = middle
        else:
            high = middle - 1
    return low


def _changed_span(old: str, new: str) -> tuple[int, int]:
    """Where `new` differs from `old` (a rule's replacements): from the first difference to
    the end of the last, in `new`."""
    start = _common_prefix(old, new)
    return start, len(new) - _common_suffix(old, new, min(len(old), len(new)) - start)


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with `secrets` replaced by exact value and spelled out (`spelled`), then every
    rule applied that can match, in order. A rule that matched changes the text: the needle sets are found again around
    the change (one search, cheaper than testing each later rule's needles), and the rules
    after it that the text may now match run."""
    # In one pass however many (`exact`): `without` hands its text's thousands of values here.
    text = exact.replaced([text], secrets)[0]
    if secrets and len(text) >= MIN_CHARS:  # spelled out (`spelled`): before a rule cuts one up
        text = unspelled(text, secrets)
    after = 0  # the place in `_RUNS` of the first rule still to run
    present = _needle_sets_in(text)
    runs = _runs_for(present)
    one_line = "\n" not in text
    while True:
        for at, pattern, replacement, line_start, min_chars, gate in runs:
            if at < after or len(text) < min_chars:
                continue  # run already, or too short for a match (`_Rule.shape`)
            if gate is not None and not gate(text):
                continue  # it holds no match (`_Rule.gate`)
            if line_start and one_line and pattern.match(text) is None:
                continue  # it can match only at the text's start (`_Rule.shape`)
            changed, replaced = pattern.subn(replacement, text)
            # A match its replacement left as it was changed nothing: the rules go on.
            if replaced and changed != text:
                start, end = _changed_span(text, changed)
                text, after = changed, at + 1
                one_line = "\n" not in text
                if end - start > _RESCAN_MAX:
                    return _applied(_RUNS[after:], text)
                # A needle elsewhere in the text was there before: these and the sets found
                # before cover the text's (a set no longer there costs its rules a vain run).
                reach = _NEEDLE_REACH
                present |= _needle_sets_in(text[max(0, start - reach) : end + reach])
                runs = _runs_for(present)
                break
        else:
            return text


#: A rule as `_scrub` runs it: its place in `_RUNS`, pattern, replacement, whether every
#: match starts at a line's start and the fewest characters a match holds (`_Rule.shape`),
#: and its gate (`_Rule.gate`).
_Selected = tuple[int, re.Pattern[str], _Replacement, bool, int, Callable[[str], bool] | None]
#: The rules to run for each set of needle bits met so far (alerts repeat a few such sets).
_RUNS_FOR: dict[int, tuple[_Selected, ...]] = {}


def _runs_for(present: int) -> tuple[_Selected, ...]:
    """The rules, with their place in `_RUNS`, that text holding the needle sets `present`
    must run: those without needles and those with a needle in it (compiled now, the first
    time a text holds one)."""
    runs = _RUNS_FOR.get(present)
    if runs is None:
        runs = tuple(
            (at, rule.pattern, replacement, *rule.shape, rule.gate)
            for at, (rule, replacement, bit, _, _) in enumerate(_RUNS)
            if not bit or present & bit
        )
        if len(_RUNS_FOR) >= 4096:
            _RUNS_FOR.clear()
        _RUNS_FOR[present] = runs
    return runs


def _applied(runs: tuple[_Run, ...], text: str) -> str:
    """`text` with `runs` applied, each whose needles it holds. Looked for one rule (or one run
    of rules sharing needles) at a time: a replacement has changed the text, and a text with
    many needles (hostile text repeating one) costs `_needle_sets_in` one call per match, more
    than the few `in` tests left once a rule has already matched."""
    folded: str | None = None  # _fold(text), made when a rule first needs it
    looked_for: tuple[str, ...] = ()  # the needles last looked for in this text …
    found = False  # … and whether one was there
    #: … and for each set looked for before (by its bit: rules looking for the same needles
    #: share one), until a replacement changes the text: rules with other needles between
    #: two that share theirs do not send the second looking again.
    seen: dict[int, bool] = {}
    for rule, replacement, bit, needles, folds in runs:
        if needles:
            if needles is not looked_for:
                looked_for = needles
                held = seen.get(bit)
                if held is None:
                    if folds:
                        folded = _fold(text) if folded is None else folded
                        haystack = folded
                    else:
                        haystack = text
                    held = seen[bit] = _holds_any(bit, needles)(haystack)
                found = held
            if not found:
                continue  # no needle: the pattern cannot match
        line_start, min_chars = rule.shape
        if len(text) < min_chars or (rule.gate is not None and not rule.gate(text)):
            continue  # too short for a match (`_Rule.shape`), or no match (`_Rule.gate`)
        if line_start and "\n" not in text and rule.pattern.match(text) is None:
            continue  # it can match only at the text's start (`_Rule.shape`)
        text, replaced = rule.pattern.subn(replacement, text)
        if replaced:
            folded = None
            looked_for = ()
            seen.clear()
    return text


#: Needle sets of more needles than this are looked for by one search (`_holds_any`).
_IN_TESTS_MAX = 8
#: Each needle set's test, by its bit (`_holds_any`).
_HOLDS_ANY: dict[int, Callable[[str], bool]] = {}


def _holds_any(bit: int, needles: tuple[str, ...]) -> Callable[[str], bool]:
    """Whether a text holds one of `needles` (the set of the bit `bit`): an `in` test each for
    a few, else one search for a tree of them all (`_trie`). The set of the rules reading a
    secret's name holds 400-odd needles: a text without one cost 400 passes over it, where the
    search is one, skipping the characters no needle starts with."""
    holds = _HOLDS_ANY.get(bit)
    if holds is None:
        if len(needles) <= _IN_TESTS_MAX:

            def holds(haystack: str) -> bool:
                return any(needle in haystack for needle in needles)

        else:
            search = re.compile(_trie(sorted(set(needles)))).search

            def holds(haystack: str) -> bool:
                return search(haystack) is not None

        _HOLDS_ANY[bit] = holds
    return holds
