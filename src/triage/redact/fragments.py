"""The fragment a cut leaves at the end of a text: the normaliser cuts a long title or
description to its limit and marks the cut with "…", keeping part of a word when dropping it
would leave too little. When that word was a secret longer than what is kept (a SAS URL's
`sig=`, a JWT, a 40-hex key), the rules see only its first characters, which no longer have
the shape they look for, and those characters would be shown. So the run of token characters
glued to a final "…" is replaced when it looks random: a cut word was already lost to the
reader, and a fragment of a key is still a leak.
"""

from __future__ import annotations

import re

#: The token characters a cut word ends in, glued to the cut's "…" at the very end of the text.
_CUT_FRAGMENT = re.compile(r"([A-Za-z0-9_+.%~-]{8,})…\Z")


def _random_fragment(fragment: str) -> bool:
    """Letters and digits both, or an upper-case letter after the first character: a piece of
    a key, not a word (`Kubernetes…`, `deployment…` stay)."""
    letters = any(c.isalpha() for c in fragment)
    digits = any(c.isdigit() for c in fragment)
    inner_upper = any(c.isupper() for c in fragment[1:])
    inner_lower = any(c.islower() for c in fragment)
    return (letters and digits) or (inner_upper and inner_lower)


def scrub_cut_fragment(text: str) -> str:
    """`text` with the random-looking fragment before a final "…" replaced by a placeholder."""
    if not text.endswith("…"):
        return text
    match = _CUT_FRAGMENT.search(text)
    if match is None or not _random_fragment(match[1]):
        return text
    return text[: match.start(1)] + "[REDACTED:cut]…"
