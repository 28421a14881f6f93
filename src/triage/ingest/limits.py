"""`Limits`: the gateway's numbers (rate, body size and time, the byte budgets of bodies held at
once, the proxies trusted to name a sender), built from Settings by service.py."""

from __future__ import annotations

from dataclasses import dataclass

from triage.decode import MAX_BODY_BYTES


@dataclass(frozen=True, slots=True)
class Limits:
    """The edge's numbers, from Settings."""

    rate_per_s: float
    max_body_bytes: int = MAX_BODY_BYTES
    #: A body must arrive within this: a sender that stalls (or trickles) is answered 408, so it
    #: cannot hold a connection and its buffered bytes for ever.
    body_timeout_s: float = 10.0
    #: Bytes of all bodies held at once: being read, checked, or waiting for SQS (a slow SQS
    #: would otherwise let read bodies pile up). Past this, a body is answered 503.
    reading_budget_bytes: int = 32 * MAX_BODY_BYTES
    #: … of which one source's bodies may take at most this much (half), so one source's
    #: senders (a token, and the generic one is in many tools' URLs) cannot take what the
    #: other sources need, as each source has a rate of its own too.
    source_share_bytes: int = 16 * MAX_BODY_BYTES
    #: … of which bodies being read and not yet authenticated (signed ones, Sentry's or
    #: Grafana's: a signature covers the body, so it is read before it can be checked) may
    #: take at most this much, so
    #: senders without a credential cannot fill the budget every other source needs.
    unauthenticated_budget_bytes: int = 8 * MAX_BODY_BYTES
    #: … and one client address at most this much of it, so one sender cannot take it all.
    unauthenticated_per_peer_bytes: int = 2 * MAX_BODY_BYTES
    #: Proxies in front that append the address they saw to X-Forwarded-For (an ALB: 1). The
    #: sender's address, for its share above, is the entry this many from the end: entries
    #: before it are the sender's own words. 0: the connection's peer is the sender.
    trusted_proxy_hops: int = 0
