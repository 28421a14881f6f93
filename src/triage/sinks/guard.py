"""Backpressure: a circuit breaker per sink, and the intake limit the supervisor obeys.

A sink that keeps failing (its service is down, or rate-limits us) is not a reason to burn the
receive counts of the messages that need it: while its breaker is open, or the sink itself says
it is paused (GitHub's rate-limit reset), a message that calls it is *held* (kept invisible,
its receive count intact) and tried again when the sink may be called. Once the breaker's
reset time has passed, the sink is probed: by its own `probe()` (a request that creates
nothing) where it has one, else by letting the next message that calls it through as the
probe (the others wait for its answer: `CircuitBreaker.ready`); a success closes the breaker.
A probe whose answer proves nothing (`ProbeCantTell`: the backend's OPTIONS answered by a
gateway in front of it, as API Gateway's CORS mock or nginx's `return 204` do while the backend
is down) neither closes nor re-opens it: in that half-open the next message that calls the
sink is the probe, as for a sink without one, and only its success closes the breaker (closing
on the gateway's answer would re-open on the next messages' failures, each cycle spending
about the breaker's threshold in receives, into the DLQ over a long outage).

Whose outage stops the whole intake: a sink's `outage_pauses_intake` says (True unless it says
otherwise). The ticket backend, the primary, keeps the default: while it is out no new messages
are taken; they wait in SQS. A notification (Slack, `outage_pauses_intake = False`) only holds
the messages whose routes go to it: intake goes on for the rest, and the parts of a held
message's effect that went to other sinks are confirmed in the store and not sent again
(sinks run backend, GitHub, Slack, so Slack's outage never holds up a ticket). Every wait such
a sink raises (its rate limit, a 503 with Retry-After, its open breaker) is its messages' own.

    GuardedSink(inner, breaker)   counts SinkUnavailableError as a failure; any answer from the
                                  service (success, or a rejection of this one ticket) as a
                                  success; a "wait" (SinkThrottledError) as neither. A failure
                                  that says when to come back (a 503 with Retry-After) is a
                                  wait too: counted, but its message is held for that wait,
                                  not retried (a maintenance window would otherwise spend
                                  its receives into the DLQ). While the
                                  breaker is open it raises SinkThrottledError: the message is
                                  held, not retried, until the breaker lets calls through
                                  again (its `ready()` event rides on the error), so a storm
                                  of held messages does not retry every second while the
                                  probe is out. A failure is confirmed by the sink's own
                                  probe where it has one: when that fails too, the service is
                                  down, not this message's call, so the breaker opens at once
                                  and the message is held (a lone alert used to spend its
                                  receives, and reach the DLQ, before five failures opened it).
                                  Each call reports with its own permit (`breaker.Permit`):
                                  a call made before the breaker opened changes nothing once
                                  it has, and the failure that opened it is noted on its
                                  error, so the message's line about it is quiet
    Backpressure(guards, health)  intake_limit(): 0 = take nothing, 1 = probe, None = no limit,
                                  from the sinks whose outage pauses intake; reports
                                  `breaker:<sink>` conditions for /readyz for every sink: a
                                  sink whose outage pauses intake makes the daemon not ready
                                  (503); any other only degraded (200, named under
                                  `degraded`), since the replica still takes work
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import structlog

from triage.breaker import BreakerState, CircuitBreaker, Permit, note_opened, note_wake
from triage.errors import SinkThrottledError, SinkUnavailableError
from triage.health import Health
from triage.logs import start_background
from triage.sinks.base import Applied, Effect, ProbeCantTell, Sink
from triage.sinks.http import MIN_WAIT_S, throttle_wait_s

log = structlog.get_logger(__name__)

#: The reason of a message held because a sink's breaker is open (`MessagesHeld{reason}`).
BREAKER_OPEN = "breaker_open"


@runtime_checkable
class Probeable(Protocol):
    """A sink that can tell whether its service is up without creating anything."""

    async def probe(self) -> object:
        """Return if the service answers (a `ProbeCantTell` when the answer proves nothing
        about it); raise SinkUnavailableError if it is still down."""
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
        pauses_intake: bool | None = None,
    ) -> None:
        self.inner = inner
        self.breaker = breaker
        self._clock = clock
        #: Whether this sink's outage (or wait) pauses all intake, or only holds the messages
        #: that call it; None: as the sink says (`outage_pauses_intake`), else True.
        self.pauses_intake: bool = (
            getattr(inner, "outage_pauses_intake", True) if pauses_intake is None else pauses_intake
        )
        #: The running probe of a half-open breaker (`start_probe`), at most one.
        self._probe: asyncio.Task[None] | None = None
        #: The sink, if it can be paused by its service: looked up once, since a protocol
        #: check costs some 25 us and `blocked_for` runs after every call (`on_outcome`).
        self._pausable: Pausable | None = inner if isinstance(inner, Pausable) else None
        #: Told after each call and probe (`Backpressure` reports the sink's condition to
        #: /readyz then): its breaker opens and closes on them, and the receive loop, which
        #: reports it too, does not look while held messages fill every worker slot.
        self.on_outcome: Callable[[GuardedSink], object] | None = None
        #: The breaker was closed when `on_outcome` was last told (`_told`).
        self._told_closed = False
        #: The breaker's epoch in which the sink's own probe could not tell (`ProbeCantTell`):
        #: until the breaker next opens or closes, a real call is its probe (`can_probe`).
        self._trial_epoch: int | None = None

    @property
    def name(self) -> str:
        return self.inner.name

    async def apply(self, effect: Effect) -> Applied:
        try:
            return await self._apply(effect)
        finally:
            self._told()

    async def _apply(self, effect: Effect) -> Applied:
        permit = self._may_call()
        if permit is None:
            raise self._held(SinkThrottledError(
                f"{self.name} circuit breaker is open",
                retry_after_s=self._refused_wait_s(),
                reason=BREAKER_OPEN,
            ))  # fmt: skip
        try:
            applied = await self.inner.apply(effect)
        except SinkUnavailableError as exc:
            await self._failed(permit, exc)
            raise
        except SinkThrottledError as exc:
            # Neither an answer nor a failure (the `finally` frees a probe slot it held); a
            # wait of a sink whose outage does not pause intake is its messages' alone.
            self._held(exc, wakes=False)
            raise
        except asyncio.CancelledError:
            raise
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
                    raise self._held(_asked_to_wait(self.name, exc), wakes=False) from exc
            else:
                self.breaker.trip(error=str(exc))
        else:
            # The probe's failure opens it again; a call let through before it opened changes
            # nothing (the probe speaks for the service now).
            self.breaker.failure(permit, str(exc))
        raise self._held(SinkThrottledError(
            f"{self.name} is down ({exc}); held until its probe finds it back",
            retry_after_s=self.breaker.reset_s,
            reason=BREAKER_OPEN,
        )) from exc  # fmt: skip

    def _refused_wait_s(self) -> float:
        """How long a call the breaker refused is held at most: until the breaker's reset
        while it is open (at least a second), its whole reset while its probe is out (the
        breaker's `ready()` wakes the message sooner when the probe answers)."""
        retry_at = self.breaker.retry_at()
        if retry_at is None:
            return 1.0
        left_s = retry_at - self._clock()
        return max(left_s, 1.0) if left_s > 0 else self.breaker.reset_s

    def _held(self, wait: SinkThrottledError, *, wakes: bool = True) -> SinkThrottledError:
        """`wait` as this sink's: it pauses intake only if this sink's outage does, and, when
        the breaker refused the call (`wakes`), its message may stop waiting as soon as the
        breaker lets calls through again. A wait the service asked for is waited out whole."""
        if not self.pauses_intake:
            wait.pauses_intake = False
        if wakes:
            note_wake(wait, self.breaker)
        return wait

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
        if self._pausable is not None:
            until = self._pausable.paused_until()
            if until is not None and until > now:
                waits.append(until - now)
        return max(waits) if waits else None

    @property
    def probing(self) -> bool:
        return self.breaker.state is BreakerState.HALF_OPEN

    @property
    def can_probe(self) -> bool:
        """Whether the half-open breaker is probed by the sink's own probe: it has one, and
        that probe did not answer, in this half-open, that it cannot tell (a gateway's own
        answer). Else the next call is the probe, and only its success closes the breaker."""
        if not isinstance(self.inner, Probeable):
            return False
        return self._trial_epoch != self.breaker.epoch

    def _may_call(self) -> Permit | None:
        """Closed: a permit. Open: None. Half-open: a sink with a probe of its own is probed
        by it (the messages wait, spending nothing); else, or when that probe could not tell,
        this call may be the one probe."""
        if self.breaker.state is not BreakerState.CLOSED and self.can_probe:
            if self.breaker.state is BreakerState.HALF_OPEN:
                self.start_probe()  # the held messages may be all the daemon is doing
            return None
        return self.breaker.allow()

    async def _down(self) -> bool:
        """After a failed call: does the sink's own probe fail too? False when it answers
        (an answer that cannot tell, `ProbeCantTell`, included: it confirms nothing), or when
        the sink has no probe (the failure may be this message's; it is retried)."""
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
        """Run `probe()` in the background, unless it is running already. In a context of its
        own: started from the call of whichever message found the breaker half-open, it
        inherited that message's log context, and its lines (`sink.probe_failed`,
        `breaker.reopened`, `breaker.closed`) carried its message id, trace id and alert."""
        if self._probe is None or self._probe.done():
            self._probe = start_background(self.probe(), name=f"probe:{self.name}")

    async def stop_probe(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            await asyncio.gather(self._probe, return_exceptions=True)

    def _told(self) -> None:
        """A call or probe is over: tell `on_outcome`, if anyone listens, unless nothing it
        reports can have changed (the breaker closed, as when last told, and the sink has
        no pause of its own): a storm's calls cost no report each."""
        if self.on_outcome is None:
            return
        closed = self.breaker.state is BreakerState.CLOSED
        if closed and self._told_closed and self._pausable is None:
            return
        self._told_closed = closed
        self.on_outcome(self)

    async def probe(self) -> None:
        """Half-open: ask the service directly, so recovery is found without spending a
        message's receive count on it."""
        try:
            await self._probe_once()
        finally:
            self._told()

    async def _probe_once(self) -> None:
        if not isinstance(self.inner, Probeable):
            return
        permit = self.breaker.allow()
        if permit is None:
            return
        try:
            answer = await self.inner.probe()
        except SinkUnavailableError as exc:
            log.info("sink.probe_failed", sink=self.name, error=str(exc))
            self.breaker.failure(permit, str(exc))
        except asyncio.CancelledError:
            raise  # the `finally` frees the probe slot
        except Exception as exc:  # it answered, if not as hoped (a 403, a 404): it is up
            log.info("sink.probe_answered", sink=self.name, error=str(exc))
            self.breaker.success(permit)
        else:
            if isinstance(answer, ProbeCantTell):
                # Closing on it would re-open on the next calls' failures, each cycle
                # spending their receives: one real call is the probe instead (the
                # `finally` frees the slot for it and wakes the held messages).
                log.info("sink.probe_cant_tell", sink=self.name, answer=str(answer))
                self._trial_epoch = permit.epoch
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
        for guard in self.guards:
            # /readyz follows each breaker as its calls move it, not only at the receive
            # loop's look (`intake_limit`), which it skips while no worker slot is free:
            # held messages filling every slot left a replica with an open breaker ready.
            guard.on_outcome = self._report

    def intake_limit(self) -> int | None:
        """How many messages may be in flight now: 0 while a sink whose outage pauses intake
        is blocked or probing itself, 1 while such a sink without its own probe is probed by
        one message, None (no limit beyond the pool) otherwise. Called by the supervisor
        before each receive. Every sink's state goes to /readyz (`breaker:<sink>`), whether
        or not it limits intake: as failing if its outage pauses intake, else as degraded.

        A half-open sink without a probe of its own whose probe is not out yet limits nothing:
        the next message that calls it is its probe (those after it are held until it
        answers), and one that does not call it has no reason to wait. Only some routes may
        use the sink: limited to one message, intake would stay at one for as long as none
        of theirs came. Its held messages are woken then (`CircuitBreaker.wake`), so one of
        them is the probe without waiting out its own timer."""
        limit: int | None = None
        for guard in self.guards:
            wanted = self._limit_of(guard)
            if wanted is not None and guard.pauses_intake:
                limit = wanted if limit is None else min(limit, wanted)
        return limit

    def _limit_of(self, guard: GuardedSink) -> int | None:
        """The intake `guard`'s sink asks for (as `intake_limit` says), its condition said."""
        if self._report(guard):
            return 0
        if not guard.probing:
            return None
        if guard.can_probe:
            guard.start_probe()
            return 0
        if guard.breaker.probe_out:
            return 1
        guard.breaker.wake()
        return None

    def _report(self, guard: GuardedSink) -> bool:
        """Say `guard`'s condition to /readyz (`breaker:<sink>`): failing while it is
        blocked (open, or paused by its service) or probing, as degraded only for a sink
        whose outage holds just its own messages. True when it is blocked."""
        name = f"breaker:{guard.name}"
        # A sink whose outage holds only its own messages leaves the replica taking work.
        degraded_only = not guard.pauses_intake
        blocked = guard.blocked_for()
        if blocked is not None:
            detail = f"open, retry in {blocked:.0f} s"
            self.health.set(name, False, detail, degraded_only=degraded_only)
        elif guard.probing:
            self.health.set(name, False, "half-open, probing", degraded_only=degraded_only)
        else:
            self.health.set(name, True, degraded_only=degraded_only)
        return blocked is not None

    async def aclose(self) -> None:
        for guard in self.guards:
            await guard.stop_probe()
