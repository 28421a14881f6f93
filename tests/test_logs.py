"""Everything a triage process writes on stderr is one JSON object per line under the default
format, whoever wrote it: libraries' loggers (their text redacted too), Python's warnings,
uncaught exceptions in the main thread, in other threads and in finalisers, and asyncio's
"Task exception was never retrieved"."""

from __future__ import annotations

import json
import subprocess
import sys

from daemon_harness import SRC

SECRET = "ghp_R4nd0mT0k3nValueAbCdEfGhIjKlMnOpQr12"

#: A process that configures logging as `triage run` does, then lets each kind of stray output
#: happen, ending with an uncaught exception.
SCRIPT = f"""
import asyncio, gc, logging, threading, warnings
from triage.logs import configure_logging
configure_logging()
logging.getLogger("botocore.credentials").warning("Found credentials {SECRET}")
logging.getLogger("httpx2").warning("HTTP Request: POST https://h.example/?token={SECRET}")
warnings.warn("this is deprecated", DeprecationWarning)

async def main():
    async def fail():
        raise RuntimeError("never retrieved")
    task = asyncio.ensure_future(fail())
    await asyncio.sleep(0.01)
    del task
    gc.collect()

asyncio.run(main())
thread = threading.Thread(target=lambda: 1 / 0, name="worker-1")
thread.start()
thread.join()

class Finalised:
    def __del__(self):
        raise ValueError("in a finaliser")

Finalised()
raise SystemError("the last words")
"""


def test_every_stray_line_of_a_process_is_one_json_object() -> None:
    """Library lines, a warning, an unretrieved task exception, a thread's and a finaliser's
    exception and an uncaught one each become one JSON line with `logger`, `service` and the
    traceback; nothing is plain text, and no library text carries a token."""
    result = subprocess.run(
        [sys.executable, "-W", "default", "-c", SCRIPT],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    lines = [json.loads(line) for line in result.stderr.splitlines()]  # plain text fails here
    assert all(line["logger"] and line["service"] == "triage" for line in lines)
    by_logger = {line["logger"]: line for line in lines}
    assert set(by_logger) == {
        "botocore.credentials",
        "httpx2",
        "py.warnings",
        "asyncio",
        "triage.crash",
    }
    assert "DeprecationWarning: this is deprecated" in by_logger["py.warnings"]["event"]
    assert "RuntimeError: never retrieved" in by_logger["asyncio"]["exception"]
    crashes = {line["event"]: line for line in lines if line["logger"] == "triage.crash"}
    assert set(crashes) == {
        "thread.uncaught_exception",
        "process.unraisable_exception",
        "process.uncaught_exception",
    }
    assert crashes["thread.uncaught_exception"]["thread"] == "worker-1"
    assert "ZeroDivisionError" in crashes["thread.uncaught_exception"]["exception"]
    assert "ValueError: in a finaliser" in crashes["process.unraisable_exception"]["exception"]
    assert "SystemError: the last words" in crashes["process.uncaught_exception"]["exception"]
    assert SECRET not in result.stderr
