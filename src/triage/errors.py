"""The error tree that decides what happens to a message.

Every failure inside the pipeline is one of three kinds, and the supervisor acts on the kind alone:

    TriageError
    ├── PermanentError         the message itself is bad: made visible at once, so SQS's redrive
    │   │                      policy moves it to the DLQ after maxReceiveCount receives
    │   ├── DecodeError            body is not JSON, too large, nested too deep
    │   ├── UnknownFormatError     JSON of no shape we know (the message names the formats tried)
    │   ├── InvalidAlertError      a known shape with missing or impossible fields
    │   └── SinkRejectedError      a sink answered 4xx other than 408/425/429 (409: once
    │                              it lasts; before, a wait)
    └── TransientError         the world is briefly wrong: released with a backoff from the
        │                      receive count, so retries are spaced
        ├── SinkUnavailableError   5xx, network errors, timeouts: counts against the sink's breaker
        │   └── GitHubUnavailableError
        ├── SinkUnreachableError   a sink works, but this message's destination refuses us (a
        │                          route's repository): retried with a backoff, the breaker
        │                          not told, so other routes go on
        ├── StoreUnavailableError  the store is down (locked, full, corrupt, unreachable, denied):
        │                          held like a wait (intake paused, /readyz store: unavailable),
        │                          released only past max_hold_s
        ├── StoreNewerError        a record written for a newer release (its `min_reader`):
        │                          released, for a replica of that release to take it
        ├── InboxError             the queue cannot be read or written
        ├── SummariserError        the LLM failed (callers fall back; it rarely reaches the supervisor)
        │   └── ModelError             one request to the model (OpenAI, Bedrock) failed; says
        │                              whether another attempt may succeed
        └── BackpressureError      a service or our own budget says "wait", and says how long: the
            │                      message is fine, so it is *held* (kept invisible by the heartbeat,
            │                      intake paused) and tried again, without spending a receive
            ├── SinkThrottledError     a rate limit (429, Retry-After), a spent creation budget,
            │   └── GitHubThrottledError   or a circuit breaker that is open
            ├── StoreBusyError         another worker holds this incident's effect, or other
            │                          replicas kept writing its record first (held alone,
            │                          while intake goes on: the trouble is that record's)
            ├── StoreThrottledError    DynamoDB throttles the table (intake paused), or one
            │                          hot key only (held alone)
            └── GatheringError         a group's first ticket waits for more members (held,
                                       while intake goes on: the members are on their way)

`reason` is the short machine word for logs, metrics (`MessagesFailed{reason}`) and the demo's
DLQ report: the class's own, or a more precise one given when the error is raised.

`ConfigError` is apart: it is raised before the daemon starts and stops it with one clear line.
Anything else that escapes the pipeline is a bug; the supervisor treats it as transient (the
message is retried and, if the bug persists, reaches the DLQ) and logs it with a traceback.
"""

from __future__ import annotations

import errno


class ConfigError(Exception):
    """Raised at startup when a setting is missing or invalid; the text names the variable."""


class StoreLockedError(ConfigError):
    """The SQLite store could not be opened within its busy timeout: another process holds
    its write lock (a `sqlite3` shell's open transaction, a backup). The daemon stops at start
    as for any store it cannot open; a command that only reads or changes the store says to
    try again, as the lock is no setting's fault."""


class TriageError(Exception):
    """Base of every failure the pipeline expects; its subclass decides the message's fate."""

    #: Short machine-readable reason, used in logs, metrics and the demo's DLQ report.
    reason: str = "error"

    def __init__(self, message: str = "", *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class PermanentError(TriageError):
    """Raised when retrying cannot help: the message goes to the DLQ as fast as redrive allows."""

    reason = "permanent"


class DecodeError(PermanentError):
    """Raised when a body is not JSON, is too large or too deeply nested to be an alert."""

    reason = "decode"


class UnknownFormatError(PermanentError):
    """Raised when a JSON body matches none of the alert formats triage knows."""

    reason = "unknown_format"


class InvalidAlertError(PermanentError):
    """Raised when a body has a known shape but fields that are missing or impossible."""

    reason = "invalid"


class SinkRejectedError(PermanentError):
    """Raised when a sink refuses a ticket for good (4xx other than 408, 425 and 429; a 409
    once it has lasted past any request in flight).
    `status` is the service's HTTP status and `detail` its own error text, when it answered:
    a sink reads them to tell a ticket that is gone or read-only (nothing more to do to it)
    from a request that is wrong."""

    reason = "sink_rejected"

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = None,
        detail: str = "",
        reason: str | None = None,
    ) -> None:
        super().__init__(message, reason=reason)
        self.status = status
        self.detail = detail


class StoreCorruptError(PermanentError):
    """Raised when a stored record cannot be read (edited by hand, written by something else):
    its alerts go to the DLQ naming the record, for an operator to fix it and redrive them."""

    reason = "store_corrupt"


class RecordTooLargeError(PermanentError):
    """Raised when a store record would outgrow what every store can hold (DynamoDB: 400 KB)."""

    reason = "too_large"


class TransientError(TriageError):
    """Raised when a later attempt may succeed: the message is retried after a backoff."""

    reason = "transient"

    def __init__(
        self, message: str = "", *, retry_after_s: float | None = None, reason: str | None = None
    ) -> None:
        super().__init__(message, reason=reason)
        #: A delay the failing service asked for (Retry-After), honoured by the supervisor.
        self.retry_after_s = retry_after_s


class SinkUnavailableError(TransientError):
    """Raised when a sink answers 5xx or 408, or cannot be reached."""

    reason = "sink_unavailable"


