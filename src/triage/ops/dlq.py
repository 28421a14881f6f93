"""`triage dlq peek|redrive`: look at dead letters and move them back to the main queue.

The DLQ is the one the main queue's RedrivePolicy names (or `--dlq-url`). Redrive uses SQS's
StartMessageMoveTask where the endpoint supports it; otherwise it moves batches itself in the
safe order — send to the main queue, then delete from the DLQ only what was sent — so an
interruption can at worst duplicate a message (the store dedupes it), never lose one.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from botocore.exceptions import ClientError

from triage.errors import ConfigError, TriageError
from triage.normalize import normalize_body
from triage.redact import Redactor
from triage.sqs.inbox import Message, message_from
from triage.view import json_line

#: Dead letters are shown redacted (patterns, and the credentials this process holds).
_REDACTOR = Redactor()

#: How long peeked messages stay hidden while we list them (released at the end).
_PEEK_HIDE_S = 30


@dataclass(frozen=True, slots=True)
class DeadLetter:
    message: Message
    #: The message attributes, carried over on redrive.
    attributes: dict[str, Any]

    @property
    def message_id(self) -> str:
        return self.message.id

    @property
    def body(self) -> str:
        return self.message.body

    @property
    def receipt_handle(self) -> str:
        return self.message.receipt_handle

    def describe(self, now: datetime, redactor: Redactor = _REDACTOR) -> dict[str, Any]:
        """What peek shows: source, title, fingerprint and, when reproducible, the error; every
        text redacted (a dead letter is alert text, and its error may quote it)."""
        shown: dict[str, Any] = redactor.value(self._describe(now))
        return shown

    def _describe(self, now: datetime) -> dict[str, Any]:
        info: dict[str, Any] = {
            "message_id": self.message_id,
            "receive_count": self.message.receive_count,
            "age_s": int((now - self.message.sent_at).total_seconds())
            if self.message.sent_at
            else None,
        }
        try:
            alerts = normalize_body(self.body).alerts
        except TriageError as exc:
            info["error"] = f"{exc.reason}: {exc}"
            info["body"] = " ".join(self.body.split())[:120]
            return info
        if alerts:
            info.update(
                source=alerts[0].source, title=alerts[0].title, fingerprint=alerts[0].fingerprint
            )
            if len(alerts) > 1:
                info["alerts"] = len(alerts)
        info["error"] = "unknown (a transient failure that outlasted maxReceiveCount?)"
        return info


async def find_dlq(sqs: Any, queue_url: str) -> tuple[str, str, str]:
    """(DLQ url, DLQ arn, main queue arn) from the main queue's RedrivePolicy."""
    attrs = (
        await sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["QueueArn", "RedrivePolicy"]
        )
    )["Attributes"]
    if "RedrivePolicy" not in attrs:
        raise ConfigError(f"{queue_url} has no RedrivePolicy: name the DLQ with --dlq-url")
    dlq_arn = json.loads(attrs["RedrivePolicy"])["deadLetterTargetArn"]
    name, account = dlq_arn.split(":")[-1], dlq_arn.split(":")[-2]
    dlq_url = (await sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account))["QueueUrl"]
    return dlq_url, dlq_arn, attrs["QueueArn"]


async def receive(sqs: Any, dlq_url: str, max_messages: int, hide_s: int) -> list[DeadLetter]:
    """Up to `max_messages` distinct dead letters, hidden for `hide_s` while we hold them."""
    seen: dict[str, DeadLetter] = {}
    while len(seen) < max_messages:
        response = await sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=min(10, max_messages - len(seen)),
            WaitTimeSeconds=0,
            VisibilityTimeout=hide_s,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        batch = response.get("Messages", [])
        fresh = [m for m in batch if m["MessageId"] not in seen]
        if not fresh:
            break
        for m in fresh:
            seen[m["MessageId"]] = DeadLetter(message_from(m), m.get("MessageAttributes", {}))
    return list(seen.values())


async def peek(sqs: Any, dlq_url: str, max_messages: int, out: TextIO = sys.stdout) -> int:
    letters = await receive(sqs, dlq_url, max_messages, _PEEK_HIDE_S)
    now = datetime.now(UTC)
    for letter in letters:
        out.write(json_line(letter.describe(now)) + "\n")
    await _release(sqs, dlq_url, letters)
    print(f"{len(letters)} dead letter(s) in {dlq_url}", file=sys.stderr)
    return len(letters)


async def redrive(
    sqs: Any,
    queue_url: str,
    dlq_url: str,
    dlq_arn: str,
    queue_arn: str,
    max_messages: int,
    dry_run: bool,
) -> int:
    """Move up to `max_messages` dead letters back; returns how many were moved (or would be)."""
    if dry_run:
        letters = await receive(sqs, dlq_url, max_messages, _PEEK_HIDE_S)
        await _release(sqs, dlq_url, letters)
        print(f"would move {len(letters)} dead letter(s) back to {queue_url}", file=sys.stderr)
        return len(letters)
    if await _move_task(sqs, dlq_arn, queue_arn, max_messages):
        return -1  # SQS moves them itself, asynchronously
    moved = 0
    while moved < max_messages:
        letters = await receive(sqs, dlq_url, min(10, max_messages - moved), 120)
        if not letters:
            break
        entries = [
            {
                "Id": str(i),
                "MessageBody": m.body,
                **({"MessageAttributes": m.attributes} if m.attributes else {}),
            }
            for i, m in enumerate(letters)
        ]
        response = await sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        sent = [letters[int(e["Id"])] for e in response.get("Successful", [])]
        for failure in response.get("Failed", []):
            print(f"triage: dlq: could not send {letters[int(failure['Id'])].message_id}: "
                  f"{failure.get('Code')}", file=sys.stderr)  # fmt: skip
        if sent:  # delete only what is safely back on the main queue
            await sqs.delete_message_batch(
                QueueUrl=dlq_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(sent)
                ],
            )
        moved += len(sent)
        if len(sent) < len(letters):
            await _release(sqs, dlq_url, [m for m in letters if m not in sent])
            break
    print(f"moved {moved} dead letter(s) back to {queue_url}", file=sys.stderr)
    return moved


async def _move_task(sqs: Any, dlq_arn: str, queue_arn: str, max_messages: int) -> bool:
    """StartMessageMoveTask when the endpoint has it (AWS, LocalStack) and no --max is asked."""
    if max_messages < 1_000_000:
        return False  # a move task cannot stop after N messages: do it ourselves
    try:
        task = await sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=queue_arn)
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        code = exc.response.get("Error", {}).get("Code", "")
        if status >= 500 or code in (
            "UnsupportedOperation",
            "InvalidAction",
            "AWS.SimpleQueueService.UnsupportedOperation",
        ):
            return False  # not supported here (moto answers 500): move batches ourselves
        raise
    print(f"started SQS message move task {task.get('TaskHandle', '')}", file=sys.stderr)
    return True


async def _release(sqs: Any, dlq_url: str, letters: list[DeadLetter]) -> None:
    for start in range(0, len(letters), 10):
        chunk = letters[start : start + 10]
        await sqs.change_message_visibility_batch(
            QueueUrl=dlq_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": 0}
                for i, m in enumerate(chunk)
            ],
        )
