"""The characters the rules' needles start with: each one is a position the search for needles
(`scrub._needle_sets_in`, run on every text) stops at, so a needle starting with a character no
other needle of its search starts with costs every text (a `u`, a `c` as written: +3 ms over
the bench's texts). A new first character must be chosen on purpose: pick a needle inside the
match that starts with one of these (`namepassword` for `UsernamePassword…`, `lsh ` for
`cqlsh `), or add it here and say why in the commit.
"""

from __future__ import annotations

from triage.redact.rules import _RULES

#: First characters of the needles looked for in the folded text (ASCII ones).
FOLDED_FIRST = set('"+-./<>\\_abcdefghijklmnoprstvwx|')
#: … and of the needles looked for as written.
WRITTEN_FIRST = set("#$&(-.7:?@ACGHIKLMNPQS[]_abdefghiklmnoprstuwxyz|")


def _first_characters(*, folded: bool) -> set[str]:
    """The ASCII first characters of the needles of the rules that do (or do not) fold case."""
    return {
        needle[0]
        for rule in _RULES
        if rule.folded == folded
        for needle in rule.needles
        if needle[0].isascii()
    }


def test_folded_needles_start_with_known_characters() -> None:
    """No folded needle starts with an ASCII character outside the known set."""
    new = _first_characters(folded=True) - FOLDED_FIRST
    assert not new, f"folded needles start with new characters: {sorted(new)}"


def test_written_needles_start_with_known_characters() -> None:
    """No needle looked for as written starts with an ASCII character outside the known set."""
    new = _first_characters(folded=False) - WRITTEN_FIRST
    assert not new, f"needles as written start with new characters: {sorted(new)}"
