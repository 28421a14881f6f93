"""Rules for personal data: e-mail addresses (not a URL's user and host, nor a git remote's) and
payment card numbers (a card network's prefix and length, a valid Luhn check digit). They are
the last rules, after every rule for a secret.
"""

from __future__ import annotations

import re

from triage.redact.rule import _END, _Rule, _rule

_EMAIL = "[REDACTED:email]"


def _git_remote(match: re.Match[str]) -> bool:
    """An address-shaped match that is a git remote's user and host (`git@github.com:acme/x`,
    `ssh://git@host/x`): no person's address, so it stays."""
    text, start, end = match.string, match.start(), match.end()
    return (
        match[0].startswith("git@")
        and (start == 0 or text[start - 1] in " \t\n'\"(<=/:,;")
        and text[end : end + 1] in (":", "/")
    )


def _url_user(match: re.Match[str]) -> bool:
    """An address-shaped match that is a URL's user and host (`http://user@host.example.com/`,
    `ftp://anonymous@ftp.example.org`): it starts the authority, right after `scheme://`, and
    nothing but the host follows the `@` (not another `@` or a percent-escape, where the user
    itself was an address). No person's address, so it stays."""
    text, start, end = match.string, match.start(), match.end()
    return (
        text[start - 3 : start] == "://"
        and text[start - 4 : start - 3].isalnum()
        and text[end : end + 1] not in ("@", "%")
    )


#: How a written card number may be grouped: all together, 4-4-4-4, or American Express's 4-6-5.
_CARD_GROUPS = ((16,), (15,), (4, 4, 4, 4), (4, 6, 5))


def _card_number(text: str) -> str:
    """The placeholder for `text` if it is a payment card number, else `text` unchanged: the
    length and prefix of a card network (Visa 4, Mastercard 51-55 and 2221-2720, American
    Express 34/37 with 15 digits, Discover 6011, 644-649 and 65), written whole or in its
    usual groups, with a valid Luhn check digit."""
    groups = tuple(len(part) for part in re.split("[ -]", text))
    digits = text.replace(" ", "").replace("-", "")
    amex = digits[:2] in ("34", "37")
    if groups not in _CARD_GROUPS or len(digits) != (15 if amex else 16):
        return text
    head = int(digits[:4])
    if not (
        amex
        or digits[0] == "4"
        or 51 <= head // 100 <= 55
        or 2221 <= head <= 2720
        or head == 6011
        or 644 <= head // 10 <= 649
        or head // 100 == 65
    ):
        return text
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return "[REDACTED:card-number]" if total % 10 == 0 else text


PERSONAL_RULES: tuple[
    _Rule, ...
] = (  # Possessive quantifiers (`{m,n}+`) never give characters back, so a long run of
    # address-like text without a real address fails fast instead of backtracking. A label's
    # dot counts only before another label, so the dot ending a sentence stays outside. The
    # `n` of an escaped line break (`"line\nops@example.com"`) is not the address's: taking it
    # would leave `\[REDACTED…`, an escape JSON does not have.
    _rule(
        r"(?!(?<=\\)[nrt])[\w.%+-]{1,64}+@"
        r"(?:[A-Za-z0-9-]{1,63}+\.(?=[A-Za-z0-9-])){1,8}+[A-Za-z]{2,24}+" + _END,
        lambda match: match[0] if _git_remote(match) or _url_user(match) else _EMAIL,
        "@",
    ),
    # Payment card numbers: 15 or 16 digits, in groups or not, with a card network's prefix and
    # a valid Luhn check digit (an order id or a timestamp of that length rarely has both).
    _rule(
        # The first digit first (the engine jumps between candidates), then what is before it.
        r"[2-6](?<![0-9A-Za-z.-](?<!\\[nrt]).)(?:[ -]?+[0-9]){14,15}+(?![0-9A-Za-z]|[.-][0-9])",
        lambda match: _card_number(match[0]),
    ),
)
