"""The error tree that decides what happens to a message.

Every failure inside the pipeline is one of two kinds, and the supervisor acts on the kind alone:

    TriageError
    ├── PermanentError        the message itself is bad: released at once so SQS's redrive policy
    │   ├── DecodeError           moves it to the DLQ (body is not JSON, too large, nested too deep)
    │   ├── UnknownFormatError    (JSON of no shape we know; the message names the formats tried)
    │   ├── ValidationError       (a known shape with missing or impossible fields)
    │   └── SinkRejectedError     (a sink answered 4xx other than 408/409/429)
    └── TransientError        the world is briefly wrong: released with a backoff from the
        ├── SinkUnavailableError  receive count, so retries are spaced (5xx, 429, network errors)
        ├── StoreBusyError        (another worker holds this incident's effect; a write conflict)
        ├── StoreUnavailableError (the store is down or throttled)
        └── SummariserError       (the LLM failed; callers fall back, it rarely reaches the supervisor)

`ConfigError` is apart: it is raised before the daemon starts and stops it with one clear line.
Anything else that escapes the pipeline is a bug; the supervisor treats it as transient (the
message is retried and, if the bug persists, reaches the DLQ) and logs it with a traceback.
"""

from __future__ import annotations


class ConfigError(Exception):
    """Raised at startup when a setting is missing or invalid; the text names the variable."""


class TriageError(Exception):
    """Base of every failure the pipeline expects; its subclass decides the message's fate."""

    #: Short machine-readable reason, used in logs, metrics and the demo's DLQ report.
    reason: str = "error"


class PermanentError(TriageError):
    """Raised when retrying cannot help: the message goes to the DLQ as fast as redrive allows."""

    reason = "permanent"


class DecodeError(PermanentError):
    """Raised when a body is not JSON, is too large or too deeply nested to be an alert."""

    reason = "decode"


class UnknownFormatError(PermanentError):
    """Raised when a JSON body matches none of the alert formats triage knows."""

    reason = "unknown_format"


class ValidationError(PermanentError):
    """Raised when a body has a known shape but fields that are missing or impossible."""

    reason = "invalid"


class SinkRejectedError(PermanentError):
    """Raised when a sink refuses a ticket for good (4xx other than 408, 409 and 429)."""

    reason = "sink_rejected"


class TransientError(TriageError):
    """Raised when a later attempt may succeed: the message is retried after a backoff."""

    reason = "transient"

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        #: A delay the failing service asked for (Retry-After), honoured by the supervisor.
        self.retry_after_s = retry_after_s


class SinkUnavailableError(TransientError):
    """Raised when a sink answers 5xx, 408 or 429, or cannot be reached."""

    reason = "sink_unavailable"


class StoreBusyError(TransientError):
    """Raised when another worker holds this incident's pending effect, or a write conflicts."""

    reason = "store_busy"


class StoreUnavailableError(TransientError):
    """Raised when the store cannot be read or written (locked, throttled, unreachable)."""

    reason = "store_unavailable"


class SummariserError(TransientError):
    """Raised by an LLM summariser that failed; the pipeline falls back to the deterministic one."""

    reason = "summariser"
