"""`triage dlq` against an SQS whose clock is not the host's, and whose short polls may answer
empty while letters wait (round 7's faults): an in-memory DLQ that answers as SQS does, so the
clock SQS keeps and the polls it samples are the test's to set."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from triage.ops import dlq as dlq_ops

GOOD = '{"title": "backup failed", "dedup_key": "backup", "source": "cron"}'
QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/111122223333/alerts"
DLQ_URL = QUEUE_URL + "-dlq"
QUEUE_ARN = "arn:aws:sqs:eu-west-1:111122223333:alerts"
DLQ_ARN = QUEUE_ARN + "-dlq"


def _ms(when: datetime) -> str:
    return str(int(when.timestamp() * 1000))


class _SqsDlq:
    """A DLQ (and the main queue it redrives to) in memory, answering as SQS does: a receive
    hides what it gives, and every answer carries SQS's Date header by a clock `sqs_ahead` of
    the host's. `empty_short_polls`: that many short polls (WaitTimeSeconds 0) answer empty
    whatever the DLQ holds, as SQS's sampled short polls may; a long poll sees every letter.
    `count`: what ApproximateNumberOfMessages says (None: the visible letters; an exception:
    GetQueueAttributes refused). `arrives`: a letter that dies during the run, after the
    first letters are sent back."""

    def __init__(
        self,
        dead_at: list[timedelta],
        *,
        sqs_ahead: timedelta = timedelta(0),
        empty_short_polls: int = 0,
        count: int | Exception | None = None,
        arrives: timedelta | None = None,
    ) -> None:
        self.sqs_ahead = sqs_ahead
        self.started = self.sqs_now()
        self.visible = [self._letter(n, self.started + ago) for n, ago in enumerate(dead_at)]
        self.hidden: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []
        self.waits: list[int] = []
        self.empty_short_polls = empty_short_polls
        self.count = count
        self.arrives = arrives

    def sqs_now(self) -> datetime:
        return datetime.now(UTC) + self.sqs_ahead

    def _letter(self, n: int, sent_at: datetime) -> dict[str, Any]:
        return {
            "MessageId": f"dead-{n}",
            "ReceiptHandle": f"r-{n}",
            "Body": GOOD,
            "Attributes": {"SentTimestamp": _ms(sent_at), "ApproximateReceiveCount": "4"},
        }

    def _answer(self, **fields: Any) -> dict[str, Any]:
        date = format_datetime(self.sqs_now(), usegmt=True)
        return {**fields, "ResponseMetadata": {"HTTPHeaders": {"date": date}}}

    async def receive_message(self, **call: Any) -> dict[str, Any]:
        wait = int(call.get("WaitTimeSeconds", 0))
        self.waits.append(wait)
        if wait == 0 and self.empty_short_polls > 0:
            self.empty_short_polls -= 1
            return self._answer()
        given = self.visible[: call["MaxNumberOfMessages"]]
        self.visible = self.visible[len(given) :]
        self.hidden += given
        return self._answer(Messages=given) if given else self._answer()

    async def get_queue_attributes(self, **call: Any) -> dict[str, Any]:
        if isinstance(self.count, Exception):
            raise self.count
        count = len(self.visible) if self.count is None else self.count
        return self._answer(Attributes={"ApproximateNumberOfMessages": str(count)})

    async def send_message_batch(self, **call: Any) -> dict[str, Any]:
        self.sent += call["Entries"]
        if self.arrives is not None:
            self.visible.append(self._letter(99, self.started + self.arrives))
            self.arrives = None
        ok = [
            {"Id": e["Id"], "MessageId": f"copy-{len(self.sent)}-{e['Id']}"}
            for e in call["Entries"]
        ]
        return self._answer(Successful=ok, Failed=[])

    async def delete_message_batch(self, **call: Any) -> dict[str, Any]:
        gone = {e["ReceiptHandle"] for e in call["Entries"]}
        self.hidden = [m for m in self.hidden if m["ReceiptHandle"] not in gone]
        return self._answer(Successful=[{"Id": e["Id"]} for e in call["Entries"]], Failed=[])

    async def change_message_visibility_batch(self, **call: Any) -> dict[str, Any]:
        back = {e["ReceiptHandle"] for e in call["Entries"]}
        self.visible += [m for m in self.hidden if m["ReceiptHandle"] in back]
        self.hidden = [m for m in self.hidden if m["ReceiptHandle"] not in back]
        return self._answer(Successful=[{"Id": e["Id"]} for e in call["Entries"]], Failed=[])


async def _redrive(sqs: _SqsDlq, *, dry_run: bool = False) -> dlq_ops.Redriven:
    return await dlq_ops.redrive_counted(sqs, QUEUE_URL, DLQ_URL, DLQ_ARN, QUEUE_ARN, 100, dry_run)


# --- "dead since it started" judged by SQS's clock ---------------------------------------------


@pytest.mark.parametrize(
    "sqs_ahead", [timedelta(minutes=10), -timedelta(minutes=10)], ids=["host-behind", "host-ahead"]
)
async def test_a_redrive_judges_dead_since_it_started_by_sqs_clock(
    sqs_ahead: timedelta, capsys: pytest.CaptureFixture[str]
) -> None:
    """Whichever way the host's clock is off SQS's, a redrive moves the letters dead before it
    started by SQS's clock and leaves the one that died 30 s into the run by SQS's clock."""
    sqs = _SqsDlq(
        [-timedelta(minutes=2), -timedelta(seconds=5)],
        sqs_ahead=sqs_ahead,
        arrives=timedelta(seconds=30),
    )
    done = await _redrive(sqs)
    assert done == dlq_ops.Redriven(2)
    assert [m["MessageId"] for m in sqs.visible] == ["dead-99"]
    assert "left 1 dead letter(s) in the DLQ" in capsys.readouterr().err


async def test_a_redrive_whose_answers_carry_no_date_judges_by_the_host_clock() -> None:
    """An endpoint that answers without a Date header (a stand-in) leaves the judgement to
    the host's clock, as before: a letter sent before the run is moved, one after it stays."""

    class _Dateless(_SqsDlq):
        def _answer(self, **fields: Any) -> dict[str, Any]:
            return fields

    sqs = _Dateless([-timedelta(minutes=2)], arrives=timedelta(seconds=30))
    assert await _redrive(sqs) == dlq_ops.Redriven(1)
    assert [m["MessageId"] for m in sqs.visible] == ["dead-99"]


