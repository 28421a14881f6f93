"""The webhook gateway's tokens as configuration: the sources there are, what a token must be,
how the JSON of `TRIAGE_INGEST_TOKENS` (or of the secret `TRIAGE_INGEST_TOKENS_SECRET_ID`)
reads, and what a read of that secret answered means.

A token is read without the whitespace around it; one no sender could present (empty, pasted
with `Bearer `, wrapped in quotes, not printable ASCII, shorter than 16 characters), more than
two for a source, and one token for two sources are refused, naming the source and the fault;
so is the JSON itself stored in quotes. Quotes are refused rather than taken off: a sender
reading the same quoted value sends the quotes, and a generated token may hold them.

`triage ingest` (`ingest/auth.py`) and `triage check` both read tokens through this module, so
the check refuses exactly what the gateway would. The Secrets Manager call itself stays with
each caller (asking for `secrets.CURRENT_STAGE`, as the backend token is read), and nothing here
imports the gateway: the daemon's code (check included) must not
(tests/test_deploy.py). No message here ever holds a token.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from botocore.exceptions import ClientError

from triage import redact
from triage.aws import told_error_code
from triage.errors import ConfigError
from triage.settings import did_you_mean, pasted_fault, quoted

#: The webhook sources, in the order the README lists them.
SOURCES = ("grafana", "alertmanager", "sentry", "generic", "threshold")
#: Shorter tokens are refused at startup: a guessable token is no authentication.
MIN_TOKEN_CHARS = 16
#: A source may list two tokens while one is rotated: the current one and the next.
MAX_TOKENS_PER_SOURCE = 2
#: What is taken off a stored token's ends: ASCII whitespace only (a Unicode space around a
#: token is refused as a character that is not ASCII, not silently dropped).
_STORED_SPACE = " \t\r\n\v\f"


#: Secrets Manager error codes that retrying cannot fix.
CONFIG_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "AccessDeniedException",
        "DecryptionFailure",
        "InvalidRequestException",
    }
)


class TokensUnavailable(Exception):
    """Raised when the tokens have never been read and Secrets Manager cannot be reached."""


def _shown_name(key: str) -> str:
    """An unknown source's name as an error may show it: a misspelt name is shown, anything
    else (a token written as the key, its source as the value) only by its length. A name is
    written in one case (or capitalised) with few digits; a token mixes cases and digits. A
    name shown is shorter than any token the gateway takes (MIN_TOKEN_CHARS): a passphrase in
    one case ("correcthorsebattery") has a name's letters, but not its length."""
    one_case = key in (key.lower(), key.upper(), key.capitalize())
    few_digits = sum(c.isdigit() for c in key) <= 2
    short = len(key) < MIN_TOKEN_CHARS
    if re.fullmatch(r"[A-Za-z0-9_-]+", key) and short and one_case and few_digits:
        return key
    return f"({len(key)} characters)"


def _sources_meant(unknown: list[str]) -> str:
    """The source the first misspelt name was a typo of, else the known ones. Only a name
    shown as such is matched: a token written as the key must not choose the suggestion."""
    names = [key for key in unknown if _shown_name(key) == key]
    meant = did_you_mean(names[0], SOURCES) if names else ""
    return meant or f"; known: {', '.join(SOURCES)}"


class _Keys(dict[str, object]):
    """A JSON object that remembers the keys it was given more than once (`json` keeps the
    last value silently: a second token added as a second `"generic": …` would drop the
    first)."""

    twice: list[str]

    @classmethod
    def of(cls, pairs: list[tuple[str, object]]) -> _Keys:
        keys = cls()
        keys.twice = []
        for key, value in pairs:
            if key in keys:
                keys.twice.append(key)
            keys[key] = value
        return keys


def parse_tokens(text: str, where: str) -> dict[str, tuple[bytes, ...]]:
    """`{"source": "token" | ["token", "next token"] | null, …}` → each source's tokens as bytes;
    ConfigError naming the source and the fault, never the value. A token is read without the
    whitespace around it (`echo` ends a file with a newline; no header carries it either)."""
    # An editor's UTF-8 byte-order mark is no part of the JSON.
    text = text.removeprefix("\ufeff")
    try:
        value = json.loads(text, object_pairs_hook=_Keys.of)
    except RecursionError:
        raise ConfigError(f"{where} is JSON nested too deeply") from None
    except ValueError:
        if quoted(text.strip(_STORED_SPACE)):
            raise ConfigError(
                f"{where} is wrapped in quotes: store the JSON without them"
            ) from None
        raise ConfigError(f'{where} is not JSON (expected {{"grafana": "<token>", …}})') from None
    if isinstance(value, str) and _json_object(value):
        raise ConfigError(
            f"{where} is a JSON string holding the tokens' JSON: store the object itself"
        )
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a JSON object of source → token")
    unknown = sorted(str(k) for k in value if k not in SOURCES)
    if unknown:
        raise ConfigError(
            f"{where} names unknown source(s) {', '.join(map(_shown_name, unknown))}"
            f"{_sources_meant(unknown)}"
        )
    if isinstance(value, _Keys) and value.twice:
        name = value.twice[0]  # a known source
        raise ConfigError(
            f"{where} names {name} twice: list a source's two tokens as "
            f'"{name}": ["<current>", "<next>"]'
        )
    tokens = {
        source: _source_tokens(listed, f"{where}: the {source} token")
        for source, listed in value.items()
        if listed is not None  # explicitly disabled
    }
    _refuse_shared(tokens, where)
    return tokens


