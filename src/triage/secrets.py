"""The ticket backend's bearer token: read from Secrets Manager (its AWSCURRENT version, cached for a TTL) when
`BACKEND_TOKEN_SECRET_ID` is set, else from the environment variable `BACKEND_TOKEN_ENV_KEY` names.

Errors, and what they mean:

    ConfigError            no token can exist as configured: the env var is unset, the secret id
                           names nothing, access is denied, or the secret holds no usable token
    SinkUnavailableError   Secrets Manager could not be read just now (network, throttling, 5xx)
                           and no token is held: one read before, its TTL over, is used
                           until a read succeeds (only a 401 voids it, `invalidate`)

The token itself never appears in a log line or an exception message, and exceptions from the
AWS client are not chained, so a traceback cannot carry the secret's response either.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

import structlog
from botocore.exceptions import ClientError

from triage.aws import AWS_CALL_ERRORS, told_error_code
from triage.errors import ConfigError, SinkUnavailableError
from triage.redact import hold
from triage.settings import (
    Settings,
    as_written,
    env_file_slip,
    read_credential_file,
    whole_secret_problem,
)

if TYPE_CHECKING:
    from types_aiobotocore_secretsmanager import SecretsManagerClient

log = structlog.get_logger(__name__)

#: A header's scheme written before the token (`Bearer abc…`, `Basic …`), in any case.
_SCHEME_PREFIX = re.compile(r"(bearer|basic)\s", re.IGNORECASE)

#: The key a JSON secret keeps the token under (the original worker's convention).
SECRET_JSON_KEY = "BACKEND_TOKEN"

#: The staging label of a secret's version in force; a rotation stages the next as AWSPENDING
#: and moves this label to it when it finishes.
CURRENT_STAGE = "AWSCURRENT"

#: How long the token held is used again after a refresh that failed, before the next read.
REFRESH_RETRY_S = 30.0

#: BACKEND_TOKEN_ENV_KEY's default: the one variable name a message may spell out.
_DEFAULT_ENV_KEY = Settings.model_fields["backend_token_env_key"].default

#: Error codes that retrying cannot fix: the secret id or the role's permissions are wrong.
_CONFIG_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "AccessDeniedException",
        "DecryptionFailure",
        "InvalidRequestException",  # e.g. the secret is scheduled for deletion
    }
)


class TokenSource(Protocol):
    """What a sink needs of a credential: the current value, and a way to say it was refused."""

    async def get(self) -> str: ...

    def invalidate(self, stale: str | None = None) -> None: ...


class BackendToken:
    """The backend's bearer token; one instance per sink, shared by all workers."""

    def __init__(
        self, settings: Settings, secrets_client: SecretsManagerClient | None = None
    ) -> None:
        self.secret_id = settings.backend_token_secret_id
        self.env_key = settings.backend_token_env_key
        self.ttl_s = settings.backend_token_ttl_s
        self._client = secrets_client
        self._token: str | None = None
        self._fetched_at = 0.0
        #: The variable's last value read and the token it checked out as (`_from_environment`).
        self._checked: tuple[str, str] | None = None
        #: Whether the last refresh failed and was said (`_refresh`): said once per outage.
        self._refresh_failed = False
        # Concurrent callers share one GetSecretValue instead of stampeding it.
        self._lock = asyncio.Lock()
        if self.secret_id and secrets_client is None:
            raise ConfigError(
                "BACKEND_TOKEN_SECRET_ID is set but no Secrets Manager client was given"
            )

    async def get(self) -> str:
        """The token; raises ConfigError or SinkUnavailableError (see the module docstring)."""
        if not self.secret_id:
            return self._from_environment()
        token = self._fresh()
        if token is not None:
            return token
        async with self._lock:
            token = self._fresh()  # another caller may have fetched it while we waited
            if token is None:
                token = await self._refresh(self.secret_id)
            return token

    async def _refresh(self, secret_id: str) -> str:
        """The secret read again; or, while Secrets Manager cannot be read just now, the
        token held, if no 401 voided it: its TTL is there to follow a rotation, and a token
        the backend still takes must not stop every ticket for an outage of Secrets Manager.
        It is read again after REFRESH_RETRY_S (the TTL, if shorter)."""
        held = self._token
        try:
            token = await self._fetch(secret_id)
        except SinkUnavailableError:
            if held is None:
                raise
            # `backend_token.unavailable` said why; this says what it costs, once an outage.
            retry_s = min(REFRESH_RETRY_S, self.ttl_s)
            self._fetched_at = time.monotonic() - self.ttl_s + retry_s
            emit = log.debug if self._refresh_failed else log.warning
            self._refresh_failed = True
            emit("backend_token.held", secret_id=secret_id, retry_s=retry_s)
            return held
        self._token, self._fetched_at = token, time.monotonic()
        self._refresh_failed = False
        return token

    def _from_environment(self) -> str:
        """The token in the variable BACKEND_TOKEN_ENV_KEY names, or in the file its `_FILE`
        variable names (a mounted secret). Read on every call: cheap, a missing one is
        reported when first needed, and a rotated file is read without a restart."""
        # As written in an env file: one pair of quotes around it is not the token's.
        raw = as_written(os.environ.get(self.env_key, ""))
        path = as_written(os.environ.get(f"{self.env_key}_FILE", ""))
        checked = self._checked
        if not path and checked is not None and checked[0] == raw:
            # The value checked at the last read (~20 µs of checks, at every POST): held again.
            hold(checked[1])
            return checked[1]
        where = self._variable(sigil="$")
        if path:
            if raw:
                raise ConfigError(
                    f"{self._variable()} and {self._variable(suffix='_FILE')} are both set: "
                    "set one (the token, or the file holding it)"
                )
            where = self._variable(suffix="_FILE")
            raw = as_written(read_credential_file(path, where))
        if not raw.strip():
            raise ConfigError(
                f"no backend token: set {self._variable()} or BACKEND_TOKEN_SECRET_ID"
            )
        problem = whole_secret_problem(raw, SECRET_JSON_KEY) or env_file_slip(raw, secret=True)
        if problem:
            # Sent as it is, `Bearer {"BACKEND_TOKEN":…}` (or `Bearer ${TOKEN}`, a reference
            # an ECS environment file left unexpanded) would be refused at every call.
            raise ConfigError(f"{where} {problem}")
        token = _usable(raw, where)
        self._checked = None if path else (raw, token)
        return token

    def _variable(self, sigil: str = "", suffix: str = "") -> str:
        """The token's variable as a message may name it: the default name, a constant (after
        `sigil`), else by the setting that names it. A value given for BACKEND_TOKEN_ENV_KEY is never
        quoted: the token itself, pasted on the wrong line, is the likely mistake."""
        if self.env_key == _DEFAULT_ENV_KEY:
            return f"{sigil}{self.env_key}{suffix}"
        if suffix:
            return f"the variable BACKEND_TOKEN_ENV_KEY names + {suffix}"
        return "the variable BACKEND_TOKEN_ENV_KEY names"

    def invalidate(self, stale: str | None = None) -> None:
        """Forget the cached token (after a 401), so the next get() reads the secret again.

        With `stale`, forget it only if it is still the cached one: when many workers see a
        401 at once, the first re-read serves all of them instead of each re-reading in turn.
        """
        if stale is None or stale == self._token:
            self._token = None

    def _fresh(self) -> str | None:
        if self._token is not None and time.monotonic() - self._fetched_at < self.ttl_s:
            return self._token
        return None

    async def _fetch(self, secret_id: str) -> str:
        assert self._client is not None
        try:
            # The current version, by name: during a rotation the AWSPENDING one may not be
            # in force yet, and emulators' unnamed default does not always follow the stage.
            response = await self._client.get_secret_value(
                SecretId=secret_id, VersionStage=CURRENT_STAGE
            )
        except ClientError as exc:
            # Told only in AWS's form: whatever answers for Secrets Manager writes it.
            code = told_error_code(exc.response.get("Error", {}).get("Code", "Unknown"))
            if code in _CONFIG_CODES:
                raise ConfigError(
                    f"BACKEND_TOKEN_SECRET_ID {secret_id!r} cannot be read: {code}"
                ) from None
            log.warning("backend_token.unavailable", secret_id=secret_id, error=code)
            raise SinkUnavailableError(
                f"reading secret {secret_id!r} failed: {code}; will retry"
            ) from None
        except AWS_CALL_ERRORS as exc:
            # Network errors and timeouts (after botocore's own retries), or an answer botocore
            # could not read: the type alone, never the text (it may quote the answer).
            log.warning("backend_token.unavailable", secret_id=secret_id, error=type(exc).__name__)
            raise SinkUnavailableError(
                f"reading secret {secret_id!r} failed: {type(exc).__name__}; will retry"
            ) from None
        secret = response.get("SecretString") if isinstance(response, Mapping) else None
        if not isinstance(secret, str):
            if isinstance(response, Mapping) and response.get("SecretBinary") is not None:
                raise ConfigError(
                    f"secret {secret_id!r} has no SecretString (binary secrets are not supported)"
                )
            # A 200 without the secret is Secrets Manager (or what answers for it) failing.
            log.warning("backend_token.unavailable", secret_id=secret_id, error="no_secret")
            raise SinkUnavailableError(
                f"reading secret {secret_id!r} failed: the answer held no secret; will retry"
            )
        version = response.get("VersionId")
        log.info("backend_token.read", secret_id=secret_id, version=str(version)[:64])
        return _token_from(secret, secret_id)


