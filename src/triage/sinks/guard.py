"""Backpressure: a circuit breaker per sink, and the intake limit the supervisor obeys.

A sink that keeps failing (its service is down, or rate-limits us) is not a reason to burn the
receive counts of every queued message: while any sink's breaker is open, or the sink itself says
it is paused (GitHub's rate-limit reset), the supervisor takes no new messages; they wait in SQS
with their receive counts intact. Once the breaker's reset time has passed, the sink is probed:
by its own `probe()` (a request that creates nothing) where it has one, else by letting the
next message that calls it through as the probe (intake is one message while it is out, and
its other messages are held until it answers); a success closes the breaker and intake resumes.

    GuardedSink(inner, breaker)   counts SinkUnavailableError as a failure; any answer from the
                                  service (success, or a rejection of this one ticket) as a
                                  success; a "wait" (SinkThrottledError) as neither. A failure
                                  that says when to come back (a 503 with Retry-After) is a
                                  wait too: counted, but its message is held for that wait,
                                  not retried (a maintenance window would otherwise spend
                                  its receives into the DLQ). While the
                                  breaker is open it raises SinkThrottledError: the message is
                                  held, not retried. A failure is confirmed by the sink's own
                                  probe where it has one: when that fails too, the service is
                                  down, not this message's call, so the breaker opens at once
                                  and the message is held (a lone alert used to spend its
                                  receives, and reach the DLQ, before five failures opened it).
                                  Each call reports with its own permit (`breaker.Permit`):
                                  a call made before the breaker opened changes nothing once
                                  it has, and the failure that opened it is noted on its
                                  error, so the message's line about it is quiet
    Backpressure(guards, health)  intake_limit(): 0 = take nothing, 1 = probe, None = no limit;
                                  reports `breaker:<sink>` conditions for /readyz
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import structlog

from triage.breaker import BreakerState, CircuitBreaker, Permit, note_opened
from triage.errors import SinkThrottledError, SinkUnavailableError
from triage.health import Health
from triage.sinks.base import Applied, Effect, Sink
from triage.sinks.http import MIN_WAIT_S, throttle_wait_s

log = structlog.get_logger(__name__)

#: The reason of a message held because a sink's breaker is open (`MessagesHeld{reason}`).
BREAKER_OPEN = "breaker_open"


@runtime_checkable
class Probeable(Protocol):
    """A sink that can tell whether its service is up without creating anything."""

    async def probe(self) -> object:
        """Return if the service answers; raise SinkUnavailableError if it is still down."""
        ...


@runtime_checkable
class Pausable(Protocol):
    """A sink that knows when its service will refuse every call (a rate-limit reset)."""

    def paused_until(self) -> float | None:
        """A time.monotonic() deadline, or None when not paused."""
        ...


class GuardedSink:
    def __init__(
        self,
        inner: Sink,
        breaker: CircuitBreaker,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self.breaker = breaker
        self._clock = clock
        #: The running probe of a half-open breaker (`start_probe`), at most one.
        self._probe: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return self.inner.name

    async def apply(self, effect: Effect) -> Applied:
        permit = self._may_call()
        if permit is None:
            retry_at = self.breaker.retry_at()
            wait = max(retry_at - self._clock(), 1.0) if retry_at is not None else 1.0
            raise SinkThrottledError(
                f"{self.name} circuit breaker is open", retry_after_s=wait, reason=BREAKER_OPEN
            )
        try:
            applied = await self.inner.apply(effect)
        except SinkUnavailableError as exc:
            await self._failed(permit, exc)
            raise
        except (asyncio.CancelledError, SinkThrottledError):
            raise  # neither an answer nor a failure: the `finally` frees a probe slot it held
        except BaseException:
            # The service answered (it rejected this ticket) or our own code failed: either
            # way the service is not down, so this is no reason to keep the breaker open.
            self.breaker.success(permit)
            raise
        else:
            self.breaker.success(permit)
        finally:
            self.breaker.cancelled(permit)
        return applied

    async def _failed(self, permit: Permit, exc: SinkUnavailableError) -> None:
        """Count the call's failure; return for the message to be retried, or raise
        SinkThrottledError for it to be held: when the service said when to come back
        (`_asked_to_wait`), or the sink is down (found so by its own probe, or its breaker is
        open: this call was the probe, was made before it opened, or opened it)."""
        if self.breaker.state is BreakerState.CLOSED:
            if not await self._down():
                opened = self.breaker.failure(permit, str(exc))
                if exc.retry_after_s is None:
                    if opened:  # the breaker's own line says so at warning
                        note_opened(exc, self.breaker)
                    return
                if not opened:
                    raise _asked_to_wait(self.name, exc) from exc
            else:
                self.breaker.trip(error=str(exc))
        else:
            # The probe's failure opens it again; a call let through before it opened changes
            # nothing (the probe speaks for the service now).
            self.breaker.failure(permit, str(exc))
        raise SinkThrottledError(
            f"{self.name} is down ({exc}); held until its probe finds it back",
            retry_after_s=self.breaker.reset_s,
            reason=BREAKER_OPEN,
        ) from exc

    async def aclose(self) -> None:
        await self.stop_probe()
        await self.inner.aclose()

    def blocked_for(self) -> float | None:
        """Seconds until this sink may be called again; None when it may be called now."""
        now = self._clock()
        waits = []
        if self.breaker.state is BreakerState.OPEN:
            retry_at = self.breaker.retry_at()
            if retry_at is not None:
                waits.append(retry_at - now)
        if isinstance(self.inner, Pausable):
            until = self.inner.paused_until()
            if until is not None and until > now:
                waits.append(until - now)
        return max(waits) if waits else None

    @property
    def probing(self) -> bool:
        return self.breaker.state is BreakerState.HALF_OPEN

    @property
    def can_probe(self) -> bool:
        return isinstance(self.inner, Probeable)

    def _may_call(self) -> Permit | None:
        """Closed: a permit. Open: None. Half-open: a sink with a probe of its own is probed
        by it (the messages wait, spending nothing); else this call may be the one probe."""
        if self.breaker.state is not BreakerState.CLOSED and self.can_probe:
            if self.breaker.state is BreakerState.HALF_OPEN:
                self.start_probe()  # the held messages may be all the daemon is doing
            return None
        return self.breaker.allow()

    async def _down(self) -> bool:
        """After a failed call: does the sink's own probe fail too? False when it answers, or
        when the sink has no probe (the failure may be this message's; it is retried)."""
        if not isinstance(self.inner, Probeable):
            return False
        try:
            await self.inner.probe()
        except SinkUnavailableError as exc:
            # Debug: `breaker.opened` says it, quoting the call's failure.
            log.debug("sink.down", sink=self.name, error=str(exc))
            return True
        except asyncio.CancelledError:
            raise
        except Exception:
            return False
        return False

    def start_probe(self) -> None:
        """Run `probe()` in the background, unless it is running already."""
        if self._probe is None or self._probe.done():
            self._probe = asyncio.create_task(self.probe(), name=f"probe:{self.name}")

    async def stop_probe(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            await asyncio.gather(self._probe, return_exceptions=True)

    async def probe(self) -> None:
        """Half-open: ask the service directly, so recovery is found without spending a
        message's receive count on it."""
        if not isinstance(self.inner, Probeable):
            return
        permit = self.breaker.allow()
        if permit is None:
            return
        try:
            await self.inner.probe()
        except SinkUnavailableError as exc:
            log.info("sink.probe_failed", sink=self.name, error=str(exc))
            self.breaker.failure(permit, str(exc))
        except asyncio.CancelledError:
            raise  # the `finally` frees the probe slot
        except Exception as exc:  # it answered, if not as hoped (a 403, a 404): it is up
            log.info("sink.probe_answered", sink=self.name, error=str(exc))
            self.breaker.success(permit)
        else:
            log.info("sink.probe_ok", sink=self.name)
            self.breaker.success(permit)
        finally:
            self.breaker.cancelled(permit)


def _asked_to_wait(name: str, exc: SinkUnavailableError) -> SinkThrottledError:
    """A failure whose service said when to come back (a 503 or 5xx with Retry-After, while
    its probe answers or it has none): a wait, held for as long as it asked (at least
    `MIN_WAIT_S`) without spending a receive, as for a 429. Its reason stays the failure's."""
    assert exc.retry_after_s is not None  # checked by the caller
    wait_s = throttle_wait_s(exc.retry_after_s, MIN_WAIT_S)
    return SinkThrottledError(
        f"{name} asked to wait {wait_s:.0f} s ({exc})", retry_after_s=wait_s, reason=exc.reason
    )


class Backpressure:
    def __init__(self, guards: Sequence[GuardedSink], health: Health) -> None:
        self.guards = tuple(guards)
        self.health = health

    def intake_limit(self) -> int | None:
        """How many messages may be in flight now: 0 while a sink is blocked or probing itself,
        1 while a sink without its own probe is probed by one message, None (no limit beyond
        the pool) when every sink is healthy. Called by the supervisor before each receive.

        A half-open sink without a probe of its own whose probe is not out yet limits nothing:
        the next message that calls it is its probe (those after it are held until it
        answers), and one that does not call it has no reason to wait. Only some routes may
        use the sink: limited to one message, intake would stay at one for as long as none
        of theirs came."""
        limit: int | None = None
        for guard in self.guards:
            blocked = guard.blocked_for()
            if blocked is not None:
                self.health.set(f"breaker:{guard.name}", False, f"open, retry in {blocked:.0f} s")
                limit = 0
            elif guard.probing:
                self.health.set(f"breaker:{guard.name}", False, "half-open, probing")
                if guard.can_probe:
                    guard.start_probe()
                    limit = 0
                elif guard.breaker.probe_out:
                    limit = 0 if limit == 0 else 1
            else:
                self.health.set(f"breaker:{guard.name}", True)
        return limit

    async def aclose(self) -> None:
        for guard in self.guards:
            await guard.stop_probe()