def _source_tokens(listed: object, what: str) -> tuple[bytes, ...]:
    """One source's token, or its list of at most `MAX_TOKENS_PER_SOURCE` (a rotation's
    current and next), each checked."""
    if isinstance(listed, str):
        listed = [listed]
    if not isinstance(listed, list) or not all(isinstance(t, str) for t in listed):
        raise ConfigError(
            f"{what} must be a string, or a list of at most {MAX_TOKENS_PER_SOURCE} strings"
        )
    if not listed:
        raise ConfigError(f"{what} is empty (null turns a source off)")
    if len(listed) > MAX_TOKENS_PER_SOURCE:
        raise ConfigError(
            f"{what} lists {len(listed)}: at most {MAX_TOKENS_PER_SOURCE} tokens "
            "(the current one and the next, while senders move to it)"
        )
    tokens = tuple(_checked(token, what).encode() for token in listed)
    if len(set(tokens)) < len(tokens):
        raise ConfigError(f"{what} lists the same token twice")
    return tokens


def _checked(token: str, what: str) -> str:
    """The token without the whitespace around it; ConfigError for one no sender can present."""
    token = token.strip(_STORED_SPACE)
    if not token:
        raise ConfigError(f"{what} is empty (null turns a source off)")
    # Quotes are refused, not taken off: a sender reading the same quoted value (docker's
    # --env-file keeps quotes) sends them, and a generated token may start and end with one;
    # taking them off would turn either into a silent 401, this says why at start-up.
    fault = pasted_fault(token)
    if fault is not None:
        raise ConfigError(f"{what} {fault}")
    if not token.isascii():
        raise ConfigError(f"{what} holds a character that is not ASCII")
    if any(c.isspace() for c in token):
        raise ConfigError(f"{what} must be printable ASCII without whitespace (it holds some)")
    if not token.isprintable():
        raise ConfigError(f"{what} holds a control character")
    if len(token) < MIN_TOKEN_CHARS:
        raise ConfigError(f"{what} is shorter than {MIN_TOKEN_CHARS} characters")
    return token


def _json_object(text: str) -> bool:
    """Whether `text` is the JSON of an object (the tokens' JSON encoded a second time)."""
    try:
        return isinstance(json.loads(text), dict)
    except (ValueError, RecursionError):
        return False


def _refuse_shared(tokens: Mapping[str, tuple[bytes, ...]], where: str) -> None:
    """ConfigError when two sources share a token: either's senders could post as the other,
    and take the other's share of the gateway's budgets."""
    owner: dict[bytes, str] = {}
    for source, listed in tokens.items():
        for token in listed:
            first = owner.setdefault(token, source)
            if first != source:
                raise ConfigError(
                    f"{where}: the {first} and {source} tokens are the same: "
                    "each source needs its own"
                )


def held_tokens(text: str, where: str) -> dict[str, tuple[bytes, ...]]:
    """`parse_tokens`, each token then held (`triage.redact.hold`): every redactor of the
    process, the log renderer's included, blanks it by value from now on."""
    tokens = parse_tokens(text, where)
    for listed in tokens.values():
        for token in listed:
            redact.hold(token.decode())
    return tokens


def failure_reason(exc: Exception) -> str:
    """What a failed GetSecretValue says, fit for a line: Secrets Manager's error code, else the
    error's type (never its text, which may quote the answer). The code is written by whatever
    answers (a stand-in, a proxy): one that is no code of AWS's form, or that the redactor
    would change (a credential), is not told."""
    if isinstance(exc, ClientError):
        return told_error_code(exc.response.get("Error", {}).get("Code", "Unknown"))
    return type(exc).__name__


def read_failure(exc: Exception, secret_id: str) -> ConfigError | TokensUnavailable:
    """The error a failed read of the tokens' secret is: ConfigError when retrying cannot fix
    it (no such secret, access denied), TokensUnavailable when Secrets Manager may answer later."""
    reason = failure_reason(exc)
    if isinstance(exc, ClientError) and reason in CONFIG_CODES:
        return ConfigError(f"TRIAGE_INGEST_TOKENS_SECRET_ID {secret_id!r} cannot be read: {reason}")
    return TokensUnavailable(f"reading the ingest tokens failed: {reason}")


def secret_text(response: object, secret_id: str) -> str:
    """The SecretString of a GetSecretValue answer; ConfigError for a binary secret, and
    TokensUnavailable for an answer without a secret (Secrets Manager, or what answers for it,
    failing)."""
    secret = response.get("SecretString") if isinstance(response, Mapping) else None
    if isinstance(secret, str):
        return secret
    if isinstance(response, Mapping) and response.get("SecretBinary") is not None:
        raise ConfigError(f"secret {secret_id!r} has no SecretString (binary is not supported)")
    raise TokensUnavailable("reading the ingest tokens failed: the answer held no secret")
