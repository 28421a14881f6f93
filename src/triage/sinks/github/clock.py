"""GitHub's clock as the sink knows it: the host's wall clock corrected by the Date header of
GitHub's latest answer.

Every time GitHub states is by its own clock: the primary budget's `x-ratelimit-reset`, a dated
Retry-After, an installation token's `expires_at`, and the window an App JWT's `iat` and `exp`
must fit. A host whose clock is off (a VM resumed, NTP stepped, a container without time sync)
would read them as a wait of a second or of an hour, and sign JWTs GitHub refuses. Octokit
corrects its JWTs the same way, by the refusal's Date.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from triage.sinks.http import http_date

#: How far the offset may move before a refused App JWT is signed again by it: a Date is
#: whole seconds and the JWT's `iat` is back-dated a minute, so less than this changed nothing.
SIGNIFICANT_SKEW_S = 30.0


class GitHubClock:
    """The wall clock plus `offset_s`, GitHub's time minus ours as its last Date said."""

    def __init__(self, wall_clock: Callable[[], float] = time.time) -> None:
        self._wall_clock = wall_clock
        self.offset_s = 0.0

    def now(self) -> float:
        """GitHub's time now, in epoch seconds, as far as we know it."""
        return self._wall_clock() + self.offset_s

    def observe(self, headers: Mapping[str, str]) -> None:
        """Learn GitHub's time from an answer's Date header; one absent or unreadable changes
        nothing."""
        said = http_date(headers.get("date"))
        if said is not None:
            self.offset_s = said - self._wall_clock()
