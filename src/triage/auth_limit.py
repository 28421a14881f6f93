"""Wrong credentials, counted by sender, so that a token cannot be guessed online at the speed
a port answers (a few hundred a second from one client): the webhook gateway's source tokens
and the operators' TRIAGE_API_TOKEN alike.

A sender is its address as each port keys it (`sender_key`): the connection's peer, or behind
trusted proxies the `X-Forwarded-For` entry the nearest one appended (`request_head.
forwarded_for`; the gateway's TRIAGE_INGEST_TRUSTED_PROXY_HOPS, the operators' port's
TRIAGE_HTTP_TRUSTED_PROXY_HOPS); an IPv6 address as its /64. Each wrong
credential a sender presents fills its bucket by one, which drains by one every
FAILURE_REFILL_S; once it holds FAILURE_BURST, the sender is *limited*: its requests are
answered with `Retry-After` before any credential of theirs is compared, until the bucket
has room again (the gateway 503, which webhook senders retry; the operators' port 429). A
limit that still compared credentials would still tell a right guess from a wrong one at full
speed (2xx against the refusal), so it could not slow guessing. An IPv6 sender's /48
(one site: 65,536 /64s, each a sender) fills a bucket of its own as well, so a site's
addresses together guess no faster than one.

What such a limit costs an honest sender behind the same address (a NAT, or a proxy) is
bounded by *proof*: a sender that presented a right credential for a scope (a gateway source,
the operators' token) within PROVEN_S is never limited on that scope, so an attacker's
guesses from its address never refuse it (and a token of one source buys no guesses at
another's). When the limit is waived so, one line says it (likely a proxy in front: every
sender behind it is then one address). There is no bucket shared by all senders: a crowd of
addresses could then keep every sender not proven refused; a crowd guesses at 20 a minute
each. An honest sender not proven lately, behind a guesser's address, is refused with the
guesser, which is why the gateway answers 503: it retries, and its alert is delayed, not lost.

One line (`LimitWords.limited_event`) when a sender (or an IPv6 /48) becomes limited, at most
LIMITED_LINES_PER_S a second; the caller answers and counts each request refused so (the
gateway in `IngestAuthLimited{source}`, the operators' port in `HttpRefused{reason=limited}`).
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
#: Limited lines a second, at most (a crowd of addresses may each earn one).
LIMITED_LINES_PER_S = 10
#: The prefix an IPv6 sender is keyed by: one host's (or one LAN's) addresses are one sender.
SENDER_PREFIX = 64


@dataclass(frozen=True, slots=True)
class LimitWords:
    """What one port's limit logs: the event of a sender limited and of a proven sender's
    limit waived, each with the hint its line carries."""

    limited_event: str
    limited_hint: str
    waived_event: str
    waived_hint: str


#: The webhook gateway's (`triage ingest`).
GATEWAY = LimitWords(
    "ingest.auth_limited",
    "wrong credentials from this sender are refused 503 before they are compared; "
    "a sender whose credential was right lately is not limited",
    "ingest.auth_limit_waived",
    "a sender whose credential was right lately presents many wrong ones: several "
    "senders behind one address? Behind a proxy, set "
    "TRIAGE_INGEST_TRUSTED_PROXY_HOPS so that each is its own sender",
)
#: The operators' port's (the API's bearer token, the status page's login form).
OPERATORS = LimitWords(
    "api.auth_limited",
    "wrong API tokens from this address are refused 429 before they are compared; "
    "an address whose token was right lately is not limited",
    "api.auth_limit_waived",
    "an address whose token was right lately presents many wrong ones: several clients "
    "behind one address? Behind a proxy, set TRIAGE_HTTP_TRUSTED_PROXY_HOPS so that each "
    "is its own address",
)


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

    def __init__(self, words: LimitWords, clock: Callable[[], float] = time.monotonic) -> None:
        self._words = words
        self._clock = clock
        self._failing: dict[str, _Bucket] = {}
        #: `<source> <sender>` by when the sender's credential for the source was last right,
        #: oldest first.
        self._proven: dict[str, float] = {}
        self._lines = LineBudget(LIMITED_LINES_PER_S, 1.0, name=words.limited_event)

    def proven(self, sender: str, source: str) -> bool:
        """Whether `sender` presented a right credential for `source` within PROVEN_S (for
        that source only: one source's token, the generic one in many tools' URLs, must not
        buy its holder unlimited guesses at another's)."""
        at = self._proven.get(f"{source} {sender}")
        return at is not None and self._clock() - at < PROVEN_S

    def limited(self, sender: str, source: str) -> int | None:
        """The seconds `sender` must wait before a credential of its for `source` is compared
        again (its Retry-After), or None when it may present one now. The first refusal of a
        limit gets its line; the caller counts each."""
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
                    self._line(self._words.waived_event, key, bucket.level)
            return None
        for key, bucket in full:
            if not bucket.limited:
                bucket.limited = True
                self._line(self._words.limited_event, key, bucket.level)
        return max(1, math.ceil(wait_s))

    def failed(self, sender: str) -> None:
        """`sender` presented a wrong credential (for any scope: a proven sender's failures
        count too)."""
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
        words = self._words
        hint = words.limited_hint if event == words.limited_event else words.waived_hint
        log.warning(
            event,
            sender=sender,
            failures=math.floor(failures),
            one_more_every_s=FAILURE_REFILL_S,
            hint=hint,
        )


def sender_key(address: str) -> str:
    """One sender, one key: an IPv6 address as its /64, an IPv4-mapped one as the IPv4 address
    it spells; a per-sender share keyed on the whole IPv6 address was one share per address.
    An address a proxy relayed with its port (`ip:port`, `[ipv6]:port`, as Azure Application
    Gateway writes X-Forwarded-For) or in brackets is its address: keyed with the port, each
    connection of one sender was a sender of its own."""
    parsed = _address(address)
    if parsed is None:
        return address  # not an address (a proxy's "unknown"): itself
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, SENDER_PREFIX), strict=False))
    return str(parsed)


def _address(written: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address `written` spells, alone or with a port (`_without_port`); None when it
    spells none."""
    for candidate in (written, _without_port(written)):
        if candidate is None:
            continue
        try:
            return ipaddress.ip_address(candidate)
        except ValueError:
            continue
    return None


def _without_port(written: str) -> str | None:
    """`written` without the port after it, and the brackets around an IPv6 address
    (`[2001:db8::1]:443` and `[2001:db8::1]` are `2001:db8::1`, `203.0.113.1:443` is
    `203.0.113.1`); None when it is not so written. An IPv6 address alone, all colons, is
    never read as one with a port: only brackets set its port apart."""
    if written.startswith("["):
        address, bracket, after = written[1:].partition("]")
        return address if bracket and (not after or _is_port(after)) else None
    address, colon, after = written.partition(":")
    return address if _is_port(colon + after) else None


def _is_port(after: str) -> bool:
    """Whether `after` (what follows an address) is `:` and a port number."""
    digits = after.removeprefix(":")
    return after.startswith(":") and digits.isascii() and digits.isdigit() and int(digits) < 65536


def _keys(sender: str) -> tuple[str, ...]:
    """The buckets a sender's failures fill: its own, and an IPv6 sender's site's."""
    if not sender.endswith(f"/{SENDER_PREFIX}"):
        return (sender,)
    try:
        site = ipaddress.IPv6Network(sender).supernet(new_prefix=SITE_PREFIX)
    except ValueError:
        return (sender,)
    return sender, str(site)
