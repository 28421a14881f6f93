"""How many requests the ticket effect being applied sent to GitHub: the sink's `SinkLatency`
times only effects that reached GitHub, and an effect that sent nothing (skipped, refused from
memory, held by a rate-limit pause) is no latency."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import httpx2


@dataclass(slots=True)
class Tally:
    """The requests sent while one effect was applied."""

    requests: int = 0


#: The tally of the effect the current task applies. A context variable, not an attribute:
#: workers apply effects at once on one client, and tasks an effect starts share its tally.
_CURRENT: ContextVar[Tally | None] = ContextVar("github_effect_tally", default=None)


@contextmanager
def tally_requests() -> Iterator[Tally]:
    """Count the requests sent to GitHub within the block (through `CountingTransport`)."""
    tally = Tally()
    token = _CURRENT.set(tally)
    try:
        yield tally
    finally:
        _CURRENT.reset(token)


class CountingTransport(httpx2.AsyncBaseTransport):
    """`inner`, with each request counted in the tally of the effect that sends it (none is
    counted outside `tally_requests`: a probe's, `triage check`'s)."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        tally = _CURRENT.get()
        if tally is not None:
            tally.requests += 1  # before sending: a request that fails was still sent
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