# --- short polls that answer empty ---------------------------------------------------------------


async def test_peek_shows_every_letter_though_short_polls_answer_empty(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A peek whose short polls of a three-letter DLQ answer empty still shows all three, and
    leaves them visible in the DLQ."""
    sqs = _SqsDlq([-timedelta(minutes=1)] * 3, empty_short_polls=5)
    shown = io.StringIO()
    assert await dlq_ops.peek(sqs, DLQ_URL, 10, shown) == 3
    assert len(shown.getvalue().splitlines()) == 3
    assert len(sqs.visible) == 3 and sqs.hidden == []


async def test_a_dry_run_counts_every_letter_though_a_short_poll_answers_empty(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A dry run whose first short poll answers empty says it would move all three letters."""
    sqs = _SqsDlq([-timedelta(minutes=1)] * 3, empty_short_polls=1)
    assert await _redrive(sqs, dry_run=True) == dlq_ops.Redriven(3)
    assert "would move 3 of ~3 dead letter(s)" in capsys.readouterr().err
    assert sqs.sent == []


async def test_an_empty_dlq_ends_without_a_long_poll(capsys: pytest.CaptureFixture[str]) -> None:
    """A DLQ whose count says it holds no visible letter ends a redrive at its first empty
    short poll: no long poll waits."""
    sqs = _SqsDlq([])
    assert await _redrive(sqs) == dlq_ops.Redriven(0)
    assert sqs.waits == [0]


@pytest.mark.parametrize(
    "count",
    [7, ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetQueueAttributes")],
    ids=["count-lags", "count-refused"],
)
async def test_an_empty_answer_is_confirmed_by_one_long_poll_then_ends(
    count: int | Exception, capsys: pytest.CaptureFixture[str]
) -> None:
    """A DLQ whose count still says letters remain (SQS's count lags), or cannot be read,
    while none is left: each look confirms its empty answer with one brief long poll and
    ends, never polling on."""
    sqs = _SqsDlq([], count=count)
    assert await _redrive(sqs) == dlq_ops.Redriven(0)
    assert sqs.waits == [0, dlq_ops.CONFIRM_WAIT_S]
    assert 0 < dlq_ops.CONFIRM_WAIT_S <= 20  # SQS's long-poll range


async def test_a_redrive_moves_every_letter_though_short_polls_keep_answering_empty(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A redrive of twelve letters whose short polls answer empty many times moves all
    twelve."""
    sqs = _SqsDlq([-timedelta(minutes=1)] * 12, empty_short_polls=20)
    assert await _redrive(sqs) == dlq_ops.Redriven(12)
    assert len(sqs.sent) == 12 and sqs.visible == sqs.hidden == []


async def test_peek_on_a_host_behind_sqs_shows_a_letter_age_by_sqs_clock(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A peek on a host ten minutes behind SQS shows a letter that died two minutes ago (by
    SQS's clock) as about 120 s old, not as dying eight minutes in the future."""
    sqs = _SqsDlq([-timedelta(minutes=2)], sqs_ahead=timedelta(minutes=10))
    shown = io.StringIO()
    assert await dlq_ops.peek(sqs, DLQ_URL, 10, shown) == 1
    (row,) = map(json.loads, shown.getvalue().splitlines())
    assert 119 <= row["age_s"] <= 125, row
