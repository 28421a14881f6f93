"""Wrong credentials, counted by sender, so that a token cannot be guessed online at the speed
the gateway answers (a few hundred a second from one client).

A sender is its address as `reader.sender` keys it: the trusted proxy's `X-Forwarded-For`
entry behind `TRIAGE_INGEST_TRUSTED_PROXY_HOPS`, an IPv6 address as its /64. Each 401 it is
answered fills its bucket by one, which drains by one every FAILURE_REFILL_S; once it holds
FAILURE_BURST, the sender is *limited*: its webhook requests are answered 429 with
`Retry-After` before any credential of theirs is compared, until the bucket has room again. A
limit that still compared credentials would still tell a right guess from a wrong one at full
speed (202 against 429), so it could not slow guessing. An IPv6 sender's /48 (one site: 65,536
/64s, each a sender) fills a bucket of its own as well, so a site's addresses together guess no
faster than one.

What such a limit costs an honest sender behind the same address (a NAT, or a proxy whose hops
are not configured) is bounded by *proof*: a sender that presented a right credential for a
source within PROVEN_S is never limited on that source's paths, so an attacker's guesses from
its address never refuse it a delivery (and a token of one source buys no guesses at
another's). When the limit is waived so, one line says it (likely a proxy in front whose hops
are not configured: every sender behind it is then one address). There is no bucket shared by all senders: a crowd of addresses could then keep every
sender not proven (a source that fires once a week) refused, and an alert refused 4xx is
dropped by its sender (Alertmanager retries only 5xx); a crowd guesses at 20 a minute each.

One `ingest.auth_limited` line when a sender (or an IPv6 /48) becomes limited, at most
LIMITED_LINES_PER_S a second; each request refused so counts in `IngestAuthLimited{source}`.
Memory is bounded: at most MAX_SENDERS senders of each kind (failing, proven) are remembered,
those whose bucket has drained forgotten first.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from triage.linebudget import LineBudget
from triage.metrics import Metrics

log = structlog.get_logger(__name__)

#: Wrong credentials one sender may present at once before it is limited: a sender with a
#: stale token retries a few times a minute; a guesser sends hundreds a second.
FAILURE_BURST = 20
#: … then one more every this long (20 a minute, ~29,000 a day).
FAILURE_REFILL_S = 3.0
#: The IPv6 prefix whose senders share a bucket too: a site's (RFC 6177 has one get a /48).
SITE_PREFIX = 48
#: A sender whose credential was right this recently is never limited.
PROVEN_S = 24 * 3600.0
#: Senders remembered at most, of each kind (failing, proven).
MAX_SENDERS = 10_000
#: `ingest.auth_limited` lines a second, at most (a crowd of addresses may each earn one).
LIMITED_LINES_PER_S = 10


@dataclass(slots=True)
class _Bucket:
    """Failures held (draining by one every `refill_s`) as of `at`, and whether its line was
    written in this episode: `limited` (a sender refused), `waived` (a proven one let through).
    An episode ends once the bucket has drained."""

    level: float
    at: float
    limited: bool = False
    waived: bool = False

    def drained(self, now: float, refill_s: float) -> float:
        self.level = max(0.0, self.level - (now - self.at) / refill_s)
        self.at = now
        if self.level == 0.0:
            self.limited = self.waived = False
        return self.level


class CredentialFailures:
    """The wrong credentials of each sender, and which senders are limited or proven."""

    def __init__(self, metrics: Metrics, clock: Callable[[], float] = time.monotonic) -> None:
        self._metrics = metrics
        self._clock = clock
        self._failing: dict[str, _Bucket] = {}
        #: `<source> <sender>` by when the sender's credential for the source was last right,
        #: oldest first.
        self._proven: dict[str, float] = {}
        self._lines = LineBudget(LIMITED_LINES_PER_S, 1.0, name="ingest.auth_limited")

    def proven(self, sender: str, source: str) -> bool:
        """Whether `sender` presented a right credential for `source` within PROVEN_S (for
        that source only: one source's token, the generic one in many tools' URLs, must not
        buy its holder unlimited guesses at another's)."""
        at = self._proven.get(f"{source} {sender}")
        return at is not None and self._clock() - at < PROVEN_S

    def limited(self, sender: str, source: str) -> int | None:
        """The seconds `sender` must wait before a credential of its for `source` is compared
        again (its Retry-After), or None when it may present one now. A limit is counted in
        `IngestAuthLimited{source}`; its first refusal also gets its line."""
        now = self._clock()
        wait_s = 0.0
        full: list[tuple[str, _Bucket]] = []
        for key in _keys(sender):
            bucket = self._failing.get(key)
            # Limited while the bucket has no room for one more whole failure.
            if bucket is None or bucket.drained(now, FAILURE_REFILL_S) <= FAILURE_BURST - 1:
                continue
            wait_s = max(wait_s, (bucket.level - (FAILURE_BURST - 1)) * FAILURE_REFILL_S)
            full.append((key, bucket))
        if not full:
            return None
        if self.proven(sender, source):
            for key, bucket in full:
                if not bucket.waived:
                    bucket.waived = True
                    self._line("ingest.auth_limit_waived", key, bucket.level)
            return None
        for key, bucket in full:
            if not bucket.limited:
                bucket.limited = True
                self._line("ingest.auth_limited", key, bucket.level)
        self._metrics.incr("IngestAuthLimited", source=source)
        return max(1, math.ceil(wait_s))

    def failed(self, sender: str) -> None:
        """`sender` was answered 401 (for any source: a proven sender's failures count too)."""
        now = self._clock()
        for key in _keys(sender):
            bucket = self._failing.get(key)
            if bucket is None:
                self._make_room(self._failing, now)
                bucket = self._failing[key] = _Bucket(0.0, now)
            bucket.drained(now, FAILURE_REFILL_S)
            bucket.level += 1

    def succeeded(self, sender: str, source: str) -> None:
        """`sender` presented a right credential for `source`: proven for it for PROVEN_S."""
        key = f"{source} {sender}"
        self._proven.pop(key, None)
        if len(self._proven) >= MAX_SENDERS:
            del self._proven[next(iter(self._proven))]  # the one proven longest ago
        self._proven[key] = self._clock()

    def _make_room(self, buckets: dict[str, _Bucket], now: float) -> None:
        """When MAX_SENDERS are remembered, forget the drained ones, then the oldest, down to
        nine tenths of it: a flood of new addresses pays for one sweep per tenth, not one per
        address."""
        if len(buckets) < MAX_SENDERS:
            return
        for key in [k for k, b in buckets.items() if b.drained(now, FAILURE_REFILL_S) == 0.0]:
            del buckets[key]
        for key in list(buckets)[: max(0, len(buckets) - MAX_SENDERS * 9 // 10)]:
            del buckets[key]

    def _line(self, event: str, sender: str, failures: float) -> None:
        if not self._lines.admit():
            return
        if event == "ingest.auth_limited":
            hint = (
                "wrong credentials from this sender are refused 429 before they are compared; "
                "a sender whose credential was right lately is not limited"
            )
        else:
            hint = (
                "a sender whose credential was right lately presents many wrong ones: several "
                "senders behind one address? Behind a proxy, set "
                "TRIAGE_INGEST_TRUSTED_PROXY_HOPS so that each is its own sender"
            )
        log.warning(
            event,
            sender=sender,
            failures=math.floor(failures),
            one_more_every_s=FAILURE_REFILL_S,
            hint=hint,
        )


def _keys(sender: str) -> tuple[str, ...]:
    """The buckets a sender's failures fill: its own, and an IPv6 sender's site's."""
    if not sender.endswith("/64"):
        return (sender,)
    try:
        site = ipaddress.IPv6Network(sender).supernet(new_prefix=SITE_PREFIX)
    except ValueError:
        return (sender,)
    return sender, str(site)
