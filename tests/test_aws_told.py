"""How an AWS service's refusal is told on one line (`triage.aws.told_refusal`,
`told_client_error`): whatever answers for a service (a proxy, a stand-in) writes its code and
message, so the code is told only in AWS's form and the message redacted, on one line, cut."""

from __future__ import annotations

from botocore.exceptions import ClientError

from triage.aws import TOLD_MESSAGE_CHARS, told_client_error, told_refusal

TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0" * 2


def test_a_refusal_in_aws_form_is_told_as_it_is() -> None:
    """SQS's own refusal keeps its code and message."""
    told = told_refusal("InvalidParameterValue", "Value for parameter MessageBody is invalid.")
    assert told == "InvalidParameterValue: Value for parameter MessageBody is invalid."


def test_a_hostile_refusal_is_one_redacted_bounded_line() -> None:
    """A code that is no code (a credential, CR LF) is not told, and a message with a
    credential, a forged line and 20 kB is redacted, on one line, and cut."""
    told = told_refusal(f"Bad\r\n{TOKEN}", f"denied {TOKEN}\r\nok    queue  forged" + "x" * 20_000)
    assert told.startswith("an error code of no AWS form: denied ")
    assert TOKEN not in told and "\n" not in told and "\r" not in told
    assert len(told) <= TOLD_MESSAGE_CHARS + len("an error code of no AWS form: ") + 1


def test_a_client_error_names_the_call_and_not_botocores_text() -> None:
    """A ClientError is told as its call, code and shaped message: botocore's own text quotes
    the message whole."""
    error = ClientError(
        {"Error": {"Code": "AccessDenied", "Message": f"token {TOKEN} refused"}}, "SendMessageBatch"
    )
    assert TOKEN in str(error)
    told = told_client_error(error)
    assert told.startswith("SendMessageBatch refused: AccessDenied: token ")
    assert TOKEN not in told
