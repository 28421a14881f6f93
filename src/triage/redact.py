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
    [REDACTED:credential]    exact values the process itself holds (backend token, API keys)

Every pattern has bounded repetition, so the cost is linear in the text's length and a hostile
alert cannot make the regex engine backtrack for seconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

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

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # PEM blocks first: their base64 body would otherwise be chewed up by the shorter patterns.
    (
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY-----"
            r"(?:.{0,20000}?-----END (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY-----|.{0,20000})",
            re.DOTALL,
        ),
        "[REDACTED:private-key]",
    ),
    (re.compile(r"\beyJ[\w-]{4,4096}\.eyJ[\w-]{4,8192}\.[\w-]{0,4096}"), "[REDACTED:jwt]"),
    (
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_\w{20,255})\b"),
        "[REDACTED:github-token]",
    ),
    (re.compile(r"\b(?:sk-(?:proj-|ant-)?[\w-]{20,200})"), "[REDACTED:api-key]"),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,250}"), "[REDACTED:api-key]"),
    (
        re.compile(r"hooks\.slack\.com/(?:services|workflows|triggers)/[\w/-]{10,250}"),
        "hooks.slack.com/[REDACTED:api-key]",
    ),
    (
        re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA|ABIA|ACCA)[A-Z0-9]{16}\b"),
        "[REDACTED:aws-key]",
    ),
    # A secret key by context: aws_secret_access_key = …, "SecretAccessKey": "…"
    (
        re.compile(
            rf"(?i)(secret_?access_?key|aws_?secret(?:_?key)?)(\W{{1,5}}){_B64}{{40}}(?!{_B64})"
        ),
        r"\1\2[REDACTED:aws-secret]",
    ),
    # … and by shape alone: exactly 40 base64 characters mixing upper case, lower case and
    # digits (a hex digest or a git sha is lower case only, so it stays).
    (
        re.compile(
            rf"(?<![A-Za-z0-9/+=])(?={_B64}{{0,39}}[A-Z])(?={_B64}{{0,39}}[a-z])"
            rf"(?={_B64}{{0,39}}[0-9]){_B64}{{40}}(?![A-Za-z0-9/+=])"
        ),
        "[REDACTED:aws-secret]",
    ),
    (
        re.compile(r"(?i)\b(bearer|basic)(\s{1,5})[\w.~+/=-]{16,4096}"),
        r"\1\2[REDACTED:bearer]",
    ),
    # user:password@host in any URL or DSN (postgres://, redis://, amqp://, https://, …)
    (
        re.compile(r"(?i)\b([a-z][a-z0-9+.-]{0,30}://[^\s:/@]{0,256}):[^\s@/]{1,256}@"),
        r"\1:[REDACTED:password]@",
    ),
    (
        re.compile(
            r"(?i)\b(password|passwd|pwd|secret|token|api_?key|access_?key)(=|:\s{0,3})"
            r"(?!\[REDACTED)[^\s&;,\"'}]{1,512}"
        ),
        r"\1\2[REDACTED:password]",
    ),
    (
        # Possessive quantifiers (`{m,n}+`) never give characters back, so a long run of
        # address-like text without a real address fails fast instead of backtracking.
        re.compile(r"[\w.%+-]{1,64}+@(?:[A-Za-z0-9-]{1,63}+\.){1,8}+[A-Za-z]{2,24}+\b"),
        "[REDACTED:email]",
    ),
)


class Redactor:
    """Applies the patterns above, plus the exact credentials the process holds.

    `known_secrets` is asked on every call, so a token read from Secrets Manager after startup
    (or rotated) is covered as soon as the process knows it.
    """

    def __init__(self, known_secrets: Callable[[], Iterable[str]] = tuple) -> None:
        self._known_secrets = known_secrets

    def text(self, text: str) -> str:
        for secret in self._known_secrets():
            if len(secret) >= 6:  # a short value would blank out ordinary words
                text = text.replace(secret, "[REDACTED:credential]")
        for pattern, placeholder in _PATTERNS:
            text = pattern.sub(placeholder, text)
        return text

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
