"""Redaction: secrets and personal data out of text before it reaches an LLM prompt or a ticket.

Each match becomes a typed placeholder, so a reader still sees that something was there:

    [REDACTED:aws-key]       AWS access key ids (AKIA…, ASIA…)
    [REDACTED:aws-secret]    AWS secret access keys (40 characters, by context or by shape)
    [REDACTED:github-token]  ghp_/gho_/ghu_/ghs_/ghr_ tokens and github_pat_ tokens
    [REDACTED:api-key]       OpenAI-style sk-… keys, Slack xox… tokens and webhook paths
    [REDACTED:jwt]           JSON Web Tokens (eyJ….eyJ….…)
    [REDACTED:bearer]        the credential after `Bearer` / `Basic` (16 characters or more)
    [REDACTED:password]      passwords in URLs and DSNs (user:pass@host), `password=…` pairs,
                             and the values of JSON keys named like password, secret, token
    [REDACTED:private-key]   PEM private key blocks (also a block cut off before its END line)
    [REDACTED:email]         e-mail addresses
    [REDACTED:credential]    exact values the process holds (`hold`, and a Redactor's
                             `known_secrets`)

Every pattern has bounded repetition, so the cost is linear in the text's length and a hostile
alert cannot make the regex engine backtrack for seconds.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

#: JSON keys whose values are secrets whatever they look like (compared lower-case, and
#: ignoring `-` and `_`, so `api-key`, `API_KEY` and `apiKey` all match `apikey`).
SECRET_KEYS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "secret",
        "clientsecret",
        "token",
        "accesstoken",
        "refreshtoken",
        "idtoken",
        "apikey",
        "authorization",
        "auth",
        "cookie",
        "setcookie",
        "privatekey",
        "secretaccesskey",
        "awssecretaccesskey",
        "sessiontoken",
        "awssessiontoken",
        "dsn",
        "connectionstring",
        "credentials",
    }
)

_B64 = "[A-Za-z0-9/+]"  # one character of a base64 secret


class _Rule(NamedTuple):
    pattern: re.Pattern[str]
    replacement: str
    #: Literals of which every match contains one (empty: always run the pattern). Text with
    #: none of them is skipped: most strings of an alert hold none, and looking for a few
    #: literals costs far less than the pattern's scan (the prompt of a 2 KB CloudWatch
    #: alarm: 0.5 -> 0.18 ms; of a 900 KB payload: 257 -> 38 ms).
    needles: tuple[str, ...]
    #: The pattern ignores case: its needles (lower case) are looked for in the folded text.
    folded: bool


def _rule(source: str, replacement: str, *needles: str, flags: int = 0) -> _Rule:
    folded = bool(flags & re.IGNORECASE)
    assert not folded or all(n == n.lower() for n in needles), "folded needles are lower case"
    return _Rule(re.compile(source, flags), replacement, needles, folded)


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


_AWS_KEY_PREFIXES = tuple("AKIA ASIA AGPA AIDA AROA AIPA ANPA ANVA APKA ABIA ACCA".split())  # noqa: SIM905

#: Applied in this order.
_RULES: tuple[_Rule, ...] = (
    # PEM blocks first: their base64 body would otherwise be chewed up by the shorter patterns.
    _rule(
        r"-----BEGIN (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY-----"
        r"(?:.{0,20000}?-----END (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY-----|.{0,20000})",
        "[REDACTED:private-key]",
        "PRIVATE KEY-----",
        flags=re.DOTALL,
    ),
    _rule(r"\beyJ[\w-]{4,4096}\.eyJ[\w-]{4,8192}\.[\w-]{0,4096}", "[REDACTED:jwt]", "eyJ"),
    _rule(
        r"\b(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_\w{20,255})\b",
        "[REDACTED:github-token]",
        "gh",
        "github_pat_",
    ),
    _rule(r"\b(?:sk-(?:proj-|ant-)?[\w-]{20,200})", "[REDACTED:api-key]", "sk-"),
    _rule(r"\bxox[abposr]-[A-Za-z0-9-]{10,250}", "[REDACTED:api-key]", "xox"),
    _rule(
        r"hooks\.slack\.com/(?:services|workflows|triggers)/[\w/-]{10,250}",
        "hooks.slack.com/[REDACTED:api-key]",
        "hooks.slack.com/",
    ),
    _rule(
        rf"\b(?:{'|'.join(_AWS_KEY_PREFIXES)})[A-Z0-9]{{16}}\b",
        "[REDACTED:aws-key]",
        *_AWS_KEY_PREFIXES,
    ),
    # A secret key by context: aws_secret_access_key = …, "SecretAccessKey": "…"
    _rule(
        rf"(secret_?access_?key|aws_?secret(?:_?key)?)(\W{{1,5}}){_B64}{{40}}(?!{_B64})",
        r"\1\2[REDACTED:aws-secret]",
        "secret",
        flags=re.IGNORECASE,
    ),
    # … and by shape alone: exactly 40 base64 characters mixing upper case, lower case and
    # digits (a hex digest or a git sha is lower case only, so it stays).
    _rule(
        rf"(?<![A-Za-z0-9/+=])(?={_B64}{{0,39}}[A-Z])(?={_B64}{{0,39}}[a-z])"
        rf"(?={_B64}{{0,39}}[0-9]){_B64}{{40}}(?![A-Za-z0-9/+=])",
        "[REDACTED:aws-secret]",
    ),
    _rule(
        r"\b(bearer|basic)(\s{1,5})[\w.~+/=-]{16,4096}",
        r"\1\2[REDACTED:bearer]",
        "bearer",
        "basic",
        flags=re.IGNORECASE,
    ),
    # user:password@host in any URL or DSN (postgres://, redis://, amqp://, https://, …)
    _rule(
        r"\b([a-z][a-z0-9+.-]{0,30}://[^\s:/@]{0,256}):[^\s@/]{1,256}@",
        r"\1:[REDACTED:password]@",
        "://",
        flags=re.IGNORECASE,
    ),
    _rule(
        r"\b(password|passwd|pwd|secret|token|api_?key|access_?key)(=|:\s{0,3})"
        r"(?!\[REDACTED)[^\s&;,\"'}]{1,512}",
        r"\1\2[REDACTED:password]",
        "passw",
        "pwd",
        "secret",
        "token",
        "apikey",
        "api_key",
        "accesskey",
        "access_key",
        flags=re.IGNORECASE,
    ),
    # Possessive quantifiers (`{m,n}+`) never give characters back, so a long run of
    # address-like text without a real address fails fast instead of backtracking.
    _rule(
        r"[\w.%+-]{1,64}+@(?:[A-Za-z0-9-]{1,63}+\.){1,8}+[A-Za-z]{2,24}+\b",
        "[REDACTED:email]",
        "@",
    ),
)


# Credentials the process holds, oldest first: a dict keeps insertion order and finds a value
# again at once. Bounded, so a process that mints a token an hour keeps only the recent ones.
# Readers take `_held_now`, a tuple swapped whole under the lock, and need no lock themselves.
_HELD_MAX = 256
_held: dict[str, None] = {}
_held_now: tuple[str, ...] = ()
_held_lock = threading.Lock()


def hold(secret: str | None) -> None:
    """Remember a credential this process holds (a token it read, an installation token it minted,
    an API key from its settings) so every Redactor redacts it by exact value from now on."""
    global _held_now
    if secret is None or len(secret) < 6:  # a short value would blank out ordinary words
        return
    with _held_lock:
        _held.pop(secret, None)
        _held[secret] = None
        while len(_held) > _HELD_MAX:
            del _held[next(iter(_held))]
        _held_now = tuple(_held)


def held() -> tuple[str, ...]:
    """The credentials passed to `hold`, oldest first (the most recent 256)."""
    return _held_now


def _forget_held() -> None:
    """Tests only: start again with no held credentials."""
    global _held_now
    with _held_lock:
        _held.clear()
        _held_now = ()


class Redactor:
    """Applies the patterns above, plus the exact credentials the process holds.

    `known_secrets` is asked on every call, so a token read from Secrets Manager after startup
    (or rotated) is covered as soon as the process knows it; so are the values passed to `hold`.
    """

    def __init__(self, known_secrets: Callable[[], Iterable[str]] = tuple) -> None:
        self._known_secrets = known_secrets

    def text(self, text: str) -> str:
        for secret in self._secrets():
            text = text.replace(secret, "[REDACTED:credential]")
        folded: str | None = None  # _fold(text), made when a rule first needs it
        for rule in _RULES:
            if rule.needles:
                if rule.folded:
                    folded = _fold(text) if folded is None else folded
                    haystack = folded
                else:
                    haystack = text
                for needle in rule.needles:
                    if needle in haystack:
                        break
                else:
                    continue  # no needle: the pattern cannot match
            text, replaced = rule.pattern.subn(rule.replacement, text)
            if replaced:
                folded = None
        return text

    def _secrets(self) -> tuple[str, ...]:
        """The exact values to redact, longest first, so that one containing another goes whole."""
        values = {*held(), *(s for s in self._known_secrets() if len(s) >= 6)}
        return tuple(sorted(values, key=len, reverse=True)) if values else ()

    def value(self, value: Any, *, depth: int = 0) -> Any:
        """A JSON value with every string redacted and secret-named keys blanked."""
        if depth > 64:  # normalisers reject deeper JSON; this only guards direct callers
            return "[REDACTED:too-deep]"
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {
                str(k): (
                    "[REDACTED:password]"
                    if _is_secret_key(str(k)) and value[k] not in (None, "")
                    else self.value(value[k], depth=depth + 1)
                )
                for k in value
            }
        if isinstance(value, list | tuple):
            return [self.value(v, depth=depth + 1) for v in value]
        return value


def _is_secret_key(key: str) -> bool:
    folded = key.lower().replace("-", "").replace("_", "")
    return folded in SECRET_KEYS


#: A redactor that knows no process credentials; for text that needs only the patterns.
DEFAULT = Redactor()


def redact(text: str) -> str:
    return DEFAULT.text(text)
