"""Triage's own signals, round 7 (helper 526): a huge log value costs the event loop a bounded
redaction, not one of the whole value (a stall long enough for /healthz to fail the daemon), and
nothing secret escapes the cut; a count no float holds is refused, never raised into the code
that counted."""

from __future__ import annotations

import io
import json
import math
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from factories import T0
from memory_store import MemoryStore
from recording_pipeline import POLICY, Sink
from secret_formats import FORMATS, SecretFormat, sample
from test_view_once_382 import _Summariser
from triage import logs
from triage.incidents.ledger import Ledger
from triage.logs import MAX_LINE_BYTES, configure_logging
from triage.metrics import Metrics
from triage.models import Alert, Status
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.redact.redactor import Blanked

#: A GitHub token: a shape the redactor knows only whole (a part of it is no token to it).
TOKEN = "ghp_" + "Q7x" * 12
#: A Slack bot token, likewise.
SLACK = "xoxb-123456789012-1234567890123-" + "AbCdEfGhIjKlMnOpQrStUvWx"


class CountingRedactor:
    """The real redactor, counting the characters of text it is asked to read."""

    def __init__(self) -> None:
        self.real = Redactor()
        self.read = 0

    def text(self, value: str) -> str:
        self.read += len(value)
        return self.real.text(value)

    def value(self, value: Any) -> Any:
        self.read += len(json.dumps(value, default=str))
        return self.real.value(value)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> CountingRedactor:
    redactor = CountingRedactor()
    monkeypatch.setattr(logs, "_redactor", lambda: redactor)
    return redactor


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("json", "info", stream)
    yield stream
    structlog.reset_defaults()


