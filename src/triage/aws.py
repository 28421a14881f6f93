"""One aioboto3 session for the process, and the clients triage uses, opened from Settings.

Every client honours `AWS_ENDPOINT_URL` (LocalStack, moto) and `AWS_REGION`.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

import aioboto3
from botocore.config import Config

from triage.settings import Settings

#: Retries in botocore's standard mode; our own backoff (via SQS visibility) handles the rest.
_CONFIG = Config(
    retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30
)


class Aws:
    """Opens clients lazily on one session; `aclose()` closes them in reverse order."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.session = aioboto3.Session(region_name=settings.aws_region)
        self._stack = AsyncExitStack()
        self._clients: dict[str, Any] = {}

    async def client(
        self, service: str, endpoint_url: str | None = None, config: Config | None = None
    ) -> Any:
        """The session's client of `service` (opened on first use); `config` is put over the
        defaults (retries, timeouts) the first time."""
        if service not in self._clients:
            # A long poll holds the connection for up to 20 s: the read timeout must exceed it.
            config = _CONFIG.merge(Config(read_timeout=self.settings.sqs_wait_time + 10)).merge(
                config or Config()
            )
            # The stubs overload client() per literal service name; ours is a runtime string.
            client = self.session.client(  # type: ignore[call-overload]
                service,
                endpoint_url=endpoint_url or self.settings.aws_endpoint_url,
                region_name=self.settings.aws_region,
                config=config,
            )
            self._clients[service] = await self._stack.enter_async_context(client)
        return self._clients[service]

    async def aclose(self) -> None:
        await self._stack.aclose()
        self._clients.clear()
