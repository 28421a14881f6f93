"""What `triage dlq` says of the DLQ is so: the count it shows is said as what it showed of the
DLQ's approximate count (peek, and redrive's dry run), and a letter's receive count is the one
SQS counted before this look, not the look's own receive."""

from __future__ import annotations

import io
import json
import re
from typing import Any

from botocore.exceptions import ClientError

from daemon_harness import Queues
from test_dlq import Dlq, fill_dlq
from test_dlq import dlq as dlq  # `triage dlq ARGS` in process, on moto's SQS
from triage.ops.dlq import peek

LETTERS = [json.dumps({"title": f"t{n}", "dedup_key": f"k{n}"}) for n in range(12)]


def last_line(stderr: str) -> str:
    return stderr.strip().splitlines()[-1]


def test_peek_says_it_showed_ten_of_the_dlqs_twelve(queues: Queues, dlq: Dlq) -> None:
    """Twelve letters peeked at with the default --max 10: ten rows, and the last line says
    it showed 10 of the DLQ's ~12 and that --max shows more."""
    fill_dlq(queues, *LETTERS)
    result = dlq("peek")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 10
    line = last_line(result.stderr)
    assert re.match(r"showed 10 of ~12 dead letter\(s\) in ", line), line
    assert line.endswith("; --max shows more"), line


def test_peek_of_every_letter_says_so(queues: Queues, dlq: Dlq) -> None:
    """Three letters peeked at with --max 20: the last line says it showed 3 of ~3."""
    fill_dlq(queues, *LETTERS[:3])
    result = dlq("peek", "--max", "20")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 3
    assert re.match(r"showed 3 of ~3 dead letter\(s\) in ", last_line(result.stderr))


def test_redrive_dry_run_says_how_many_of_the_dlqs_it_would_move(queues: Queues, dlq: Dlq) -> None:
    """A dry run with --max 5 over twelve letters says it would move 5 of the DLQ's ~12 (the
    other seven are not forgotten), and moves none."""
    fill_dlq(queues, *LETTERS)
    result = dlq("redrive", "--dry-run", "--max", "5")
    assert result.returncode == 0, result.stderr
    assert re.match(r"would move 5 of ~12 dead letter\(s\) back to ", last_line(result.stderr))


class _SqsWithoutCounts:
    """A DLQ of three letters in memory whose GetQueueAttributes is refused (a role without
    it): receive, then visibility changes."""

    def __init__(self) -> None:
        self.letters = [
            {
                "MessageId": f"m{n}",
                "ReceiptHandle": f"r{n}",
                "Body": LETTERS[n],
                "Attributes": {"ApproximateReceiveCount": "3", "SentTimestamp": "1700000000000"},
            }
            for n in range(3)
        ]
        self.given = False

    async def get_queue_attributes(self, **_: Any) -> dict[str, Any]:
        error = {"Error": {"Code": "AccessDenied", "Message": "no"}}
        raise ClientError(error, "GetQueueAttributes")  # type: ignore[arg-type]

    async def receive_message(self, **_: Any) -> dict[str, Any]:
        if self.given:
            return {}
        self.given = True
        return {"Messages": self.letters}

    async def change_message_visibility_batch(self, **_: Any) -> dict[str, Any]:
        return {"Successful": [], "Failed": []}


async def test_peek_whose_count_cannot_be_read_says_at_least(capsys: Any) -> None:
    """When the DLQ's count cannot be read, peek still shows its letters, and its last line
    says the DLQ holds at least what it showed, with why the count is missing."""
    shown = io.StringIO()
    assert (
        await peek(_SqsWithoutCounts(), "https://sqs.eu-west-1.amazonaws.com/1/d", 10, shown) == 3
    )
    line = last_line(capsys.readouterr().err)
    assert line.startswith("showed 3 dead letter(s) in "), line
    assert "at least" in line and "AccessDenied" in line, line


def test_peek_shows_the_receive_count_less_its_own_receive(queues: Queues, dlq: Dlq) -> None:
    """A letter the DLQ received from outside (no receive since) is shown with a receive count
    of 0, not the 1 peek's own receive made it."""
    fill_dlq(queues, LETTERS[0])
    result = dlq("peek")
    assert result.returncode == 0, result.stderr
    (row,) = map(json.loads, result.stdout.splitlines())
    assert row["receive_count"] == 0, row


def test_peek_shows_the_receives_the_queue_made_before_the_letter_died(
    queues: Queues, dlq: Dlq
) -> None:
    """A message received as often as the queue's maxReceiveCount (2) and then moved to the
    DLQ by SQS: peek shows it with the receive count SQS had for it then, not one more."""
    sqs = queues.client()
    sqs.send_message(QueueUrl=queues.url, MessageBody=LETTERS[0])
    receives = 0
    for _ in range(10):  # each receive hides it 0 s; the one past the limit moves it
        got = sqs.receive_message(QueueUrl=queues.url, VisibilityTimeout=0).get("Messages", [])
        if not got:
            break
        receives += 1
    assert receives == 2
    result = dlq("peek")
    assert result.returncode == 0, result.stderr
    (row,) = map(json.loads, result.stdout.splitlines())
    assert row["receive_count"] == receives, row