class GitHubUnavailableError(SinkUnavailableError):
    """Raised by the GitHub sink when GitHub is down, unreachable, refuses our credentials,
    answers in a shape it should not or redirects off its API; `reason` says which
    (unavailable, network, unauthorized, no_token, bad_response, redirected)."""

    reason = "unavailable"


class SinkUnreachableError(TransientError):
    """Raised when a sink works but this message's destination refuses us (a route's GitHub
    repository our credentials do not reach while others read): released with a backoff like
    any transient failure (the DLQ after maxReceiveCount, redrivable once the route or the
    access is fixed), and not counted against the sink's breaker, so every other route's
    tickets go on."""

    reason = "no_access"


class StoreUnavailableError(TransientError):
    """Raised when the store cannot be read or written (locked, full, corrupt, unreachable,
    denied). Never the message's fault: the supervisor holds it (`sqs/holding.py`)."""

    reason = "store_unavailable"


class StoreNewerError(TransientError):
    """Raised when a stored record says it needs a newer release to be changed safely (its
    `min_reader`; see `incidents/codec.py`). Left as it was: the message is released with a
    backoff, for a replica of the newer release (a rolling deploy) to take."""

    reason = "store_newer"


class InboxError(TransientError):
    """Raised when the queue cannot be read or written (throttled, unreachable, no such queue)."""

    reason = "inbox"


class SummariserError(TransientError):
    """Raised by an LLM summariser that failed; the pipeline falls back to the deterministic one."""

    reason = "summariser"


class ModelError(SummariserError):
    """Raised by a model client (OpenAI, Bedrock) when one request fails. `reason` is what
    `LLMFallbacks{reason}` counts (timeout, rate_limited, unreachable, server_error_503,
    rejected_400, bad_response …), `outcome` the `LLMCalls{outcome}` it is (timeout,
    rate_limited, unreachable, server_error, rejected, invalid), `retryable` whether another
    attempt may help (busy or down), and `provider_fault` whether the provider is failing every
    request rather than refusing this one (counted against the LLM's breaker): true of every
    retryable error, and of a refused key, a model that is not there or a spent quota too.
    `until_fixed`: no request escapes it until someone acts on the account (a refused key, no
    access to the model, a model that is not there, a spent quota), so the breaker opens at
    once instead of after TRIAGE_LLM_BREAKER_FAILURES incidents, each failing and logged."""

    reason = "model"

    def __init__(
        self,
        reason: str,
        *,
        outcome: str,
        retryable: bool = False,
        retry_after_s: float | None = None,
        provider_fault: bool | None = None,
        until_fixed: bool = False,
    ) -> None:
        super().__init__(reason, reason=reason, retry_after_s=retry_after_s)
        self.outcome = outcome
        self.retryable = retryable
        self.provider_fault = until_fixed or (
            retryable if provider_fault is None else provider_fault
        )
        self.until_fixed = until_fixed


class BackpressureError(TransientError):
    """Raised when a service, or a budget of our own, says to wait: the message is not at fault,
    so the supervisor holds it and pauses intake instead of spending one of its receives."""

    reason = "backpressure"
    #: Whether the wait applies to every message (a service is throttling us) or this one only.
    pauses_intake = True


class SinkThrottledError(BackpressureError):
    """Raised when a sink may not be called now: it rate-limited us (429, Retry-After), our own
    creation budget is spent, or its circuit breaker is open. Not a failure of the service."""

    reason = "sink_throttled"


class GitHubThrottledError(SinkThrottledError):
    """Raised by the GitHub sink while GitHub's rate limits are in force (`rate_limited`, then
    `paused` until they reset) or our issue-creation budget is spent (`throttled`)."""

    reason = "throttled"


class StoreBusyError(BackpressureError):
    """Raised when another worker holds this incident's pending effect, or other replicas kept
    writing one record first: that record's trouble alone, so only the message concerned
    waits (it looks again soon) and intake goes on."""

    reason = "store_busy"
    pauses_intake = False


class StoreThrottledError(BackpressureError):
    """Raised when DynamoDB throttles the table (after botocore's own retries): the messages in
    hand are held and intake pauses, rather than each spending a receive towards the DLQ. When
    only one hot key is throttled (a partition's limit), `pauses_intake` is false: the message
    concerned waits alone."""

    reason = "store_throttled"


class GatheringError(BackpressureError):
    """Raised when a group's first ticket is due only after its gathering window
    (`group_window_s`): the message is held until then, and intake goes on."""

    reason = "gathering"
    pauses_intake = False


class ProcessLimitError(BackpressureError):
    """Raised (by the supervisor, `process_limit`) when a message's work failed because this
    process ran out of file descriptors (`Too many open files`: a lazy import, a socket, a
    file) or of memory (MemoryError, in any thread: the task near its memory limit): the
    process is short, not the message at fault. Held, intake paused, as in an outage, never
    counted towards the DLQ as a bug would be. A message too large to handle is refused for
    its size before it is worked (DecodeError), so memory spent is the process's state."""

    reason = "process_limit"


#: errno values that say the process (EMFILE) or the host (ENFILE) has no file descriptor left.
_DESCRIPTORS_SPENT = frozenset({errno.EMFILE, errno.ENFILE})


def process_limit(exc: BaseException) -> ProcessLimitError | None:
    """`exc`, or what it was raised from (a library's own error around the OSError or the
    MemoryError), as a ProcessLimitError when it says the file descriptors or the memory are
    spent; None otherwise."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, OSError) and cause.errno in _DESCRIPTORS_SPENT:
            return ProcessLimitError(f"out of file descriptors: {cause.strerror}")
        if isinstance(cause, MemoryError):
            return ProcessLimitError("out of memory")
        cause = cause.__cause__ or cause.__context__
    return None
