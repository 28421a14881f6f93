"""What GitHub refused for good, remembered for a while so it is not asked again and again.

A locked issue refuses triage's comments, and an archived repository every write. Asking again
at every update window of every incident would only post requests GitHub refuses and log one
warning each. So a refusal is remembered, by this process (replicas each learn it once: it is
a saving, nothing they must agree on), for `RECHECK_S`; after that the next effect asks GitHub
again, because things change: an issue is unlocked, a repository unarchived, our token made a
collaborator (who may comment on a locked issue).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable

#: How long a refusal is believed without asking GitHub again.
RECHECK_S = 900.0
#: At most so many refusals are remembered (the oldest go first): a bounded memory.
KEPT = 4096


class Refusals:
    """Keys (an issue, a repository) GitHub refused, each with when it last did."""

    def __init__(self, clock: Callable[[], float], recheck_s: float = RECHECK_S) -> None:
        self._clock = clock
        self._recheck_s = recheck_s
        self._since: OrderedDict[Hashable, float] = OrderedDict()

    def known(self, key: Hashable) -> bool:
        """Whether GitHub refused `key` within the last `recheck_s` (then: do not ask again)."""
        since = self._since.get(key)
        if since is None:
            return False
        if self._clock() - since < self._recheck_s:
            return True
        del self._since[key]  # time to ask again
        return False

    def note(self, key: Hashable) -> None:
        """GitHub refused `key` just now."""
        self._since[key] = self._clock()
        self._since.move_to_end(key)
        while len(self._since) > KEPT:
            self._since.popitem(last=False)

    def forget(self, key: Hashable) -> None:
        """`key` is no longer refused (GitHub shows the issue unlocked, a write went through)."""
        self._since.pop(key, None)