def _token_from(secret: str, secret_id: str) -> str:
    """A JSON object secret's `BACKEND_TOKEN` value, else the whole string."""
    where = f"secret {secret_id!r}"
    # A secret uploaded from a file a Windows editor saved starts with a byte-order mark,
    # which is neither JSON nor part of a token.
    secret = secret.removeprefix("\ufeff")
    try:
        value = json.loads(secret)
    except ValueError:
        return _usable(secret, where)
    except RecursionError:  # JSON, and nested past the parser's stack: no token in it
        raise ConfigError(f"{where} is JSON nested too deeply") from None
    if isinstance(value, dict):
        token = value.get(SECRET_JSON_KEY)
        if not isinstance(token, str):
            raise ConfigError(f"{where} is JSON without a {SECRET_JSON_KEY} string")
        return _usable(token, f"{where} key {SECRET_JSON_KEY}")
    if isinstance(value, str):  # a JSON-quoted string: the token is inside the quotes
        return _usable(value, where)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _usable(secret, where)  # a token of digits, which parses as a JSON number
    # null, true, false, a list: a secret written wrong, never a token (it would be sent as
    # "Bearer null" and refused on every call).
    raise ConfigError(f"{where} is JSON {type(value).__name__}, not a {SECRET_JSON_KEY} object")


def _usable(raw: str, where: str) -> str:
    """`raw` stripped, if it can go in an Authorization header; the message never shows it.
    A usable token is held from now on: every redactor in the process hides it."""
    token = raw.strip()
    if not token:
        raise ConfigError(f"{where} holds an empty token")
    scheme = _SCHEME_PREFIX.match(token)
    if scheme is not None:
        # The Authorization header's value pasted whole: said so, not as "whitespace inside".
        raise ConfigError(
            f"{where} starts with '{scheme.group(1).capitalize()} ': store the token alone "
            "(the sink adds the scheme)"
        )
    # A header value with a newline or non-ASCII byte makes the HTTP library raise an error
    # that quotes the value; refuse it here, where the message can stay silent about it.
    if not (token.isascii() and token.isprintable()) or any(c.isspace() for c in token):
        raise ConfigError(
            f"{where} is not a usable bearer token (whitespace, control or non-ASCII characters)"
        )
    hold(token)
    return token