def written(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_megabyte_value_is_redacted_over_a_bounded_part_of_it(
    counting: CountingRedactor, lines: io.StringIO
) -> None:
    """A 1 MB field (an error quoting a service's answer, an alert's text) is redacted over at
    most a few times the line's room, not whole: redacting a megabyte of hostile text held the
    event loop for seconds to tens of seconds, for a line that keeps 16,000 bytes of it."""
    structlog.get_logger("triage.test").warning("sink.failed", error="a=b " * 250_000)
    (line,) = written(lines)
    assert counting.read <= 4 * MAX_LINE_BYTES
    assert len(json.dumps(line)) <= MAX_LINE_BYTES + 200
    assert line["cut_chars"] >= 1_000_000 - MAX_LINE_BYTES
    assert line["error"].startswith("a=b a=b") and line["error"].endswith("a=b ")


def test_a_library_megabyte_message_is_redacted_over_a_bounded_part_of_it(
    counting: CountingRedactor, lines: io.StringIO
) -> None:
    """The same for a library's own message (its `event`, redacted as text)."""
    import logging

    logging.getLogger("botocore.test").warning("answer: %s", "x=y " * 250_000)
    (line,) = written(lines)
    assert counting.read <= 4 * MAX_LINE_BYTES
    assert line["event"].startswith("answer: x=y")


#: The length of the texts cut in these tests, and where they are cut before redaction.
SIZE = 100_000
CUTS = (logs._READ_EACH_END, SIZE - logs._READ_EACH_END)


def placed(secret: str, start: int) -> str:
    """A SIZE-character text of words with `secret` starting at `start`."""
    filler = "w " * SIZE
    return (filler[:start] + secret + filler[start:])[:SIZE]


@pytest.mark.parametrize("secret", [TOKEN, SLACK])
def test_a_secret_cut_by_the_bound_never_shows_a_part_of_itself(
    secret: str, lines: io.StringIO
) -> None:
    """A secret lying across either place where a huge value is cut before redaction, at every
    offset, shows no run of it in the line: the part on each side is no token the redactor
    knows, so what is kept beside a cut is dropped after redaction."""
    log = structlog.get_logger("triage.test")
    for cut in CUTS:
        for start in range(cut - len(secret) - 2, cut + 3):
            log.error("sink.failed", error=placed(secret, start))
    pieces = {secret[i : i + 8] for i in range(len(secret) - 7)}
    for line in written(lines):
        shown = line["error"]
        assert not [piece for piece in pieces if piece in shown], line["cut_chars"]


def test_a_password_whose_keyword_is_cut_off_is_not_shown(lines: io.StringIO) -> None:
    """A `password=` whose value lies past a cut before redaction (the keyword on one side,
    the value on the other) is not shown: the value, a word the redactor only knows by its
    keyword, is within what is dropped beside the cut."""
    log = structlog.get_logger("triage.test")
    secret = "password=hunter2hunter2hunter2"
    for cut in CUTS:
        for start in range(cut - len(secret) - 2, cut + 3):
            log.error("sink.failed", error=placed(secret, start))
    for line in written(lines):
        assert "hunter2" not in line["error"]


@pytest.mark.parametrize(("index", "fmt"), list(enumerate(FORMATS)), ids=[f.id for f in FORMATS])
def test_no_known_secret_format_lying_across_a_cut_shows_a_run_of_itself(
    index: int, fmt: SecretFormat, lines: io.StringIO
) -> None:
    """Every credential format the redactor knows (bare, or after its conventional name),
    lying across a cut (the head's for one format, the tail's for the next) at its start,
    middle and end, shows no 8-character run of its random parts: the part on each side of
    the cut is dropped with what lies beside it."""
    log = structlog.get_logger("triage.test")
    secret = sample(fmt, "round7-526")
    written_as = secret.text if fmt.bare else f"{fmt.name}={secret.text}"
    cut = CUTS[index % 2]
    for start in (cut - len(written_as) + 1, cut - len(written_as) // 2, cut - 1):
        log.error("sink.failed", error=placed(written_as, start))
    pieces = {part[i : i + 8] for part in secret.random for i in range(len(part) - 7)}
    for line in written(lines):
        assert not [piece for piece in pieces if piece in line["error"]]


def test_a_short_value_is_still_redacted_whole(lines: io.StringIO) -> None:
    """A value within the bound is redacted as it always was: nothing cut, no `cut_chars`."""
    structlog.get_logger("triage.test").warning("sink.failed", error=f"token {TOKEN} ok")
    (line,) = written(lines)
    assert line["error"] == "token [REDACTED:github-token] ok" and "cut_chars" not in line


def test_a_megabyte_text_inside_a_structure_is_redacted_over_a_bounded_part_of_it(
    counting: CountingRedactor, lines: io.StringIO
) -> None:
    """A long text inside a dict or list field (a service's parsed answer) is cut before
    redaction as a field's own text is, and a secret across its cut shows no part of itself."""
    size = 1_000_000
    after = ("e=f " * size)[: logs._READ_EACH_END - len(TOKEN) // 2]
    answer = {"errors": [{"detail": ("e=f " * size)[:size] + TOKEN + after}]}
    structlog.get_logger("triage.test").warning("sink.failed", answer=answer)
    (line,) = written(lines)
    assert counting.read <= 8 * MAX_LINE_BYTES
    assert line["cut_chars"] >= size - MAX_LINE_BYTES
    assert TOKEN[4:12] not in json.dumps(line)


@pytest.mark.parametrize("value", [10**400, -(10**400)], ids=["huge", "huge_negative"])
def test_a_count_too_big_for_a_float_is_refused_not_raised(value: int) -> None:
    """An increment, timing or gauge value no float holds (an int of 400 digits) is refused
    with the one warning, as NaN is: it raised OverflowError out of `incr` into the code that
    counted (a summary, a sink call) and failed it."""
    metrics = Metrics()
    metrics.incr("LLMTokensIn", 5)
    metrics.incr("LLMTokensIn", value)
    metrics.observe("LLMLatency", value)
    metrics.set("BudgetTokens", value)
    assert metrics.total("LLMTokensIn") == 5
    assert metrics.timings() == {} and metrics.gauges() == {}


def test_a_counter_that_would_overflow_to_infinity_keeps_its_total() -> None:
    """Two increments that together pass the largest float are not summed into infinity: a
    counter that reads `+Inf` once reads it for the process's life."""
    metrics = Metrics()
    metrics.incr("LLMTokensOut", 1.7e308)
    metrics.incr("LLMTokensOut", 1.7e308)
    assert math.isfinite(metrics.total("LLMTokensOut"))


class OnLoopRedactor(Redactor):
    """The real redactor, noting the most characters one call read on the event loop's thread
    (the thread that made it)."""

    def __init__(self) -> None:
        super().__init__()
        self.loop_thread = threading.current_thread()
        self.most_on_loop = 0

    def _note(self, chars: int) -> None:
        if threading.current_thread() is self.loop_thread:
            self.most_on_loop = max(self.most_on_loop, chars)

    def text(self, text: str) -> str:
        self._note(len(text))
        return super().text(text)

    def value(self, value: Any, *, depth: int = 0, found: Blanked | None = None) -> Any:
        if depth == 0:
            self._note(len(json.dumps(value, default=str)))
        return super().value(value, depth=depth, found=found)


async def test_a_huge_alert_payload_is_not_redacted_whole_on_the_event_loop() -> None:
    """A new incident whose payload holds 200 KB of text (a log dump an alert quotes) is not
    redacted whole on the event loop: hostile text of that size costs the redactor seconds
    (measured ~2-4 s per 250 KB here), one message after another on the one loop, so a batch
    of them holds it past /healthz's 5 s and the container is restarted with its work lost.
    Either a bound on what is read there or redaction on a worker thread passes this."""
    redactor = OnLoopRedactor()
    pipeline = Pipeline(
        Ledger(MemoryStore(POLICY)), _Summariser(), [Sink()], Metrics(), redactor=redactor,
        policy=POLICY, payload_excerpt_chars=6000,
    )  # fmt: skip
    alert = Alert(
        source="generic",
        status=Status.FIRING,
        title="checkout is failing",
        description="error rate 12% on web-1",
        occurred_at=T0,
        identity={"dedup_key": "round7-526-huge"},
        raw={"message": "checkout failing", "log": "k=v " * 50_000},
    )
    await pipeline.handle(alert, "owner-1")
    assert redactor.most_on_loop <= 4 * MAX_LINE_BYTES
