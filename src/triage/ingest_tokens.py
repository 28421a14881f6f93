"""The webhook gateway's tokens as configuration: the sources there are, what a token must be,
how the JSON of `TRIAGE_INGEST_TOKENS` (or of the secret `TRIAGE_INGEST_TOKENS_SECRET_ID`)
reads, and what a read of that secret answered means.

`triage ingest` (`ingest/auth.py`) and `triage check` both read tokens through this module, so
the check refuses exactly what the gateway would. The Secrets Manager call itself stays with
each caller, and nothing here imports the gateway: the daemon's code (check included) must not
(tests/test_deploy.py). No message here ever holds a token.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from botocore.exceptions import ClientError

from triage import redact
from triage.errors import ConfigError
from triage.settings import did_you_mean

#: The webhook sources, in the order the README lists them.
SOURCES = ("grafana", "alertmanager", "sentry", "generic", "threshold")
#: Shorter tokens are refused at startup: a guessable token is no authentication.
MIN_TOKEN_CHARS = 16

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
    written in one case (or capitalised) with few digits; a token mixes cases and digits."""
    one_case = key in (key.lower(), key.upper(), key.capitalize())
    few_digits = sum(c.isdigit() for c in key) <= 2
    if re.fullmatch(r"[A-Za-z0-9_-]{1,20}", key) and one_case and few_digits:
        return key
    return f"({len(key)} characters)"


def _sources_meant(unknown: list[str]) -> str:
    """The source the first misspelt name was a typo of, else the known ones. Only a name
    shown as such is matched: a token written as the key must not choose the suggestion."""
    names = [key for key in unknown if _shown_name(key) == key]
    meant = did_you_mean(names[0], SOURCES) if names else ""
    return meant or f"; known: {', '.join(SOURCES)}"


def parse_tokens(text: str, where: str) -> dict[str, bytes]:
    """`{"source": "token", …}` → tokens as bytes; ConfigError naming the source, never the value."""
    try:
        value = json.loads(text)
    except ValueError:
        raise ConfigError(f'{where} is not JSON (expected {{"grafana": "<token>", …}})') from None
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a JSON object of source → token")
    unknown = sorted(str(k) for k in value if k not in SOURCES)
    if unknown:
        raise ConfigError(
            f"{where} names unknown source(s) {', '.join(map(_shown_name, unknown))}"
            f"{_sources_meant(unknown)}"
        )
    tokens: dict[str, bytes] = {}
    for source, token in value.items():
        if token is None:
            continue  # explicitly disabled
        if not isinstance(token, str):
            raise ConfigError(f"{where}: the {source} token must be a string")
        if not (token.isascii() and token.isprintable()) or any(c.isspace() for c in token):
            raise ConfigError(
                f"{where}: the {source} token must be printable ASCII without whitespace"
            )
        if len(token) < MIN_TOKEN_CHARS:
            raise ConfigError(
                f"{where}: the {source} token is shorter than {MIN_TOKEN_CHARS} characters"
            )
        tokens[source] = token.encode()
    return tokens


def held_tokens(text: str, where: str) -> dict[str, bytes]:
    """`parse_tokens`, each token then held (`triage.redact.hold`): every redactor of the
    process, the log renderer's included, blanks it by value from now on."""
    tokens = parse_tokens(text, where)
    for token in tokens.values():
        redact.hold(token.decode())
    return tokens


def failure_reason(exc: Exception) -> str:
    """What a failed GetSecretValue says, fit for a line: Secrets Manager's error code, else the
    error's type (never its text, which may quote the answer)."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "Unknown"))
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
