"""TRIAGE_LOG_LEVEL is the least level any line is written at, whoever writes it: triage,
a library, a library that set its own logger's level lower, or Python's warnings. Libraries
are never heard below warning unless the level is debug."""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Iterator

import pytest

from triage.logs import configure_logging


@pytest.fixture
def chatty_library() -> Iterator[logging.Logger]:
    """A library logger that set its own level to DEBUG (as some do), restored afterwards."""
    logger = logging.getLogger("chatty.library")
    before = logger.level
    logger.setLevel(logging.DEBUG)
    yield logger
    logger.setLevel(before)


def test_a_library_logger_with_its_own_low_level_obeys_log_level_error(
    chatty_library: logging.Logger,
) -> None:
    """TRIAGE_LOG_LEVEL=error: a library whose logger is set to DEBUG writes its error, and
    not its warning or info (its own level does not get around the one the operator chose)."""
    stream = io.StringIO()
    configure_logging("json", "error", stream)
    chatty_library.info("library info")
    chatty_library.warning("library warning")
    chatty_library.error("library error")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and "library error" in lines[0], lines


@pytest.mark.parametrize(("level", "written"), [("warning", True), ("error", False)])
def test_a_python_warning_is_written_only_when_the_level_lets_warnings_through(
    level: str, written: bool
) -> None:
    """A Python warning (shown through the `py.warnings` logger) is written at
    TRIAGE_LOG_LEVEL=warning and not at error."""
    # An earlier test's capture may be left half undone (pytest put its own showwarning
    # back, logging still thinks it captures): start from none, as a fresh process does.
    logging.captureWarnings(False)
    stream = io.StringIO()
    configure_logging("json", level, stream)
    try:
        # What `warnings.warn` calls to show one, once configure_logging captured warnings.
        warnings.showwarning("a deprecated call", DeprecationWarning, __file__, 1)
    finally:
        logging.captureWarnings(False)
    assert ("a deprecated call" in stream.getvalue()) is written, stream.getvalue()


@pytest.mark.parametrize("level", ["info", "warning"])
def test_libraries_are_heard_from_warning_up_below_debug(
    level: str, chatty_library: logging.Logger
) -> None:
    """At info or warning, a library's info is left out (even from a logger set to DEBUG)
    and its warning is written."""
    stream = io.StringIO()
    configure_logging("json", level, stream)
    chatty_library.info("library info")
    chatty_library.warning("library warning")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and "library warning" in lines[0], lines


def test_debug_lets_a_library_debug_line_through(chatty_library: logging.Logger) -> None:
    """TRIAGE_LOG_LEVEL=debug: a library's debug line is written (the handler's own level
    does not hold it back)."""
    stream = io.StringIO()
    configure_logging("json", "debug", stream)
    chatty_library.debug("library debug")
    assert "library debug" in stream.getvalue()
