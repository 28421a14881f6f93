"""The SQS client's User-Agent header, built once per set of features instead of twice per call.

botocore puts the header together for every request, twice (as the request is made, and again
once the features the call used are known), sanitising each of its ~20 parts a character at a
time: ~45 us a call, about 20 us of every storm message's CPU through the daemon's SQS client
(helper 531, measured inside the daemon's coroutine steps; 2 us with this). The header depends
only on the client's fixed settings and on the set of features of the call, so the one built for
a set of features is the same string every time: it is kept and given again.
"""

from __future__ import annotations

from typing import Any

from botocore.context import get_context

#: Most feature sets remembered per client; a client's calls use a handful. Past it, a header
#: is built as botocore builds it, every time.
MAX_REMEMBERED = 64


def remember_user_agent(client: Any) -> bool:
    """Have `client` build its User-Agent once per set of features. False, and the client is
    left as it was, when its builder is not botocore's `UserAgentString` as this reads it
    (the features of a call are what tell one header from another)."""
    creator = getattr(client, "_user_agent_creator", None)
    build = getattr(creator, "to_string", None)
    if creator is None or build is None or not hasattr(creator, "_client_features"):
        return False
    built: dict[tuple[str, ...], str] = {}

    def to_string() -> str:
        # The features in the order botocore's own build joins them: the same union of the
        # same two sets, so a key names exactly one header.
        context = get_context()
        called = set() if context is None else context.features
        key = tuple((creator._client_features or set()).union(called))
        header = built.get(key)
        if header is None:
            header = build()
            if len(built) < MAX_REMEMBERED:
                built[key] = header
        return header

    creator.to_string = to_string
    return True
