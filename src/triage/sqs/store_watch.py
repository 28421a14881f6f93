"""Whether the store answers, as readiness says it (`store` in `/readyz`), and how long a
message the store failed waits before it tries again (doubling up to `STORE_HOLD_MAX_S`).

The store is marked down by any failure (a message's or a ping's) and up by a success only
while nothing says otherwise (no message held for it, the last ping answered), so readiness
never flips with each message. Apart from `working` because it is the daemon's view of one
dependency, not of a message: a ping (`store_probe`, a helper) keeps it current when no
traffic comes, and a message the store failed is the probe while it is still trying.
"""

from __future__ import annotations

import asyncio
import time

import structlog

from triage.errors import StoreUnavailableError
from triage.pipeline import alert_fields
from triage.sqs.base import SupervisorBase

# Logged as the supervisor: its events keep the logger name they had before the split.
log = structlog.get_logger("triage.sqs.supervisor")


class StoreWatch(SupervisorBase):
    """The store's readiness: marked down and up, pinged while no message is held for it."""

    #: The longest wait of a message the store failed (from DEFAULT_HOLD_S, doubling).
    STORE_HOLD_MAX_S = 30.0
    #: How often the store is pinged while no message is held for it (and how long a ping
    #: may take before the store counts as unavailable).
    STORE_PROBE_S = 5.0

    def _store_down(self, exc: StoreUnavailableError, failures: int) -> float:
        """The store failed this message for the `failures`-th time in a row: mark it down,
        and return how long the message waits before it tries again (doubling from
        DEFAULT_HOLD_S to STORE_HOLD_MAX_S, at least what the store asked)."""
        self._mark_store_down(exc)
        wait_s = min(self.STORE_HOLD_MAX_S, self.DEFAULT_HOLD_S * 2.0 ** min(failures - 1, 16))
        return max(wait_s, exc.retry_after_s or 0.0)

    def _mark_store_down(self, exc: StoreUnavailableError) -> None:
        """A message or a ping found the store failing: say so once per outage (and in
        readiness); the detail follows the latest failure."""
        self.health.set("store", False, str(exc))
        if self._store_down_since is None:
            self._store_down_since = time.monotonic()
            # The outage's one line: the messages it holds say so at info (`message.held`).
            log.warning("store.unavailable", error=str(exc), **alert_fields(exc))

    def _store_answers(self) -> bool:
        """Whether a success may mark the store up: nothing says otherwise, neither a message
        the store failed that is still trying (it will say) nor a last ping that failed. So
        one message through while others wait for the store, or while pings fail, never flips
        readiness."""
        return not self._waiting_on_store and not self._ping_failed

    def _got_past_store(self, handle: str) -> None:
        """The delivery `handle`, which the store failed, got past the store on a later
        attempt and failed for another reason (it waits for a sink, a busy record or a
        group): the store answered it, so it is no longer the store's probe. Held on, it
        would keep readiness at `store: unavailable` and the ping off for its whole wait
        (a Slack outage's, an hour at most), though the store answers everyone."""
        self._waiting_on_store.discard(handle)
        self._store_up()

    def _store_up(self) -> None:
        """A message or a ping went through and nothing says otherwise: if the store was
        marked down, it is back."""
        if self._store_down_since is not None and self._store_answers():
            down_s = time.monotonic() - self._store_down_since
            self._store_down_since = None
            self.health.set("store", True)
            log.info("store.recovered", down_s=round(down_s, 1))

    async def _probe_store(self) -> None:
        """Ping the store at start (one unreachable then is not ready, traffic or not) and
        every STORE_PROBE_S after, so that `/readyz` follows the store with no traffic at all:
        a store that goes away is marked down within two STORE_PROBE_S (the wait and the
        ping's own deadline), and one back after its held messages were released is found
        back. While a message the store failed is still trying, it is the probe instead (a
        ping may pass where a message's own write fails: one hot record's key range throttled,
        a SQLite lock taken just after the ping)."""
        while True:
            if not self._waiting_on_store:
                await self._probe_once()
            await asyncio.sleep(self.STORE_PROBE_S)

    async def _probe_once(self) -> None:
        """One ping: a failure marks the store down, an answer marks it up unless a message
        the store failed while the ping was out says otherwise."""
        try:
            await self._ping_store()
        except StoreUnavailableError as exc:
            self._ping_failed = True
            self._mark_store_down(exc)
        except Exception as exc:  # not the store's known faults: the messages will tell
            self._ping_unexplained(exc)
        else:
            self._ping_failed = False
            if self._ping_erring:
                self._ping_erring = False
                log.info("store.probe_recovered")
            self._store_up()

    def _ping_unexplained(self, exc: Exception) -> None:
        """A ping failed with what no store's known fault is (a bug, an answer the client
        cannot read): readiness is left as it was, since the messages say whether the store
        works, but the first failure of a streak is said at warning. At debug only, a ping
        failing every STORE_PROBE_S for hours was invisible, and with no traffic nothing
        else said so."""
        fields = {"error": str(exc), "error_type": type(exc).__name__}
        if self._ping_erring:
            log.debug("store.probe_failed", **fields)
            return
        self._ping_erring = True
        log.warning("store.probe_failed", **fields)

    async def _ping_store(self) -> None:
        """The probe, answered within STORE_PROBE_S or the store is unavailable: a store that
        takes the connection and never answers would keep the probe (and readiness) waiting
        for the client's own timeouts and retries, minutes with DynamoDB's."""
        assert self._store_probe is not None
        try:
            async with asyncio.timeout(self.STORE_PROBE_S):
                await self._store_probe()
        except TimeoutError:
            raise StoreUnavailableError(
                f"the store did not answer a ping within {self.STORE_PROBE_S:g} s"
            ) from None
