"""`Refused`: how any step of the gateway says a request is not taken.

Every check, from the head's size to SQS's answer, raises `Refused` with the status, the word
its `ingest.refused` line says and the error the sender reads; the gateway catches it and
ingest/answers.py alone turns it into the JSON answer and the log line, so every refusal is
answered and logged the same way.
"""

from __future__ import annotations


class Refused(Exception):
    """An answer other than 2xx: its `status`, the `reason` its log line says, the `error` the
    sender reads, and what goes with them (a `Retry-After`, a `detail` for the log line only,
    other headers). Not `logged` when another line says it all: a body its sender went away
    from is its connection's `ingest.aborted` line (ingest/aborts.py)."""

    def __init__(
        self,
        status: int,
        reason: str,
        error: str,
        *,
        retry_after_s: int | None = None,
        detail: str | None = None,
        headers: dict[str, str] | None = None,
        logged: bool = True,
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.error = error
        self.retry_after_s = retry_after_s
        self.detail = detail
        self.headers = headers or {}
        self.logged = logged
