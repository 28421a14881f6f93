"""Rules for personal data: e-mail addresses (not a URL's user and host, a git remote's, nor a
login at a host in rsync's or scp's remote path) and payment card numbers (a card network's
prefix and length, a valid Luhn check digit). They are the last rules, after every rule for a
secret.
"""

from __future__ import annotations

import re

from triage.redact.rule import _Rule, _rule
from triage.redact.wrapped import WRAPPED_VALUE_RULES

_EMAIL = "[REDACTED:email]"

#: An address's user part: word characters in any script (`jürgen.müller`, `太郎`), `.`, `%`,
#: `+`, `-`, and an apostrophe between them (`Zoë.O'Brien`; one that opens a quote,
#: `'bob@…'`, is not the user's: no word character comes before it).
_USER = r"[\w.%+-]{1,64}+(?:'[\w.%+-]{1,63}+){0,3}+"
#: A domain's label and its top level, in any script (`exämple.de`, `пример.рф`, `例え.jp`;
#: punycode's `xn--…` too): letters and digits, `-` inside a label. A label's dot counts only
#: before another label, so the dot ending a sentence stays outside.
_LABEL = r"(?:[^\W_]|-){1,63}+"
_DOMAIN = rf"(?:{_LABEL}\.(?=[^\W_]|-)){{1,8}}+[^\W\d_]{{2,24}}+(?![^\W_])"


def _git_remote(match: re.Match[str]) -> bool:
    """An address-shaped match that is a git remote's user and host (`git@github.com:acme/x`,
    `ssh://git@host/x`): no person's address, so it stays."""
    text, start, end = match.string, match.start(), match.end()
    return (
        match[0].startswith("git@")
        and (start == 0 or text[start - 1] in " \t\n'\"(<=/:,;")
        and text[end : end + 1] in (":", "/")
    )


#: What follows a login's `user@host` in a remote path: rsync's daemon module (`::module`),
#: scp's and rsync's path over ssh (`:/var/www`, `:~/x`, `:backups/db.sql`), a port.
_REMOTE_PATH = re.compile(r"::[\w.-]|:[/~]|:[\w.-]{1,255}+/|:[0-9]{1,5}(?![\w.])")


#: A remote shell's command right before a login, only its options between
#: (`ssh -p 2222 deploy@web01.example.com`, `ssh-copy-id -i key.pub`, `mosh`).
_REMOTE_SHELL = re.compile(
    r"(?<![\w.-])(?:ssh|autossh|mosh|ssh-copy-id|sftp)(?:\.exe)?"
    r"(?:[ \t]{1,3}-[A-Za-z][\w-]{0,31}+(?:[ \t=]{1,3}(?!-)[^\s@]{1,256}+)?){0,8}[ \t]{1,3}\Z"
)


def _remote_login(match: re.Match[str]) -> bool:
    """An address-shaped match that is a login at a host: in a remote path (`backup@nas::module`,
    `deploy@web01.example.com:/var/www`; `_REMOTE_PATH`), as rsync and scp write it, or after
    a remote shell's command (`_REMOTE_SHELL`). No person's address, so it stays."""
    if _REMOTE_PATH.match(match.string, match.end()) is not None:
        return True
    start = match.start()
    return _REMOTE_SHELL.search(match.string, max(0, start - 300), start) is not None


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
        rf"(?!(?<=\\)[nrt]){_USER}@{_DOMAIN}",
        lambda match: (
            match[0] if _git_remote(match) or _url_user(match) or _remote_login(match) else _EMAIL
        ),
        "@",
    ),
    # Payment card numbers: 15 or 16 digits, in groups or not, with a card network's prefix and
    # a valid Luhn check digit (an order id or a timestamp of that length rarely has both).
    _rule(
        # The first digit first (the engine jumps between candidates), then what is before it.
        r"[2-6](?<![0-9A-Za-z.-](?<!\\[nrt]).)(?:[ -]?+[0-9]){14,15}+(?![0-9A-Za-z]|[.-][0-9])",
        lambda match: _card_number(match[0]),
    ),
    # Last of all, after every rule that writes a placeholder: the rest of a value a wrapper
    # carried to the next line, after the placeholder of the piece left on the name's line.
    *WRAPPED_VALUE_RULES,
)
