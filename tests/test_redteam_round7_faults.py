"""Red team, round 7: faults. Each xfail is a bug a user would hit, proved at the fastest level
that shows it; it fails today for the reason it names and passes once the bug is fixed.

- `triage dlq redrive` run on a host whose clock is behind SQS's (a laptop or WSL2 after a
  sleep, a container without NTP): it compares each letter's SentTimestamp (SQS's clock) with
  its own start (the host's clock).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from daemon_harness import Queues
from test_dlq import GOOD, Dlq, bodies, fill_dlq
from test_dlq import dlq as dlq  # the in-process `triage dlq` fixture
from triage.ops import dlq as dlq_ops

#: How far behind SQS's clock the operator's host runs.
SKEW = timedelta(minutes=10)


class _LaggingClock(datetime):
    """`datetime` whose now() runs SKEW behind the real clock (as a host behind SQS's does)."""

    @classmethod
    def now(cls, tz: object = None) -> datetime:  # type: ignore[override]
        return datetime.now(UTC) - SKEW


# --- The DLQ's redrive on a host whose clock is behind SQS's ----------------------------------


@pytest.mark.xfail(
    strict=True,
    reason="dlq._Move._dead_before compares SQS's SentTimestamp with the host's clock: "
    "letters younger than the skew stay in the DLQ, said 'dead since it started'",
)
def test_redrive_moves_dead_letters_when_the_host_clock_is_behind_sqs(
    queues: Queues, dlq: Dlq, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A redrive on a host ten minutes behind SQS still moves letters that died before it ran,
    rather than leaving them in the DLQ as if they had died during the run."""
    fill_dlq(queues, GOOD, GOOD)
    monkeypatch.setattr(dlq_ops, "datetime", _LaggingClock)
    result = dlq("redrive")
    assert result.returncode == 0, result.stderr
    assert "dead since it started" not in result.stderr
    assert bodies(queues, queues.url) == [GOOD, GOOD]
    assert bodies(queues, queues.dlq_url) == []
