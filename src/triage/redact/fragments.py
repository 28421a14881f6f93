"""The fragment a cut leaves: the normaliser cuts a long title, description or shown value to
its limit and marks the cut with "…", keeping part of a word when dropping it would leave too
little. When that word was a secret longer than what is kept (a SAS URL's `sig=`, a JWT, a
40-hex key), the rules see only its first characters, which no longer have the shape they look
for, and those characters would be shown. So a run of token characters glued to a "…" is
replaced when it looks random: a cut word was already lost to the reader, and a fragment of a
key is still a leak. The cut value may end the text, or sit inside a sentence a normaliser
wrote around it (a threshold's operator: "fires when it is glpat-4GpYGkRi4z… 90").
"""

from __future__ import annotations

import re

#: The token characters a cut word ends in, glued to the cut's "…" (and no word going on after
#: it). `/` too (base64's: AWS's session tokens hold it), `$` (Braintree's tokens), and `:` and
#: `@`: a URL cut after the credential it names as its user (a Sentry DSN cut in its host)
#: goes whole, its key with it. Not `=`: a cut `&sig=…` keeps the name of what was cut.
#: Started only where a run of token characters starts (the look-behind): the run is taken
#: whole or not at all, so each later start would fail too, after reading to its end.
_CUT_FRAGMENT = re.compile(r"(?<![A-Za-z0-9_+.%~/$:@-])([A-Za-z0-9_+.%~/$:@-]{8,})…(?![A-Za-z0-9])")


def _random_fragment(fragment: str) -> bool:
    """Letters and digits both, or an upper-case letter after the first character: a piece of
    a key, not a word (`Kubernetes…`, `deployment…` stay)."""
    letters = any(c.isalpha() for c in fragment)
    digits = any(c.isdigit() for c in fragment)
    inner_upper = any(c.isupper() for c in fragment[1:])
    inner_lower = any(c.islower() for c in fragment)
    return (letters and digits) or (inner_upper and inner_lower)


def scrub_cut_fragment(text: str) -> str:
    """`text` with each random-looking fragment before a "…" replaced by a placeholder."""
    if "…" not in text:
        return text
    return _CUT_FRAGMENT.sub(_scrubbed, text)


def _scrubbed(match: re.Match[str]) -> str:
    return "[REDACTED:cut]…" if _random_fragment(match[1]) else match[0]
