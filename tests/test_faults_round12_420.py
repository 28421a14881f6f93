"""Fault handling, round 12 (task 420): each test is a fault a replica meets in production,
proved at the fastest level that shows it.

- SQS refuses a heartbeat's extension of a delivery it handed to someone else as
  `InvalidParameterValue` ("... parameter ReceiptHandle is invalid. Reason: Message does not
  exist or is not available for visibility timeout change."), not as `ReceiptHandleIsInvalid`:
  that delivery is lost all the same, so a replica holding it gives it up instead of working
  it beside the one that has it now.
"""

from __future__ import annotations

from typing import Any

import structlog

from triage.sqs.inbox import Message, SqsInbox

QUEUE = "https://sqs.example/q"

#: What SQS answers an extension of a delivery whose receipt handle went stale (the message
#: was received again, by another replica or this one, after its visibility ran out).
STALE_HANDLE = (
    "Value AQEBstale for parameter ReceiptHandle is invalid. Reason: Message does not exist "
    "or is not available for visibility timeout change."
)
#: What SQS answers an extension past 12 hours from the receive: the delivery is still ours.
PAST_TWELVE_HOURS = (
    "Value 43200 for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout "
    "for the message is beyond the limit [43200 seconds]"
)


class _Refusing:
    """An SQS client whose ChangeMessageVisibilityBatch refuses every entry as the sender's
    fault with `code` and `message`, noting each call's receipt handles."""

    def __init__(self, code: str, message: str) -> None:
        self.code, self.message = code, message
        self.calls: list[list[str]] = []

    async def change_message_visibility_batch(self, **call: Any) -> dict[str, Any]:
        self.calls.append([e["ReceiptHandle"] for e in call["Entries"]])
        failed = [
            {"Id": e["Id"], "SenderFault": True, "Code": self.code, "Message": self.message}
            for e in call["Entries"]
        ]
        return {"Failed": failed}


def _delivery() -> tuple[Message, list[str]]:
    """A delivery, and the list its `on_lost` callbacks note into."""
    message = Message("m1", "{}", "rh-1", 2, None)
    lost: list[str] = []
    message.on_lost.append(lambda: lost.append(message.receipt_handle))
    return message, lost


async def test_a_stale_receipt_handle_refused_as_an_invalid_parameter_is_a_lost_delivery() -> None:
    """SQS's answer to extending a delivery another receive replaced (InvalidParameterValue,
    'Message does not exist or is not available for visibility timeout change') marks it lost:
    its holder is told once and the next beat sends no extension of it."""
    sqs = _Refusing("InvalidParameterValue", STALE_HANDLE)
    inbox = SqsInbox(sqs, QUEUE)
    message, lost = _delivery()
    with structlog.testing.capture_logs() as logs:
        await inbox.change_visibility([message], 30)
        await inbox.change_visibility([message], 30)
    assert lost == ["rh-1"]
    assert sqs.calls == [["rh-1"]]
    [said] = [e for e in logs if e["event"] == "message.visibility_failed"]
    assert said["log_level"] == "warning" and said["code"] == "InvalidParameterValue"


async def test_an_extension_past_twelve_hours_refused_as_an_invalid_parameter_keeps_it() -> None:
    """InvalidParameterValue for a visibility past SQS's 12 h limit is no lost delivery: the
    message is still this replica's, so no holder is told it lost it."""
    sqs = _Refusing("InvalidParameterValue", PAST_TWELVE_HOURS)
    inbox = SqsInbox(sqs, QUEUE)
    message, lost = _delivery()
    await inbox.change_visibility([message], 30)
    await inbox.change_visibility([message], 30)
    assert lost == []
    assert sqs.calls == [["rh-1"], ["rh-1"]]
