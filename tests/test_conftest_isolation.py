"""conftest.py's `isolated_test`: what one test changes in the process (environment, held
credentials, logging, the gateway's bad-request line budget) does not reach the next test.

The two tests run in this order in one process (pytest keeps a file's order; xdist's loadfile
gives a file to one worker): the first leaves everything changed, the second checks it was put
back or cleared before it started."""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator

import pytest
import structlog

from triage.ingest.bad_http import BadHttpLines
from triage.redact.held import held, hold

#: What the first test saw when it started, for the second to compare with.
_AT_START: dict[str, object] = {}
_STREAM = io.StringIO()
_MODULE_VARIABLE = "TRIAGE_SET_BY_A_MODULE_FIXTURE"


@pytest.fixture(scope="module", autouse=True)
def module_environment() -> Iterator[None]:
    """A variable set before the file's tests (as a module fixture may) and one of the fake
    AWS variables unset: each test runs without the first and with the second, and once they
    are done the first is back and the second gone (a failure here is a teardown error)."""
    fake = "AWS_EC2_METADATA_DISABLED"
    outside = os.environ.pop(fake, None)
    os.environ[_MODULE_VARIABLE] = "kept"
    yield
    value = os.environ.pop(_MODULE_VARIABLE, None)
    left = os.environ.get(fake)
    if outside is not None:
        os.environ[fake] = outside
    assert value == "kept", "isolated_test did not put back a variable it stripped"
    assert left is None, "isolated_test left a variable set that was not set before"


def test_a_test_leaves_the_process_changed() -> None:
    """Sets every kind of state `isolated_test` resets: a variable triage reads, a held
    credential, structlog and the root logger pointed at a stream closed at the end, and a
    spent bad-request filter on aiohttp's logger."""
    root = logging.getLogger()
    _AT_START.update(
        structlog=structlog.get_config(),
        handlers=list(root.handlers),
        level=root.level,
        aws_key=os.environ["AWS_ACCESS_KEY_ID"],
    )
    os.environ["TRIAGE_QUEUE_URL"] = "http://127.0.0.1:9/000000000000/left-behind"
    os.environ["AWS_ACCESS_KEY_ID"] = "left-behind"
    hold("left-behind-credential-0123456789")
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(_STREAM))
    root.addHandler(logging.StreamHandler(_STREAM))
    root.setLevel(logging.CRITICAL)
    logging.getLogger("aiohttp.server").addFilter(BadHttpLines(per_second=0))
    _STREAM.close()
    assert held() == ("left-behind-credential-0123456789",)


def test_the_next_test_starts_as_the_first_did() -> None:
    """None of what the previous test changed is left: the variable is stripped, the fake
    credentials are back, nothing is held, logging is as it was, and no bad-request filter."""
    assert _AT_START, "run the whole file: the previous test records the starting state"
    root = logging.getLogger()
    assert "TRIAGE_QUEUE_URL" not in os.environ
    assert _MODULE_VARIABLE not in os.environ
    assert os.environ["AWS_ACCESS_KEY_ID"] == _AT_START["aws_key"]
    assert held() == ()
    assert structlog.get_config() == _AT_START["structlog"]
    assert root.handlers == _AT_START["handlers"]
    assert root.level == _AT_START["level"]
    assert logging.getLogger("WARNING-probe").isEnabledFor(logging.WARNING) == (
        root.level <= logging.WARNING
    )
    filters = logging.getLogger("aiohttp.server").filters
    assert not [f for f in filters if isinstance(f, BadHttpLines)]
