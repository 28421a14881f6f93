"""A real headless browser for page tests: Debian's chromium, driven over the DevTools protocol
on a pipe (`--remote-debugging-pipe`: JSON messages ending in NUL on fds 3 and 4), so a test can
log in through a form, take a screenshot and read the page's text, with no driver to install.

Blocking by design: run it in a thread (`asyncio.to_thread`) while the loop serves the page.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import subprocess
import time
from pathlib import Path
from typing import Any

from programs import program_or_skip

FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-sync",
    "--remote-debugging-pipe",
)


def chromium_or_skip() -> str:
    return program_or_skip("chromium", "chromium-browser", install="apt-get install chromium")


class Browser:
    """One chromium process and one page (tab) in it."""

    def __init__(self, executable: str, profile: Path, timeout_s: float = 30.0) -> None:
        self.timeout_s = timeout_s
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # The browser reads commands on fd 3 and writes answers on fd 4; the shell moves our
        # pipe ends there (pass_fds keeps them open under their own numbers until then).
        # bash, not sh: dash refuses descriptors above 9. Chromium's own log goes to a file.
        script = f'exec "$@" 3<&{to_browser_r} 4>&{from_browser_w}'
        with (profile.parent / "chromium.log").open("w") as log:
            self.process = subprocess.Popen(
                ["bash", "-c", script, "bash", executable, *FLAGS, f"--user-data-dir={profile}"],
                pass_fds=(to_browser_r, from_browser_w),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._ids = 0
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})
        self.session: str = attached["sessionId"]

    def close(self) -> None:
        with contextlib.suppress(OSError, TimeoutError, RuntimeError):
            self.call("Browser.close", timeout_s=5)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        page: bool = False,
        timeout_s: float | None = None,
    ) -> dict[str, Any]:
        """Send one command (to the page's session with `page`) and return its result."""
        self._ids += 1
        message: dict[str, Any] = {"id": self._ids, "method": method, "params": params or {}}
        if page:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        while True:
            answer = self._next(deadline)
            if answer.get("id") != self._ids:
                continue  # an event, or a late answer: not ours
            if "error" in answer:
                raise RuntimeError(f"{method}: {answer['error']}")
            result: dict[str, Any] = answer.get("result", {})
            return result

    def _next(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("chromium did not answer in time")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if ready:
                chunk = os.read(self._from_browser, 1 << 16)
                if not chunk:
                    raise RuntimeError("chromium closed its DevTools pipe")
                self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        message: dict[str, Any] = json.loads(raw)
        return message

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (DevTools runs it whatever the
        page's Content-Security-Policy allows)."""
        result = self.call(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, page=True
        )
        return result["result"].get("value")

    def navigate_by(self, expression: str) -> None:
        """Run JavaScript that starts a navigation (a click, a form's submit, `history.back()`).
        When the new page commits before DevTools answers, the answer is "navigated", not a
        value: that is the navigation asked for, not a fault. Wait for the new page with
        `wait_for`."""
        try:
            self.evaluate(expression)
        except RuntimeError as error:
            if not _navigated(error):
                raise

    def wait_for(self, expression: str, what: str) -> None:
        """Poll until the expression is truthy; a page torn down mid-poll (a navigation still
        going) reads as not yet."""
        deadline = time.monotonic() + self.timeout_s
        while not self._poll(expression):
            if time.monotonic() > deadline:
                shown = self.evaluate("location.href + ' ' + document.documentElement.outerHTML")
                raise AssertionError(f"timed out waiting for {what}; the page: {shown!s:.2000}")
            time.sleep(0.05)

    def _poll(self, expression: str) -> Any:
        try:
            return self.evaluate(expression)
        except RuntimeError as error:
            if _navigated(error):
                return None
            raise

    def screenshot(self, path: Path) -> bytes:
        data = self.call(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, page=True
        )["data"]
        png = base64.b64decode(data)
        path.write_bytes(png)
        return png


# What DevTools answers when the page an evaluation ran in was replaced before it answered.
NAVIGATED = (
    "Inspected target navigated or closed",
    "Execution context was destroyed",
    "Cannot find context with specified id",
)


def _navigated(error: RuntimeError) -> bool:
    return any(sign in str(error) for sign in NAVIGATED)
