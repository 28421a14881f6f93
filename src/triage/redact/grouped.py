"""A key written in groups after its known prefix: a person or a model copying an AWS key id or
a GitHub token into prose spaces it out (`AKIA IOSF ODNN 7EXA MPLE`, `ghp_ aB3d…`, `ghp_aB3d
E5fG …`), where the token rules, which read one unbroken word, miss it.

A prefix only vendors' keys start with, then groups of the key's characters split by spaces
or tabs: the groups, read in order, that add up to exactly the key's length after its prefix
are the key, and go whole. Words after a prefix that never add up to it (`AKIA KEYS ARE
ROTATED`) stay.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from triage.redact.rule import _START, _Rule, _rule

#: AWS's access key id prefixes (`cloud._AWS_KEY_PREFIXES`' commonest), and GitHub's tokens'.
_AWS_PREFIXES = ("AKIA", "ASIA", "AIDA", "AROA", "AGPA", "ANPA")
_GITHUB_PREFIXES = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")
#: What may split a key's groups: a space or two, or a tab.
_GAP = re.compile(r"[ \t]{1,2}")


@dataclass(frozen=True, slots=True)
class _Grouped:
    """A key's form: its prefixes, the class of its characters, their number after the
    prefix, its placeholder, and whether it must hold a digit (random text of its length
    does; a run of words does not)."""

    prefixes: tuple[str, ...]
    characters: str
    length: int
    placeholder: str
    needs_digit: bool

    def pattern(self) -> str:
        """The prefix, its first group (none when a space follows it) and the groups after
        gaps: more than the key needs, `_replaced` finds where its length is reached."""
        prefixes = "|".join(re.escape(prefix) for prefix in self.prefixes)
        group = f"{self.characters}{{1,{self.length}}}+"
        return (
            rf"{_START}(?:{prefixes}){self.characters}{{0,{self.length}}}+"
            rf"(?:[ \t]{{1,2}}{group}){{1,{self.length}}}+"
        )

    def replaced(self, match: re.Match[str]) -> str:
        """The match with the key (its prefix and the groups that add up to its length)
        replaced, and the groups after it kept; unchanged when no run of groups adds up to
        it, or the key so read holds no digit where it must."""
        text = match[0]
        prefix_end = next(len(p) for p in self.prefixes if text.startswith(p))
        pieces = _GAP.split(text[prefix_end:])
        count = 0
        for index, piece in enumerate(pieces):
            count += len(piece)
            if count > self.length:
                return text
            # Split at least once: an unbroken key is the token rules'.
            if count == self.length and index > 0:
                key = "".join(pieces[: index + 1])
                if self.needs_digit and not any(c.isdigit() for c in key):
                    return text
                end = _end_of_piece(text, prefix_end, pieces, index)
                return f"{self.placeholder}{text[end:]}"
        return text


def _end_of_piece(text: str, start: int, pieces: list[str], index: int) -> int:
    """Where the `index`-th of `pieces` (split by `_GAP` from `start`) ends in `text`."""
    at = start
    for piece in pieces[:index]:
        at += len(piece)
        gap = _GAP.match(text, at)
        assert gap is not None, "pieces are split by gaps"
        at = gap.end()
    return at + len(pieces[index])


_FORMS = (
    _Grouped(_AWS_PREFIXES, "[A-Z0-9]", 16, "[REDACTED:aws-key]", needs_digit=False),
    _Grouped(_GITHUB_PREFIXES, "[A-Za-z0-9]", 36, "[REDACTED:github-token]", needs_digit=True),
)

GROUPED_RULES: tuple[_Rule, ...] = tuple(
    _rule(form.pattern(), form.replaced, *form.prefixes) for form in _FORMS
)
