"""The ticket backend's bearer token: from Secrets Manager (cached with a TTL) or from an env var.

The token never appears in a log line or an exception message.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from triage.errors import ConfigError, SinkUnavailableError
from triage.settings import Settings


class BackendToken:
    def __init__(self, settings: Settings, secrets_client: Any | None = None) -> None:
        self.secret_id = settings.backend_token_secret_id
        self.env_key = settings.backend_token_env_key
        self.ttl_s = settings.backend_token_ttl_s
        self._client = secrets_client
        self._token: str | None = None
        self._fetched_at = 0.0
        # Concurrent callers share one GetSecretValue instead of stampeding it.
        self._lock = asyncio.Lock()
        if self.secret_id and secrets_client is None:
            raise ConfigError(
                "BACKEND_TOKEN_SECRET_ID is set but no Secrets Manager client was given"
            )

    async def get(self) -> str:
        if not self.secret_id:
            token = os.environ.get(self.env_key, "").strip()
            if not token:
                raise ConfigError(
                    f"no backend token: set {self.env_key} or BACKEND_TOKEN_SECRET_ID"
                )
            return token
        async with self._lock:
            if self._token is None or time.monotonic() - self._fetched_at > self.ttl_s:
                self._token = await self._fetch()
                self._fetched_at = time.monotonic()
            return self._token

    def invalidate(self) -> None:
        """Forget the cached token (after a 401), so the next get() reads the secret again."""
        self._token = None

    async def _fetch(self) -> str:
        assert self._client is not None
        try:
            response = await self._client.get_secret_value(SecretId=self.secret_id)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "?")
            if code in ("ResourceNotFoundException", "AccessDeniedException"):
                raise ConfigError(f"BACKEND_TOKEN_SECRET_ID {self.secret_id!r}: {code}") from None
            raise SinkUnavailableError(
                f"reading secret {self.secret_id!r} failed: {code}"
            ) from None
        except BotoCoreError as exc:
            raise SinkUnavailableError(
                f"reading secret {self.secret_id!r} failed: {type(exc).__name__}"
            ) from None
        return _token_from(response.get("SecretString") or "", self.secret_id or "")


def _token_from(secret: str, secret_id: str) -> str:
    """A JSON secret's `BACKEND_TOKEN` key, or the whole string when it is not a JSON object."""
    text = secret.strip()
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if isinstance(value, dict):
        token = value.get("BACKEND_TOKEN")
        if not isinstance(token, str) or not token.strip():
            raise ConfigError(f"secret {secret_id!r} is JSON without a BACKEND_TOKEN string")
        return token.strip()
    if not text:
        raise ConfigError(f"secret {secret_id!r} is empty")
    return text
