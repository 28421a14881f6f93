"""Round 12 of triage's own signals (helper 418): what its logs, metrics and health say can be
trusted in the paths earlier rounds did not reach."""

from __future__ import annotations

import io
import json
import logging
import threading

import structlog

from triage.logs import Unfailing, configure_logging
from triage.redact import Redactor
from triage.tracing import hold_exporter_headers

SECRET = "ghp_R4nd0mT0k3nValueAbCdEfGhIjKlMnOpQr12"


def _json_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_triage_lines_positional_arguments_are_redacted() -> None:
    """A triage logger called with printf arguments (`log.info("sent %s", x)`) has them
    formatted into its event: that event is redacted like any other text, not skipped as one
    of triage's own fixed event names."""
    stream = io.StringIO()
    configure_logging("json", "info", stream)
    structlog.get_logger("triage.round12").info("sent %s", f"Authorization: Bearer {SECRET}")
    (line,) = _json_lines(stream)
    assert SECRET not in json.dumps(line), line
    assert str(line["event"]).startswith("sent Authorization: Bearer [REDACTED"), line


def test_a_stdlib_record_of_a_triage_logger_has_its_message_redacted() -> None:
    """A stdlib `logging` record whose logger is under `triage.` (a module that logs through
    `logging.getLogger(__name__)`) has its formatted message redacted too."""
    stream = io.StringIO()
    configure_logging("json", "info", stream)
    logging.getLogger("triage.round12.stdlib").warning("token was %s", SECRET)
    (line,) = _json_lines(stream)
    assert SECRET not in json.dumps(line), line
    assert line["logger"] == "triage.round12.stdlib", line


def test_a_triage_event_name_is_still_written_as_it_is() -> None:
    """A dotted event name (`message.acked`) is triage's own and written unchanged, even where
    its words would read as a secret's name to the redactor."""
    stream = io.StringIO()
    configure_logging("json", "info", stream)
    structlog.get_logger("triage.round12").info("api_token.rotated", count=1)
    (line,) = _json_lines(stream)
    assert line["event"] == "api_token.rotated", line


def test_a_triage_log_call_whose_arguments_do_not_fit_its_format_is_one_line() -> None:
    """A triage log call whose printf arguments do not fit its format (too few, `%d` given
    text, a lone `%`) writes its format and why it was not formatted, as a library's does,
    instead of raising into the code that logged."""
    stream = io.StringIO()
    configure_logging("json", "info", stream)
    log = structlog.get_logger("triage.round12")
    log.info("sent %s to %s", "a")
    log.warning("took %d s", "long")
    log.error("rate 5%", 1)
    events = [line["event"] for line in _json_lines(stream)]
    assert events == [
        "sent %s to %s (not formatted: TypeError)",
        "took %d s (not formatted: TypeError)",
        "rate 5% (not formatted: ValueError)",
    ], events


def test_a_triage_log_calls_mapping_argument_still_formats() -> None:
    """Guard: a mapping given alone formats by name (`%(n)s`), as structlog and stdlib do,
    and a filtered-out level writes nothing."""
    stream = io.StringIO()
    configure_logging("json", "info", stream)
    log = structlog.get_logger("triage.round12")
    log.info("sent %(n)d alerts", {"n": 3})
    log.debug("hidden %s", "x")
    assert [line["event"] for line in _json_lines(stream)] == ["sent 3 alerts"]


class _ThreadWritesMidLine(io.StringIO):
    """A stream that, after the first write that is not a whole line, lets `other` (a thread)
    write before it goes on: the switch between two threads the interpreter may make there."""

    def __init__(self) -> None:
        super().__init__()
        self.other: threading.Thread | None = None

    def write(self, text: str) -> int:
        written = super().write(text)
        if not text.endswith("\n") and self.other is not None:
            other, self.other = self.other, None
            other.start()
            other.join(timeout=30)
        return written


def test_a_library_line_from_another_thread_never_lands_inside_a_triage_line() -> None:
    """A triage line is written in one piece: a library's line written from another thread
    at the same moment is a line of its own, and every line stays one JSON object."""
    stream = _ThreadWritesMidLine()
    configure_logging("json", "info", stream)
    library = logging.getLogger("round12.library")
    stream.other = threading.Thread(target=lambda: library.warning("from a thread"))
    structlog.get_logger("triage.round12").info("message.acked")
    if stream.other is not None:  # no write was part of a line: the thread writes after
        stream.other.start()
        stream.other.join(timeout=30)
    events = sorted(str(line["event"]) for line in _json_lines(stream))
    assert events == ["from a thread", "message.acked"], stream.getvalue()


class _FullOnce(io.StringIO):
    """A pipe that is full for one write (a non-blocking one raises BlockingIOError), then
    drains: its reader is still there."""

    def __init__(self) -> None:
        super().__init__()
        self.full = True

    def write(self, text: str) -> int:
        if self.full:
            self.full = False
            raise BlockingIOError(11, "write could not complete without blocking", 0)
        return super().write(text)


def test_a_pipe_full_for_a_moment_does_not_silence_every_later_line() -> None:
    """A write that finds a non-blocking pipe full loses that line only: the stream is not
    taken for one whose reader is gone, and the next line is written."""
    stream = _FullOnce()
    unfailing = Unfailing(stream)
    unfailing.write("lost\n")
    unfailing.write("written\n")
    assert stream.getvalue() == "written\n"
    assert not unfailing.broken


#: OTLP exporter headers as Tempo (a tenant), Honeycomb (a dataset and its key) and a vendor
#: with a named key take them, with a bare key whose name was forgotten.
HONEYCOMB_KEY = "hcKeyR4nd0mAbC123XyZ987"
VENDOR_KEY = "vendorKey-9f8e7d6c5b4a"
BARE_KEY = "bareKey-Zz11Yy22Xx33Ww44"
OTLP_HEADERS = (
    f"X-Scope-OrgID=payments,x-honeycomb-dataset=production,x-honeycomb-team={HONEYCOMB_KEY},"
    f"x-api-key={VENDOR_KEY},{BARE_KEY}"
)


def test_an_exporter_headers_tenant_and_dataset_are_not_held_as_credentials() -> None:
    """A tenant or dataset name among the OTLP exporter's headers (`X-Scope-OrgID=payments`)
    is not held as a credential: held, every `payments` and `production` in every ticket, log
    line and team dimension of the process was blanked. The keys beside them still are."""
    hold_exporter_headers({"OTEL_EXPORTER_OTLP_HEADERS": OTLP_HEADERS})
    shown = Redactor().text(
        f"team payments is down in production; keys {HONEYCOMB_KEY} {VENDOR_KEY} {BARE_KEY}"
    )
    assert shown.startswith("team payments is down in production; keys "), shown
    for key in (HONEYCOMB_KEY, VENDOR_KEY, BARE_KEY):
        assert key not in shown, shown
